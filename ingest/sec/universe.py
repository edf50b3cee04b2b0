"""Which filers a run covers.

A sample run covers the companies whose files are present in the sample directory; a live run
covers SEC's company_tickers_exchange list. A manual run may narrow either to given CIKs or tickers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import orjson

from ingest.identifiers import InvalidRequest

_SAMPLE_FILE = re.compile(r"^CIK(\d{10})\.json(\.gz)?$")


def sample_ciks(sample_dir: Path) -> list[str]:
    """CIKs with a companyfacts or (main) submissions file in a sample-layout directory."""
    ciks = set()
    for dataset in ("companyfacts", "submissions"):
        folder = sample_dir / "edgar" / dataset
        if folder.is_dir():
            ciks.update(m.group(1) for p in folder.iterdir() if (m := _SAMPLE_FILE.match(p.name)))
    return sorted(ciks)


@dataclass(frozen=True)
class CompanyTicker:
    """One row of SEC's company_tickers_exchange.json."""

    cik: str  # 10 digits, zero-padded
    ticker: str  # as SEC writes it (BRK-B; older files BRK.B)
    exchange: str | None  # Nasdaq, NYSE, OTC, CBOE; None when SEC gives none


def company_tickers(tickers_exchange_json: bytes) -> list[CompanyTicker]:
    """The rows of SEC's company_tickers_exchange.json (``fields`` names the columns of ``data``),
    in SEC's order; rows without a ticker are left out."""
    doc = orjson.loads(tickers_exchange_json)
    fields = doc["fields"]
    i_cik, i_ticker, i_exchange = fields.index("cik"), fields.index("ticker"), fields.index("exchange")
    return [
        CompanyTicker(str(row[i_cik]).zfill(10), str(row[i_ticker]).strip(), row[i_exchange] or None)
        for row in doc["data"]
        if str(row[i_ticker] or "").strip()
    ]


def ticker_map(tickers_exchange_json: bytes) -> dict[str, str]:
    """Ticker (upper case) -> 10-digit CIK."""
    return {t.ticker.upper(): t.cik for t in company_tickers(tickers_exchange_json)}


def select(universe: list[str], ciks: list[str] | None, tickers: list[str] | None, by_ticker: dict[str, str]) -> list[str]:
    """Narrow ``universe`` to the requested CIKs/tickers; unknown tickers raise."""
    if not ciks and not tickers:
        return universe
    wanted = {str(c).strip().zfill(10) for c in ciks or []}
    unknown = [t for t in tickers or [] if t.upper() not in by_ticker]
    if unknown:
        raise InvalidRequest(f"unknown tickers: {', '.join(unknown)}")
    wanted.update(by_ticker[t.upper()] for t in tickers or [])
    return sorted(wanted)
