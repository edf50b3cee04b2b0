"""What the loader left in PostgreSQL, reduced in SQL to the small frames the postgres gate validates.

Nothing here pulls facts into Python: a full-universe run has ~10^8 of them. Per company of the
run, one row; per table, one row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

# Loads only ever insert and update these.
TABLES = ("edgar.companies", "edgar.filings", "edgar.financial_facts")

# The filings index (submissions) covers a filer's recent filings plus the pages fetched, so a
# fact's accession is only expected in it when the fact was filed within the index's span; the
# sample confirms that, and that older accessions (Ford: 42 of 70) are outside it.
_COMPANIES_SQL = """
WITH run AS (SELECT DISTINCT unnest(%(ciks)s::text[]) AS cik),
index_span AS (
    SELECT cik, min(filing_date) AS first_filed, max(filing_date) AS last_filed
    FROM edgar.filings WHERE cik = ANY(%(ciks)s) GROUP BY cik
),
fact_filings AS (
    SELECT cik, accession_number, min(filed) AS filed
    FROM edgar.financial_facts WHERE cik = ANY(%(ciks)s) GROUP BY cik, accession_number
),
unindexed AS (
    SELECT f.cik, count(*) AS accessions, min(f.accession_number) AS example
    FROM fact_filings f JOIN index_span s ON s.cik = f.cik
    WHERE f.filed BETWEEN s.first_filed AND s.last_filed
      AND NOT EXISTS (
          SELECT FROM edgar.filings x WHERE x.cik = f.cik AND x.accession_number = f.accession_number
      )
    GROUP BY f.cik
)
SELECT r.cik, c.cik IS NOT NULL AS company_known, c.name,
       coalesce(u.accessions, 0) AS unindexed_accessions, u.example AS unindexed_example
FROM run r
LEFT JOIN edgar.companies c ON c.cik = r.cik
LEFT JOIN unindexed u ON u.cik = r.cik
ORDER BY r.cik
"""
COMPANY_COLUMNS = ["cik", "company_known", "name", "unindexed_accessions", "unindexed_example"]


def company_frame(conn, ciks: Iterable[str]) -> pd.DataFrame:
    """One row per company of the run: its companies row, and fact accessions its index lacks."""
    rows = conn.execute(_COMPANIES_SQL, {"ciks": sorted(set(ciks))}).fetchall()
    frame = pd.DataFrame(rows, columns=COMPANY_COLUMNS)
    return frame.astype({"company_known": bool, "unindexed_accessions": "int64"})


def table_rows(conn) -> dict[str, int]:
    """Exact row counts of TABLES (a count, not the planner's estimate: the check is 'no fewer')."""
    return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in TABLES}


def table_frame(rows: Mapping[str, int], previous: Mapping[str, int]) -> pd.DataFrame:
    """table, row_count, previous_row_count (null where no passing run counted the table)."""
    return pd.DataFrame(
        {
            "table": list(rows),
            "row_count": pd.array(list(rows.values()), dtype="Int64"),
            "previous_row_count": pd.array([previous.get(t) for t in rows], dtype="Int64"),
        }
    )
