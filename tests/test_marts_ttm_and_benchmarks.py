"""Trailing-twelve-month values and sector benchmarks over the real sample warehouse, checked
against numbers computed here from fct_financial_statements and fct_financial_signals."""

from __future__ import annotations

import json
import re
import statistics
from decimal import Decimal

import duckdb
import pytest
from conftest import APPLE, FORD, NVIDIA, REPO, SOUTHWEST, TSMC

pytestmark = [pytest.mark.slow, pytest.mark.dbt]


def query(settings, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def latest_quarters(settings, cik: str, metric: str) -> dict[int, tuple]:
    """Latest version of each fiscal quarter, keyed by fiscal_year * 4 + quarter - 1."""
    rows = query(
        settings,
        """select fiscal_year, fiscal_period, period_start, period_end, value, filed_date, accession_number
           from marts.fct_financial_statements
           where cik = ? and metric = ? and is_latest and fiscal_period like 'Q%'
           order by filed_date, accession_number, period_start""",
        [cik, metric],
    )
    # Later rows overwrite earlier ones: the latest filed version stands for its quarter.
    return {
        year * 4 + int(period[1]) - 1: (start, end, value, filed) for year, period, start, end, value, filed, _ in rows
    }


def test_ttm_is_the_sum_of_four_consecutive_latest_quarters(warehouse):
    settings, _ = warehouse
    quarters = latest_quarters(settings, APPLE, "revenue")
    expected = {}
    for index in quarters:
        window = [quarters.get(index - back) for back in range(4)]
        if all(window):
            expected[(index // 4, f"Q{index % 4 + 1}")] = (
                window[3][0], window[0][1], sum(q[2] for q in window), max(q[3] for q in window),
            )  # fmt: skip
    got = {
        (year, period): (start, end, value, known)
        for year, period, start, end, value, known in query(
            settings,
            """select fiscal_year, fiscal_period, period_start, period_end, ttm_value, known_as_of_date
               from marts.fct_financial_ttm where cik = ? and metric = 'revenue'""",
            [APPLE],
        )
    }
    assert len(expected) > 40 and got == expected
    # Fiscal 2024 Q1 (ended 2023-12-30): Q2-Q4 of fiscal 2023 and Q1 of fiscal 2024, Q4 derived.
    start, end, value, _ = got[(2024, "Q1")]
    assert (start.isoformat(), end.isoformat()) == ("2023-01-01", "2023-12-30")
    assert value == Decimal(94_836 + 81_797 + 89_498 + 119_575) * 1_000_000


def test_ttm_at_fiscal_year_end_is_the_fy_value(warehouse):
    settings, _ = warehouse
    rows = query(
        settings,
        """select ttm.cik, ttm.fiscal_year, ttm.ttm_value, fy.value, ttm.derived_quarters
           from marts.fct_financial_ttm as ttm
           inner join marts.fct_financial_statements as fy
               on fy.cik = ttm.cik and fy.metric = ttm.metric and fy.fiscal_year = ttm.fiscal_year
               and fy.fiscal_period = 'FY' and fy.is_latest
           where ttm.metric = 'revenue' and ttm.fiscal_period = 'Q4' and ttm.cik in (?, ?)""",
        [APPLE, NVIDIA],
    )
    by_year = {(cik, year): (ttm, fy, derived) for cik, year, ttm, fy, derived in rows}
    assert by_year[(APPLE, 2023)] == (Decimal(383_285_000_000), Decimal(383_285_000_000), 1)
    assert by_year[(NVIDIA, 2024)] == (Decimal(60_922_000_000), Decimal(60_922_000_000), 1)
    # Every Apple year: the latest quarters add up to the latest FY revenue.
    apple = [v for (cik, _), v in by_year.items() if cik == APPLE]
    assert len(apple) >= 15 and all(ttm == fy for ttm, fy, _ in apple)


def test_ttm_needs_four_consecutive_quarters_of_flow_metrics(warehouse):
    settings, _ = warehouse
    metrics = {r[0] for r in query(settings, "select distinct metric from marts.fct_financial_ttm")}
    assert {"revenue", "net_income", "operating_cash_flow", "capex"} <= metrics
    assert not metrics & {"total_assets", "cash", "eps_basic", "eps_diluted", "shares_outstanding"}
    # Apple's first quarter in the sample has no TTM: three earlier quarters are missing.
    quarters = latest_quarters(settings, APPLE, "revenue")
    first = min(quarters)
    assert query(
        settings,
        "select count(*) from marts.fct_financial_ttm where cik = ? and metric = 'revenue' and fiscal_year * 4 + "
        "cast(substr(fiscal_period, 2, 1) as int) - 1 < ?",
        [APPLE, first + 3],
    ) == [(0,)]


def annual_ratio_inputs(settings, cik: str, fiscal_year: int) -> dict[str, Decimal]:
    """FY values as first reported (in the annual report for that year)."""
    return dict(
        query(
            settings,
            """select metric, value from marts.fct_financial_statements
               where cik = ? and fiscal_year = ? and fiscal_period = 'FY' and is_first_reported
                 and metric in ('revenue', 'net_income', 'operating_income',
                                'current_assets', 'current_liabilities')""",
            [cik, fiscal_year],
        )
    )


def test_sector_benchmarks_are_quartiles_of_the_division(warehouse):
    settings, _ = warehouse
    # Manufacturing (SIC 2000-3999) in fiscal 2023: Apple 3571, NVIDIA and TSMC 3674, Ford 3711
    # (Tesla's filings in the sample end with fiscal 2021; the others have no SIC code).
    inputs = {cik: annual_ratio_inputs(settings, cik, 2023) for cik in (APPLE, NVIDIA, TSMC, FORD)}
    net = sorted(v["net_income"] / v["revenue"] for v in inputs.values())
    current = sorted(v["current_assets"] / v["current_liabilities"] for v in inputs.values())
    assert round(net[-1], 3) == Decimal("0.394")  # TSMC: 851,740M / 2,161,736M TWD
    row = query(
        settings,
        """select sic_division_name, company_count, net_margin_p25, net_margin_median, net_margin_p75,
                  current_ratio_p25, current_ratio_median, current_ratio_p75
           from marts.agg_sector_benchmarks where sic_division = 'D' and fiscal_year = 2023""",
    )
    assert len(row) == 1
    name, count, *quartiles = row[0]
    assert (name, count) == ("Manufacturing", 4)
    expected = statistics.quantiles(net, n=4, method="inclusive") + statistics.quantiles(
        current, n=4, method="inclusive"
    )
    assert [round(q, 6) for q in quartiles] == [round(e, 6) for e in expected]
    # Southwest (SIC 4512) alone in Transportation: its quartiles are its own ratio.
    southwest = annual_ratio_inputs(settings, SOUTHWEST, 2023)
    margin = southwest["operating_income"] / southwest["revenue"]
    assert query(
        settings,
        "select company_count, operating_margin_p25, operating_margin_median, operating_margin_p75 "
        "from marts.agg_sector_benchmarks where sic_division = 'E' and fiscal_year = 2023",
    ) == [(1, *[round(margin, 9)] * 3)]
    # Companies without a SIC code are in no division.
    assert query(settings, "select max(company_count) from marts.agg_sector_benchmarks")[0][0] <= 6


def test_each_dashboard_page_is_an_exposure_of_exactly_the_models_its_queries_read(warehouse):
    """dashboards/pages/<page> reads source queries `warehouse.<query>`; each query (dashboards/
    queries/warehouse/<query>.sql) selects from `{{ marts }}.<model>` or `{{ seeds }}.<seed>`. The
    page's exposure must depend on exactly those, so `dbt ls --select +exposure:…` is the truth."""
    _, run = warehouse
    manifest = json.loads((run.artifacts_dir / "target" / "manifest.json").read_text())
    dashboard = REPO / "dashboards"
    reads = {
        query.stem: set(re.findall(r"\{\{ (?:marts|seeds) \}\}\.(\w+)", query.read_text()))
        for query in (dashboard / "queries" / "warehouse").glob("*.sql")
    }
    pages = {
        page.relative_to(dashboard / "pages").as_posix(): set(re.findall(r"\bwarehouse\.(\w+)", page.read_text()))
        for page in (dashboard / "pages").rglob("*.md")
    }
    exposures = {e["meta"]["page"]: e for e in manifest["exposures"].values()}
    assert set(exposures) == {page for page, queries in pages.items() if queries}
    for page, exposure in exposures.items():
        assert exposure["owner"]["email"] and exposure["type"] == "dashboard"
        needed = set().union(*(reads[query] for query in pages[page]))
        assert {node.split(".")[-1] for node in exposure["depends_on"]["nodes"]} == needed, page
