"""Where the source services are: the real SEC and Yahoo, or the local replay server.

Sample mode starts the replay server over EDGARFLOW_SAMPLE_DIR for the duration of a task;
the HTTP client and everything after it run exactly as in live mode.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from ingest.settings import SEC_DATA_URL, SEC_WWW_URL, YAHOO_URL, Settings


@dataclass(frozen=True)
class Endpoints:
    sec_data: str  # data.sec.gov: submissions, companyfacts
    sec_www: str  # www.sec.gov: ticker files, bulk archives, filing documents
    yahoo: str

    def companyfacts(self, cik: str) -> str:
        return f"{self.sec_data}/api/xbrl/companyfacts/CIK{cik}.json"

    def submissions(self, name: str) -> str:
        return f"{self.sec_data}/submissions/{name}"

    def tickers_exchange(self) -> str:
        return f"{self.sec_www}/files/company_tickers_exchange.json"

    # SEC's nightly bulk archives: every filer's companyfacts / submissions documents, one zip each.
    def bulk_companyfacts(self) -> str:
        return f"{self.sec_www}/Archives/edgar/daily-index/xbrl/companyfacts.zip"

    def bulk_submissions(self) -> str:
        return f"{self.sec_www}/Archives/edgar/daily-index/bulkdata/submissions.zip"

    def daily_index(self, day: date) -> str:
        """SEC's master index of the filings disseminated on ``day`` (ingest/sec/daily_index.py)."""
        quarter = (day.month - 1) // 3 + 1
        return f"{self.sec_www}/Archives/edgar/daily-index/{day.year}/QTR{quarter}/master.{day:%Y%m%d}.idx"

    def archive_document(self, cik: str, accession: str, document: str) -> str:
        """A document of a filing (www.sec.gov/Archives/edgar/data/...)."""
        return f"{self.sec_www}/Archives/edgar/data/{int(cik)}/{accession.replace('-', '')}/{document}"


@contextmanager
def open_endpoints(settings: Settings) -> Iterator[Endpoints]:
    if settings.source_mode == "live":
        yield Endpoints(SEC_DATA_URL, SEC_WWW_URL, YAHOO_URL)
        return
    # Here, not at the top: only sample mode needs the stand-in, and live workers never load it.
    from ingest.replay import ReplayServer

    with ReplayServer(settings.sample_dir) as server:
        yield Endpoints(server.base_url, server.base_url, server.base_url)
