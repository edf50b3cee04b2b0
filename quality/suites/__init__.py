"""GX expectation suites as code, one module per stage; this package names every suite.

Row-level checks carry ``mostly=ROW_TOLERANCE``: a few bad rows are quarantined and the rest
continues, more than that fails the gate (raw documents: ``raw_mostly``, since each row there is a
whole filer's document). Table-level checks (key uniqueness, referential integrity, row counts,
everything on the warehouse marts) are strict: one violation fails the gate. Checks GX cannot
state over a single column are computed columns added by ``Suite.derive``.

May import GX and ``ingest.identifiers`` / ``ingest.sec.vocab`` (shared definitions); nothing else.
"""

from quality.suites.cache import cache_entries
from quality.suites.common import Suite
from quality.suites.monitor import completeness, freshness, price_gaps, sign_flips
from quality.suites.postgres import postgres_companies, postgres_tables
from quality.suites.raw import RAW_CONTENT, raw_documents, raw_mostly
from quality.suites.reconcile import reconciliation
from quality.suites.staged import staged_companies, staged_counts, staged_facts, staged_filings, staged_prices
from quality.suites.text import staged_filing_texts, staged_sections
from quality.suites.warehouse import financial_statements, market_data

__all__ = [
    "RAW_CONTENT",
    "Suite",
    "cache_entries",
    "completeness",
    "financial_statements",
    "freshness",
    "market_data",
    "postgres_companies",
    "postgres_tables",
    "price_gaps",
    "raw_documents",
    "raw_mostly",
    "reconciliation",
    "sign_flips",
    "staged_companies",
    "staged_counts",
    "staged_facts",
    "staged_filing_texts",
    "staged_filings",
    "staged_prices",
    "staged_sections",
]
