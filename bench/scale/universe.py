"""A universe of N filers for the scale bench, built from the bundled sample's real files.

Replica ``i`` of the sample's companies is sample company ``i % 6`` (the filers with both
companyfacts and submissions, as every SEC filer has; the sample's facts-only filers are an
artefact of how it was collected) under CIK ``9`` + ``i`` in nine digits, named "<name> (replica i)", trading under
``<ticker>-R<i>``. Its companyfacts, submissions (every page), ticker rows and price files (the
chart recording and the Yahoo CSV, where the sample has them) are the original's, with only those
identifiers changed: real filings and prices, as many times over as asked.

Written one filer at a time in the sample layout, so the replay server serves it like the bundled
sample, per company and as SEC's bulk zips (built once here, not by every task that asks):

    {dir}/edgar/companyfacts/CIK9000000042.json.gz
    {dir}/edgar/submissions/CIK9000000042.json.gz (+ -submissions-001.json.gz pages)
    {dir}/edgar/tickers/company_tickers_exchange.json.gz, company_tickers.json.gz
    {dir}/edgar/bulk/companyfacts.zip, submissions.zip
    {dir}/market/yahoo_chart_api/AAPL-R42.json.gz, market/yahoo_csv/AAPL-R42.csv.gz

Memory holds the 6 parsed originals and one replica at a time.
"""

from __future__ import annotations

import gzip
import shutil
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import orjson

from ingest.replay.server import build_bulk_archives
from ingest.sec.universe import company_tickers
from ingest.settings import BUNDLED_SAMPLE_DIR

# A daily master index's head, as SEC writes it (ingest/sec/daily_index.py reads past it).
INDEX_HEADER = (
    "Description:           Daily Index of EDGAR Dissemination Feed by Company Name",
    "Last Data Received:    ",
    "Comments:              webmaster@sec.gov",
    "Anonymous FTP:         ftp://ftp.sec.gov/edgar/",
    "",
    "CIK|Company Name|Form Type|Date Filed|File Name",
    "-" * 80,
)
# The real universe the figures are extrapolated to (SEC's companyfacts filers, late 2026).
FULL_UNIVERSE = 18_800
FULL_UNIVERSE_FACTS = 110_000_000


@dataclass(frozen=True)
class Original:
    cik: str
    name: str
    ticker: str | None
    exchange: str | None
    facts: dict
    facts_rows: int  # fact values in the document (one staged row each, before de-duplication)
    submissions: dict
    pages: dict[str, dict]  # page file name -> document
    chart: dict | None
    csv: bytes | None  # gzipped, as stored


@dataclass(frozen=True)
class Universe:
    root: Path
    filers: int
    facts: int  # fact values over every replica's companyfacts
    json_bytes: int  # uncompressed companyfacts + submissions


def replica_cik(i: int) -> str:
    return f"9{i:09d}"


def replica_ticker(ticker: str, i: int) -> str:
    return f"{ticker}-R{i}"


def originals(sample_dir: Path = BUNDLED_SAMPLE_DIR) -> list[Original]:
    """The sample's filers with companyfacts and submissions, with everything the pipeline reads about them."""
    edgar, market = sample_dir / "edgar", sample_dir / "market"
    listed = {t.cik: t for t in reversed(company_tickers(_read(edgar / "tickers" / "company_tickers_exchange.json.gz")))}
    found = []
    for path in sorted((edgar / "companyfacts").glob("CIK*.json.gz")):
        cik = path.name[3:13]
        facts = orjson.loads(_read(path))
        main = edgar / "submissions" / f"CIK{cik}.json.gz"
        if not main.exists():
            continue
        submissions = orjson.loads(_read(main))
        pages = {
            p.name.removesuffix(".gz"): orjson.loads(_read(p))
            for p in sorted((edgar / "submissions").glob(f"CIK{cik}-submissions-*.json.gz"))
        }
        listing = listed.get(cik)
        ticker = listing.ticker if listing else None
        chart = market / "yahoo_chart_api" / f"{ticker}.json.gz"
        csv = market / "yahoo_csv" / f"{ticker}.csv.gz"
        found.append(
            Original(
                cik=cik, name=facts["entityName"], ticker=ticker, exchange=listing.exchange if listing else None,
                facts=facts, facts_rows=_fact_values(facts), submissions=submissions, pages=pages,
                chart=orjson.loads(_read(chart)) if ticker and chart.exists() else None,
                csv=csv.read_bytes() if ticker and csv.exists() else None,
            )
        )  # fmt: skip
    return found


def build_universe(root: Path, filers: int, held_back_every: int = 0, sample_dir: Path = BUNDLED_SAMPLE_DIR) -> Universe:
    """Write a universe of ``filers`` replicas under ``root`` (replaced if present).

    With ``held_back_every`` n, every n-th replica is written as it stood the day before its
    newest filing with facts (that filing and everything filed since left out); release_held_back
    then writes them in full, as if they had just filed: a nightly run's new filings.
    """
    shutil.rmtree(root, ignore_errors=True)
    for folder in ("edgar/companyfacts", "edgar/submissions", "edgar/tickers", "market/yahoo_chart_api", "market/yahoo_csv"):
        (root / folder).mkdir(parents=True)
    sources = originals(sample_dir)
    rows, facts, json_bytes = [], 0, 0
    for i in range(filers):
        original = sources[i % len(sources)]
        if held_back_every and i % held_back_every == 0:
            original = _before_newest_filing(original)
        cik, name = replica_cik(i), f"{original.name} (replica {i})"
        ticker = replica_ticker(original.ticker, i) if original.ticker else None
        json_bytes += _write_json(root / "edgar/companyfacts" / f"CIK{cik}.json.gz",
                                  {**original.facts, "cik": int(cik), "entityName": name})  # fmt: skip
        facts += original.facts_rows
        json_bytes += _write_json(root / "edgar/submissions" / f"CIK{cik}.json.gz",
                                  _submissions(original.submissions, original.cik, cik, name, ticker))  # fmt: skip
        for page, doc in original.pages.items():
            json_bytes += _write_json(root / "edgar/submissions" / f"{page.replace(original.cik, cik)}.gz", doc)
        if ticker:
            rows.append([int(cik), name, ticker, original.exchange])
            if original.chart is not None:
                _write_json(root / "market/yahoo_chart_api" / f"{ticker}.json.gz", _chart(original.chart, ticker))
            if original.csv is not None:
                (root / "market/yahoo_csv" / f"{ticker}.csv.gz").write_bytes(original.csv)
    tickers = root / "edgar/tickers"
    _write_json(tickers / "company_tickers_exchange.json.gz", {"fields": ["cik", "name", "ticker", "exchange"], "data": rows})
    _write_json(tickers / "company_tickers.json.gz",
                {str(n): {"cik_str": r[0], "ticker": r[2], "title": r[1]} for n, r in enumerate(rows)})  # fmt: skip
    build_bulk_archives(root, root / "edgar" / "bulk")
    return Universe(root, filers, facts, json_bytes)


def release_held_back(
    universe: Universe, held_back_every: int, day: date, sample_dir: Path = BUNDLED_SAMPLE_DIR
) -> int:
    """Write the held-back replicas in full, as if their newest filings were disseminated on
    ``day``: SEC's daily index of ``day`` lists them. Returns how many filed."""
    sources = originals(sample_dir)
    released = range(0, universe.filers, held_back_every)
    lines = []
    for i in released:
        original, cik = sources[i % len(sources)], replica_cik(i)
        name = f"{original.name} (replica {i})"
        ticker = replica_ticker(original.ticker, i) if original.ticker else None
        _write_json(universe.root / "edgar/companyfacts" / f"CIK{cik}.json.gz",
                    {**original.facts, "cik": int(cik), "entityName": name})  # fmt: skip
        _write_json(universe.root / "edgar/submissions" / f"CIK{cik}.json.gz",
                    _submissions(original.submissions, original.cik, cik, name, ticker))  # fmt: skip
        recent = original.submissions["filings"]["recent"]
        accession, form = recent["accessionNumber"][0], recent["form"][0]
        lines.append(f"{int(cik)}|{name}|{form}|{day:%Y%m%d}|edgar/data/{int(cik)}/{accession}.txt")
    index = universe.root / "edgar/daily-index" / f"master.{day:%Y%m%d}.idx.gz"
    index.parent.mkdir(parents=True, exist_ok=True)
    index.write_bytes(gzip.compress("\n".join([*INDEX_HEADER, *lines, ""]).encode("latin-1")))
    build_bulk_archives(universe.root, universe.root / "edgar" / "bulk")
    return len(released)


def _before_newest_filing(original: Original) -> Original:
    """The original as of the day before its newest filing with facts."""
    day = max(v["filed"] for t in original.facts["facts"].values() for c in t.values()
              for values in c.get("units", {}).values() for v in values)  # fmt: skip
    facts = {
        **original.facts,
        "facts": {
            taxonomy: {
                concept: {**c, "units": {u: [v for v in vs if v["filed"] < day] for u, vs in c.get("units", {}).items()}}
                for concept, c in concepts.items()
            }
            for taxonomy, concepts in original.facts["facts"].items()
        },
    }
    recent = original.submissions["filings"]["recent"]
    keep = [n for n, filed in enumerate(recent["filingDate"]) if filed < day]
    recent = {k: [v[n] for n in keep] if isinstance(v, list) else v for k, v in recent.items()}
    submissions = {**original.submissions, "filings": {**original.submissions["filings"], "recent": recent}}
    return replace(original, facts=facts, facts_rows=_fact_values(facts), submissions=submissions)


def _submissions(doc: dict, old_cik: str, cik: str, name: str, ticker: str | None) -> dict:
    files = [{**f, "name": f["name"].replace(old_cik, cik)} for f in doc["filings"].get("files", [])]
    return {
        **doc, "cik": str(int(cik)), "name": name,
        "tickers": [ticker] if ticker else [], "exchanges": doc.get("exchanges", [])[:1] if ticker else [],
        "filings": {**doc["filings"], "files": files},
    }  # fmt: skip


def _chart(doc: dict, ticker: str) -> dict:
    result = [{**r, "meta": {**r["meta"], "symbol": ticker}} for r in doc["chart"]["result"]]
    return {**doc, "chart": {**doc["chart"], "result": result}}


def _fact_values(doc: dict) -> int:
    return sum(len(v) for t in doc.get("facts", {}).values() for c in t.values() for v in c.get("units", {}).values())


def _read(path: Path) -> bytes:
    return gzip.decompress(path.read_bytes())


def _write_json(path: Path, doc: dict) -> int:
    body = orjson.dumps(doc)
    path.write_bytes(gzip.compress(body, compresslevel=1))  # fast: the universe is rebuilt per size
    return len(body)

