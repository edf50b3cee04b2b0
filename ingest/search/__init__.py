"""Full-text search of filing sections, through serving.search_sections (sql/0013).

    .venv/bin/python -m ingest.search "supply chain" --ticker NVDA --form 10-K --from 2023-01-01

Every read runs as the ``bi_reader`` role (``SET LOCAL ROLE``), so this answers with exactly
what a reader may see: the serving function and views, never the edgar tables. The connecting
user must be a superuser or a member of bi_reader.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from datetime import date

import psycopg
from psycopg import sql

READER_ROLE = "bi_reader"
# ts_headline's default markers around each matched word, which serving.search_sections keeps.
_MATCH = re.compile(r"<b>(.*?)</b>", re.S)
_ADJACENT = re.compile(r"</b>(\s+)<b>")
# A section title as headings give it: "Item 1A. Risk Factors", "ITEMS 1 AND 2. BUSINESS AND PROPERTIES".
_ITEM_PREFIX = re.compile(
    r"^\s*items?\s+(?:no\.?\s*)?\d{1,2}[a-d]?\b(?:\s*(?:,|and|&|through|-)\s*\d{1,2}[a-d]?\b)*[\s.:-]*", re.I
)
_BOLD, _RESET = "\033[1;33m", "\033[0m"
_NBSP = "\u00a0"


class SearchError(Exception):
    """The search cannot run as asked (an unknown or ambiguous ticker, a malformed CIK)."""


@dataclass(frozen=True)
class Hit:
    cik: str
    company: str | None
    accession_number: str
    form: str
    filing_date: date
    item: str
    title: str | None
    rank: float
    snippet: str
    url: str


def search(
    conn: psycopg.Connection,
    query: str,
    *,
    cik: str | None = None,
    ticker: str | None = None,
    form: str | None = None,
    filed_from: date | None = None,
    filed_to: date | None = None,
    limit: int = 20,
) -> list[Hit]:
    """The best ``limit`` sections matching ``query`` (websearch syntax), as bi_reader reads them."""
    if cik is not None and ticker is not None:
        raise SearchError("give a CIK or a ticker, not both")
    # Inside an open transaction this would be a savepoint, and SET LOCAL ROLE would outlive it.
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        raise SearchError("search runs in a transaction of its own: commit or roll back first")
    with conn.transaction():
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(READER_ROLE)))
        if ticker is not None:
            cik = resolve_ticker(conn, ticker)
        elif cik is not None:
            cik = padded_cik(cik)
        rows = conn.execute(
            "SELECT * FROM serving.search_sections(%s, %s, %s, %s, %s, %s)",
            (query, cik, form, filed_from, filed_to, limit),
        ).fetchall()
    return [Hit(*row) for row in rows]


def padded_cik(cik: str) -> str:
    digits = cik.strip()
    if not digits.isdigit() or len(digits) > 10:
        raise SearchError(f"a CIK is up to ten digits, not {cik!r}")
    return digits.zfill(10)


def resolve_ticker(conn: psycopg.Connection, ticker: str) -> str:
    """The CIK of the one company listing ``ticker`` (serving.companies, from edgar.companies.tickers)."""
    symbol = ticker.strip().upper()
    found = conn.execute(
        "SELECT cik, name FROM serving.companies WHERE %s = ANY(tickers) ORDER BY cik", (symbol,)
    ).fetchall()
    if not found:
        raise SearchError(f"no company lists the ticker {symbol!r}")
    if len(found) > 1:
        listed = ", ".join(f"{cik} ({name})" for cik, name in found)
        raise SearchError(f"several companies list the ticker {symbol!r}: {listed}; give --cik")
    return found[0][0]


def item_label(item: str) -> str:
    """'1A' -> 'Item 1A'; a 10-Q's 'II-1A' -> 'Part II, Item 1A'."""
    part, _, number = item.rpartition("-")
    return f"Part {part}, Item {number}" if part else f"Item {item}"


def readable_snippet(snippet: str, *, color: bool) -> str:
    """ts_headline's markup for a terminal: matches bold (ANSI) or between ** **, on one line."""
    return _marked(snippet, color=color).replace(_NBSP, " ")


def _marked(snippet: str, *, color: bool) -> str:
    # Words of one match are joined by no-break spaces, which textwrap does not break at.
    text = " ".join(_ADJACENT.sub(r"\1", snippet).split())  # "<b>supply</b> <b>chain</b>": one match
    return _MATCH.sub(lambda m: (f"{_BOLD}{m[1]}{_RESET}" if color else f"**{m[1]}**").replace(" ", _NBSP), text)


def section_label(item: str, title: str | None) -> str:
    """'Item 1A. Risk Factors': the item, then its title without the "Item 1A." it starts with."""
    name = _ITEM_PREFIX.sub("", title or "").strip()
    return f"{item_label(item)}. {name}" if name else item_label(item)


def render(hits: list[Hit], *, color: bool = False, width: int = 100) -> str:
    """Numbered results, best first: who filed what and where, the snippet, the URL."""
    if not hits:
        return "no matching sections"
    blocks = []
    for n, hit in enumerate(hits, 1):
        heading = " | ".join(
            (
                hit.company or f"CIK {hit.cik}",
                f"{hit.form} filed {hit.filing_date.isoformat()}",
                section_label(hit.item, hit.title),
                f"rank {hit.rank:.3f}",
            )
        )
        snippet = textwrap.fill(
            _marked(hit.snippet, color=color), width=width, initial_indent="   ", subsequent_indent="   "
        ).replace(_NBSP, " ")
        blocks.append(f"{n}. {heading}\n{snippet}\n   {hit.url}")
    return "\n\n".join(blocks)
