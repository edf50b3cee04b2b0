"""Fetch SEC submissions and companyfacts for a set of filers and land the bytes in the raw zone.

Extraction never judges content: whatever SEC answers with 200 is landed as received and
normalization decides whether it is usable. A filer that has no such document (404) is simply
absent from that dataset; a fetch that still fails after the client's retries is reported
and the other filers proceed.
"""

from __future__ import annotations

import gzip
import logging
from dataclasses import dataclass, field
from datetime import date

import orjson

from ingest.http_client import BadResponse, FetchError, SecClient
from ingest.landing import Landed, land, quarantine, raw_key
from ingest.settings import Settings
from ingest.sources import Endpoints
from ingest.storage import ObjectStore

log = logging.getLogger(__name__)


@dataclass
class Extraction:
    landed: list[Landed] = field(default_factory=list)
    missing: list[dict[str, str]] = field(default_factory=list)  # 404: the filer has no such document
    failed: list[dict[str, str]] = field(default_factory=list)  # gave up after retries

    def to_dict(self) -> dict:
        return {
            "landed": [x.to_dict() for x in self.landed],
            "missing": self.missing,
            "failed": self.failed,
        }


def extract_edgar(
    settings: Settings, store: ObjectStore, endpoints: Endpoints, ciks: list[str], ingest_date: date, run_id: str
) -> Extraction:
    result = Extraction()
    with SecClient(settings) as client:
        fetch = _Fetcher(client, store, result, ingest_date, run_id)
        for cik in ciks:
            fetch(cik, "companyfacts", f"CIK{cik}.json", endpoints.companyfacts(cik))
            main = fetch(cik, "submissions", f"CIK{cik}.json", endpoints.submissions(f"CIK{cik}.json"))
            for page in _submission_pages(main):
                fetch(cik, "submissions", page, endpoints.submissions(page))
    log.info(
        "extracted %d filers: %d objects landed, %d missing, %d failed",
        len(ciks), len(result.landed), len(result.missing), len(result.failed),
    )
    return result


@dataclass
class _Fetcher:
    client: SecClient
    store: ObjectStore
    result: Extraction
    ingest_date: date
    run_id: str

    def __call__(self, cik: str, dataset: str, name: str, url: str) -> bytes | None:
        try:
            response = self.client.get(url)
        except BadResponse as exc:
            # A cut-short or undecodable body: keep what arrived, with the reason.
            key = raw_key("sec", dataset, self.ingest_date, name)
            quarantine(self.store, key, gzip.compress(exc.body), str(exc), self.run_id, cik=cik, url=url)
            self.result.failed.append({"cik": cik, "dataset": dataset, "url": url, "reason": str(exc)})
            return None
        except FetchError as exc:
            log.warning("giving up on %s: %s", url, exc)
            self.result.failed.append({"cik": cik, "dataset": dataset, "url": url, "reason": str(exc)})
            return None
        if response.not_found:
            self.result.missing.append({"cik": cik, "dataset": dataset, "url": url})
            return None
        key = land(self.store, "sec", dataset, self.ingest_date, name, response.body)
        self.result.landed.append(Landed("sec", dataset, cik, key))
        return response.body


def _submission_pages(main: bytes | None) -> list[str]:
    """Names of the older-filings pages listed in `filings.files` (best effort: a bad
    main document is quarantined later by normalization)."""
    if not main:
        return []
    try:
        files = orjson.loads(main)["filings"]["files"]
        return [f["name"] for f in files]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return []
