"""The replay server over real loopback HTTP, checked against the bundled sample files."""

from __future__ import annotations

import gzip
import http.client
import os
import shutil
import subprocess
import sys
import time
from email.utils import formatdate
from pathlib import Path

import orjson
import pytest
import requests

from ingest.replay import Faults, ReplayServer
from ingest.settings import BUNDLED_SAMPLE_DIR, PROJECT_ROOT

SAMPLE = BUNDLED_SAMPLE_DIR
APPLE_FACTS = "/api/xbrl/companyfacts/CIK0000320193.json"
IDENTITY = {"Accept-Encoding": "identity"}


def stored(relative: str) -> bytes:
    """The decompressed bytes of a sample file."""
    return gzip.decompress((SAMPLE / (relative + ".gz")).read_bytes())


@pytest.fixture(scope="module")
def server():
    with ReplayServer(SAMPLE) as srv:
        yield srv


@pytest.fixture
def plain_sample(tmp_path: Path) -> Path:
    """A sample dir with an uncompressed file and stray files that must not be served."""
    facts = tmp_path / "edgar" / "companyfacts"
    facts.mkdir(parents=True)
    (facts / "CIK0000320193.json").write_bytes(stored("edgar/companyfacts/CIK0000320193.json"))
    (facts / "notes.txt").write_text("not served")
    subs = tmp_path / "edgar" / "submissions"
    subs.mkdir(parents=True)
    shutil.copy(SAMPLE / "edgar/submissions/CIK0001318605.edgartools_data_2023.json.gz", subs)
    return tmp_path


@pytest.mark.parametrize(
    ("url_path", "file"),
    [
        (APPLE_FACTS, "edgar/companyfacts/CIK0000320193.json"),
        ("/submissions/CIK0001318605.json", "edgar/submissions/CIK0001318605.json"),
        ("/submissions/CIK0001318605-submissions-001.json", "edgar/submissions/CIK0001318605-submissions-001.json"),
        ("/files/company_tickers_exchange.json", "edgar/tickers/company_tickers_exchange.json"),
        ("/files/company_tickers.json", "edgar/tickers/company_tickers.json"),
        ("/v8/finance/chart/NVDA?interval=1d&events=div,splits", "market/yahoo_chart_api/NVDA.json"),
        ("/v8/finance/chart/%4EVDA", "market/yahoo_chart_api/NVDA.json"),  # percent-encoded, as ^GSPC would be
    ],
)
def test_serves_each_sample_resource(server: ReplayServer, url_path: str, file: str) -> None:
    response = requests.get(server.base_url + url_path, headers=IDENTITY)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert "Content-Encoding" not in response.headers
    assert response.content == stored(file)
    orjson.loads(response.content)


def test_gzip_files_go_out_as_stored_when_client_accepts_gzip(server: ReplayServer) -> None:
    response = requests.get(server.base_url + APPLE_FACTS, headers={"Accept-Encoding": "gzip"}, stream=True)
    assert response.headers["Content-Encoding"] == "gzip"
    on_wire = response.raw.read(decode_content=False)
    assert on_wire == (SAMPLE / "edgar/companyfacts/CIK0000320193.json.gz").read_bytes()
    assert int(response.headers["Content-Length"]) == len(on_wire)


def test_gzip_refused_with_q0_gets_identity(server: ReplayServer) -> None:
    response = requests.get(server.base_url + APPLE_FACTS, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in response.headers
    assert response.content == stored("edgar/companyfacts/CIK0000320193.json")


def test_plain_files_served_and_stray_files_ignored(plain_sample: Path) -> None:
    with ReplayServer(plain_sample) as srv:
        ok = requests.get(srv.base_url + APPLE_FACTS, headers={"Accept-Encoding": "gzip"})
        assert ok.status_code == 200 and "Content-Encoding" not in ok.headers
        assert ok.content == (plain_sample / "edgar/companyfacts/CIK0000320193.json").read_bytes()
        for stray in ("/api/xbrl/companyfacts/notes.txt", "/submissions/CIK0001318605.edgartools_data_2023.json"):
            assert requests.get(srv.base_url + stray).status_code == 404
        # Present in the bundled sample but not in this directory: the directory defines the universe.
        assert requests.get(srv.base_url + "/submissions/CIK0000320193.json").status_code == 404


@pytest.mark.parametrize(
    "url_path",
    [
        "/api/xbrl/companyfacts/CIK0000000001.json",  # well formed, not in the sample
        "/api/xbrl/companyfacts/CIK320193.json",  # CIK not zero-padded
        "/submissions/CIK0000320193-submissions-1.json",
        "/submissions/../companyfacts/CIK0000320193.json",
        "/Archives/edgar/data/320193/000032019323000106/index.json",
        "/v8/finance/chart/NOPE",
        "/",
    ],
)
def test_unknown_paths_get_sec_like_404(server: ReplayServer, url_path: str) -> None:
    response = requests.get(server.base_url + url_path)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/xml"
    assert b"<Code>NoSuchKey</Code>" in response.content


def test_conditional_requests(server: ReplayServer) -> None:
    url = server.base_url + APPLE_FACTS
    first = requests.get(url)
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    mtime = int((SAMPLE / "edgar/companyfacts/CIK0000320193.json.gz").stat().st_mtime)
    assert last_modified == formatdate(mtime, usegmt=True)

    def status(**headers: str) -> int:
        return requests.get(url, headers=headers).status_code

    assert status(**{"If-None-Match": etag}) == 304
    assert status(**{"If-None-Match": f'"other", {etag}'}) == 304
    assert status(**{"If-None-Match": '"other"'}) == 200
    assert status(**{"If-Modified-Since": last_modified}) == 304
    assert status(**{"If-Modified-Since": formatdate(mtime - 1, usegmt=True)}) == 200
    assert status(**{"If-Modified-Since": "not a date"}) == 200
    # If-None-Match decides when both are sent.
    assert status(**{"If-None-Match": '"other"', "If-Modified-Since": last_modified}) == 200

    not_modified = requests.get(url, headers={"If-None-Match": etag})
    assert not_modified.content == b"" and not_modified.headers["ETag"] == etag
    # The validator follows the content: another file has another ETag.
    assert requests.get(server.base_url + "/files/company_tickers.json").headers["ETag"] != etag


def test_throttle_counts_per_path_and_only_where_matched() -> None:
    with ReplayServer(SAMPLE, faults=Faults(match="companyfacts", throttle=2, retry_after=7)) as srv:
        statuses = [requests.get(srv.base_url + APPLE_FACTS).status_code for _ in range(3)]
        assert statuses == [429, 429, 200]
        first = requests.get(srv.base_url + "/api/xbrl/companyfacts/CIK0001045810.json")
        assert first.status_code == 429 and first.headers["Retry-After"] == "7"
        assert requests.get(srv.base_url + "/files/company_tickers.json").status_code == 200


def test_unavailable_then_recovers() -> None:
    with ReplayServer(SAMPLE, faults=Faults(throttle=1, unavailable=2)) as srv:
        statuses = [requests.get(srv.base_url + APPLE_FACTS).status_code for _ in range(4)]
        assert statuses == [429, 503, 503, 200]
        assert [r.status for r in srv.requests] == statuses


def test_delay() -> None:
    with ReplayServer(SAMPLE, faults=Faults(delay=0.4)) as srv:
        started = time.monotonic()
        assert requests.get(srv.base_url + "/files/company_tickers.json").status_code == 200
        assert time.monotonic() - started >= 0.4


def test_html_error_page_with_status_200() -> None:
    with ReplayServer(SAMPLE, faults=Faults(html_error=True)) as srv:
        response = requests.get(srv.base_url + APPLE_FACTS)
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/html")
        assert b"temporarily unavailable" in response.content


@pytest.mark.parametrize("status", [200, 403])
def test_secs_block_page_at_any_status(status) -> None:
    with ReplayServer(SAMPLE, faults=Faults(blocked=status)) as srv:
        response = requests.get(srv.base_url + APPLE_FACTS)
        assert response.status_code == status
        assert b"Your Request Originates from an Undeclared Automated Tool" in response.content


def test_truncated_body_is_short_of_its_content_length() -> None:
    with ReplayServer(SAMPLE, faults=Faults(truncate=True)) as srv:
        host, port = srv.base_url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=5)
        conn.request("GET", APPLE_FACTS, headers=IDENTITY)
        response = conn.getresponse()
        declared = int(response.headers["Content-Length"])
        assert declared == len(stored("edgar/companyfacts/CIK0000320193.json"))
        with pytest.raises(http.client.IncompleteRead) as caught:
            response.read()
        assert len(caught.value.partial) == declared // 2
        conn.close()


def test_every_request_is_recorded_with_headers(server: ReplayServer) -> None:
    before = len(server.requests)
    requests.get(server.base_url + "/v8/finance/chart/AAPL", headers={"User-Agent": "Test Co test@example.com"})
    requests.head(server.base_url + "/nowhere")
    recorded = server.requests[before:]
    assert [(r.method, r.path, r.status) for r in recorded] == [
        ("GET", "/v8/finance/chart/AAPL", 200),
        ("HEAD", "/nowhere", 404),
    ]
    assert recorded[0].headers["User-Agent"] == "Test Co test@example.com"
    assert recorded[0].at <= recorded[1].at <= time.monotonic()


def test_missing_sample_dir_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="sample directory"):
        ReplayServer(tmp_path / "absent")


def test_standalone_command() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "ingest.replay", "--sample-dir", str(SAMPLE), "--port", "0"],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        base_url = line.split(" at ")[1].split()[0]
        response = requests.get(base_url + "/submissions/CIK0000320193.json", timeout=5)
        assert response.status_code == 200
        assert orjson.loads(response.content)["name"] == "Apple Inc."
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# Every primary document in the sample (edgar/documents/CIK##########/<accession>/<name>.gz): CIK, accession, name.
DOCUMENTS = [
    ("0000320193", "0000320193-24-000123", "aapl-20240928.htm"),  # Apple 10-K FY2024
    ("0000320193", "0000320193-25-000057", "aapl-20250329.htm"),  # Apple 10-Q
    ("0001045810", "0001045810-23-000017", "nvda-20230129.htm"),  # NVIDIA 10-K FY2023
    ("0001045810", "0001045810-24-000029", "nvda-20240128.htm"),  # NVIDIA 10-K FY2024
    ("0001045810", "0001045810-24-000144", "nvda-20240607.htm"),  # NVIDIA 8-K (stock split)
    ("0001045810", "0001045810-25-000023", "nvda-20250126.htm"),  # NVIDIA 10-K FY2025
    ("0001108524", "0001108524-25-000006", "crm-20250131.htm"),  # Salesforce 10-K FY2025
    ("0001318605", "0001628280-24-002390", "tsla-20231231.htm"),  # Tesla 10-K FY2023
    ("0001318605", "0001628280-25-003063", "tsla-20241231.htm"),  # Tesla 10-K FY2024
]


def archive_path(cik: str, accession: str, name: str) -> str:
    """SEC's www.sec.gov path of a filing document: CIK without leading zeros, accession without dashes."""
    return f"/Archives/edgar/data/{int(cik)}/{accession.replace('-', '')}/{name}"


def test_documents_list_covers_the_sample() -> None:
    on_disk = {p.relative_to(SAMPLE / "edgar/documents").as_posix() for p in (SAMPLE / "edgar/documents").rglob("*.gz")}
    assert on_disk == {f"CIK{cik}/{accession}/{name}.gz" for cik, accession, name in DOCUMENTS}


@pytest.mark.parametrize(("cik", "accession", "name"), DOCUMENTS, ids=[d[2] for d in DOCUMENTS])
def test_serves_primary_documents_at_their_archive_paths(
    server: ReplayServer, cik: str, accession: str, name: str
) -> None:
    response = requests.get(server.base_url + archive_path(cik, accession, name), headers=IDENTITY)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html"
    assert "Content-Encoding" not in response.headers
    assert response.content == stored(f"edgar/documents/CIK{cik}/{accession}/{name}")
    assert b"<ix:nonNumeric" in response.content  # inline XBRL, as filed


def test_primary_document_goes_out_as_stored_when_client_accepts_gzip(server: ReplayServer) -> None:
    cik, accession, name = DOCUMENTS[0]
    url = server.base_url + archive_path(cik, accession, name)
    response = requests.get(url, headers={"Accept-Encoding": "gzip"}, stream=True)
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.raw.read(decode_content=False) == (
        SAMPLE / f"edgar/documents/CIK{cik}/{accession}/{name}.gz"
    ).read_bytes()


@pytest.mark.parametrize(
    "url_path",
    [
        "/Archives/edgar/data/320193/000032019324000999/aapl-20240928.htm",  # unknown accession
        "/Archives/edgar/data/320193/000032019325000057/aapl-20240928.htm",  # another filing's document
        "/Archives/edgar/data/1045810/000032019324000123/aapl-20240928.htm",  # another filer
        "/Archives/edgar/data/320193/000032019324000123/aapl-20240929.htm",  # unknown name
        "/Archives/edgar/data/320193/000032019324000123/aapl-20240928.htm.gz",  # the stored file is no URL
        "/Archives/edgar/data/0000320193/000032019324000123/aapl-20240928.htm",  # CIK zero-padded
        "/Archives/edgar/data/320193/0000320193-24-000123/aapl-20240928.htm",  # accession with dashes
        "/Archives/edgar/data/320193/000032019324000123/aapl%2D20240928%2Ehtm%00",  # NUL
        "/Archives/edgar/data/320193/000032019324000123/aapl 20240928.htm",  # unsafe characters
        "/Archives/edgar/data/320193/000032019324000123/..%2F000032019324000123%2Faapl-20240928.htm",
        "/Archives/edgar/data/320193/000032019324000123/../000032019324000123/aapl-20240928.htm",
        "/Archives/edgar/data/320193/000032019324000123/.",
        "/Archives/edgar/data/320193/000032019324000123/..",
        "/Archives/edgar/data/320193/000032019324000123/.aapl-20240928.htm",
        "/Archives/edgar/data/320193/000032019324000123/",
    ],
)
def test_unknown_or_unsafe_document_paths_get_404(server: ReplayServer, url_path: str) -> None:
    host, port = server.base_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)  # sends the path as written, dots and all
    conn.request("GET", url_path.replace(" ", "%20"))
    response = conn.getresponse()
    assert response.status == 404
    assert response.headers["Content-Type"] == "application/xml"
    assert b"<Code>NoSuchKey</Code>" in response.read()
    conn.close()


def test_documents_served_plain_and_unsafe_names_never(tmp_path: Path) -> None:
    folder = tmp_path / "edgar/documents/CIK0000320193/0000320193-24-000123"
    folder.mkdir(parents=True)
    body = stored("edgar/documents/CIK0000320193/0000320193-24-000123/aapl-20240928.htm")
    (folder / "aapl-20240928.htm").write_bytes(body)  # uncompressed, as EDGARFLOW_SAMPLE_DIR may hold it
    for unsafe in ("aapl 20240928.htm", "aapl~20240928.htm", "aapl$.htm", ".aapl.htm"):
        (folder / unsafe).write_bytes(body)
    with ReplayServer(tmp_path) as srv:
        base = srv.base_url + "/Archives/edgar/data/320193/000032019324000123/"
        ok = requests.get(base + "aapl-20240928.htm", headers={"Accept-Encoding": "gzip"})
        assert ok.status_code == 200 and "Content-Encoding" not in ok.headers
        assert ok.headers["Content-Type"] == "text/html" and ok.content == body
        for unsafe in ("aapl%2020240928.htm", "aapl~20240928.htm", "aapl%24.htm", ".aapl.htm"):
            assert requests.get(base + unsafe).status_code == 404
