"""A local stand-in for data.sec.gov, www.sec.gov and Yahoo's chart API.

It serves a directory in the sample layout (see DESIGN.md) over real HTTP on
loopback, so sample runs and tests exercise the same client code as live runs.
One server answers every path; clients point all their base URLs at it. It also
serves SEC's nightly bulk archives (companyfacts.zip, submissions.zip), ready-made
in the sample's edgar/bulk/ or zipped from the sample on first request, and the
primary documents of filings (edgar/documents/CIK##########/<accession>/<name>)
at their www.sec.gov Archives paths. Faults (throttling, outages, slow or broken
answers) can be switched on per instance, and every request is recorded so tests
can check rate and headers.

    with ReplayServer("data/sample", faults=Faults(throttle=2)) as srv:
        requests.get(f"{srv.base_url}/submissions/CIK0000320193.json")

Run standalone: ``python -m ingest.replay --sample-dir DIR --port N``.
"""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import mimetypes
import re
import shutil
import tempfile
import threading
import time
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from html import escape
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import unquote, urlsplit

# URL path -> file in the sample layout, the template filled with the pattern's groups (positional
# and named). Only names matching these patterns are served, so stray files in the sample folders
# are never reachable.
ROUTES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"/api/xbrl/companyfacts/(CIK\d{10}\.json)"), "edgar/companyfacts/{}"),
    (re.compile(r"/submissions/(CIK\d{10}(?:-submissions-\d{3})?\.json)"), "edgar/submissions/{}"),
    (re.compile(r"/files/(company_tickers(?:_exchange)?\.json)"), "edgar/tickers/{}"),
    (re.compile(r"/v8/finance/chart/([A-Za-z0-9.^=-]{1,20})"), "market/yahoo_chart_api/{}.json"),
    # SEC's daily indexes, kept flat: edgar/daily-index/master.20261201.idx (none in the bundled sample).
    (re.compile(r"/Archives/edgar/daily-index/\d{4}/QTR[1-4]/(master\.\d{8}\.idx)"), "edgar/daily-index/{}"),
    # A filing's primary document: /Archives/edgar/data/320193/000032019324000123/aapl-20240928.htm is
    # edgar/documents/CIK0000320193/0000320193-24-000123/aapl-20240928.htm. The CIK has no leading
    # zeros and the accession no dashes, as SEC writes them; names are of safe characters only.
    (
        re.compile(
            r"/Archives/edgar/data/(?P<cik>[1-9]\d{0,9})/(?P<filer>\d{10})(?P<year>\d{2})(?P<seq>\d{6})"
            r"/(?P<name>(?!\.)[A-Za-z0-9._-]+(?<!\.gz))"  # no dot files ('.', '..'); the stored .gz is no URL
        ),
        "edgar/documents/CIK{cik:0>10}/{filer}-{year}-{seq}/{name}",
    ),
)

# SEC's nightly bulk archives, built from the sample on first request: path -> (folder, member names).
BULK_ARCHIVES = {
    "/Archives/edgar/daily-index/xbrl/companyfacts.zip": ("edgar/companyfacts", re.compile(r"CIK\d{10}\.json")),
    "/Archives/edgar/daily-index/bulkdata/submissions.zip": (
        "edgar/submissions",
        re.compile(r"CIK\d{10}(?:-submissions-\d{3})?\.json"),
    ),
}

# Where a sample directory may hold its bulk archives ready-made (a universe too large to zip per server).
BULK_DIR = "edgar/bulk"

mimetypes.add_type("text/plain", ".idx")  # as SEC serves its indexes

# Bodies shaped like the real services' error answers.
NOT_FOUND_XML = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code>'
    "<Message>The specified key does not exist.</Message><Key>{key}</Key></Error>"
)
HTML_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>{title}</title></head><body><h1>{title}</h1><p>{text}</p></body></html>"
)
# SEC's fair-access refusal, in its own words (title and sentence as SEC sends them; the rest of
# the real page, styling and contact details, is left out).
UNDECLARED_TOOL_PAGE = HTML_PAGE.format(
    title="SEC.gov | Request Rate Threshold Exceeded",
    text="Your Request Originates from an Undeclared Automated Tool. "
    "Please declare your traffic by updating your user agent.",
)
# A maintenance page a CDN or proxy may send with status 200 instead of the resource.
MAINTENANCE_PAGE = HTML_PAGE.format(title="Service Unavailable", text="The service is temporarily unavailable.")


@dataclass(frozen=True)
class Faults:
    """Misbehaviour to inject. Counters are per URL path."""

    match: str = ""  # regex searched in the URL path; faults apply where it matches ('' = everywhere)
    throttle: int = 0  # the first N requests get 429 with Retry-After
    retry_after: int = 1  # seconds, sent with those 429s
    unavailable: int = 0  # the next N requests get 503 without Retry-After
    delay: float = 0.0  # seconds to wait before answering
    truncate: bool = False  # announce the full Content-Length, send half the body, drop the connection
    html_error: bool = False  # answer 200 with an HTML maintenance page instead of the resource
    blocked: int | None = None  # answer with SEC's fair-access block page, at this status (200 or 403)


@dataclass(frozen=True)
class RecordedRequest:
    at: float  # time.monotonic() on arrival
    method: str
    path: str  # with the query string
    headers: dict[str, str]
    status: int


@dataclass
class _Answer:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    file: Path | None = None  # a body too large to hold: streamed from this file instead of ``body``


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], sample_dir: Path, faults: Faults):
        super().__init__(address, _Handler)
        self.sample_dir = sample_dir
        self.faults = faults
        self.fault_pattern = re.compile(faults.match)
        self.log: list[RecordedRequest] = []
        self.seen: Counter[str] = Counter()  # requests per path, for the fault counters
        self.lock = threading.Lock()
        self.workdir: Path | None = None  # built bulk archives, made on first request
        self.build_lock = threading.Lock()

    def bulk_archive(self, path: str) -> Path | None:
        """The zip served at ``path``: built beforehand in the sample's edgar/bulk/ (as a large
        universe is, see build_bulk_archives), else built from the sample once per server."""
        if path not in BULK_ARCHIVES:
            return None
        name = path.rsplit("/", 1)[1]
        if (prebuilt := self.sample_dir / BULK_DIR / name).is_file():
            return prebuilt
        folder, members = BULK_ARCHIVES[path]
        with self.build_lock:
            if self.workdir is None:
                self.workdir = Path(tempfile.mkdtemp(prefix="edgarflow-replay-"))
            target = self.workdir / name
            if not target.exists():
                _build_zip(self.sample_dir / folder, members, target)
        return target

    def remove_workdir(self) -> None:
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, like the real services
    server_version = "edgarflow-replay"

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def log_message(self, format: str, *args: object) -> None:
        pass  # the request log is kept in memory; stderr noise helps nobody in tests

    def _serve(self, send_body: bool) -> None:
        arrived = time.monotonic()
        path = unquote(urlsplit(self.path).path)  # Yahoo symbols like ^GSPC arrive as %5EGSPC
        faults = self.server.faults
        faulty = bool(self.server.fault_pattern.search(path))
        with self.server.lock:
            nth = self.server.seen[path]
            self.server.seen[path] += 1

        if faulty and faults.delay:
            time.sleep(faults.delay)
        if faulty and nth < faults.throttle:
            answer = _html(HTTPStatus.TOO_MANY_REQUESTS, "Too Many Requests", "Request Rate Threshold Exceeded")
            answer.headers["Retry-After"] = str(faults.retry_after)
        elif faulty and nth < faults.throttle + faults.unavailable:
            answer = _html(HTTPStatus.SERVICE_UNAVAILABLE, "Service Unavailable", "Please try again later.")
        elif faulty and faults.blocked is not None:
            answer = _Answer(faults.blocked, UNDECLARED_TOOL_PAGE.encode(), "text/html; charset=utf-8")
        elif faulty and faults.html_error:
            answer = _Answer(HTTPStatus.OK, MAINTENANCE_PAGE.encode(), "text/html; charset=utf-8")
        else:
            answer = self._resource(path)

        with self.server.lock:
            self.server.log.append(
                RecordedRequest(arrived, self.command, self.path, dict(self.headers), int(answer.status))
            )
        self._send(answer, send_body, truncate=faulty and faults.truncate and answer.status == HTTPStatus.OK)

    def _resource(self, path: str) -> _Answer:
        archive = self.server.bulk_archive(path)
        if archive is not None:
            stat = archive.stat()
            validators = {
                "ETag": f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"',
                "Last-Modified": email.utils.formatdate(int(stat.st_mtime), usegmt=True),
            }
            if _not_modified(
                self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since"),
                validators["ETag"], int(stat.st_mtime),
            ):
                return _Answer(HTTPStatus.NOT_MODIFIED, headers=validators)
            return _Answer(HTTPStatus.OK, content_type="application/zip", headers=validators, file=archive)

        file = _locate(self.server.sample_dir, path)
        if file is None:
            if (yahoo := _yahoo_answer(path)) is not None:
                return yahoo
            key = escape(path.lstrip("/"))
            return _Answer(HTTPStatus.NOT_FOUND, NOT_FOUND_XML.format(key=key).encode(), "application/xml")

        stored = file.read_bytes()
        mtime = int(file.stat().st_mtime)
        # One validator per stored file, whichever encoding goes out.
        validators = {
            "ETag": '"' + hashlib.sha256(stored).hexdigest()[:32] + '"',
            "Last-Modified": email.utils.formatdate(mtime, usegmt=True),
            "Vary": "Accept-Encoding",
        }
        if _not_modified(
            self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since"), validators["ETag"], mtime
        ):
            return _Answer(HTTPStatus.NOT_MODIFIED, headers=validators)

        if file.suffix == ".gz":
            if _accepts_gzip(self.headers.get("Accept-Encoding", "")):
                validators["Content-Encoding"] = "gzip"
            else:
                stored = gzip.decompress(stored)
        content_type = mimetypes.guess_type(path)[0] or "application/json"  # .htm documents; the APIs answer JSON
        return _Answer(HTTPStatus.OK, stored, content_type, headers=validators)

    def _send(self, answer: _Answer, send_body: bool, truncate: bool) -> None:
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        length = answer.file.stat().st_size if answer.file else len(answer.body)
        if answer.status != HTTPStatus.NOT_MODIFIED:
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(length))
        if truncate:
            self.send_header("Connection", "close")
        self.end_headers()
        if send_body:
            sent = length // 2 if truncate else length
            if answer.file:
                with answer.file.open("rb") as f:
                    while sent > 0 and (chunk := f.read(min(sent, 1 << 20))):
                        self.wfile.write(chunk)
                        sent -= len(chunk)
            else:
                self.wfile.write(answer.body[:sent])
        if truncate:
            self.close_connection = True


def _locate(sample_dir: Path, path: str) -> Path | None:
    """The sample file behind a URL path: the .gz copy if stored, else the plain one."""
    for pattern, template in ROUTES:
        if m := pattern.fullmatch(path):
            return _stored(sample_dir / template.format(*m.groups(), **m.groupdict()))
    return None


def _stored(plain: Path) -> Path | None:
    for candidate in (plain.with_name(plain.name + ".gz"), plain):
        if candidate.is_file():
            return candidate
    return None


def build_bulk_archives(sample_dir: Path, target_dir: Path) -> list[Path]:
    """Both bulk archives of a sample-layout directory, written to ``target_dir``."""
    target_dir.mkdir(parents=True, exist_ok=True)
    built = []
    for path, (folder, members) in BULK_ARCHIVES.items():
        built.append(target_dir / path.rsplit("/", 1)[1])
        _build_zip(sample_dir / folder, members, built[-1])
    return built


def _build_zip(folder: Path, members: re.Pattern[str], target: Path) -> None:
    """A deflated zip of the folder's files whose names (less .gz) match ``members``, streamed
    file by file; written beside ``target`` and renamed, so a reader never sees half of it."""
    partial = target.with_name(target.name + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        names: set[str] = set()
        for file in sorted(folder.iterdir()) if folder.is_dir() else []:
            name = file.name.removesuffix(".gz")
            if not members.fullmatch(name) or name in names:
                continue
            names.add(name)
            source = _stored(folder / name)
            assert source is not None
            with (
                gzip.open(source) if source.suffix == ".gz" else source.open("rb") as src,
                archive.open(name, "w", force_zip64=True) as dst,
            ):
                shutil.copyfileobj(src, dst, 1 << 20)
    partial.rename(target)


def _not_modified(if_none_match: str | None, if_modified_since: str | None, etag: str, mtime: int) -> bool:
    # RFC 9110 13.2.2: If-None-Match wins over If-Modified-Since when both are sent.
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags
    if if_modified_since is not None:
        try:
            since = email.utils.parsedate_to_datetime(if_modified_since).timestamp()
        except (TypeError, ValueError):
            return False  # an unparseable date is ignored, as the RFC says
        return mtime <= since
    return False


def _accepts_gzip(accept_encoding: str) -> bool:
    for item in accept_encoding.lower().split(","):
        name, _, params = item.partition(";")
        if name.strip() in ("gzip", "*"):
            try:
                return float(params.strip().removeprefix("q=") or 1) > 0
            except ValueError:
                return False
    return False


def _html(status: HTTPStatus, title: str, text: str) -> _Answer:
    return _Answer(status, HTML_PAGE.format(title=title, text=text).encode(), "text/html; charset=utf-8")


# Yahoo: yfinance fetches a crumb (an anti-CSRF token) before its first request and sends it
# along with every request; no sample file stands for it.
YAHOO_CRUMB = "edgarflow-replay-crumb"


def _yahoo_answer(path: str) -> _Answer | None:
    if path == "/v1/test/getcrumb":
        return _Answer(HTTPStatus.OK, YAHOO_CRUMB.encode(), "text/plain;charset=utf-8")
    return None


class ReplayServer:
    """A replay server on 127.0.0.1 in a daemon thread; use it as a context manager."""

    def __init__(self, sample_dir: str | Path, faults: Faults | None = None, host: str = "127.0.0.1", port: int = 0):
        self.sample_dir = Path(sample_dir)
        if not self.sample_dir.is_dir():
            raise FileNotFoundError(f"sample directory not found: {self.sample_dir}")
        self._server = _Server((host, port), self.sample_dir, faults or Faults())
        # A short poll interval makes stop() quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="replay-server", daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.socket.getsockname()[:2]
        return f"http://{host}:{port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request answered so far, in arrival order."""
        with self._server.lock:
            return list(self._server.log)

    def start(self) -> Self:
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the standalone command)."""
        try:
            self._server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            self._server.server_close()
            self._server.remove_workdir()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()
        self._server.remove_workdir()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

