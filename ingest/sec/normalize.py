"""Raw SEC JSON payloads -> typed Arrow tables in the staged schemas (ingest/zones/schemas.py).

Every fact version that companyfacts lists is kept: a value repeated as a comparative
in a later filing, or restated there, is another row with its own accession and filed date;
amendments (10-K/A, 10-Q/A, 20-F/A) are rows under their own accession and form. Periods come
from the fact's own start/end, never from the filing's fy/fp. Cover facts (taxonomy ``dei``:
shares outstanding, public float) are facts like any other.

What a companyfacts document may contain, and what gets its filer quarantined instead:

- taxonomies: vocab.TAXONOMIES, the SEC's standard taxonomies (companyfacts never carries a
  filer's own extension taxonomy). Anything else means the payload is not what we think it is.
- units: any well-formed XBRL unit as SEC writes it (UNIT): one measure or a ratio of two, each
  an XML name without its namespace prefix. That covers ISO 4217 currencies (USD, TWD, EUR...),
  ``shares``, ``pure``, their ratios (USD/shares) and the measures filers define themselves
  (``aircraft``, ``segment``, ``USD/PartnershipUnit``), which are legitimate XBRL and real data.
  An unknown unit is one that is not a unit at all: empty, with spaces, a product, two slashes.
"""

from __future__ import annotations

import datetime as dt
import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import msgspec
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ingest.identifiers import ACCESSION_PATTERN
from ingest.sec.vocab import TAXONOMIES
from ingest.zones import schemas

_MEASURE = r"[A-Za-z_][A-Za-z0-9_.\-]*"
UNIT = re.compile(rf"{_MEASURE}(?:/{_MEASURE})?")


class BadPayload(ValueError):
    """The payload cannot be normalized; the filer is quarantined with this reason."""


def cik10(value: object) -> str:
    """SEC sends cik as a number in most payloads and as a zero-padded string in some."""
    text = str(value).strip()
    if not text.isdigit() or len(text) > 10:
        raise BadPayload(f"not a CIK: {value!r}")
    return text.zfill(10)


def _load_json(raw: bytes) -> dict:
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadPayload(f"not valid JSON ({exc}); starts with {_head(raw)!r}") from exc
    if not isinstance(doc, dict):
        raise BadPayload(f"expected a JSON object, got {type(doc).__name__}")
    return doc


def _head(raw: bytes) -> str:
    return raw[:60].decode("utf-8", "replace").strip()


def _dates(values: list[str | None], field: str) -> pa.Array:
    try:
        return pa.array(values, pa.string()).cast(pa.date32())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise BadPayload(f"bad date in {field}: {exc}") from exc


# The companyfacts shape, decoded and type-checked in one pass by msgspec: typed structs and
# dates parsed in C decode faster than plain dicts and strings, and a wrong shape or a bad date
# fails with the JSON path of the culprit. gc=False: these never take part in a cycle.
class _Fact(msgspec.Struct, gc=False):
    end: dt.date
    val: Decimal  # decoded from the number's own digits: exact, as filed
    accn: str
    form: str
    filed: dt.date
    start: dt.date | None = None
    fy: int | None = None
    fp: str | None = None
    frame: str | None = None


class _Concept(msgspec.Struct, gc=False):
    units: dict[str, list[_Fact]]


class _CompanyFacts(msgspec.Struct):
    cik: int | str
    facts: dict[str, dict[str, _Concept]]
    entityName: str | None = None


_DECODER = msgspec.json.Decoder(_CompanyFacts)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """A document decodes to millions of acyclic objects; letting the cycle collector walk
    them again and again while they are built costs more than the decoding (measured: ~2x)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def normalize_companyfacts(raw: bytes) -> pa.Table:
    """One companyfacts document (data.sec.gov/api/xbrl/companyfacts/CIK##########.json)."""
    with _gc_paused():
        try:
            doc = _DECODER.decode(raw)
        except msgspec.ValidationError as exc:
            raise BadPayload(f"unexpected companyfacts structure: {exc}") from exc
        except msgspec.DecodeError as exc:
            raise BadPayload(f"not valid JSON ({exc}); starts with {_head(raw)!r}") from exc
        return _facts_table(cik10(doc.cik), doc.entityName or "", doc.facts)


def _facts_table(cik: str, entity: str, facts: dict[str, dict[str, _Concept]]) -> pa.Table:
    # Column-wise: one comprehension per field and (taxonomy, tag, unit) group; the three
    # group columns are built from group indices, not from one Python string per fact.
    groups: list[tuple[str, str, str]] = []
    sizes: list[int] = []
    val: list = []
    end: list = []
    accn: list = []
    form: list = []
    filed: list = []
    start: list = []
    fy: list = []
    fp: list = []
    frame: list = []
    for taxonomy, tags in facts.items():
        if taxonomy not in TAXONOMIES:
            raise BadPayload(f"unknown taxonomy {taxonomy!r} (known: {', '.join(sorted(TAXONOMIES))})")
        for tag, concept in tags.items():
            for unit, rows in concept.units.items():
                if not UNIT.fullmatch(unit):
                    raise BadPayload(f"unknown unit {unit!r} in {taxonomy}:{tag}")
                groups.append((taxonomy, tag, unit))
                sizes.append(len(rows))
                val += [f.val for f in rows]
                end += [f.end for f in rows]
                accn += [f.accn for f in rows]
                form += [f.form for f in rows]
                filed += [f.filed for f in rows]
                start += [f.start for f in rows]
                fy += [f.fy for f in rows]
                fp += [f.fp for f in rows]
                frame += [f.frame for f in rows]

    accessions = pa.array(accn, pa.string())
    # A filer has a few hundred distinct accessions over ~10^5 facts: check each once.
    bad = next((a for a in pc.unique(accessions).to_pylist() if not ACCESSION_PATTERN.match(a)), None)
    if bad is not None:
        raise BadPayload(f"malformed accession number {bad!r}")
    n = len(val)
    group_of_row = pa.array(np.repeat(np.arange(len(groups), dtype=np.int32), sizes))

    def group_column(i: int) -> pa.Array:
        return pc.take(pa.array([g[i] for g in groups], pa.string()), group_of_row)

    try:
        arrays = {
            "cik": pa.repeat(pa.scalar(cik, pa.string()), n),
            "entity_name": pa.repeat(pa.scalar(entity, pa.string()), n),
            "taxonomy": group_column(0),
            "tag": group_column(1),
            "unit": group_column(2),
            "value": pa.array(val, schemas.VALUE),
            "period_start": pa.array(start, pa.date32()),
            "period_end": pa.array(end, pa.date32()),
            "fy": pa.array(fy, pa.int32()),
            "fp": pa.array(fp, pa.string()),
            "form": pa.array(form, pa.string()),
            "filed": pa.array(filed, pa.date32()),
            "accession_number": accessions,
            "frame": pa.array(frame, pa.string()),
        }
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
        raise BadPayload(f"value out of range (more than 29 integer or 9 decimal digits): {exc}") from exc
    return pa.table(arrays, schema=schemas.FACTS)


def normalize_submissions(raw: bytes, pages: list[bytes] = ()) -> tuple[pa.Table, pa.Table]:
    """A submissions document plus its paginated files -> (companies: 1 row, filings)."""
    doc = _load_json(raw)
    if "cik" not in doc or not isinstance(doc.get("filings"), dict):
        raise BadPayload("missing 'cik' or 'filings'")
    cik = cik10(doc["cik"])
    company = {
        "cik": cik,
        "name": doc.get("name"),
        "entity_type": doc.get("entityType"),
        "sic": doc.get("sic") or None,
        "sic_description": doc.get("sicDescription") or None,
        "tickers": list(doc.get("tickers") or []),
        "exchanges": [e or "" for e in doc.get("exchanges") or []],
        "state_of_incorporation": doc.get("stateOfIncorporation") or None,
        "fiscal_year_end": doc.get("fiscalYearEnd") or None,
        "category": doc.get("category") or None,
        "ein": doc.get("ein") or None,
        "former_names": orjson.dumps(doc.get("formerNames") or []).decode(),
    }
    companies = pa.Table.from_pylist([company], schema=schemas.COMPANIES)

    blocks = [doc["filings"].get("recent") or {}] + [_load_json(p) for p in pages]
    filings = pa.concat_tables([_filings_block(cik, b) for b in blocks])
    return companies, filings


def _filings_block(cik: str, block: dict) -> pa.Table:
    """A column-oriented filings block (`filings.recent` or a -submissions-NNN page)."""
    accessions = block.get("accessionNumber") or []
    n = len(accessions)

    def col(name: str, default=None) -> list:
        values = block.get(name)
        if values is None:
            return [default] * n
        if len(values) != n:
            raise BadPayload(f"filings column {name!r} has {len(values)} values, expected {n}")
        return values

    def blank_to_none(values: list) -> list:
        return [v or None for v in values]

    bad = next((a for a in accessions if not ACCESSION_PATTERN.match(a)), None)
    if bad is not None:
        raise BadPayload(f"malformed accession number {bad!r}")
    try:
        accepted = pa.array(blank_to_none(col("acceptanceDateTime")), pa.string())
        accepted = pc.strptime(
            pc.utf8_slice_codeunits(accepted, 0, 19), format="%Y-%m-%dT%H:%M:%S", unit="us"
        ).cast(pa.timestamp("us", tz="UTC"))
        arrays = {
            "cik": pa.array([cik] * n, pa.string()),
            "accession_number": pa.array(accessions, pa.string()),
            "form": pa.array(col("form"), pa.string()),
            "filing_date": _dates(col("filingDate"), "filingDate"),
            "report_date": _dates(blank_to_none(col("reportDate")), "reportDate"),
            "acceptance_datetime": accepted,
            "primary_document": pa.array(blank_to_none(col("primaryDocument")), pa.string()),
            "primary_doc_description": pa.array(blank_to_none(col("primaryDocDescription")), pa.string()),
            "size": pa.array(col("size"), pa.int64()),
            "is_xbrl": pa.array([bool(v) for v in col("isXBRL", 0)], pa.bool_()),
            "is_inline_xbrl": pa.array([bool(v) for v in col("isInlineXBRL", 0)], pa.bool_()),
            "items": pa.array(blank_to_none(col("items")), pa.string()),
        }
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise BadPayload(f"value of the wrong type in filings: {exc}") from exc
    return pa.table(arrays, schema=schemas.FILINGS)
