"""How long Airflow pays to parse each DAG file, against importing Airflow's SDK alone, same run.

Measured: wall seconds of a fresh interpreter running ``import <dag module>`` with the DAG folder
and the repository on sys.path (as the DAG processor imports a file), for every DAG file;
baseline: a fresh ``import airflow.sdk``, which every DAG file needs anyway. Best of ROUNDS each,
interleaved so machine noise hits both alike. The ratio is the slowest DAG over the baseline:
1.0 means a DAG file costs nothing beyond Airflow itself (target <= 1.3).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DAGS = ROOT / "dags"
ROUNDS = int(os.environ.get("BENCH_PARSE_ROUNDS", "5"))
TARGET = 1.3


def timed_import(module: str) -> float:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(DAGS), str(ROOT)])}
    env.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True, env=env, cwd=DAGS)
    return time.perf_counter() - start


def main() -> None:
    dag_modules = sorted(p.stem for p in DAGS.glob("*.py") if p.stem != "edgarflow_defaults")
    best = {m: float("inf") for m in ["airflow.sdk", *dag_modules]}
    for _ in range(ROUNDS):
        for module in best:
            best[module] = min(best[module], timed_import(module))
    baseline = best.pop("airflow.sdk")
    print(f"{'import':<24}{'best s':>8}{'ratio':>8}")
    print(f"{'airflow.sdk':<24}{baseline:>8.2f}{1:>8.2f}")
    for module, seconds in best.items():
        print(f"{module:<24}{seconds:>8.2f}{seconds / baseline:>8.2f}")
    slowest = max(best.values())
    print(f"BENCH dag_parse slowest_s={slowest:.2f} ratio={slowest / baseline:.2f} target={TARGET}")


if __name__ == "__main__":
    main()
