"""The bulk path: a full refresh from SEC's nightly submissions.zip and companyfacts.zip.

Two requests instead of two or more per filer (the full universe is ~18.8k filers, i.e. hours
at SEC's rate limit). Each archive is streamed: stream-unzip reads every member's local header
and inflates its data while the HTTP body arrives, so the archive is never written to disk nor
held in memory; memory holds one member (one filer's document) at a time. zipfile cannot do
this: it reads the central directory at the end of the archive, so it needs the whole archive
in a seekable file first (spooling 1.4 GB to a temp file is exactly the disk write avoided here).

Members are landed in the raw zone under the same keys as the per-filer API documents, so
normalization treats both paths alike. Members of filers outside the run's universe are read
past (a stream cannot seek) and dropped. The filers' newest accessions are recorded only when
both archives were read to the end, so a broken archive never makes a nightly run skip a filer.
"""

from __future__ import annotations

import logging
import re
from datetime import date

from stream_unzip import NO_ENCRYPTION, UnzipError, stream_unzip

from ingest.endpoints import Endpoints
from ingest.sec.client import FetchError, SecClient
from ingest.sec.extract import Extraction, newest_filing, read_submissions
from ingest.sec.state import FilerMark
from ingest.settings import Settings
from ingest.zones.raw import Landed, land
from ingest.zones.store import ObjectStore

log = logging.getLogger(__name__)

_MEMBER = re.compile(r"CIK(\d{10})(?:-submissions-\d{3})?\.json")
_PLAIN = (NO_ENCRYPTION,)  # SEC's archives are not encrypted; refuse anything else


def extract_bulk(
    settings: Settings, store: ObjectStore, endpoints: Endpoints, ciks: list[str], ingest_date: date
) -> Extraction:
    """Land the members of both archives that belong to ``ciks``."""
    wanted = set(ciks)
    result = Extraction()
    marks: dict[str, FilerMark] = {}
    complete = True
    with SecClient(settings) as client:
        for dataset, url in (
            ("submissions", endpoints.bulk_submissions()),
            ("companyfacts", endpoints.bulk_companyfacts()),
        ):
            try:
                with client.stream(url) as chunks:
                    for raw_name, _size, member in stream_unzip(chunks, allowed_encryption_mechanisms=_PLAIN):
                        # Each member must be read to its end before the next one starts.
                        name = raw_name.decode("utf-8", "replace")
                        m = _MEMBER.fullmatch(name)
                        if m is None or m.group(1) not in wanted:
                            for _ in member:
                                pass
                            continue
                        cik, body = m.group(1), b"".join(member)
                        key = land(store, "sec", dataset, ingest_date, name, body)
                        result.landed.append(Landed("sec", dataset, cik, key))
                        is_main = dataset == "submissions" and name == f"CIK{cik}.json"
                        if is_main and (mark := newest_filing(read_submissions(body))):
                            marks[cik] = mark
            except (FetchError, UnzipError) as exc:
                # Members landed before the break stay landed and are normalized; the run reports the rest.
                log.warning("bulk %s archive broke off: %s", dataset, exc)
                result.failed.append({"dataset": dataset, "url": url, "reason": f"{type(exc).__name__}: {exc}"})
                complete = False
    if complete:
        result.new_state.filers.update(marks)
    log.info("bulk: %d objects landed for %d filers", len(result.landed), len({x.cik for x in result.landed}))
    return result
