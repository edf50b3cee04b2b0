"""Copies of the bundled sample's staged tables under new CIKs, for benchmarks at scale.

Replica n of a company has CIK 'NNN' (n, three digits) + the original's last seven digits, its
names say which replica it is, and its price rows trade under ticker '<ticker>-RNNN', so every
copy is a company of its own from raw tables to marts. Nothing else changes: the copies are the
real filings and prices, as many times over as asked.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc


def replica_cik(n: int, cik: str) -> str:
    return f"{n:03d}{cik[3:]}"


def replicate(table: pa.Table, n: int) -> pa.Table:
    """``table`` (one company's rows of a staged dataset) as replica ``n``."""
    names = table.schema.names
    cik = replica_cik(n, table["cik"][0].as_py())
    table = table.set_column(names.index("cik"), "cik", pa.array([cik] * table.num_rows, pa.string()))
    for column in ("entity_name", "name"):
        if column in names:
            table = table.set_column(
                names.index(column), column, pc.binary_join_element_wise(table[column], f" (replica {n})", "")
            )
    if "ticker" in names:
        table = table.set_column(
            names.index("ticker"), "ticker", pc.binary_join_element_wise(table["ticker"], f"-R{n:03d}", "")
        )
    return table


def replicas(companies: list[pa.Table], target: int) -> list[pa.Table]:
    """Replicas 1, 2, ... of every company's table until they hold at least ``target`` rows."""
    per_copy = sum(t.num_rows for t in companies)
    return [replicate(t, n) for n in range(1, -(-target // per_copy) + 1) for t in companies]
