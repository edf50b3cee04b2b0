"""The Evidence dashboard built over a real warehouse and PostgreSQL, checked in headless Chromium
as a person would use it (tests/browser/dashboard.mjs drives it with playwright-core).

Skipped, with the reason, where Node.js 18+ or Chromium is missing; `.ci/run` installs both.
Screenshots are kept in .local/test-output/dashboard/.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

import duckdb
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from conftest import APPLE, NVIDIA, REPO, fresh_database, run_dag

from ingest.warehouse.runner import run_dbt
from ops import dashboard

pytestmark = [pytest.mark.slow, pytest.mark.dag]

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = REPO / ".local" / "test-output" / "dashboard"
SECTOR = "Manufacturing"


def _missing() -> str | None:
    version = dashboard.node_version()
    if version is None or shutil.which("npm") is None:
        return "Node.js and npm are not installed (.ci/run installs Debian's nodejs and npm)"
    if version[0] < dashboard.MIN_NODE:
        return f"Node.js {'.'.join(map(str, version))} is older than {dashboard.MIN_NODE}"
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM} (.ci/run installs Debian's chromium; CHROMIUM names another)"
    return None


@pytest.fixture(scope="module")
def site(priced_warehouse, pg_dsn, tmp_path_factory):
    """The dashboard built over the sample's priced warehouse and a PostgreSQL where market_daily
    has really run (the pipeline page's latest run), served on loopback and opened in Chromium."""
    if reason := _missing():
        pytest.skip(reason)
    tmp = tmp_path_factory.mktemp("dashboard")
    shutil.copy(priced_warehouse.duckdb_path, tmp / "warehouse.duckdb")
    env = {
        "EDGARFLOW_STORAGE_URL": str(tmp / "store"),
        "EDGARFLOW_DUCKDB_PATH": str(tmp / "warehouse.duckdb"),
        "EDGARFLOW_REDIS_DATA_DIR": str(tmp / "redis"),
        "EDGARFLOW_PG_DSN": fresh_database(pg_dsn, "dashboard"),
    }
    market, settings = run_dag("market_daily", env, dt.datetime(2026, 11, 20, 22, 30, tzinfo=dt.UTC))
    # The market marts over what market_daily loaded (Yahoo's chart responses carry dividends and
    # splits), as warehouse_build would rebuild them.
    run_dbt(settings, ["build", "--select", "stg_market__prices+"], artifacts_dir=tmp / "dbt")
    project = tmp / "project"  # a copy: the repository's dashboards/build stays the user's own
    project.mkdir()
    for name in dashboard.PROJECT_FILES:
        source = dashboard.DASHBOARD_DIR / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, project / name)
    built = dashboard.build(settings, project)

    httpd = dashboard.server(built, port=0)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    try:
        fiscal_year = "2023"
        browsed = subprocess.run(
            ["node", str(REPO / "tests" / "browser" / "dashboard.mjs"), f"http://127.0.0.1:{httpd.server_port}",
             str(SCREENSHOTS), APPLE, fiscal_year, SECTOR, NVIDIA],
            capture_output=True, text=True, timeout=600, env={**os.environ, "CHROMIUM": str(CHROMIUM)},
        )  # fmt: skip
    finally:
        httpd.shutdown()
    assert browsed.returncode == 0, browsed.stderr[-3000:]
    return json.loads(browsed.stdout), settings, market, project


def test_apples_page_shows_fy2023_revenue_linked_to_its_filing(site):
    shown, settings, _, project = site
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        accession = con.execute(
            "select accession_number from marts.fct_financial_statements where cik = ? and metric = 'revenue' "
            "and fiscal_year = 2023 and fiscal_period = 'FY' and is_latest",
            [APPLE],
        ).fetchone()[0]
    assert shown["company"]["heading"] == "Apple Inc."
    (revenue,) = [row for row in shown["company"]["statements"] if row[1]["text"] == "revenue"]
    assert revenue[2]["text"] == "383,285,000,000"
    assert revenue[4]["text"] == accession
    # The number itself links to the filing's index on sec.gov.
    assert revenue[2]["href"] == (
        f"https://www.sec.gov/Archives/edgar/data/320193/{accession.replace('-', '')}/{accession}-index.htm"
    )
    assert (SCREENSHOTS / "company.png").stat().st_size > 50_000
    # NVIDIA's chart (a canvas: the screenshot shows it) has its 10:1 split of 2024-06-10 to mark.
    prices = pq.read_table(next((project / "build" / "data" / "warehouse" / "prices").rglob("*.parquet")))
    splits = prices.filter(pc.and_(pc.equal(prices["ticker"], "NVDA"), pc.not_equal(prices["split_ratio"], 1)))
    assert [(f"{d:%Y-%m-%d}", r) for d, r in zip(splits["trade_date"].to_pylist(), splits["split_ratio"].to_pylist())] == [
        ("2024-06-10", 10.0)
    ]
    assert (SCREENSHOTS / "company-split.png").exists()


def test_the_screener_filters_by_sector(site):
    shown, settings, _, _ = site
    everything, filtered = shown["screener"]["all"], shown["screener"]["filtered"]
    sectors = {row[2]["text"] for row in everything}
    assert SECTOR in sectors and len(sectors) > 1
    assert filtered and {row[2]["text"] for row in filtered} == {SECTOR}
    assert len(filtered) == sum(row[2]["text"] == SECTOR for row in everything) < len(everything)
    # Each company links to its page.
    assert all(re.search(r"/companies/\d{10}$", row[0]["href"]) for row in filtered)
    assert (SCREENSHOTS / "screener-filtered.png").exists()


def test_the_pipeline_page_lists_the_latest_run(site):
    shown, _, market, _ = site
    latest = shown["pipeline"]["runs"][0]
    assert [latest[0]["text"], latest[1]["text"], latest[2]["text"]] == ["market_daily", market.run_id, "success"]
    assert "Quarantine" in shown["pipeline"]["text"]
    assert shown["sectors"]  # the benchmarks page has its table
    assert (SCREENSHOTS / "pipeline.png").exists()


def test_the_site_needs_nothing_beyond_localhost(site):
    shown, *_ = site
    assert shown["problems"] == []


def test_the_warehouse_file_opens_in_the_dashboards_duckdb_client(site):
    """Evidence's connector (DuckDB 1.4's Node client) read the warehouse to extract its sources;
    the same client, run on its own, opens the file read-only and reads a mart."""
    _, settings, _, project = site
    script = """
        const { DuckDBInstance } = require('@duckdb/node-api');
        (async () => {
          const db = await DuckDBInstance.create(process.argv[1], { access_mode: 'READ_ONLY' });
          const reader = await (await db.connect()).runAndReadAll(
            "select library_version, (select count(*) from marts.dim_company) from pragma_version()");
          console.log(JSON.stringify(reader.getRows().map((row) => row.map(String))));
        })();
    """
    ran = subprocess.run(
        ["node", "-e", script, str(settings.duckdb_path)], cwd=dashboard.DASHBOARD_DIR, capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stderr
    ((version, companies),) = json.loads(ran.stdout)
    assert version.startswith("v1.4.")
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        assert int(companies) == con.execute("select count(*) from marts.dim_company").fetchone()[0]
    assert (project / "build" / "data" / "warehouse" / "statements").is_dir()


def test_make_dashboard_says_plainly_that_it_needs_node(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # a directory with no node and no npm
    with pytest.raises(dashboard.DashboardError, match="needs Node.js 18 or later with npm, and none is on PATH"):
        dashboard.require_node()
