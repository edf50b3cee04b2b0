"""dbt inside Airflow: one coarse `dbt build`, a build per layer, and astronomer-cosmos, same project, same run.

Data: the bundled sample normalized and loaded into DuckDB raw tables exactly as the pipeline does
(ingest.sec.normalize -> staged Parquet -> ingest.warehouse.load.load_raw_tables), in a temporary directory
with a copy of dbt_project/, so nothing in the repo changes. Every repetition of every variant
starts from a fresh copy of the same raw warehouse file (same path, so caches keyed on it stay valid).

Variants, interleaved round by round (BENCH_DBT_ROUNDS, default 3), wall seconds:
  build           ingest.warehouse.runner.run_dbt(["build"]): one invocation, in process
  layers          run_dbt(LAYERS[layer]) for seeds+staging, intermediate, snapshots, marts: one
                  `dbt build --select <layer>` after the other, summed
  airflow-build   the same as a one-task DAG run by dag.test() (a throwaway Airflow home)
  airflow-layers  the layers as four chained tasks run by dag.test()
  cosmos          astronomer-cosmos DbtTaskGroup (ExecutionMode.LOCAL, LoadMode.DBT_LS, a task group per
                  model: run, then its tests; tests of several models detached after their parents),
                  run by dag.test() in the interpreter named by BENCH_COSMOS_PYTHON: a separate
                  virtualenv with apache-airflow, dbt-duckdb and astronomer-cosmos, which the project
                  does not depend on. Without it the variant is skipped and says so.
dag.test() runs tasks one at a time in its own process: the Airflow variants measure per-task cost,
not the parallelism a LocalExecutor adds. Each interpreter first runs a no-op DAG, untimed, so no
variant pays the in-process Airflow start-up. Cosmos renders the DAG with `dbt ls` once, on empty
caches; that time is reported apart from the runs, which reuse Cosmos' caches as a deployment does.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROUNDS = int(os.environ.get("BENCH_DBT_ROUNDS", "3"))
# The dbt command of each layer. The folders alone are not layers: intermediate/signals reads the
# financial statements mart, so it runs with the marts (`path:models/marts+`). "buildable" runs a
# test once, in the layer of its last parent (a seed's relationship test from a mart waits for it).
LAYERS = {
    name: ["build", "--indirect-selection", "buildable", *selection]
    for name, selection in {
        "staging": ["--select", "path:seeds", "path:models/staging"],
        "intermediate": ["--select", "path:models/intermediate", "--exclude", "path:models/marts+"],
        "snapshots": ["--select", "path:snapshots"],
        "marts": ["--select", "path:models/marts+"],
    }.items()
}
# The DAG file dag.test() finds in the bundle (a file without the word "airflow" is not parsed).
SHIM = (
    "# airflow DAGs of bench_dbt_orchestration\n"
    "import sys\n"
    "sys.path.insert(0, {bench!r})\n"
    "from bench_dbt_orchestration import {factory}\n"
    "{names} = {factory}()\n"
)
DBT_ENV = {"DO_NOT_TRACK": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "EDGARFLOW_DBT_RAW_SCHEMA": "raw"}


def airflow_env(home: Path) -> dict[str, str]:
    """A throwaway Airflow home whose DAG folder holds one shim file."""
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__COSMOS__CACHE_DIR": str(home / "cosmos-cache"),
    }


def prepare_airflow_home(python: str, home: Path, factory: str, names: str) -> dict[str, str]:
    env = {**os.environ, **airflow_env(home)}
    (home / "dags").mkdir(parents=True, exist_ok=True)
    shim = SHIM.format(bench=str(Path(__file__).resolve().parent), factory=factory, names=names)
    (home / "dags" / f"{factory}.py").write_text(shim)
    if not (home / "airflow.db").exists():
        subprocess.run([python, "-m", "airflow", "db", "migrate"], env=env, check=True, capture_output=True)
    return env


def cpu_seconds() -> float:
    """CPU time of this process and its children: dbt, DuckDB and dag.test() all run in process."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def run_dag_test(dag) -> dict:
    """dag.test() once; wall time, span from first task start to last task end, and task states."""
    from collections import Counter

    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    start, cpu = time.perf_counter(), cpu_seconds()
    run = dag.test()
    wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    with create_session() as session:
        tis = session.query(TaskInstance).filter_by(dag_id=dag.dag_id, run_id=run.run_id).all()
        span = (max(t.end_date for t in tis) - min(t.start_date for t in tis)).total_seconds()
        states = dict(Counter(str(t.state) for t in tis))
    ok = str(run.state) == "success"
    return {"run_s": wall, "cpu_s": cpu, "span_s": span, "tasks": len(dag.tasks), "states": states, "ok": ok}


def warmup_dag():
    """A no-op DAG: its first dag.test() pays the one-time start-up of the in-process Airflow, untimed."""
    from datetime import datetime

    from airflow.sdk import DAG, task

    with DAG("bench_warmup", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
        task(lambda: None, task_id="noop")()
    return dag


# ---- the project's own variants (project venv) ------------------------------------------------------


def coarse_dags():
    """One-task `dbt build` DAG and four-task per-layer DAG, both calling ingest.warehouse.runner.run_dbt."""
    from datetime import datetime

    from airflow.sdk import DAG, chain, task

    from ingest.settings import Settings
    from ingest.warehouse.runner import run_dbt

    @task
    def dbt(args: list[str]) -> None:
        run_dbt(Settings(warehouse="duckdb"), args, artifacts_dir=Path(os.environ["BENCH_ARTIFACTS"]))

    common = {"schedule": None, "start_date": datetime(2026, 1, 1), "catchup": False}
    with DAG("bench_dbt_build", **common) as build:
        dbt.override(task_id="build")(["build"])
    with DAG("bench_dbt_layers", **common) as layers:
        chain(*(dbt.override(task_id=name)(args) for name, args in LAYERS.items()))
    return warmup_dag(), build, layers


def project_variants(work: Path, raw: Path, project: Path) -> dict[str, list[dict]]:
    """build, layers, airflow-build, airflow-layers: ROUNDS each, interleaved."""
    home = work / "airflow-project"
    warehouse = work / "warehouse.duckdb"
    prepare_airflow_home(sys.executable, home, "coarse_dags", "warmup, build, layers")
    os.environ.update(airflow_env(home), **DBT_ENV, BENCH_ARTIFACTS=str(work / "artifacts"))
    os.environ["EDGARFLOW_DUCKDB_PATH"] = str(warehouse)

    from ingest.settings import Settings
    from ingest.warehouse import runner as transform

    transform.DBT_PROJECT_DIR = project  # the copy
    settings = Settings(warehouse="duckdb")
    transform.run_dbt(settings, ["parse"], artifacts_dir=work / "artifacts")  # imports dbt and the adapter, untimed
    warmup, build_dag, layers_dag = coarse_dags()
    run_dag_test(warmup)

    def timed(args_list: list[list[str]]) -> dict:
        shutil.copy(raw, warehouse)
        start, cpu = time.perf_counter(), cpu_seconds()
        nodes = sum(len(transform.run_dbt(settings, a, artifacts_dir=work / "artifacts").nodes) for a in args_list)
        wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu
        return {"run_s": wall, "cpu_s": cpu, "invocations": len(args_list), "nodes": nodes, "ok": True}

    results: dict[str, list[dict]] = {k: [] for k in ("build", "layers", "airflow-build", "airflow-layers")}
    for _ in range(ROUNDS):
        results["build"].append(timed([["build"]]))
        results["layers"].append(timed(list(LAYERS.values())))
        for name, dag in (("airflow-build", build_dag), ("airflow-layers", layers_dag)):
            shutil.copy(raw, warehouse)
            results[name].append(run_dag_test(dag))
    return results


# ---- Cosmos (run in the interpreter named by BENCH_COSMOS_PYTHON) -----------------------------------


def cosmos_dags():
    """The project as one Cosmos DbtTaskGroup; dbt is the one on PATH (the Cosmos virtualenv's)."""
    from datetime import datetime

    from airflow.sdk import DAG
    from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import ExecutionMode, LoadMode

    project = Path(os.environ["BENCH_DBT_PROJECT"])
    env = {**DBT_ENV, "EDGARFLOW_DUCKDB_PATH": os.environ["EDGARFLOW_DUCKDB_PATH"]}
    with DAG("bench_dbt_cosmos", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
        DbtTaskGroup(
            group_id="dbt",
            project_config=ProjectConfig(dbt_project_path=project, env_vars=env),
            profile_config=ProfileConfig(
                profile_name="edgarflow", target_name="duckdb", profiles_yml_filepath=project / "profiles.yml"
            ),
            execution_config=ExecutionConfig(execution_mode=ExecutionMode.LOCAL),
            # Without detaching, a model's test task runs (eager selection) relationship tests whose
            # other parent is not built yet, and the run fails: "Table ... does not exist".
            render_config=RenderConfig(load_method=LoadMode.DBT_LS, should_detach_multiple_parents_tests=True),
        )
    return warmup_dag(), dag


def cosmos_rounds(raw: Path) -> None:
    """Child mode: render the Cosmos DAG (cold caches), then ROUNDS runs; one JSON line on stdout."""
    from collections import Counter
    from importlib.metadata import version

    start = time.perf_counter()
    warmup, dag = cosmos_dags()
    parse = time.perf_counter() - start
    run_dag_test(warmup)
    rounds = []
    for _ in range(ROUNDS):
        shutil.copy(raw, os.environ["EDGARFLOW_DUCKDB_PATH"])
        rounds.append(run_dag_test(dag))
    kinds = Counter(type(t).__name__ for t in dag.tasks)
    groups = sum(1 for g in dag.task_group_dict.values() if g.parent_group and g.parent_group.group_id == "dbt")
    versions = {p: version(p) for p in ("astronomer-cosmos", "apache-airflow", "dbt-core", "dbt-duckdb", "duckdb")}
    summary = {"parse_s": parse, "rounds": rounds, "kinds": dict(kinds), "model_groups": groups, "versions": versions}
    print(json.dumps(summary))


def cosmos_variant(work: Path, raw: Path, project: Path) -> dict | str:
    python = os.environ.get("BENCH_COSMOS_PYTHON")
    if not python:
        return "skipped: set BENCH_COSMOS_PYTHON to a python with astronomer-cosmos, apache-airflow and dbt-duckdb"
    env = prepare_airflow_home(python, work / "airflow-cosmos", "cosmos_dags", "warmup, cosmos")
    env.update(DBT_ENV, BENCH_DBT_PROJECT=str(project), EDGARFLOW_DUCKDB_PATH=str(work / "cosmos.duckdb"))
    env["PATH"] = f"{Path(python).parent}{os.pathsep}{env['PATH']}"
    proc = subprocess.run([python, __file__, "--cosmos-rounds", str(raw)], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        return f"failed (exit {proc.returncode}): {proc.stderr[-3000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---- setup and report --------------------------------------------------------------------------------


def raw_warehouse(work: Path) -> Path:
    """The sample's raw tables, as tests/sample_tables.py builds them."""
    import gzip

    from ingest.sec.normalize import normalize_companyfacts, normalize_submissions
    from ingest.settings import BUNDLED_SAMPLE_DIR, Settings
    from ingest.warehouse.load import load_raw_tables
    from ingest.zones.staged import write_staged
    from ingest.zones.store import LocalStore

    def read(path: Path) -> bytes:
        return gzip.decompress(path.read_bytes())

    store = LocalStore(work / "store")
    edgar = BUNDLED_SAMPLE_DIR / "edgar"
    for facts in sorted((edgar / "companyfacts").glob("CIK*.json.gz")):
        cik = facts.name[3:13]
        write_staged(store, "facts", cik, normalize_companyfacts(read(facts)))
        main = edgar / "submissions" / f"CIK{cik}.json.gz"
        if main.exists():
            pages = [read(p) for p in sorted((edgar / "submissions").glob(f"CIK{cik}-submissions-*.json.gz"))]
            companies, filings = normalize_submissions(read(main), pages)
            write_staged(store, "companies", cik, companies)
            write_staged(store, "filings", cik, filings)
    raw = work / "sample.duckdb"  # not raw.duckdb: its catalog would shadow schema raw
    load_raw_tables(Settings(storage_url=str(work / "store"), duckdb_path=raw, warehouse="duckdb"), store)
    return raw


def describe(name: str, runs: list[dict]) -> str:
    times, cpus = [r["run_s"] for r in runs], [r["cpu_s"] for r in runs]
    line = f"{name:15s} {' '.join(f'{t:6.1f}' for t in times)}   median {statistics.median(times):6.1f}"
    line += f"  cpu {' '.join(f'{c:.1f}' for c in cpus)}"
    if "tasks" in runs[0]:
        spans = " ".join(f"{r['span_s']:.1f}" for r in runs)
        line += f"  ({runs[0]['tasks']} tasks; first task start to last task end {spans})"
    else:
        line += f"  ({runs[0]['nodes']} nodes in {runs[0]['invocations']} dbt invocation(s))"
    return line + ("" if all(r["ok"] for r in runs) else "  NOT ALL SUCCEEDED")


def main() -> None:
    from importlib.metadata import version

    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench_dbt_") as tmp:
        work = Path(tmp)
        project = work / "dbt_project"
        shutil.copytree(Path(__file__).resolve().parent.parent / "dbt_project", project)
        raw = raw_warehouse(work)
        results = project_variants(work, raw, project)
        cosmos = cosmos_variant(work, raw, project)

    print(f"project venv: apache-airflow {version('apache-airflow')}, dbt-core {version('dbt-core')}, "
          f"dbt-duckdb {version('dbt-duckdb')}, duckdb {version('duckdb')}; {os.cpu_count()} CPUs")  # fmt: skip
    print(f"wall seconds per round ({ROUNDS}), median, then CPU seconds (dbt threads as in profiles.yml;"
          f" dag.test() runs one task at a time); load average {load:.1f} -> {os.getloadavg()[0]:.1f}")  # fmt: skip
    for name, runs in results.items():
        print(describe(name, runs))
    median = {name: statistics.median(r["run_s"] for r in runs) for name, runs in results.items()}
    if isinstance(cosmos, str):
        print(f"{'cosmos':15s} {cosmos}")
        # What the DAGs run instead: one `dbt build` task, against the same build outside Airflow.
        print(f"BENCH dbt_orchestration airflow_build_s={median['airflow-build']:.1f} "
              f"ratio={median['airflow-build'] / median['build']:.2f} target=2.0")  # fmt: skip
        return
    print(describe("cosmos", cosmos["rounds"]))
    print(f"cosmos: {cosmos['versions']}; rendering (dbt ls, cold caches) {cosmos['parse_s']:.1f} s, not in the runs;")
    print(f"        {cosmos['model_groups']} task groups, tasks by kind {cosmos['kinds']}")
    median["cosmos"] = statistics.median(r["run_s"] for r in cosmos["rounds"])
    cpu = {name: statistics.median(r["cpu_s"] for r in runs) for name, runs in results.items()}
    cpu["cosmos"] = statistics.median(r["cpu_s"] for r in cosmos["rounds"])
    for name in ("build", "layers", "airflow-build", "airflow-layers"):
        print(f"cosmos / {name:15s} wall {median['cosmos'] / median[name]:.2f}x, cpu {cpu['cosmos'] / cpu[name]:.2f}x")
    verdict = "within" if median["cosmos"] <= 2 * median["build"] else "over"
    print(f"issue 8 rule: Cosmos is {verdict} 2x of the plain build")
    print(f"BENCH dbt_orchestration cosmos_s={median['cosmos']:.1f} "
          f"ratio={median['cosmos'] / median['build']:.2f} target=2.0")  # fmt: skip


if __name__ == "__main__":
    if sys.argv[1:2] == ["--cosmos-rounds"]:
        cosmos_rounds(Path(sys.argv[2]))
    else:
        main()
