"""`make run`: the three DAGs on the bundled sample (and a filing-text backfill), each as `airflow dags test` runs it (every
task in this process, against the real local backends), with a report a person can read.

Library output (Airflow, GX, dbt, yfinance) goes to the log file; the terminal gets a line per
task as it ends, progress lines of long stages (logger ``edgarflow.progress``), each DAG's
outcome, and the summaries of all three runs. The embedded PostgreSQL is stopped at the end,
unless `make airflow` has services running that use it.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
from pathlib import Path

from ingest.settings import LOCAL_DIR, PROJECT_ROOT

# Market first: the nightly summary counts prices. Then, as an operator would, a backfill of the
# filing text of the sample's 10-Ks (2023-2025), which the nightly's one-year lookback does not reach.
TEXT_BACKFILL = {"filed_from": "2023-01-01", "filed_to": "2025-12-31", "documents_only": True}
SEARCH_EXAMPLE = ("supply chain", "NVDA")
DAGS = (("market_daily", None), ("edgar_nightly", None), ("edgar_nightly", TEXT_BACKFILL), ("warehouse_build", None))
LOG = LOCAL_DIR / "logs" / "make-run.log"
_TASK_END = re.compile(r"\[DAG TEST\] end task task_id=(\S+) map_index=(-?\d+)")
# A source run whose load changed nothing announces nothing; a nightly with nothing filed since
# the last run (a second `make run`) skips everything up to its summary.
SKIPPED = "no row inserted or updated, so no warehouse build is due"
NOTHING_FILED = "SEC's daily index lists nothing filed since the last run, so nothing was asked"
_PROGRESS = re.compile(r"\[info\s*\] (.*?) \[edgarflow\.progress")


def main() -> int:
    LOG.parent.mkdir(parents=True, exist_ok=True)
    terminal = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    with LOG.open("w") as log:
        # Everything written to stdout/stderr from here on, by any library, lands in the log.
        os.dup2(log.fileno(), sys.stdout.fileno())
        os.dup2(log.fileno(), sys.stderr.fileno())
    terminal.write(f"edgarflow on the bundled sample; library output in {LOG}\n")
    follower = _Follower(LOG, terminal)
    follower.start()
    try:
        failed = _run_dags(terminal)
        follower.stop()
        if failed:
            terminal.write(f"\n{failed} failed: see {LOG}\n")
            return 1
        from pipelines.summaries import render_all

        terminal.write("\n" + render_all() + "\n")
        terminal.write("\n" + _search_example() + "\n")
        terminal.write("\n" + _dashboard_note() + "\n")
        return 0
    finally:
        follower.stop()
        _stop_servers(terminal)


def _run_dags(terminal) -> str | None:
    """Run each DAG; returns the first one that failed (its failed tasks are printed)."""
    from airflow.dag_processing.dagbag import BundleDagBag

    folder = PROJECT_ROOT / "dags"
    dags = BundleDagBag(dag_folder=str(folder), bundle_path=folder).dags
    for dag_id, conf in DAGS:
        terminal.write(f"\n{dag_id}{' ' + json.dumps(conf) if conf else ''}\n")
        started = time.monotonic()
        run = dags[dag_id].test(run_conf=conf)
        sys.stdout.flush()
        time.sleep(0.3)  # let the follower print the run's last lines first
        states = {(ti.task_id, ti.map_index): ti.state for ti in run.get_task_instances()}
        bad = sorted(f"{t}[{i}]" if i >= 0 else t for (t, i), s in states.items() if s in ("failed", "upstream_failed"))
        skipped = sorted(t for (t, _), s in states.items() if s == "skipped")
        terminal.write(f"  {dag_id}: {run.state} in {time.monotonic() - started:.0f}s")
        reason = SKIPPED if set(skipped) <= {"announce"} else NOTHING_FILED
        terminal.write(f"; skipped {', '.join(skipped)} ({reason})\n" if skipped else "\n")
        if run.state != "success":
            terminal.write(f"  not successful: {', '.join(bad) or 'see the log'}\n")
            from pipelines.summaries import render_failed_gates

            if gates := render_failed_gates(run.run_id):
                terminal.write(gates + "\n")
            return dag_id
    return None


def _search_example() -> str:
    """The best hit of a full-text search over the sections the backfill loaded, as bi_reader gets it."""
    from ingest.postgres.connection import connect
    from ingest.search import render, search
    from ingest.settings import Settings

    query, ticker = SEARCH_EXAMPLE
    with connect(Settings()) as conn:
        hits = search(conn, query, ticker=ticker, limit=1)
    command = f'.venv/bin/python -m ingest.search "{query}" --ticker {ticker}'
    return f"filing text: the best section for {command}\n{render(hits)}"


def _dashboard_note() -> str:
    """Where the BI dashboard is, and how to build and open it over what this run made."""
    from ops.dashboard import BUILD_DIR, LOCAL_URL

    index = BUILD_DIR / "index.html"
    if not index.exists():
        return (f"dashboard: not built yet; `make dashboard` builds it into {BUILD_DIR} (Node.js 18+), "
                f"`make dashboard-serve` opens it at {LOCAL_URL}")  # fmt: skip
    built = time.strftime("%Y-%m-%d %H:%M", time.localtime(index.stat().st_mtime))
    return (f"dashboard: {BUILD_DIR} (built {built}, over the data of then: `make dashboard` rebuilds it)\n"
            f"  open it: make dashboard-serve, then {LOCAL_URL}")  # fmt: skip


class _Follower(threading.Thread):
    """Reads the log as it grows and echoes task ends and progress lines to the terminal."""

    def __init__(self, path: Path, terminal):
        super().__init__(daemon=True)
        self.path, self.terminal = path, terminal
        self._done = threading.Event()

    def run(self) -> None:
        with self.path.open(errors="replace") as log:
            while True:
                line = log.readline()
                if not line:
                    if self._done.is_set():
                        return
                    time.sleep(0.1)
                    continue
                if m := _TASK_END.search(line):
                    task, index = m.group(1), int(m.group(2))
                    self.terminal.write(f"  done  {task}{f' [batch {index}]' if index >= 0 else ''}\n")
                elif m := _PROGRESS.search(line):
                    self.terminal.write(f"        {m.group(1).rstrip()}\n")

    def stop(self) -> None:
        self._done.set()
        if self.is_alive():
            self.join(timeout=5)


def _stop_servers(terminal) -> None:
    from ops import services

    stopped = services.stop_embedded_servers_unless_airflow_runs()
    if stopped is None:
        terminal.write("Airflow services (`make airflow`) are running, so the embedded PostgreSQL stays up; "
                       "`make stop` stops everything.\n")  # fmt: skip
    elif stopped:
        terminal.write("\nnothing left running:\n" + "\n".join(stopped) + "\n")


if __name__ == "__main__":
    sys.exit(main())
