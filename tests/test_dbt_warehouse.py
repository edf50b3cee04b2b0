"""dbt build over a real DuckDB warehouse of the bundled sample: marts checked against filed reports."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal

import duckdb
import pytest
from conftest import ALPHABET, APPLE, FORD, LPA, META, NVIDIA, SNOWFLAKE, SOUTHWEST, TESLA, TSMC, sample_bytes

from ingest.warehouse.runner import DbtRunError, run_dbt

pytestmark = [pytest.mark.slow, pytest.mark.dbt]


def query(settings, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def statement(settings, cik: str, metric: str, fiscal_year: int, fiscal_period: str = "FY", flag: str = "is_latest"):
    rows = query(
        settings,
        f"""select value, unit, accession_number, form, source_tag, period_start, period_end
            from marts.fct_financial_statements
            where cik = ? and metric = ? and fiscal_year = ? and fiscal_period = ? and {flag}""",
        [cik, metric, fiscal_year, fiscal_period],
    )
    assert len(rows) == 1, f"{cik} {metric} {fiscal_year} {fiscal_period}: {rows}"
    return rows[0]


def test_build_runs_every_node_and_records_results(warehouse):
    _, run = warehouse
    kinds = {n.resource_type for n in run.nodes}
    assert {"model", "test", "unit_test", "seed", "snapshot"} <= kinds
    # Exposures (BI consumers, models/marts/_exposures.yml) are nodes of the run that execute nothing.
    executed = [n for n in run.nodes if n.resource_type != "exposure"]
    assert all(n.status in ("success", "pass") for n in executed), [(n.name, n.status) for n in executed]
    assert all(n.execution_time > 0 for n in executed)
    assert {n.status for n in run.nodes if n.resource_type == "exposure"} == {"no-op"}
    names = {n.name for n in run.nodes}
    marts = {"fct_financial_statements", "fct_financial_signals", "dim_company", "dim_date", "dim_metric",
             "fct_financial_ttm", "agg_sector_benchmarks"}  # fmt: skip
    assert marts | {"snp_edgar__companies", "metric_definitions", "metric_tags", "metric_derivations", "sic_divisions", "audit_fact_sign_flips"} <= names
    recorded = run.run_results()
    assert len(recorded["results"]) == len(run.nodes)
    assert {r["unique_id"] for r in recorded["results"]} == {n.unique_id for n in run.nodes}


@pytest.mark.parametrize(
    ("metric", "value"),
    [
        ("revenue", 383_285_000_000),
        ("net_income", 96_995_000_000),
        ("operating_income", 114_301_000_000),
        ("total_assets", 352_583_000_000),
        ("stockholders_equity", 62_146_000_000),
    ],
)
def test_apple_fy2023_matches_its_10k(warehouse, metric, value):
    settings, _ = warehouse
    latest = statement(settings, APPLE, metric, 2023)
    first = statement(settings, APPLE, metric, 2023, flag="is_first_reported")
    assert latest[0] == Decimal(value) and latest[1] == "USD"
    assert latest[6].isoformat() == "2023-09-30"  # 53-week year ending the last Saturday of September
    assert first[0] == Decimal(value)
    assert (first[2], first[3]) == ("0000320193-23-000106", "10-K")


@pytest.mark.parametrize(
    ("cik", "metric", "fiscal_year", "value", "unit", "accession", "tag"),
    [
        # NVIDIA's fiscal 2024 ended 2024-01-28 (52 weeks ending the last Sunday of January).
        (NVIDIA, "revenue", 2024, 60_922_000_000, "USD", "0001045810-24-000029", "us-gaap:Revenues"),
        (NVIDIA, "net_income", 2024, 29_760_000_000, "USD", "0001045810-24-000029", "us-gaap:NetIncomeLoss"),
        (NVIDIA, "total_assets", 2024, 65_728_000_000, "USD", "0001045810-24-000029", "us-gaap:Assets"),
        # Ford's 2010 10-K tags total Revenues (with Ford Credit) and automotive SalesRevenueNet (119,280M).
        (FORD, "revenue", 2010, 128_954_000_000, "USD", "0001157523-11-001210", "us-gaap:Revenues"),
        # IFRS, 20-F: TWD, not the USD convenience translation beside it.
        (TSMC, "revenue", 2023, 2_161_735_800_000, "TWD", "0001193125-24-099840", "ifrs-full:Revenue"),
        (TSMC, "net_income", 2023, 851_740_000_000, "TWD", "0001193125-24-099840",
         "ifrs-full:ProfitLossAttributableToOwnersOfParent"),
        # IFRS total Revenue, not its RevenueFromContractsWithCustomers part.
        (LPA, "revenue", 2023, 39_436_343, "USD", "0001493152-24-016772", "ifrs-full:Revenue"),
        (ALPHABET, "net_income", 2023, 73_795_000_000, "USD", "0001652044-24-000022", "us-gaap:NetIncomeLoss"),
        (META, "revenue", 2023, 134_902_000_000, "USD", "0001326801-24-000012",
         "us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax"),
        (TESLA, "revenue", 2021, 53_823_000_000, "USD", "0000950170-22-000796", "us-gaap:Revenues"),
        # Snowflake's fiscal 2024 ended 2024-01-31; it has no submissions document in the sample.
        (SNOWFLAKE, "revenue", 2024, 2_806_489_000, "USD", "0001640147-24-000101",
         "us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax"),
        (SOUTHWEST, "revenue", 2023, 26_091_000_000, "USD", "0000092380-24-000027",
         "us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax"),
    ],
)  # fmt: skip
def test_annual_values_match_the_annual_report(warehouse, cik, metric, fiscal_year, value, unit, accession, tag):
    settings, _ = warehouse
    first = statement(settings, cik, metric, fiscal_year, flag="is_first_reported")
    assert first[:3] == (Decimal(value), unit, accession)
    assert first[3] in ("10-K", "20-F")
    assert first[4] == tag


@pytest.mark.parametrize("cik", [TSMC, META])  # the sample's largest values and its most decimals
def test_values_reach_the_warehouse_and_marts_exactly(warehouse, cik):
    settings, _ = warehouse
    doc = json.loads(sample_bytes(f"edgar/companyfacts/CIK{cik}.json"), parse_float=Decimal, parse_int=Decimal)
    values = [f["val"] for tags in doc["facts"].values() for c in tags.values() for u in c["units"].values() for f in u]
    ((raw_type, raw_sum),) = query(
        settings, "select typeof(any_value(value)), sum(value) from raw.edgar_facts where cik = ?", [cik]
    )
    assert raw_type == "DECIMAL(38,9)" and raw_sum == sum(values)
    # Every mart value is one of the filed decimals (or a derived Q4), never a float's neighbour.
    off = query(
        settings,
        """select count(*) from marts.fct_financial_statements s
           where s.cik = ? and not s.is_derived and not exists (
               select 1 from raw.edgar_facts f where f.cik = s.cik and f.accession_number = s.accession_number
                 and f.value = s.value)""",
        [cik],
    )
    assert off == [(0,)]


def test_quarters_follow_the_52_53_week_calendar(warehouse):
    settings, _ = warehouse
    rows = query(
        settings,
        """select fiscal_period, period_start, period_end, value, is_derived
           from marts.fct_financial_statements
           where cik = ? and metric = 'revenue' and fiscal_year = 2024 and is_latest
           order by period_end, fiscal_period""",
        [NVIDIA],
    )
    got = [(p, s.isoformat(), e.isoformat(), int(v), d) for p, s, e, v, d in rows]
    assert got == [
        ("Q1", "2023-01-30", "2023-04-30", 7_192_000_000, False),
        ("Q2", "2023-05-01", "2023-07-30", 13_507_000_000, False),
        ("Q3", "2023-07-31", "2023-10-29", 18_120_000_000, False),
        ("FY", "2023-01-30", "2024-01-28", 60_922_000_000, False),
        ("Q4", "2023-10-30", "2024-01-28", 22_103_000_000, True),
    ]
    # Year-to-date durations are inputs, never rows of the mart.
    periods = {r[0] for r in query(settings, "select distinct fiscal_period from marts.fct_financial_statements")}
    assert periods == {"FY", "Q1", "Q2", "Q3", "Q4"}


def test_q4_is_fy_less_nine_months_traced_to_the_10k(warehouse):
    settings, _ = warehouse
    value, unit, accession, form, tag, start, end = statement(
        settings, APPLE, "revenue", 2023, "Q4", "is_first_reported"
    )
    assert value == Decimal(383_285_000_000 - 293_787_000_000)
    assert (accession, form, tag) == (
        "0000320193-23-000106",
        "10-K",
        "us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax",
    )
    assert (start.isoformat(), end.isoformat()) == ("2023-07-02", "2023-09-30")
    # Balance-sheet values and EPS are never derived.
    derived = query(
        settings,
        "select distinct metric from marts.fct_financial_statements where is_derived and metric in "
        "('total_assets', 'eps_basic', 'eps_diluted', 'shares_outstanding', 'weighted_shares_basic')",
    )
    assert derived == []


def test_restated_values_keep_every_version(warehouse):
    """Apple restated fiscal 2009 revenue (new revenue recognition for iPhone, 10-K/A of 2010-01-25)."""
    settings, _ = warehouse
    rows = query(
        settings,
        """select value, accession_number, filed_date, is_first_reported, is_latest
           from marts.fct_financial_statements
           where cik = ? and metric = 'revenue' and fiscal_year = 2009 and fiscal_period = 'FY'
           order by filed_date, accession_number""",
        [APPLE],
    )
    assert len(rows) >= 3
    first, latest = rows[0], rows[-1]
    assert (first[0], first[1], first[3], first[4]) == (Decimal(36_537_000_000), "0001193125-09-214859", True, False)
    assert (latest[0], latest[3], latest[4]) == (Decimal(42_905_000_000), False, True)
    assert sum(r[3] for r in rows) == 1 and sum(r[4] for r in rows) == 1
    # Point in time: what was known at the end of calendar 2009 is the original figure.
    known = query(
        settings,
        """select value from marts.fct_financial_statements
           where cik = ? and metric = 'revenue' and fiscal_year = 2009 and fiscal_period = 'FY'
             and filed_date <= date '2009-12-31'
           order by filed_date desc, accession_number desc limit 1""",
        [APPLE],
    )
    assert known == [(Decimal(36_537_000_000),)]


def test_instants_at_year_end_are_fy_without_start(warehouse):
    settings, _ = warehouse
    value, _, _, _, tag, start, end = statement(settings, APPLE, "total_assets", 2023)
    assert start is None and end.isoformat() == "2023-09-30" and tag == "us-gaap:Assets"
    q1 = statement(settings, APPLE, "total_assets", 2024, "Q1")
    assert q1[5] is None and q1[6].isoformat() == "2023-12-30"
    assert query(
        settings,
        "select count(*) from marts.fct_financial_statements where fiscal_period = 'Q4' and period_start is null",
    ) == [(0,)]


def test_dimensions_cover_every_fact(warehouse):
    settings, _ = warehouse
    companies = dict(query(settings, "select cik, has_submissions from marts.dim_company where is_current"))
    fact_ciks = {r[0] for r in query(settings, "select distinct cik from marts.fct_financial_statements")}
    assert fact_ciks <= set(companies) and len(companies) == 13
    assert companies[APPLE] and not companies[SNOWFLAKE]
    # Snowflake (no submissions) gets its fiscal year end from its annual facts.
    assert query(settings, "select fiscal_year_end from marts.dim_company where cik = ?", [SNOWFLAKE]) == [("0131",)]
    metrics = {r[0] for r in query(settings, "select metric from marts.dim_metric")}
    required = {
        "revenue", "cost_of_revenue", "gross_profit", "operating_income", "pretax_income", "income_tax",
        "net_income", "eps_basic", "eps_diluted", "shares_outstanding", "total_assets", "current_assets",
        "cash", "total_liabilities", "current_liabilities", "long_term_debt", "stockholders_equity",
        "operating_cash_flow", "capex",
    }  # fmt: skip
    assert required <= metrics and len(metrics) >= 40
    assert query(settings, "select count(*) from marts.dim_date")[0][0] > 12_000
    # Apple's fiscal 2023 ended on a Saturday, the last day of a calendar quarter.
    assert query(
        settings, "select iso_day_of_week, is_quarter_end from marts.dim_date where date_day = date '2023-09-30'"
    ) == [(6, True)]


def test_company_changes_become_new_versions_and_reruns_change_nothing(warehouse, tmp_path):
    settings, _ = warehouse
    copy = settings.model_copy(update={"duckdb_path": tmp_path / "warehouse.duckdb"})
    shutil.copy(settings.duckdb_path, copy.duckdb_path)
    before = query(
        copy, "select count(*), sum(case when is_latest then 1 else 0 end) from marts.fct_financial_statements"
    )

    run_dbt(copy, ["build", "--exclude", "resource_type:unit_test"], artifacts_dir=tmp_path / "dbt")
    assert query(copy, "select count(*) from marts.dim_company") == [(13,)]
    assert (
        query(copy, "select count(*), sum(case when is_latest then 1 else 0 end) from marts.fct_financial_statements")
        == before
    )

    with duckdb.connect(str(copy.duckdb_path)) as con:
        con.execute("update raw.edgar_companies set name = 'Ford Motor Company', sic = '3714' where cik = ?", [FORD])
    run_dbt(copy, ["build", "--select", "+snp_edgar__companies+", "--exclude", "resource_type:unit_test"],
            artifacts_dir=tmp_path / "dbt")  # fmt: skip
    versions = query(
        copy,
        "select name, sic, is_current, valid_to is null from marts.dim_company where cik = ? order by valid_from",
        [FORD],
    )
    assert versions == [("FORD MOTOR CO", "3711", False, False), ("Ford Motor Company", "3714", True, True)]


def test_failed_tests_raise_naming_the_failing_nodes(warehouse, tmp_path):
    settings, _ = warehouse
    broken = settings.model_copy(update={"duckdb_path": tmp_path / "warehouse.duckdb"})
    shutil.copy(settings.duckdb_path, broken.duckdb_path)
    with duckdb.connect(str(broken.duckdb_path)) as con:
        con.execute("insert into raw.edgar_companies select * from raw.edgar_companies where cik = ?", [APPLE])

    with pytest.raises(DbtRunError) as caught:
        run_dbt(broken, ["test", "--select", "source:edgar"], artifacts_dir=tmp_path / "dbt")
    failed = {n.name: n for n in caught.value.run.failed}
    assert set(failed) == {"source_unique_edgar_edgar_companies_cik"}
    assert failed["source_unique_edgar_edgar_companies_cik"].failures == 1
    assert "source_unique_edgar_edgar_companies_cik" in str(caught.value)
    assert caught.value.run.run_results_path.exists()


def test_source_freshness_reads_filing_dates(warehouse, tmp_path):
    settings, _ = warehouse
    run = run_dbt(settings, ["source", "freshness"], artifacts_dir=tmp_path / "dbt")
    loaded = {r["unique_id"].split(".")[-1]: r for r in run.run_results()["results"]}
    assert set(loaded) == {"edgar_facts", "edgar_filings"}
    latest_filed = query(settings, "select max(filed) from raw.edgar_facts")[0][0]
    assert loaded["edgar_facts"]["max_loaded_at"].startswith(latest_filed.isoformat())
    assert {r["status"] for r in loaded.values()} <= {"pass", "warn"}


def test_signals_use_only_what_was_filed_by_each_report(warehouse):
    settings, _ = warehouse
    rows = query(
        settings,
        """select as_of_accession_number, as_of_date, revenue_growth_yoy, gross_margin, free_cash_flow,
                  piotroski_f_score, piotroski_tests_available
           from marts.fct_financial_signals where cik = ? and fiscal_year in (2009, 2023) order by as_of_date""",
        [APPLE],
    )
    by_report = {r[0]: r for r in rows}
    # Fiscal 2009 as first filed (36,537 over 32,479), then as restated by the 10-K/A (42,905 over 37,491).
    assert round(by_report["0001193125-09-214859"][2], 6) == Decimal("0.124942")
    assert round(by_report["0001193125-10-012091"][2], 6) == Decimal("0.144408")
    fy2023 = by_report["0000320193-23-000106"]
    assert round(fy2023[3], 6) == round(Decimal(169_148) / Decimal(383_285), 6)
    assert fy2023[4] == Decimal(110_543_000_000 - 10_959_000_000)
    assert fy2023[6] == 9 and 0 <= fy2023[5] <= 9


@pytest.mark.parametrize(("cik", "years"), [(SOUTHWEST, (2007, 2008)), (NVIDIA, (2008, 2009))])
def test_a_year_end_dated_apart_by_a_10q_is_still_one_period(warehouse, cik, years):
    """Southwest's 10-Qs of 2009 date the prior year-end balance sheet 2008-01-01 and 2009-01-01,
    its 10-Ks 2007-12-31 and 2008-12-31 (NVIDIA's likewise a day apart): one period each, with one
    latest, one first-reported and one latest-annual-report version."""
    settings, _ = warehouse
    for year in years:
        ends, latest, first, annual = query(
            settings,
            """select count(distinct period_end), count(*) filter (where is_latest),
                      count(*) filter (where is_first_reported), count(*) filter (where is_latest_annual_report)
               from marts.fct_financial_statements
               where cik = ? and metric = 'cash' and fiscal_year = ? and fiscal_period = 'FY'""",
            [cik, year],
        )[0]
        assert ends == 2 and (latest, first, annual) == (1, 1, 1), (year, ends, latest, first, annual)


def test_latest_annual_report_keeps_the_10k_where_a_later_8k_recast_the_year(warehouse):
    """Ford's 2007 operating cash flow: 17,074M in the 10-K filed 2010-02-25, recast to 16,600M
    in an 8-K of 2010-05-07. is_latest takes the recast, is_latest_annual_report the 10-K."""
    settings, _ = warehouse
    latest = statement(settings, FORD, "operating_cash_flow", 2007)
    annual = statement(settings, FORD, "operating_cash_flow", 2007, flag="is_latest_annual_report")
    assert (latest[0], latest[2], latest[3]) == (Decimal(16_600_000_000), "0001157523-10-002967", "8-K")
    assert (annual[0], annual[2], annual[3]) == (Decimal(17_074_000_000), "0001157523-10-001218", "10-K")


def test_net_income_not_tagged_as_such_is_derived_and_traced(warehouse):
    """Ford's 10-Ks for 2016-2020 tag no NetIncomeLoss: net income is ProfitLoss less the NCI
    share (2016: 4,600M - 11M = 4,589M, its income available to common)."""
    settings, _ = warehouse
    rows = query(
        settings,
        """select value, source_tag, derivation, is_derived, form from marts.fct_financial_statements
           where cik = ? and metric = 'net_income' and fiscal_year = 2016 and fiscal_period = 'FY'
             and is_latest_annual_report""",
        [FORD],
    )
    assert rows == [(
        Decimal(4_589_000_000),
        "us-gaap:ProfitLoss - us-gaap:NetIncomeLossAttributableToNoncontrollingInterest",
        "net_income_including_nci_less_nci", True, "10-K",
    )]  # fmt: skip
    years = query(
        settings,
        """select fiscal_year from marts.fct_financial_statements
           where cik = ? and metric = 'net_income' and fiscal_period = 'FY' and is_latest
             and fiscal_year between 2016 and 2020""",
        [FORD],
    )
    assert sorted(y for (y,) in years) == [2016, 2017, 2018, 2019, 2020]


def test_revenue_tagged_only_as_services_is_the_services_total(warehouse):
    """Shopify's annual reports for 2013-2016 tag all revenue as SalesRevenueServicesNet."""
    settings, _ = warehouse
    value, _, accession, form, tag, _, _ = statement(settings, "0001594805", "revenue", 2016)
    assert (value, accession, form, tag) == (
        Decimal(389_330_000), "0001594805-18-000009", "40-F", "us-gaap:SalesRevenueServicesNet"
    )


def test_parts_of_a_total_are_their_own_metrics(warehouse):
    """Apple tags the current portion of its term debt and its commercial paper, never DebtCurrent:
    they are long_term_debt_current and commercial_paper, and Apple has no short_term_debt."""
    settings, _ = warehouse
    assert statement(settings, APPLE, "long_term_debt_current", 2017)[0] == Decimal(6_496_000_000)
    assert statement(settings, APPLE, "commercial_paper", 2017)[0] == Decimal(11_977_000_000)
    assert query(
        settings, "select count(*) from marts.fct_financial_statements where cik = ? and metric = 'short_term_debt'",
        [APPLE],
    ) == [(0,)]
    tags = query(settings, "select source_tags from marts.dim_metric where metric in ('short_term_debt', 'cash')")
    assert all("LongTermDebtCurrent" not in t and "us-gaap:Cash'" not in t for (t,) in tags)


def test_a_flipped_sign_is_reported_and_capex_stays_a_payment(warehouse):
    """Southwest's 2008 capex: 923M in the 10-K filed 2010-01-29, -923M in the 10-K of 2011-02-08."""
    settings, _ = warehouse
    flips = query(
        settings,
        """select first_value, first_accession_number, flipped_value, flipped_accession_number
           from marts.audit_fact_sign_flips
           where cik = ? and metric = 'capex' and period_start = date '2008-01-01' and period_end = date '2008-12-31'""",
        [SOUTHWEST],
    )
    assert flips == [
        (Decimal(923_000_000), "0001193125-10-017191", Decimal(-923_000_000), "0001193125-11-026045")
    ]
    assert statement(settings, SOUTHWEST, "capex", 2008)[0] == Decimal(923_000_000)


def test_every_mart_column_is_described_in_the_docs(warehouse):
    settings, run = warehouse
    manifest = json.loads((run.artifacts_dir / "target" / "manifest.json").read_text())
    marts = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["schema"] == "marts"}
    built = query(settings, "select table_name, column_name from information_schema.columns where table_schema = 'marts'")
    assert {table for table, _ in built} == set(marts)
    undescribed = [
        f"{table}.{column}"
        for table, column in built
        if not (marts[table]["columns"].get(column, {}).get("description") or "").strip()
    ]
    assert undescribed == []
    assert all(node["description"].strip() for node in marts.values())
