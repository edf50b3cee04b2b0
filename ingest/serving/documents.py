"""The documents apps read, built from PostgreSQL's serving views: one JSON document per key.

| key | document |
|-----|----------|
| `company:{cik}` | the company (serving.companies) |
| `financials:{cik}:{statement}` | the latest annual and quarterly statement (serving.latest_statements): each metric's value, unit, period and the accession it was filed in |
| `ratios:{cik}` | the latest signals (serving.latest_signals) |
| `market:{ticker}` | the latest bar and valuation (serving.latest_market) |

The universe is the companies the marts published statements for (a snapshot, so a company gone
from the marts is gone here) and their tickers. The cache warm-up, the read API's fallback and the
cache gate all build documents here, so a cached value and PostgreSQL's answer are the same bytes.
Numbers are JSON numbers: integers where the value is whole, else the shortest decimal that reads
back as the same double (exact for the ≤15 significant digits of filed values).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from itertools import groupby
from typing import Any

import orjson
import psycopg
from psycopg.rows import dict_row

STATEMENTS = ("income_statement", "balance_sheet", "cash_flow")
KINDS = ("company", "financials", "ratios", "market")


def company_key(cik: str) -> str:
    return f"company:{cik}"


def financials_key(cik: str, statement: str) -> str:
    return f"financials:{cik}:{statement}"


def ratios_key(cik: str) -> str:
    return f"ratios:{cik}"


def market_key(ticker: str) -> str:
    return f"market:{ticker}"


# Companies of the published snapshot, all or the given ones (%(all)s is true for all).
_UNIVERSE = "SELECT DISTINCT cik FROM serving.latest_statements WHERE %(all)s OR cik = ANY(%(ciks)s)"

_COMPANIES = f"""
SELECT cik, name, entity_type, sic, sic_description, tickers, exchanges, state_of_incorporation,
       fiscal_year_end, category, ein, former_names
FROM serving.companies WHERE cik IN ({_UNIVERSE}) ORDER BY cik
"""

_STATEMENTS = f"""
SELECT cik, statement, period_kind, metric, fiscal_year, fiscal_period, period_start, period_end,
       value, unit, is_derived, accession_number, filed_date
FROM serving.latest_statements WHERE cik IN ({_UNIVERSE})
ORDER BY cik, statement, period_kind, metric
"""

_SIGNALS = f"""
SELECT cik, name, category, value, confidence, as_of_date, accession_number
FROM serving.latest_signals WHERE cik IN ({_UNIVERSE}) ORDER BY cik, name
"""

_MARKET = """
SELECT ticker, cik, trade_date, open, high, low, close, adj_close, volume, valuation_date, market_cap,
       enterprise_value, price_to_earnings, price_to_sales, ev_to_ebitda, return_1m, return_3m,
       return_12m, volatility_3m
FROM serving.latest_market
WHERE cik IN (SELECT DISTINCT cik FROM serving.latest_statements) AND (%(all)s OR ticker = ANY(%(tickers)s))
ORDER BY ticker
"""


def documents(
    conn: psycopg.Connection, ciks: list[str] | None = None, tickers: list[str] | None = None
) -> Iterator[tuple[str, bytes]]:
    """(key, JSON) of every document of the universe; with ``ciks`` and/or ``tickers``, only theirs."""
    every = ciks is None and tickers is None
    by_cik = {"all": every, "ciks": ciks or []}
    yield from _companies(conn, by_cik)
    yield from _financials(conn, by_cik)
    yield from _ratios(conn, by_cik)
    yield from _market(conn, {"all": every, "tickers": tickers or []})


def document(conn: psycopg.Connection, key: str) -> bytes | None:
    """The document of one key, or None when PostgreSQL has none."""
    kind, _, ident = key.partition(":")
    if kind not in KINDS or not ident:
        raise ValueError(f"unknown document key {key!r}; keys are {', '.join(k + ':…' for k in KINDS)}")
    if kind == "market":
        found = _market(conn, {"all": False, "tickers": [ident]})
    else:
        cik = ident.split(":")[0]
        by_cik = {"all": False, "ciks": [cik]}
        found = {"company": _companies, "financials": _financials, "ratios": _ratios}[kind](conn, by_cik)
    return dict(found).get(key)


def _companies(conn: psycopg.Connection, params: dict) -> Iterator[tuple[str, bytes]]:
    for row in _rows(conn, _COMPANIES, params):
        yield company_key(row["cik"]), _json(row)


def _financials(conn: psycopg.Connection, params: dict) -> Iterator[tuple[str, bytes]]:
    rows = _rows(conn, _STATEMENTS, params)
    for (cik, statement), group in groupby(rows, key=lambda r: (r["cik"], r["statement"])):
        periods: dict[str, Any] = {"annual": None, "quarterly": None}
        for kind, metrics in groupby(group, key=lambda r: r["period_kind"]):
            metrics = list(metrics)
            first = metrics[0]
            periods[kind] = {
                "fiscal_year": first["fiscal_year"],
                "fiscal_period": first["fiscal_period"],
                "values": {
                    m["metric"]: {
                        k: m[k]
                        for k in ("value", "unit", "period_start", "period_end", "is_derived", "accession_number", "filed_date")
                    }
                    for m in metrics
                },
            }
        yield financials_key(cik, statement), _json({"cik": cik, "statement": statement, **periods})


def _ratios(conn: psycopg.Connection, params: dict) -> Iterator[tuple[str, bytes]]:
    for cik, group in groupby(_rows(conn, _SIGNALS, params), key=lambda r: r["cik"]):
        signals = {r["name"]: {k: v for k, v in r.items() if k not in ("cik", "name")} for r in group}
        yield ratios_key(cik), _json({"cik": cik, "signals": signals})


def _market(conn: psycopg.Connection, params: dict) -> Iterator[tuple[str, bytes]]:
    for row in _rows(conn, _MARKET, params):
        yield market_key(row["ticker"]), _json(row)


def _rows(conn: psycopg.Connection, query: str, params: dict) -> Iterator[dict[str, Any]]:
    # A named (server-side) cursor streams the universe instead of holding it.
    with conn.cursor(name="serving_documents", row_factory=dict_row) as cur:
        cur.itersize = 5000
        cur.execute(query, params)
        yield from cur


def _number(value: Any) -> int | float:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _json(doc: dict[str, Any]) -> bytes:
    return orjson.dumps(doc, default=_number, option=orjson.OPT_SORT_KEYS)
