"""Primary documents of periodic reports (vocab.PERIODIC_REPORT_FORMS: 10-K, 10-Q, 20-F, 40-F,
transition reports and their amendments), landed in the raw zone with a metadata record beside each.

Which filings: those in a filer's submissions (`filings.recent`, which covers at least the last
year) filed within the window the run asks for. The documents are fetched with the same SecClient
as everything else, so they share the cross-process rate limit, retries and User-Agent.

sec-edgar-downloader is not used for this: version 5.1 builds its URLs from module constants
(https://www.sec.gov, https://data.sec.gov) with no way to point it at another host short of
patching private modules, paces requests with its own in-process limiter at SEC's 10/s (not the
shared budget, so two Airflow tasks would send 20/s), does not retry 429/5xx or honour
Retry-After, swallows download errors with a print, and always downloads the full submission
text file besides the primary document.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime

from ingest.sec.client import FetchResult
from ingest.sec.vocab import PERIODIC_REPORT_FORMS
from ingest.zones.raw import raw_key
from ingest.zones.store import ObjectStore

DATASET = "filing_documents"
# A filer seen for the first time gets the documents of this many days back, not its whole history.
LOOKBACK_DAYS = 365


@dataclass(frozen=True)
class Filing:
    cik: str
    accession_number: str
    form: str
    filing_date: str
    report_date: str | None
    primary_document: str
    primary_doc_description: str | None


def periodic_filings(cik: str, submissions: dict, since: date | None, until: date | None) -> list[Filing]:
    """Filings of PERIODIC_REPORT_FORMS in `filings.recent` filed within [since, until] that name a primary document."""
    recent = submissions["filings"].get("recent")
    if not isinstance(recent, dict):
        return []
    columns = ("accessionNumber", "form", "filingDate", "reportDate", "primaryDocument", "primaryDocDescription")
    rows = zip(*(recent.get(c) or [None] * len(recent.get("accessionNumber") or []) for c in columns))
    first, last = (since.isoformat() if since else ""), (until.isoformat() if until else "9999")
    return [
        Filing(cik, accession, form, filed, report or None, document, description or None)
        for accession, form, filed, report, document, description in rows
        if form in PERIODIC_REPORT_FORMS and isinstance(filed, str) and first <= filed <= last and document
    ]


def document_key(ingest_date: date, filing: Filing, body: bytes) -> str:
    name = f"CIK{filing.cik}/{filing.accession_number}/{filing.primary_document.rsplit('/', 1)[-1]}"
    return raw_key("sec", DATASET, ingest_date, name, body)


def land_document(store: ObjectStore, ingest_date: date, filing: Filing, response: FetchResult) -> dict:
    """The document's bytes as received (gzip) and, beside them, what it is and where it came from."""
    key = document_key(ingest_date, filing, response.body)
    store.put_if_absent(key, gzip.compress(response.body, mtime=0), content_type="application/gzip")
    metadata = {
        **asdict(filing),
        "url": response.url,
        "content_type": response.content_type,
        "etag": response.etag,
        "last_modified": response.last_modified,
        "size": len(response.body),
        "sha256": hashlib.sha256(response.body).hexdigest(),
        "raw_key": key,
        "fetched_at": datetime.now(UTC).isoformat(),
    }
    meta_key = key.removesuffix(".gz") + ".metadata.json"
    store.put_if_absent(meta_key, json.dumps(metadata, indent=2).encode(), content_type="application/json")
    return {"cik": filing.cik, "accession_number": filing.accession_number, "key": key, "metadata": meta_key}
