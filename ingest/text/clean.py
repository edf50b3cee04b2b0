"""Clean text of a filing's HTML or inline-XBRL primary document, as a list of blocks.

A block is a paragraph of prose or a whole table, in document order, with whitespace normalized.
Dropped: the hidden ``ix:header`` (XBRL contexts), anything styled ``display:none``, scripts and
styles, page numbers, and short lines repeated on many pages (running headers and footers such as
"Table of Contents" links or "NVIDIA Corporation | 2024 Form 10-K"). Tables stay whole, apart from
prose: a table's cells are joined with " | " and its rows by newlines. Tables of contents are
recognised later, by the section finder (they list item headings).

lxml's HTML parser (libxml2) reads EDGAR's mix of HTML 4, XHTML and inline XBRL without a schema;
its element tree is walked once.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import lxml.html
from lxml import etree

# Block-level elements: a block of text ends where one of these starts or ends.
_BLOCK = frozenset({"div", "p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "center", "blockquote", "dd", "dt", "br"})
_SKIP = frozenset({"script", "style", "head", "title", "ix:header"})
_HIDDEN = re.compile(r"display\s*:\s*none", re.I)
_BOLD = re.compile(r"font-weight\s*:\s*(bold|[6-9]00)", re.I)
_ITALIC = re.compile(r"font-style\s*:\s*italic", re.I)
_SPACE = re.compile(r"\s+")
_PAGE_NUMBER = re.compile(r"^(?:page\s+)?(?:[A-Z]-)?\d{1,3}$|^[ivxlc]{1,6}$", re.I)
_DIGITS = re.compile(r"\d+")
_ENDED = re.compile(r"[.:;!?\u201d\")]$")
# A line this short that appears on this many pages is a running header or footer.
_RUNNING_MAX_CHARS = 120
_RUNNING_MIN_REPEATS = 3


class UnreadableDocument(ValueError):
    """The bytes hold no HTML document."""


@dataclass(frozen=True)
class Block:
    text: str
    table: bool = False
    emphasized: bool = False  # all of its text bold or italic: a sub-heading, in prose
    cells: tuple[str, ...] = ()  # a table's non-empty cells, in order (headings set in table cells)


def blocks(document: bytes) -> list[Block]:
    """The document's blocks of text, hidden parts, page numbers and running headers dropped."""
    try:
        root = lxml.html.document_fromstring(document)
    except etree.ParserError as exc:  # nothing parseable at all, e.g. an empty body
        raise UnreadableDocument(str(exc)) from exc
    found: list[Block] = []
    _walk(root, found)
    # Counted with digits masked: a footer carries its page number ("Apple Inc. | 2024 Form 10-K | 21").
    repeated = Counter(_DIGITS.sub("#", b.text) for b in found if not b.table and len(b.text) <= _RUNNING_MAX_CHARS)
    kept: list[Block] = []
    for b in found:
        running = not b.table and len(b.text) <= _RUNNING_MAX_CHARS and repeated[_DIGITS.sub("#", b.text)] >= _RUNNING_MIN_REPEATS
        if _PAGE_NUMBER.match(b.text) or running:
            continue
        if kept and _continues(kept[-1], b):
            # A paragraph cut by a page break (its footer and the next header now dropped).
            kept[-1] = Block(f"{kept[-1].text} {b.text}", emphasized=kept[-1].emphasized and b.emphasized)
        else:
            kept.append(b)
    return kept


def _continues(before: Block, block: Block) -> bool:
    return not (before.table or block.table) and block.text[0].islower() and not _ENDED.search(before.text)


def normalize(text: str) -> str:
    """Whitespace (non-breaking spaces included) collapsed to single spaces, ends stripped."""
    return _SPACE.sub(" ", text.replace("\u200b", "")).strip()


def _walk(root, found: list[Block]) -> None:
    pieces: list[tuple[str, bool]] = []  # inline text since the last block boundary, and its emphasis

    def flush() -> None:
        text = normalize("".join(t for t, _ in pieces))
        if text:
            found.append(Block(text, emphasized=all(e for t, e in pieces if t.strip())))
        pieces.clear()

    def visit(node, emphasis: bool) -> None:
        tag = node.tag.lower()
        style = node.get("style") or ""
        inner = emphasis or tag in ("b", "strong", "i", "em") or bool(_BOLD.search(style) or _ITALIC.search(style))
        if tag == "table":
            flush()
            if (table := _table(node)) is not None:
                found.append(table)
            return
        block = tag in _BLOCK
        if block:
            flush()
        pieces.append((node.text or "", inner))
        for child in node:
            if isinstance(child.tag, str) and not _skipped(child):
                visit(child, inner)
            pieces.append((child.tail or "", inner))  # a skipped element's tail is still text
        if block:
            flush()

    body = root.find("body")
    visit(body if body is not None else root, False)
    flush()


def _skipped(node) -> bool:
    return node.tag.lower() in _SKIP or bool(_HIDDEN.search(node.get("style") or ""))


def _table(node) -> Block | None:
    rows, cells = [], []
    for tr in node.iter("tr"):
        row = [normalize(_cell_text(td)) for td in tr if isinstance(td.tag, str) and td.tag.lower() in ("td", "th")]
        row = [c for c in row if c]
        if row:
            rows.append(" | ".join(row))
            cells.extend(row)
    return Block("\n".join(rows), table=True, cells=tuple(cells)) if rows else None


def _cell_text(node) -> str:
    """A cell's text, hidden parts skipped, a space where a block element breaks it."""
    parts = [node.text or ""]
    for child in node:
        if isinstance(child.tag, str) and not _skipped(child):
            gap = " " if child.tag.lower() in _BLOCK else ""
            parts += [gap, _cell_text(child), gap]
        parts.append(child.tail or "")
    return "".join(parts)
