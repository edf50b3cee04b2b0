"""`make bench-scale`: the nightly job on universes of 1%, 5% and 10% of SEC's filers, measured.

For each size: a universe of replicas (bench/scale/universe.py), fresh stores, and Airflow's
services with the LocalExecutor (parallelism 2) running the DAGs as the scheduler does:

    refresh      market_daily, edgar_nightly {"bulk": true} (SEC's bulk zips, streamed), warehouse_build
    nothing new  market_daily, edgar_nightly (SEC's daily index lists no filing), no build is due
    2% new       2% of filers file (their newest filing, held back until now, in today's daily
                 index); market_daily, edgar_nightly, warehouse_build

The scheduler runs only the bench's runs (no schedule's latest interval, no asset-triggered
build: [scheduler] use_job_schedule off); everything else is Airflow as `make airflow` runs it.

Per task (instances of a mapped task summed): wall and CPU time, peak RSS, bytes read and written,
recorded in each task's own process (airflow_plugins/task_usage.py). Printed: the table, one
`BENCH scale_<dag>.<task>` line per task with its 10%/1% time ratio and memory figures, and the
full-universe extrapolation against the targets of the README's "Scale" section. Each size's
task-usage file and Airflow logs stay in the work directory.

    python -m bench.scale [--sizes 1,5,10] [--workdir .local/bench-scale] [--keep]
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import orjson

from bench.scale.airflow_run import RunFailed, airflow
from bench.scale.universe import FULL_UNIVERSE, FULL_UNIVERSE_FACTS, build_universe, release_held_back
from ingest.settings import LOCAL_DIR

NEW_EVERY = 50  # 2% of filers have new filings in the "2% new" run
SCENARIOS = ("refresh", "nothing_new", "new_2pct")
RUNS = {
    "refresh": (("market_daily", {}), ("edgar_nightly", {"bulk": True}), ("warehouse_build", {})),
    "nothing_new": (("market_daily", {}), ("edgar_nightly", {})),
    "new_2pct": (("market_daily", {}), ("edgar_nightly", {}), ("warehouse_build", {})),
}
# The targets are of the SEC side (edgar_nightly, and the build it triggers); market_daily runs
# on its own schedule and is reported beside them.
SEC_DAGS = ("edgar_nightly", "warehouse_build")
GB = 1 << 30
# Targets (issue "The full SEC universe, end to end, every night"), on 2 cores.
TARGET_RATIO, TARGET_RSS, TARGET_RSS_GROWTH = 11, 4 * GB, 1.2
TARGET_REFRESH_S, TARGET_NEW_S, TARGET_NOTHING_S = 3600, 300, 60


@dataclass
class Usage:
    instances: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_rss_bytes: int = 0
    read_bytes: int = 0
    written_bytes: int = 0

    def add(self, row: dict) -> None:
        self.instances += 1
        self.wall_s += row["wall_s"]
        self.cpu_s += row["cpu_s"]
        self.peak_rss_bytes = max(self.peak_rss_bytes, row["peak_rss_bytes"])
        self.read_bytes += row["read_bytes"]
        self.written_bytes += row["written_bytes"]


@dataclass
class Measured:
    percent: float
    filers: int
    facts: int
    json_bytes: int
    dag_wall: dict[tuple[str, str], float]  # (scenario, dag) -> seconds from start to end of the run
    tasks: dict[tuple[str, str, str], Usage]  # (scenario, dag, task)


def measure(percent: float, workdir: Path, keep: bool = False) -> Measured:
    filers = round(FULL_UNIVERSE * percent / 100)
    root = workdir / f"{percent:g}pct"
    shutil.rmtree(root, ignore_errors=True)
    started = time.monotonic()
    universe = build_universe(root / "universe", filers, held_back_every=NEW_EVERY)
    print(f"\n{percent:g}%: {filers} filers, {universe.facts:,} fact values, "
          f"{universe.json_bytes / 2**20:,.0f} MB of JSON; built in {time.monotonic() - started:.0f}s", flush=True)  # fmt: skip
    env = {
        "EDGARFLOW_SAMPLE_DIR": str(universe.root),
        "EDGARFLOW_STORAGE_URL": str(root / "store"),
        "EDGARFLOW_DUCKDB_PATH": str(root / "warehouse.duckdb"),
        "EDGARFLOW_PG_DATA_DIR": str(root / "pg"),
        "EDGARFLOW_REDIS_DATA_DIR": str(root / "redis"),
        "EDGARFLOW_BENCH_USAGE": str(root / "task_usage.jsonl"),
    }
    (root / "universe.json").write_bytes(orjson.dumps({"filers": filers, "facts": universe.facts, "json_bytes": universe.json_bytes}))
    with airflow(root, env) as api:
        for scenario in SCENARIOS:
            if scenario == "new_2pct":
                print(f"  {release_held_back(universe, NEW_EVERY, datetime.now(timezone.utc).date())} filers filed", flush=True)
            for dag_id, conf in RUNS[scenario]:
                run = api.run(dag_id, conf)
                wall = _seconds(run["end_date"]) - _seconds(run["start_date"])
                print(f"  {scenario:<12} {dag_id:<16} {wall:7.0f}s", flush=True)
    if not keep:  # the logs, Airflow's database and the usage file stay: load_measured reads them
        for bulky in ("universe", "store", "pg", "redis"):
            shutil.rmtree(root / bulky, ignore_errors=True)
        (root / "warehouse.duckdb").unlink(missing_ok=True)
    return load_measured(root, percent)


def load_measured(root: Path, percent: float) -> Measured:
    """A size's figures from what its run left in ``root``: the universe's counts, Airflow's
    runs (in the order measure() triggers them) and each task's usage."""
    universe = orjson.loads((root / "universe.json").read_bytes())
    with sqlite3.connect(root / "airflow" / "airflow.db") as db:
        runs = db.execute("SELECT dag_id, run_id, start_date, end_date FROM dag_run ORDER BY start_date").fetchall()
    expected = [(scenario, dag_id) for scenario in SCENARIOS for dag_id, _ in RUNS[scenario]]
    dag_wall, run_scenario = {}, {}
    for (scenario, dag_id), (ran, run_id, start, end) in zip(expected, runs, strict=True):
        assert ran == dag_id, f"{root}: run {run_id} of {ran} where {dag_id} was expected"
        dag_wall[scenario, dag_id] = _seconds(end) - _seconds(start)
        run_scenario[run_id] = scenario
    tasks: dict[tuple[str, str, str], Usage] = defaultdict(Usage)
    for line in (root / "task_usage.jsonl").read_bytes().splitlines():
        row = orjson.loads(line)
        if row["run_id"] in run_scenario:
            tasks[run_scenario[row["run_id"]], row["dag_id"], row["task_id"]].add(row)
    return Measured(percent, universe["filers"], universe["facts"], universe["json_bytes"], dag_wall, dict(tasks))


def _seconds(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def report(levels: list[Measured]) -> list[str]:
    lines = []
    header = f"{'scenario':<12} {'dag.task':<34} {'size':>5} {'n':>4} {'wall s':>8} {'cpu s':>8} {'peak RSS MB':>11} {'read MB':>9} {'written MB':>10}"
    lines += ["", header, "-" * len(header)]
    keys = sorted({k for m in levels for k in m.tasks}, key=lambda k: (SCENARIOS.index(k[0]), k[1], k[2]))
    for key in keys:
        for m in levels:
            if (u := m.tasks.get(key)) is None:
                continue
            lines.append(
                f"{key[0]:<12} {key[1] + '.' + key[2]:<34} {m.percent:>4g}% {u.instances:>4} {u.wall_s:>8.1f} "
                f"{u.cpu_s:>8.1f} {u.peak_rss_bytes / 2**20:>11.0f} {u.read_bytes / 2**20:>9.0f} {u.written_bytes / 2**20:>10.0f}"
            )  # fmt: skip
    small, large = levels[0], levels[-1]
    lines.append("")
    slow, heavy, growing = [], [], []
    for key in keys:
        if key not in small.tasks or key not in large.tasks:
            continue
        a, b = small.tasks[key], large.tasks[key]
        ratio = b.wall_s / a.wall_s if a.wall_s else float("nan")
        growth = b.peak_rss_bytes / a.peak_rss_bytes
        name = ".".join(key)
        slow += [f"{name} {ratio:.1f}"] if ratio > TARGET_RATIO else []
        heavy += [f"{name} {b.peak_rss_bytes / GB:.1f}GB"] if b.peak_rss_bytes > TARGET_RSS else []
        growing += [f"{name} x{growth:.1f}"] if growth > TARGET_RSS_GROWTH else []
        ok = ratio <= TARGET_RATIO and b.peak_rss_bytes <= TARGET_RSS and growth <= TARGET_RSS_GROWTH
        lines.append(
            f"BENCH scale_{key[0]}.{key[1]}.{key[2]} wall_{small.percent:g}pct={a.wall_s:.1f}s "
            f"wall_{large.percent:g}pct={b.wall_s:.1f}s ratio={ratio:.2f} target={TARGET_RATIO} "
            f"peak_rss_{large.percent:g}pct={b.peak_rss_bytes / GB:.2f}GB rss_growth={growth:.2f} "
            f"target_rss=4GB,{TARGET_RSS_GROWTH} {'ok' if ok else 'MISSED'}"
        )  # fmt: skip
    lines += [
        "",
        f"time ratio over {TARGET_RATIO}: {', '.join(slow) or 'none'}",
        f"peak RSS over 4GB at {large.percent:g}%: {', '.join(heavy) or 'none'}",
        f"peak RSS grown over {TARGET_RSS_GROWTH:g}x since {small.percent:g}%: {', '.join(growing) or 'none'}",
        "",
        *extrapolate(small, large),
    ]
    return lines


def extrapolate(small: Measured, large: Measured) -> list[str]:
    """Full-universe wall times of each scenario's DAG runs, from a line through the smallest and
    largest measured sizes: a fixed cost (task start-up, GX imports, the scheduler's polling) plus
    a cost per unit of volume (point 4's ratios say how far that holds). The verdict scales by fact
    values, the volume every heavy stage reads and writes, to SEC's ~110M; by filers is the upper
    bound (the replicas are large filers, ``heavier`` times SEC's average)."""
    heavier = (large.facts / large.filers) / (FULL_UNIVERSE_FACTS / FULL_UNIVERSE)
    lines = [
        f"extrapolated through {small.percent:g}% and {large.percent:g}% to SEC's {FULL_UNIVERSE_FACTS / 1e6:.0f}M "
        f"facts (and, an upper bound, to {FULL_UNIVERSE:,} filers of the replicas' size, x{heavier:.1f} the average)"
    ]
    for scenario, dags, target in (
        ("refresh", SEC_DAGS, TARGET_REFRESH_S),
        ("new_2pct", SEC_DAGS, TARGET_NEW_S),
        ("nothing_new", SEC_DAGS, TARGET_NOTHING_S),
        *((f"{s}.market_daily", ("market_daily",), None) for s in SCENARIOS),
    ):
        base = scenario.split(".")[0]
        t1, t2 = (sum(w for (s, d), w in m.dag_wall.items() if s == base and d in dags) for m in (small, large))
        by_facts = _line(t1, t2, small.facts, large.facts, FULL_UNIVERSE_FACTS)
        by_filers = _line(t1, t2, small.filers, large.filers, FULL_UNIVERSE)
        verdict = "" if target is None else f" target={target}s {'ok' if by_facts <= target else 'MISSED'}"
        lines.append(
            f"BENCH scale_{scenario} wall_{small.percent:g}pct={t1:.0f}s wall_{large.percent:g}pct={t2:.0f}s "
            f"full_universe={by_facts:.0f}s upper_bound={by_filers:.0f}s{verdict}"
        )
    return lines


def _line(t1: float, t2: float, x1: float, x2: float, x: float) -> float:
    """t at x on the line through (x1, t1) and (x2, t2)."""
    return t2 + (t2 - t1) / (x2 - x1) * (x - x2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,5,10", help="percentages of SEC's %d filers" % FULL_UNIVERSE)
    parser.add_argument("--workdir", type=Path, default=LOCAL_DIR / "bench-scale")
    parser.add_argument("--keep", action="store_true", help="keep each size's universe, stores and warehouse")
    parser.add_argument("--report", action="store_true", help="only report the sizes already measured in --workdir")
    args = parser.parse_args(argv)
    if args.report:
        levels = [load_measured(args.workdir / f"{float(p):g}pct", float(p)) for p in args.sizes.split(",")]
        print("\n".join(report(sorted(levels, key=lambda m: m.percent))))
        return 0
    levels = []
    for percent in args.sizes.split(","):
        try:
            levels.append(measure(float(percent), args.workdir, keep=args.keep))
        except RunFailed as exc:
            print(f"\n{percent}%: {exc}; logs under {args.workdir}", flush=True)
            break
        if len(levels) >= 2:  # after every size from the second on: a long run reports as it goes
            print("\n".join(report(sorted(levels, key=lambda m: m.percent))), flush=True)
    return 0 if len(levels) == len(args.sizes.split(",")) else 1


if __name__ == "__main__":
    sys.exit(main())
