"""SEC's daily index: which filers filed on a day, in one request per day.

    https://www.sec.gov/Archives/edgar/daily-index/2026/QTR4/master.20261201.idx

A pipe-separated file (CIK|Company Name|Form Type|Date Filed|Filename) after a few header lines
and a dashed rule, one line per filing disseminated that day. SEC writes no index for weekends
and holidays, nor for a day before its evening (404). A nightly run over the whole universe reads
the indexes from the day the last one covered through today (the mark kept in edgar.feed_state),
so it asks SEC about the filers that filed, not about all ~18.8k (35 minutes of conditional
requests at SEC's 9 per second); filers the pipeline has never landed are asked about too.
"""

from __future__ import annotations

from datetime import date, timedelta

from ingest.sec.client import FetchError, SecClient

FEED = "daily_index"
_RULE = "-" * 20


class IndexUnavailable(RuntimeError):
    """A daily index could not be read (not a 404): the run falls back to asking about every filer."""


def index_days(covered_through: date, today: date) -> list[date]:
    """The days to read: from the last covered day (filings disseminated after that run, the same
    day) through today."""
    return [covered_through + timedelta(days=n) for n in range((today - covered_through).days + 1)]


def filers_in_index(body: bytes) -> set[str]:
    """The 10-digit CIKs of the filings a master index lists."""
    lines = body.decode("latin-1").splitlines()
    start = next((n + 1 for n, line in enumerate(lines) if line.startswith(_RULE)), len(lines))
    rows = (line.split("|") for line in lines[start:])
    return {fields[0].strip().zfill(10) for fields in rows if len(fields) == 5 and fields[0].strip().isdigit()}


def filers_since(client: SecClient, index_url, covered_through: date, today: date) -> set[str]:
    """Every filer listed in the daily indexes from ``covered_through`` through ``today``;
    ``index_url(day)`` is the index's URL. Raises IndexUnavailable when one cannot be read."""
    filers: set[str] = set()
    for day in index_days(covered_through, today):
        try:
            # text/plain or nothing: a maintenance page read as an empty index would skip filers.
            answer = client.get(index_url(day), expect_type="text/plain")
        except FetchError as exc:
            raise IndexUnavailable(f"daily index of {day}: {exc}") from exc
        if not answer.not_found:
            filers |= filers_in_index(answer.body)
    return filers
