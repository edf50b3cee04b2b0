"""Which tickers a market run covers: Yahoo symbols, each kept with the CIK it belongs to.

The universe is SEC's company_tickers_exchange list, so every price row can be joined to its
filer. SEC writes share classes and series with a dash already (BRK-B, BF-B, BAC-PB), as Yahoo
does; older SEC files and other sources write BRK.B or BRK/B, which map to the same symbol.

A sample run covers the listed symbols whose files are present in the sample directory: a
recorded chart response (fetched through yfinance) or a Yahoo CSV (history backfill).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from ingest.sec.universe import company_tickers

# A recording is SYMBOL.json[.gz]; SYMBOL.request.json (its request parameters) and
# quote_v7_SYMBOL.json (another endpoint) lie beside them and are not chart responses.
_RECORDING = re.compile(r"^([A-Z0-9^=-]+(?:\.[A-Z]{1,3})?)\.json(?:\.gz)?$")
_CSV = re.compile(r"^([A-Z0-9^=-]+(?:\.[A-Z]{1,3})?)\.csv(?:\.gz)?$")
CHART_DIR = ("market", "yahoo_chart_api")
CSV_DIR = ("market", "yahoo_csv")


@dataclass(frozen=True)
class Listing:
    symbol: str  # Yahoo symbol, e.g. BRK-B
    cik: str  # 10 digits, zero-padded
    exchange: str | None  # as SEC lists it (Nasdaq, NYSE, OTC, CBOE); None when SEC gives none

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)


def yahoo_symbol(ticker: str) -> str:
    """Yahoo's symbol for an SEC ticker: upper case, class and series separators as '-'."""
    return re.sub(r"[./]", "-", ticker.strip().upper())


def listings(tickers_exchange_json: bytes) -> dict[str, Listing]:
    """Yahoo symbol -> Listing, from SEC's company_tickers_exchange.json."""
    found: dict[str, Listing] = {}
    for row in company_tickers(tickers_exchange_json):
        symbol = yahoo_symbol(row.ticker)
        if symbol not in found:  # SEC lists a ticker once; keep the first if not
            found[symbol] = Listing(symbol, row.cik, row.exchange)
    return found


def recorded_symbols(sample_dir: Path) -> set[str]:
    """Symbols with a recorded Yahoo chart response in a sample-layout directory."""
    return _symbols(sample_dir.joinpath(*CHART_DIR), _RECORDING)


def csv_files(sample_dir: Path) -> dict[str, Path]:
    """Symbol -> its Yahoo CSV (Date,Open,High,Low,Close,Adj Close,Volume) in a sample-layout directory."""
    folder = sample_dir.joinpath(*CSV_DIR)
    if not folder.is_dir():
        return {}
    return {m.group(1): p for p in sorted(folder.iterdir()) if (m := _CSV.match(p.name))}


def _symbols(folder: Path, pattern: re.Pattern[str]) -> set[str]:
    if not folder.is_dir():
        return set()
    return {m.group(1) for p in folder.iterdir() if (m := pattern.match(p.name))}


@dataclass(frozen=True)
class Universe:
    listings: list[Listing]  # what the run fetches, by symbol
    unlisted: list[str]  # asked-for symbols SEC does not list: no CIK to keep them with, so skipped

    def batches(self, size: int) -> list[list[dict]]:
        """Listings in batches of about ``size``; a company's symbols share a batch, because
        its staged file (one per CIK) holds all of them and one task at a time may rewrite it."""
        by_cik: dict[str, list[Listing]] = {}
        for listing in self.listings:
            by_cik.setdefault(listing.cik, []).append(listing)
        batches: list[list[dict]] = []
        current: list[dict] = []
        for cik in sorted(by_cik):
            if current and len(current) + len(by_cik[cik]) > size:
                batches.append(current)
                current = []
            current.extend(x.to_dict() for x in by_cik[cik])
        if current:
            batches.append(current)
        return batches


def select(known: dict[str, Listing], wanted: Iterable[str]) -> Universe:
    """The listings of ``wanted`` symbols (SEC or Yahoo spelling); unknown ones are reported, not fatal."""
    symbols = sorted({yahoo_symbol(s) for s in wanted if s.strip()})
    return Universe(
        listings=[known[s] for s in symbols if s in known],
        unlisted=[s for s in symbols if s not in known],
    )
