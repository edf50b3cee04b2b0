"""Publish the latest signals of every company from the warehouse to PostgreSQL.

The wide mart fct_financial_signals (one row per company and annual report) becomes the
operational store's long `edgar.signals` rows (one per company, signal and as-of date), loaded in
one transaction and read back to reconcile against what the warehouse holds.
"""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa

from ingest.postgres.connection import connect
from ingest.postgres.loader import load_dataset
from ingest.settings import Settings
from ingest.warehouse.reader import WarehouseReader
from ingest.warehouse.tables import MARTS_SCHEMA

# Mart column -> signal category (the seeds' categories: financial, sentiment, risk, management).
SIGNALS = {
    "gross_margin": "financial",
    "operating_margin": "financial",
    "net_margin": "financial",
    "return_on_equity": "financial",
    "return_on_assets": "financial",
    "revenue_growth_yoy": "financial",
    "eps_diluted_growth_yoy": "financial",
    "current_ratio": "financial",
    "free_cash_flow": "financial",
    "free_cash_flow_margin": "financial",
    "piotroski_f_score": "financial",
    "debt_to_equity": "risk",
    "altman_z_score": "risk",
}
PIOTROSKI_TESTS = 9

LATEST_SQL = f"""
select cik, as_of_accession_number, as_of_date, piotroski_tests_available, {", ".join(SIGNALS)}
from {{table}}
qualify row_number() over (partition by cik order by as_of_date desc, as_of_accession_number desc) = 1
"""


class SignalsMismatch(RuntimeError):
    """PostgreSQL does not hold what the warehouse published."""


def latest_signal_rows(settings: Settings) -> pa.Table:
    """One row per company and non-null signal of its latest annual report."""
    wide = _read_warehouse(settings)
    rows = []
    for rec in wide.to_pylist():
        for name, category in SIGNALS.items():
            if rec[name] is None:
                continue
            # The F-score is out of the tests its inputs allowed: its confidence is that share.
            confidence = (
                Decimal(rec["piotroski_tests_available"]) / PIOTROSKI_TESTS if name == "piotroski_f_score" else Decimal(1)
            )
            rows.append(
                {
                    "cik": rec["cik"],
                    "accession_number": rec["as_of_accession_number"],
                    "as_of_date": rec["as_of_date"],
                    "category": category,
                    "name": name,
                    "value": Decimal(rec[name]),
                    "confidence": round(confidence, 4),
                }
            )
    schema = pa.schema(
        [
            ("cik", pa.string()),
            ("accession_number", pa.string()),
            ("as_of_date", pa.date32()),
            ("category", pa.string()),
            ("name", pa.string()),
            ("value", pa.decimal128(38, 9)),
            ("confidence", pa.decimal128(9, 4)),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)


def _read_warehouse(settings: Settings) -> pa.Table:
    warehouse = WarehouseReader(settings)
    return warehouse.query(LATEST_SQL.format(table=warehouse.table(MARTS_SCHEMA, "fct_financial_signals")))


def publish_signals(settings: Settings, run_id: str) -> dict:
    rows = latest_signal_rows(settings)
    with connect(settings) as conn:
        result = load_dataset(conn, "signals", rows, run_id=run_id)
        stored = conn.execute(
            "SELECT cik, name, as_of_date, value FROM edgar.signals WHERE (cik, name, as_of_date) IN "
            "(SELECT * FROM unnest(%s::text[], %s::text[], %s::date[]))",
            (rows["cik"].to_pylist(), rows["name"].to_pylist(), rows["as_of_date"].to_pylist()),
        ).fetchall()
    published = {(r["cik"], r["name"], r["as_of_date"]): r["value"] for r in rows.to_pylist()}
    held = {(cik, name, as_of): value for cik, name, as_of, value in stored}
    differ = sorted({key[0] for key in published.keys() | held.keys() if published.get(key) != held.get(key)})
    if differ:
        raise SignalsMismatch(f"signals in PostgreSQL differ from the warehouse for companies {', '.join(differ[:20])}")
    return {"companies": len({k[0] for k in published}), "signals": len(published), **vars(result)}
