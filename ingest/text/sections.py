"""Sections of a periodic report: 10-K items (1, 1A, ... 16) and 10-Q parts and items (I-2, II-1A).

How headings are found, after what edgar-crawler's and edgartools' users report:

- a heading is a block (a paragraph, or a small table whose cells hold "Item 1A." and "Risk
  Factors") that starts with "Item" and a number and is short; "Items 1 and 2" (one heading for
  several items) and "Item No. 1" are read;
- its title, when it has one, must start like the item's own title ("Risk", "Management's"):
  a paragraph that starts "Item 7 of this report ..." is a cross-reference, not a heading, and
  never cuts a section short; cross-references inside a sentence never start a block at all;
- tables of contents are dropped: a table listing three or more items, or a run of three or more
  headings with almost no text between them;
- of what remains, the headings kept are the longest run in item order (a longest increasing
  subsequence), ties going to the headings followed by more text: a stray heading out of order
  (an item repeated in an exhibit index, a forward reference set as its own paragraph) is left
  out rather than ending the section before it;
- a filing with no item headings (filers that use a cross-reference index instead, GE, Citi) or
  without a plausible Risk Factors or MD&A is flagged with the reason, never silently cut.

Forms outside the 10-K and 10-Q families (20-F, 40-F) are not segmented: their documents are
recorded with a flag saying so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingest.text.clean import Block, blocks, normalize
from ingest.text.signals import words

# 10-K items in order, each with the words its title starts with (the rule's own titles, and
# older ones: Item 4 was "Submission of Matters to a Vote", Item 6 "Selected Financial Data").
ANNUAL_ITEMS: dict[str, tuple[str, ...]] = {
    "1": ("business",),
    "1A": ("risk",),
    "1B": ("unresolved",),
    "1C": ("cybersecurity",),
    "2": ("properties", "property", "description of property"),
    "3": ("legal",),
    "4": ("mine", "submission", "removed", "reserved", "[reserved]"),
    "4A": ("executive", "information about", "our executive"),
    "5": ("market",),
    "6": ("reserved", "[reserved]", "selected", "removed"),
    "7": ("management",),
    "7A": ("quantitative",),
    "8": ("financial", "consolidated"),
    "9": ("changes",),
    "9A": ("controls",),
    "9B": ("other",),
    "9C": ("disclosure",),
    "10": ("directors",),
    "11": ("executive",),
    "12": ("security",),
    "13": ("certain",),
    "14": ("principal",),
    "15": ("exhibit", "exhibits"),
    "16": ("form", "10-k"),
}
QUARTERLY_ITEMS: dict[str, tuple[str, ...]] = {
    "I-1": ("financial", "condensed", "consolidated"),
    "I-2": ("management",),
    "I-3": ("quantitative",),
    "I-4": ("controls",),
    "II-1": ("legal",),
    "II-1A": ("risk",),
    "II-2": ("unregistered", "changes"),
    "II-3": ("defaults",),
    "II-4": ("mine", "submission", "removed", "reserved", "[reserved]"),
    "II-5": ("other",),
    "II-6": ("exhibit", "exhibits"),
}
ANNUAL_FORMS = frozenset({"10-K", "10-K/A", "10-KT", "10-KT/A", "10-K405"})
QUARTERLY_FORMS = frozenset({"10-Q", "10-Q/A", "10-QT", "10-QT/A"})

# What the staged gate asks of every 10-K: Risk Factors and MD&A, each of a plausible size
# (characters of prose). Measured on the sample's seven 10-Ks: 1A 68k-119k, 7 13k-46k characters.
REQUIRED_ITEMS = {"1A": "Risk Factors", "7": "Management's Discussion and Analysis"}
MIN_SECTION_CHARS = 2_000
MAX_SECTION_CHARS = 2_000_000

_HEADING = re.compile(
    r"^(?:part\s+(?P<part>iv|i{1,3})\b\W*)?"
    r"items?\s+(?:no\.?\s*)?(?P<item>\d{1,2}[a-d]?)\b"
    r"(?P<more>(?:\s*(?:,|and|&|through|-)\s*(?:item\s+)?\d{1,2}[a-d]?\b)*)"
    r"\s*[.:\-\u2013\u2014]?\s*(?P<title>.*)$",
    re.I,
)
_PART = re.compile(r"^part\s+(?P<part>iv|i{1,3})\b\W*(?P<rest>.*)$", re.I)
_MORE = re.compile(r"\d{1,2}[a-d]?", re.I)
_HEADING_MAX_CHARS = 250
_TOC_MIN_ITEMS = 3
_TOC_MAX_WORDS_BETWEEN = 12
_SUBHEADING_MAX_CHARS = 400
_SENTENCE_BREAK = re.compile(r"[.!?]\s+[A-Z]")
_OMITTED = re.compile(r"smaller reporting compan|not required|not applicable", re.I)


@dataclass
class Section:
    item: str
    covers: list[str]
    title: str
    position: int
    text: str = ""
    table_text: str = ""
    headings: list[str] = field(default_factory=list)

    @property
    def char_count(self) -> int:
        return len(self.text)

    @property
    def word_count(self) -> int:
        return len(words(self.text))


@dataclass(frozen=True)
class Segmented:
    sections: list[Section]
    flag: str | None  # why the filing's sections are not usable as they are; None when they are


@dataclass(frozen=True)
class _Heading:
    index: int  # the block it is
    item: str
    covers: tuple[str, ...]
    title: str
    order: int


def segment(document: bytes, form: str) -> Segmented:
    """The document's sections, with a flag when they fall short of what the form requires."""
    if form in ANNUAL_FORMS:
        items = ANNUAL_ITEMS
    elif form in QUARTERLY_FORMS:
        items = QUARTERLY_ITEMS
    else:
        return Segmented([], f"sections of form {form} are not segmented (10-K and 10-Q only)")
    found = blocks(document)
    headings = _chosen(_candidates(found, items, quarterly=items is QUARTERLY_ITEMS), found)
    if not headings:
        return Segmented([], "no item headings found: the filer may use a cross-reference index")
    sections = []
    for n, heading in enumerate(headings):
        end = headings[n + 1].index if n + 1 < len(headings) else len(found)
        sections.append(_section(heading, n, found[heading.index + 1 : end]))
    return Segmented(sections, _flag(sections) if items is ANNUAL_ITEMS else None)


def _candidates(found: list[Block], items: dict[str, tuple[str, ...]], quarterly: bool) -> list[_Heading]:
    order = {item: n for n, item in enumerate(items)}
    part = "I"
    candidates: list[_Heading] = []
    for index, block in enumerate(found):
        if block.table:
            listed = [c for c in block.cells if _HEADING.match(c)]
            if len(listed) >= _TOC_MIN_ITEMS:
                continue  # a table of contents
            text = " ".join(block.cells)
        else:
            text = block.text
        if len(text) > _HEADING_MAX_CHARS:
            continue
        if (m := _PART.match(text)) and not _HEADING.match(m.group("rest") or ""):
            part = m.group("part").upper()
            continue
        if not (m := _HEADING.match(text)):
            continue
        part = (m.group("part") or part).upper()
        number = m.group("item").upper()
        item = f"{part}-{number}" if quarterly else number
        if item not in order or not _titled_like(m.group("title"), items[item]):
            continue
        more = [n.upper() for n in _MORE.findall(m.group("more") or "")]
        covers = (item, *(f"{part}-{n}" if quarterly else n for n in more))
        candidates.append(_Heading(index, item, covers, normalize(text.replace("|", " ")), order[item]))
    return _without_contents_runs(candidates, found)


def _titled_like(title: str, starts: tuple[str, ...]) -> bool:
    """True when the heading's title (if any) starts like the item's title."""
    title = normalize(title.lstrip("|:.-\u2013\u2014 ")).lower().replace("\u2019", "'")
    return not title or title.startswith(starts) or not title[0].isalpha()


def _without_contents_runs(candidates: list[_Heading], found: list[Block]) -> list[_Heading]:
    """Drop runs of three or more headings with next to no text between them whose items come
    again later: a table of contents set as paragraphs."""
    gaps = [
        sum(len(words(b.text)) for b in found[a.index + 1 : b.index] if not b.table)
        for a, b in zip(candidates, candidates[1:], strict=False)
    ]
    close = [False] * len(candidates)
    run_start = 0
    for n in range(len(candidates) + 1):
        if n < len(gaps) and gaps[n] <= _TOC_MAX_WORDS_BETWEEN:
            continue
        # Short items in a row ("Item 3. Defaults ... None.") are body too: a contents list is
        # known by its items appearing again after it. The body's first heading, right after the
        # list, is not repeated, so it stays.
        again = [any(d.item == c.item for d in candidates[k + 1 :]) for k, c in enumerate(candidates) if run_start <= k <= n]
        if len(again) >= _TOC_MIN_ITEMS and 2 * sum(again) >= len(again):
            for k, repeated in enumerate(again, run_start):
                close[k] = repeated
        run_start = n + 1
    return [c for c, drop in zip(candidates, close, strict=True) if not drop]


def _chosen(candidates: list[_Heading], found: list[Block]) -> list[_Heading]:
    """The longest run of headings in strictly increasing item order; among runs as long, the
    one whose headings are followed by the most text before the next candidate."""
    if not candidates:
        return []
    span = [
        sum(len(b.text) for b in found[c.index + 1 : (nxt.index if nxt else len(found))])
        for c, nxt in zip(candidates, [*candidates[1:], None], strict=True)
    ]
    best: list[tuple[int, int]] = []  # (headings, text) of the best run ending at each candidate
    previous: list[int | None] = []
    for n, c in enumerate(candidates):
        score, link = (1, span[n]), None
        for k in range(n):
            if candidates[k].order < c.order:
                extended = (best[k][0] + 1, best[k][1] + span[n])
                if extended > score:
                    score, link = extended, k
        best.append(score)
        previous.append(link)
    at: int | None = max(range(len(candidates)), key=lambda n: best[n])
    run = []
    while at is not None:
        run.append(candidates[at])
        at = previous[at]
    return run[::-1]


def _section(heading: _Heading, position: int, body: list[Block]) -> Section:
    section = Section(heading.item, list(heading.covers), heading.title, position)
    prose = [b.text for b in body if not b.table]
    section.text = "\n\n".join(prose)
    section.table_text = "\n\n".join(b.text for b in body if b.table)
    section.headings = [b.text for b in body if _subheading(b)]
    return section


def _subheading(block: Block) -> bool:
    """A sub-heading: a short emphasized paragraph of one sentence that starts a thought (the
    risk factors' titles in 1A), not an italic passage or a fragment."""
    text = block.text
    return (
        block.emphasized
        and not block.table
        and len(text) <= _SUBHEADING_MAX_CHARS
        and len(words(text)) >= 3
        and text[0].isupper()
        and not _SENTENCE_BREAK.search(text)
    )


def _flag(sections: list[Section]) -> str | None:
    """Why a 10-K's Risk Factors or MD&A is not usable; None when both are of plausible size."""
    reasons = []
    for item, name in REQUIRED_ITEMS.items():
        found = [s for s in sections if item in s.covers]
        if not found:
            reasons.append(f"item {item} ({name}) not found")
            continue
        chars = sum(s.char_count for s in found)
        if chars < MIN_SECTION_CHARS:
            omitted = " (omitted: the filing says it is not required)" if _OMITTED.search(found[0].text) else ""
            reasons.append(f"item {item} ({name}) has {chars:,} characters{omitted}")
        elif chars > MAX_SECTION_CHARS:
            reasons.append(f"item {item} ({name}) has {chars:,} characters: a heading after it was missed")
    return "; ".join(reasons) or None
