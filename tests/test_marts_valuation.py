"""Point-in-time TTM and the valuation and momentum mart over the real sample warehouse, checked
against numbers read by hand from the bundled filings and Yahoo CSVs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import duckdb
import pytest
from conftest import APPLE, FORD, NVIDIA

pytestmark = [pytest.mark.slow, pytest.mark.dbt]


def query(settings, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.fixture(scope="module")
def priced(priced_warehouse):
    return priced_warehouse


def signals(settings, ticker: str, as_of: str) -> dict:
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        cursor = con.execute(
            "select * from marts.fct_valuation_signals where ticker = ? and as_of_date = ?", [ticker, as_of]
        )
        rows = cursor.fetchall()
        assert len(rows) == 1, (ticker, as_of, rows)
        return dict(zip([d[0] for d in cursor.description], rows[0], strict=True))


def test_ttm_as_known_on_a_date_uses_only_what_was_filed_by_then(warehouse):
    """Every version of the TTM revenue of Apple and Ford (whose revenue lines were re-tagged and
    restated in 2010-2011) equals the sum of the four quarters' latest versions filed on or before
    its known_from_date, recomputed here from fct_financial_statements."""
    settings, _ = warehouse
    for cik in (APPLE, FORD):
        versions = query(
            settings,
            """select fiscal_year * 4 + cast(substr(fiscal_period, 2, 1) as int) - 1, value, filed_date,
                      accession_number, period_start
               from marts.fct_financial_statements
               where cik = ? and metric = 'revenue' and fiscal_period like 'Q%'
               order by filed_date, accession_number, period_start""",
            [cik],
        )
        got = query(
            settings,
            """select fiscal_year * 4 + cast(substr(fiscal_period, 2, 1) as int) - 1, known_from_date, known_to_date,
                      ttm_value
               from marts.fct_financial_ttm_point_in_time where cik = ? and metric = 'revenue'""",
            [cik],
        )
        assert len(got) > 50
        for quarter, known_from, known_to, value in got:
            known: dict[int, Decimal] = {}
            for index, v, filed, *_ in versions:  # later rows overwrite: the latest filed by then
                if filed <= known_from and quarter - 3 <= index <= quarter:
                    known[index] = v
            assert sorted(known) == list(range(quarter - 3, quarter + 1)), (cik, quarter, known_from)
            assert sum(known.values()) == value, (cik, quarter, known_from)
            assert known_to is None or known_to > known_from
    # Ford's TTM to 2010-03-31 changed as later filings re-tagged its revenue; each is kept.
    ford = query(
        settings,
        """select ttm_value from marts.fct_financial_ttm_point_in_time
           where cik = ? and metric = 'revenue' and fiscal_year = 2010 and fiscal_period = 'Q1'""",
        [FORD],
    )
    assert len(set(ford)) >= 3


def test_ttm_before_and_after_the_10k_is_filed(warehouse):
    """Apple's 10-K for fiscal 2017 (0000320193-17-000070) was filed 2017-11-03: the day before,
    the latest TTM revenue known ends with fiscal Q3 (2017-07-01): 45,408 + 52,896 + 78,351 (10-Qs
    of fiscal 2017) + 46,852 (Q4 2016 = FY 215,639 - nine months 168,787) = 223,507M. From that day,
    the TTM to 2017-09-30 is the fiscal year's revenue, 229,234M."""
    settings, _ = warehouse

    def latest_known(day: str) -> tuple:
        return query(
            settings,
            """select period_end, ttm_value from marts.fct_financial_ttm_point_in_time
               where cik = ? and metric = 'revenue' and known_from_date <= cast(? as date)
                 and (known_to_date is null or cast(? as date) < known_to_date)
               order by period_end desc limit 1""",
            [APPLE, day, day],
        )[0]

    assert latest_known("2017-11-02") == (date(2017, 7, 1), Decimal(223_507_000_000))
    assert latest_known("2017-11-03") == (date(2017, 9, 30), Decimal(229_234_000_000))
    # The current view is the latest slice of the point-in-time model.
    assert query(
        settings,
        "select ttm_value, known_as_of_date from marts.fct_financial_ttm "
        "where cik = ? and metric = 'revenue' and fiscal_year = 2017 and fiscal_period = 'Q4'",
        [APPLE],
    ) == query(
        settings,
        "select ttm_value, known_from_date from marts.fct_financial_ttm_point_in_time "
        "where cik = ? and metric = 'revenue' and fiscal_year = 2017 and fiscal_period = 'Q4' and is_latest",
        [APPLE],
    )


def test_apple_market_cap_and_pe_from_the_cover_and_the_close(priced):
    """As of 2017-12-29: the latest count filed by then is the cover of the fiscal 2017 10-K
    (filed 2017-11-03, 0000320193-17-000070): 5,134,312,000 shares as of 2017-10-20; AAPL.csv
    closes 2017-12-29 at 169.229996 (no split between 2017-10-20 and the CSV's last day,
    2018-01-19). TTM net income is fiscal 2017's, 48,351M (10-K)."""
    row = signals(priced, "AAPL", "2017-12-29")
    shares, close = 5_134_312_000, 169.229996
    assert (row["shares_outstanding"], row["shares_as_of_date"], row["shares_accession_number"]) == (
        Decimal(shares), date(2017, 10, 20), "0000320193-17-000070"
    )
    assert row["split_factor"] == 1 and row["close"] == pytest.approx(close)
    assert row["market_cap"] == pytest.approx(shares * close, rel=1e-12)
    assert row["ttm_net_income"] == Decimal(48_351_000_000) and row["fundamentals_currency"] == "USD"
    assert row["price_to_earnings"] == pytest.approx(shares * close / 48_351_000_000, rel=1e-12)
    assert row["price_to_sales"] == pytest.approx(shares * close / 229_234_000_000, rel=1e-12)
    # Enterprise value (10-K balance sheet): + term debt 97,207M + 6,496M current + commercial paper
    # 11,977M (Apple tags no DebtCurrent: its parts are summed), - cash and equivalents 20,289M.
    assert (row["total_debt"], row["cash"]) == (Decimal(115_680_000_000), Decimal(20_289_000_000))
    assert row["enterprise_value"] == pytest.approx(shares * close + 115_680_000_000 - 20_289_000_000, rel=1e-12)
    assert row["ev_to_ebitda"] == pytest.approx(row["enterprise_value"] / float(row["ttm_ebitda"]), rel=1e-12)


def test_valuation_as_of_a_month_end_before_the_10k_uses_the_prior_filings(priced):
    """2017-10-31, three days before the fiscal 2017 10-K: the count is the Q3 10-Q's cover
    (5,165,228,000 as of 2017-07-21, filed 2017-08-02) and the TTM ends with fiscal Q3 (net
    income 46,651M); the close is 169.039993."""
    row = signals(priced, "AAPL", "2017-10-31")
    assert (row["shares_outstanding"], row["shares_filed_date"]) == (Decimal(5_165_228_000), date(2017, 8, 2))
    assert (row["ttm_period_end"], row["ttm_net_income"]) == (date(2017, 7, 1), Decimal(46_651_000_000))
    assert row["ttm_known_from_date"] <= date(2017, 10, 31)
    assert row["price_to_earnings"] == pytest.approx(5_165_228_000 * 169.039993 / 46_651_000_000, rel=1e-9)


def test_split_adjusted_prices_meet_share_counts_on_one_basis(priced):
    """NVIDIA split 10-for-1 on 2024-06-10. NVDA.csv was downloaded after it, so its 2023-12-29
    close, 49.52199935913086, is a tenth of that day's 495.22; the count known then (10-Q cover of
    2023-11-17, filed 2023-11-21) is 2,470,000,000 pre-split shares: market value 1.22 trillion."""
    row = signals(priced, "NVDA", "2023-12-29")
    assert row["shares_outstanding"] == Decimal(2_470_000_000) and row["split_factor"] == 10
    assert row["market_cap"] == pytest.approx(2_470_000_000 * 10 * 49.52199935913086, rel=1e-12)
    # After the split, the first post-split count (24,530,000,000 as of 2024-08-23) needs none.
    after = signals(priced, "NVDA", "2024-08-30")
    assert (after["shares_outstanding"], after["split_factor"]) == (Decimal(24_530_000_000), 1)
    # Apple's 7-for-1 split of 2014-06-09 lies inside AAPL.csv: April 2014 counts are multiplied by 7.
    assert signals(priced, "AAPL", "2014-04-30")["split_factor"] == 7


def test_one_month_return_and_volatility_from_adj_close(priced):
    """AAPL.csv adj_close: 169.479996 on 2017-11-29, 21 trading days before 169.229996 on 2017-12-29."""
    row = signals(priced, "AAPL", "2017-12-29")
    assert row["return_1m"] == pytest.approx(169.229996 / 169.479996 - 1, rel=1e-9)
    assert 0 < row["volatility_3m"] < 1
    # AAPL.csv ends 2018-01-19: the latest day is an as-of date, mid-month.
    assert signals(priced, "AAPL", "2018-01-19")["is_latest_trade_date"]
    # The first month of a history has no one-month return.
    first = query(
        priced,
        "select return_1m, return_12m from marts.fct_valuation_signals where ticker = 'NVDA' "
        "order by as_of_date limit 1",
    )
    assert first == [(None, None)]


def test_ratios_are_null_without_a_usable_denominator(priced):
    rows = query(
        priced,
        """select count(*) filter (where price_to_earnings is not null),
                  count(*) filter (where ttm_net_income <= 0 and price_to_earnings is not null),
                  count(*) filter (where market_cap is null and price_to_sales is not null),
                  count(*) filter (where isinf(price_to_earnings) or isnan(price_to_earnings))
           from marts.fct_valuation_signals""",
    )
    assert rows[0][0] > 100 and rows[0][1:] == (0, 0, 0)
    # Meta, Datadog, Duolingo and Shopify tag their share counts only per class (XBRL dimensions,
    # which companyfacts leaves out) or stopped tagging them: no market value rather than a wrong one.
    assert query(
        priced, "select count(*) from marts.fct_valuation_signals where ticker = 'META' and market_cap is not null"
    ) == [(0,)]
    assert query(priced, "select count(distinct ticker) from marts.fct_valuation_signals")[0][0] == 7


def test_valuation_signals_are_built_by_the_session_build(warehouse):
    """The mart is part of every build (empty without prices) and of both exposures."""
    settings, run = warehouse
    names = {n.name: n.status for n in run.nodes}
    assert names["fct_valuation_signals"] == "success" and names["fct_financial_ttm_point_in_time"] == "success"
    assert query(settings, "select count(*) from marts.fct_financial_ttm_point_in_time where is_latest") == query(
        settings, "select count(*) from marts.fct_financial_ttm"
    )
    assert NVIDIA in {r[0] for r in query(settings, "select distinct cik from marts.fct_financial_ttm_point_in_time")}
