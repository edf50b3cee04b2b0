"""Which filers a run covers.

A sample run covers the companies whose files are present in the sample directory; a live run
covers SEC's company_tickers_exchange list. A manual run may narrow either to given CIKs or tickers.
"""

from __future__ import annotations

import re
from pathlib import Path

import orjson

_SAMPLE_FILE = re.compile(r"^CIK(\d{10})\.json(\.gz)?$")


def sample_ciks(sample_dir: Path) -> list[str]:
    """CIKs with a companyfacts or (main) submissions file in a sample-layout directory."""
    ciks = set()
    for dataset in ("companyfacts", "submissions"):
        folder = sample_dir / "edgar" / dataset
        if folder.is_dir():
            ciks.update(m.group(1) for p in folder.iterdir() if (m := _SAMPLE_FILE.match(p.name)))
    return sorted(ciks)


def ticker_map(tickers_exchange_json: bytes) -> dict[str, str]:
    """Ticker -> 10-digit CIK from SEC's company_tickers_exchange.json (fields + data rows)."""
    doc = orjson.loads(tickers_exchange_json)
    i_cik, i_ticker = doc["fields"].index("cik"), doc["fields"].index("ticker")
    return {str(row[i_ticker]).upper(): str(row[i_cik]).zfill(10) for row in doc["data"]}


def select(universe: list[str], ciks: list[str] | None, tickers: list[str] | None, by_ticker: dict[str, str]) -> list[str]:
    """Narrow ``universe`` to the requested CIKs/tickers; unknown tickers raise."""
    if not ciks and not tickers:
        return universe
    wanted = {str(c).strip().zfill(10) for c in ciks or []}
    unknown = [t for t in tickers or [] if t.upper() not in by_ticker]
    if unknown:
        raise ValueError(f"unknown tickers: {', '.join(unknown)}")
    wanted.update(by_ticker[t.upper()] for t in tickers or [])
    return sorted(wanted)
