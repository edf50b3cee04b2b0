"""`dbt build` time of the sample against the sample replicated ten times, same project, same run.

Data: the bundled sample staged exactly as the pipeline stages it (companyfacts and submissions
normalized by ingest.sec.normalize, the Yahoo CSVs of the companies with facts through the market
pipeline's CSV backfill path), then loaded into DuckDB raw tables by ingest.warehouse.load. The 10x
warehouse holds the originals plus nine replicas of every company under new CIKs (and tickers),
from bench/sample_replicas.py: ten times the facts, filings, companies and prices.

Measured: wall seconds of ingest.warehouse.runner.run_dbt(["build"]) (every seed, snapshot, model, data
test and unit test) on a fresh copy of each raw warehouse, the two sizes alternating for
BENCH_DBT_SCALE_ROUNDS rounds (default 3); the best of each counts, the host's two cores being
shared. A build has a fixed cost (parsing, ~150 nodes, unit tests on fixtures) and a part that
grows with the data; the target is 10x the data in at most 3x the time. The models taking most
of the 10x build are listed from its run results.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from sample_warehouse import raw_warehouse, sample_tables

from ingest.settings import Settings
from ingest.warehouse.runner import run_dbt

ROUNDS = int(os.environ.get("BENCH_DBT_SCALE_ROUNDS", "3"))
SCALE = 10
TARGET_RATIO = 3.0


def timed_build(raw: Path, work: Path) -> tuple[float, list]:
    """Seconds of one `dbt build` over a fresh copy of ``raw`` (same path each round), and its nodes.
    The artifacts directory is reused, so dbt parses the project partially, as a long-lived worker does:
    the fixed cost is the least it can be and the ratio the most conservative."""
    target = work / "warehouse.duckdb"
    shutil.copy(raw, target)
    settings = Settings(storage_url=str(work / "store"), duckdb_path=target, warehouse="duckdb")
    start = time.perf_counter()
    run = run_dbt(settings, ["build", "--quiet"], run_id="build", artifacts_dir=work / "dbt")
    return time.perf_counter() - start, run.nodes


def main() -> None:
    tables = sample_tables()
    with tempfile.TemporaryDirectory(prefix="bench-dbt-scale-") as tmp:
        sizes = {1: Path(tmp) / "x1", SCALE: Path(tmp) / f"x{SCALE}"}
        raws = {}
        for copies, folder in sizes.items():
            raws[copies], facts = raw_warehouse(folder, tables, copies)
            size_mb = raws[copies].stat().st_size / 1e6
            print(f"{copies:2d}x: {facts:,} facts of {len(tables) * copies} companies, {size_mb:,.0f} MB of raw tables")
        seconds: dict[int, list[float]] = {copies: [] for copies in sizes}
        nodes: dict[int, list] = {}
        for copies, folder in sizes.items():  # imports and the first, full parse are not a size's cost
            timed_build(raws[copies], folder)
        for n in range(1, ROUNDS + 1):
            for copies, folder in sizes.items():
                elapsed, run_nodes = timed_build(raws[copies], folder)
                if not seconds[copies] or elapsed < min(seconds[copies]):
                    nodes[copies] = run_nodes
                seconds[copies].append(elapsed)
            print(f"round {n}: " + "  ".join(f"{c:2d}x {seconds[c][-1]:6.1f} s" for c in sizes))
    for copies in sizes:
        times = seconds[copies]
        print(f"{copies:2d}x dbt build: best {min(times):6.1f} s  median {statistics.median(times):6.1f} s")
    busiest = sorted((n for n in nodes[SCALE] if n.resource_type != "exposure"), key=lambda n: -n.execution_time)
    print(f"slowest nodes of the best {SCALE}x build (execution_time, 1x in brackets):")
    small = {n.unique_id: n.execution_time for n in nodes[1]}
    for node in busiest[:8]:
        before = small.get(node.unique_id, 0.0)
        print(f"  {node.execution_time:6.2f} s ({before:5.2f} s)  {node.resource_type:9s} {node.name}")
    best_1, best_10 = min(seconds[1]), min(seconds[SCALE])
    ratio = best_10 / best_1
    print(f"ratio {SCALE}x/1x: {ratio:.2f} (target <= {TARGET_RATIO})")
    print(f"BENCH dbt_scale seconds_10x={best_10:.1f} ratio={ratio:.2f} target={TARGET_RATIO}")


if __name__ == "__main__":
    main()
