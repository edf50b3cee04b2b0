"""Fetch SEC submissions and companyfacts for a set of filers and land the bytes in the raw zone.

Extraction never judges content: whatever SEC answers with 200 is landed as received and
normalization decides whether it is usable. A filer that has no such document (404) is simply
absent from that dataset; a fetch that still fails after the client's retries is reported
and the other filers proceed.

Which filers' companyfacts are fetched depends on the run's ``Mode``:

- nightly (default): a filer whose submissions answer 304 to a conditional GET has nothing new
  and is skipped; otherwise companyfacts are fetched (conditionally) when the newest accession
  differs from the one the last successful run saw, or no run has seen the filer yet (a newly
  configured universe member), or the filer has no submissions to tell;
- filed range: filers with a filing dated within the range (submissions always fetched);
- full refresh: everything, nothing conditional;
- documents only (with a filed range): the range's primary documents and the submissions that
  list them, never companyfacts: a backfill of filing text.

Primary documents of periodic reports (ingest/sec/documents.py) are landed for the filings the
run counts as new: filed since the last successful run's newest filing (nightly), within the
range, or within the last LOOKBACK_DAYS for a filer seen for the first time and on a full refresh.

Paginated submissions files (``filings.files``) are fetched conditionally except on a full
refresh; on 304 the raw object landed earlier is handed on, so normalization always sees every
page of a filer whose main document it stages.
"""

from __future__ import annotations

import gzip
import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlsplit

import orjson

from ingest.endpoints import Endpoints
from ingest.identifiers import ACCESSION_PATTERN, InvalidRequest
from ingest.progress import report_progress
from ingest.sec.client import BadResponse, Blocked, FetchError, FetchResult, SecClient
from ingest.sec.documents import DATASET as DOCUMENTS
from ingest.sec.documents import LOOKBACK_DAYS, Filing, land_document, periodic_filings
from ingest.sec.state import FilerMark, NewState, Seen, SourceState
from ingest.settings import Settings
from ingest.zones.quarantine import quarantine_document
from ingest.zones.raw import Landed, land, raw_key
from ingest.zones.store import ObjectStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mode:
    full_refresh: bool = False
    filed_from: date | None = None
    filed_to: date | None = None
    # A text backfill: the range's documents (and the submissions that list them), no companyfacts.
    documents_only: bool = False

    def __post_init__(self) -> None:
        if self.full_refresh and self.by_dates:
            raise InvalidRequest("a run is either a full refresh or a filing-date range, not both")
        if self.documents_only and not self.by_dates:
            raise InvalidRequest("a documents-only run needs a filing-date range (filed_from and/or filed_to)")
        if self.filed_from and self.filed_to and self.filed_from > self.filed_to:
            raise InvalidRequest(f"empty filing-date range: {self.filed_from} > {self.filed_to}")

    @property
    def by_dates(self) -> bool:
        return self.filed_from is not None or self.filed_to is not None

    @property
    def nightly(self) -> bool:
        return not (self.full_refresh or self.by_dates)

    def in_range(self, first: str, last: str) -> bool:
        """Whether filings dated first..last (ISO dates) can fall within the range."""
        return (self.filed_from is None or last >= self.filed_from.isoformat()) and (
            self.filed_to is None or first <= self.filed_to.isoformat()
        )


@dataclass
class Extraction:
    landed: list[Landed] = field(default_factory=list)  # to normalize (a reused page keeps its earlier key)
    missing: list[dict[str, str]] = field(default_factory=list)  # 404: the filer has no such document
    failed: list[dict[str, str]] = field(default_factory=list)  # gave up after retries
    unchanged: list[dict[str, str]] = field(default_factory=list)  # 304: not downloaded again
    skipped: list[dict[str, str]] = field(default_factory=list)  # not fetched: nothing new for this run's mode
    documents: list[dict[str, str]] = field(default_factory=list)  # filing documents landed, with their metadata
    new_state: NewState = field(default_factory=NewState)  # saved by the caller, not passed on

    def to_dict(self) -> dict:
        return {
            "landed": [x.to_dict() for x in self.landed],
            "missing": self.missing,
            "failed": self.failed,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "documents": self.documents,
        }


def extract_edgar(
    settings: Settings,
    store: ObjectStore,
    endpoints: Endpoints,
    ciks: list[str],
    ingest_date: date,
    run_id: str,
    mode: Mode = Mode(),
    known: SourceState | None = None,
) -> Extraction:
    """Land the filers' documents; ``known`` is the state earlier runs left (none: fetch everything)."""
    result = Extraction()
    with SecClient(settings) as client:
        fetch = _Fetcher(client, store, result, ingest_date, run_id)
        for done, cik in enumerate(ciks, 1):
            _Filer(cik, fetch, endpoints, mode, known or SourceState()).extract()
            report_progress("extract", done, len(ciks), "filers")
    log.info(
        "extracted %d filers: %d objects landed, %d unchanged, %d skipped, %d missing, %d failed",
        len(ciks), len(result.landed), len(result.unchanged), len(result.skipped),
        len(result.missing), len(result.failed),
    )
    return result


@dataclass
class _Fetcher:
    client: SecClient
    store: ObjectStore
    result: Extraction
    ingest_date: date
    run_id: str

    def __call__(self, cik: str, dataset: str, name: str, url: str, seen: Seen | None) -> FetchResult | None:
        """GET (conditional when ``seen``) and land; None when the fetch failed."""
        try:
            if seen is None:
                response = self.client.get(url)
            else:
                response = self.client.get(url, etag=seen.etag, last_modified=seen.last_modified)
        except BadResponse as exc:
            # A cut-short or undecodable body: keep what arrived, with the reason.
            key = raw_key("sec", dataset, self.ingest_date, name, exc.body)
            kept = quarantine_document(self.store, key, gzip.compress(exc.body), str(exc), self.run_id, cik=cik, url=url)
            self.result.failed.append(
                {"cik": cik, "dataset": dataset, "url": url, "reason": str(exc), "quarantine_key": kept}
            )
            return None
        except Blocked as exc:
            log.error("%s", exc)
            self.result.failed.append({"cik": cik, "dataset": dataset, "url": url, "reason": str(exc), "blocked": True})
            return None
        except FetchError as exc:
            log.warning("giving up on %s: %s", url, exc)
            self.result.failed.append({"cik": cik, "dataset": dataset, "url": url, "reason": str(exc)})
            return None
        if response.not_found:
            self.result.missing.append({"cik": cik, "dataset": dataset, "url": url})
        elif response.not_modified:
            self.result.unchanged.append({"cik": cik, "dataset": dataset, "url": url})
        else:
            key = land(self.store, "sec", dataset, self.ingest_date, name, response.body)
            self.result.landed.append(Landed("sec", dataset, cik, key))
            self.result.new_state.resources.append(
                (resource(url), cik, dataset, Seen(response.etag, response.last_modified, key))
            )
        return response

    def document(self, filing: Filing, url: str) -> None:
        about = {"cik": filing.cik, "dataset": DOCUMENTS, "url": url}
        try:
            response = self.client.get(url)
        except FetchError as exc:
            self.result.failed.append({**about, "reason": str(exc)})
            return
        if response.not_found:
            self.result.missing.append(about)
        else:
            self.result.documents.append(land_document(self.store, self.ingest_date, filing, response))


@dataclass
class _Filer:
    cik: str
    fetch: _Fetcher
    endpoints: Endpoints
    mode: Mode
    known: SourceState

    def extract(self) -> None:
        result = self.fetch.result
        failures, resources = len(result.failed), len(result.new_state.resources)
        new = self._extract()
        if len(result.failed) > failures:
            # Record nothing for a filer with a failed fetch: the next run must not skip it.
            del result.new_state.resources[resources:]
        elif new is not None:
            result.new_state.filers[self.cik] = new

    def _extract(self) -> FilerMark | None:
        cik, mode = self.cik, self.mode
        main_url = self.endpoints.submissions(f"CIK{cik}.json")
        main = self.fetch(cik, "submissions", f"CIK{cik}.json", main_url, self._seen(main_url, mode.nightly))
        if main is None:
            return None
        if main.not_modified:
            self._skip("companyfacts", "submissions not modified since the last successful run")
            return None
        doc = read_submissions(main.body) if main.status == 200 else None
        for page in _pages(doc):
            url = self.endpoints.submissions(page["name"])
            seen = self._reusable(url)
            answer = self.fetch(cik, "submissions", page["name"], url, seen)
            if answer is not None and answer.not_modified and seen is not None:
                # Normalization rebuilds the filer's filings from every page: hand on the earlier bytes.
                self.fetch.result.landed.append(Landed("sec", "submissions", cik, seen.raw_key))
                self.fetch.result.new_state.resources.append((resource(url), cik, "submissions", seen))
        newest = newest_filing(doc)
        if reason := self._no_facts_reason(doc, newest):
            self._skip("companyfacts", reason)
        else:
            facts_url = self.endpoints.companyfacts(cik)
            self.fetch(cik, "companyfacts", f"CIK{cik}.json", facts_url, self._seen(facts_url, mode.nightly))
        if doc is not None:
            self._documents(doc, newest)
        return newest

    def _documents(self, doc: dict, newest: FilerMark | None) -> None:
        """Primary documents of the periodic reports this run counts as new (see filing_documents)."""
        mode, known = self.mode, self.known.filers.get(self.cik)
        if mode.by_dates:
            since, until = mode.filed_from, mode.filed_to
        elif mode.nightly and known is not None:
            if newest == known:
                return  # nothing filed since the last successful run
            since, until = known.filing_date, None
        else:
            since, until = self.fetch.ingest_date - timedelta(days=LOOKBACK_DAYS), None
        for filing in periodic_filings(self.cik, doc, since, until):
            if known is None or filing.accession_number != known.accession:
                url = self.endpoints.archive_document(self.cik, filing.accession_number, filing.primary_document)
                self.fetch.document(filing, url)

    def _no_facts_reason(self, doc: dict | None, newest: FilerMark | None) -> str | None:
        """Why companyfacts need not be fetched; None when they must be."""
        if self.mode.documents_only:
            return "a documents-only run (text backfill)"
        if doc is None or self.mode.full_refresh:
            return None  # no (readable) submissions to decide by
        if self.mode.by_dates:
            if any(self.mode.in_range(first, last) for first, last in _filing_spans(doc)):
                return None
            return "no filing within the requested dates"
        known = self.known.filers.get(self.cik)
        if known is None or newest is None or known.accession != newest.accession:
            return None
        return f"no accession newer than {known.accession}"

    def _seen(self, url: str, conditional: bool) -> Seen | None:
        return self.known.resources.get(resource(url)) if conditional else None

    def _reusable(self, url: str) -> Seen | None:
        """Validators for a page whose earlier bytes are still in the raw zone (a 304 reuses them)."""
        seen = self._seen(url, not self.mode.full_refresh)
        return seen if seen is not None and self.fetch.store.exists(seen.raw_key) else None

    def _skip(self, dataset: str, reason: str) -> None:
        self.fetch.result.skipped.append({"cik": self.cik, "dataset": dataset, "reason": reason})


def resource(url: str) -> str:
    """The state key of a URL: its path, the same whichever host (or replay port) served it."""
    return urlsplit(url).path


def read_submissions(body: bytes) -> dict | None:
    """The submissions document, or None when it is unreadable (normalization quarantines it)."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return doc if isinstance(doc, dict) and isinstance(doc.get("filings"), dict) else None


def _pages(doc: dict | None) -> list[dict]:
    """The older-filings pages listed in `filings.files`."""
    files = doc["filings"].get("files") if doc else None
    if not isinstance(files, list):
        return []
    return [f for f in files if isinstance(f, dict) and isinstance(f.get("name"), str)]


def _recent(doc: dict) -> tuple[list, list]:
    recent = doc["filings"].get("recent")
    if not isinstance(recent, dict):
        return [], []
    return recent.get("accessionNumber") or [], recent.get("filingDate") or []


def newest_filing(doc: dict | None) -> FilerMark | None:
    """The latest filing in `recent` (by filing date, then acceptance time); None when there is
    none or the block is malformed (normalization quarantines such a document, and the filer
    is fetched in full next time)."""
    if doc is None:
        return None
    accessions, dates = _recent(doc)
    accepted = doc["filings"]["recent"].get("acceptanceDateTime") or [""] * len(accessions)
    if not accessions or not len(accessions) == len(dates) == len(accepted):
        return None
    try:
        filed, _, accession = max(zip(dates, accepted, accessions))
        if not ACCESSION_PATTERN.match(accession):
            return None
        return FilerMark(accession, date.fromisoformat(filed))
    except (TypeError, ValueError):
        return None


def _filing_spans(doc: dict) -> list[tuple[str, str]]:
    """(first, last) filing dates of every filing in `recent` and of every listed page."""
    _, dates = _recent(doc)
    spans = [(d, d) for d in dates if isinstance(d, str)]
    for page in _pages(doc):
        first, last = page.get("filingFrom"), page.get("filingTo")
        spans.append((first if isinstance(first, str) else "", last if isinstance(last, str) else "9999"))
    return spans
