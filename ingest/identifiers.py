"""Identifiers every layer checks the same way: SEC's CIK and accession numbers, run ids that
become parts of object keys, and SQL names spliced into queries."""

from __future__ import annotations

import re


class InvalidRequest(ValueError):
    """A run's parameters can never succeed (unknown tickers, an empty date range): the task
    fails at once with this message, never retried."""


# As SEC writes them: a CIK zero-padded to ten digits, an accession as filer-year-sequence.
CIK = r"^\d{10}$"
ACCESSION = r"^\d{10}-\d{2}-\d{6}$"
CIK_PATTERN = re.compile(CIK)
ACCESSION_PATTERN = re.compile(ACCESSION)
# What a person may type for a CIK: 1 to 10 digits, leading zeros optional; for a ticker, SEC's
# spelling or Yahoo's (BRK-B, BRK.B, BRK/B).
CIK_INPUT = r"^\d{1,10}$"
TICKER_INPUT = r"^[A-Za-z0-9.\-/^=]{1,10}$"

_SQL_NAME = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$")


def run_key(run_id: str) -> str:
    """``run_id`` as it goes into an object key (``run_id=<run_id>/``): refused when empty or
    when it holds '/', which would add a level to the key."""
    if not run_id or "/" in run_id:
        raise ValueError(f"run_id must be non-empty and free of '/': {run_id!r}")
    return run_id


def safe_name(run_id: str) -> str:
    """Airflow run ids carry ':' and '+'; a file or directory name keeps only plain characters."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in run_key(run_id))


def sql_name(name: str) -> str:
    """``name`` itself when it is a plain lowercase ``[schema.]identifier``; ValueError otherwise.
    Table and column names cannot be bound as parameters, so only plain ones are spliced in."""
    if not _SQL_NAME.match(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return name
