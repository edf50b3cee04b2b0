"""Raw SEC JSON payloads -> typed Arrow tables in the staged schemas (ingest/schemas.py).

Every fact version that companyfacts lists is kept: a value repeated as a comparative
in a later filing, or restated there, is another row with its own accession and filed date.
Periods come from the fact's own start/end, never from the filing's fy/fp.
"""

from __future__ import annotations

import re

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ingest import schemas

_ACCESSION = re.compile(r"^\d{10}-\d{2}-\d{6}$")


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
        head = raw[:60].decode("utf-8", "replace").strip()
        raise BadPayload(f"not valid JSON ({exc}); starts with {head!r}") from exc
    if not isinstance(doc, dict):
        raise BadPayload(f"expected a JSON object, got {type(doc).__name__}")
    return doc


def _dates(values: list[str | None], field: str) -> pa.Array:
    try:
        return pa.array(values, pa.string()).cast(pa.date32())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise BadPayload(f"bad date in {field}: {exc}") from exc


def normalize_companyfacts(raw: bytes) -> pa.Table:
    """One companyfacts document (data.sec.gov/api/xbrl/companyfacts/CIK##########.json)."""
    doc = _load_json(raw)
    if "cik" not in doc or not isinstance(doc.get("facts"), dict):
        raise BadPayload("missing 'cik' or 'facts'")
    cik = cik10(doc["cik"])
    entity = str(doc.get("entityName") or "")

    cols: dict[str, list] = {name: [] for name in schemas.FACTS.names if name not in ("cik", "entity_name")}
    for taxonomy, tags in doc["facts"].items():
        if not isinstance(tags, dict):
            raise BadPayload(f"taxonomy {taxonomy!r} is not an object")
        for tag, concept in tags.items():
            units = concept.get("units") if isinstance(concept, dict) else None
            if not isinstance(units, dict):
                raise BadPayload(f"{taxonomy}:{tag} has no units")
            for unit, facts in units.items():
                for fact in facts:
                    try:
                        cols["value"].append(fact["val"])
                        cols["period_end"].append(fact["end"])
                        cols["accession_number"].append(fact["accn"])
                        cols["filed"].append(fact["filed"])
                        cols["form"].append(fact["form"])
                    except (KeyError, TypeError) as exc:
                        raise BadPayload(f"{taxonomy}:{tag} [{unit}] fact lacks {exc}") from exc
                    cols["period_start"].append(fact.get("start"))
                    cols["fy"].append(fact.get("fy"))
                    cols["fp"].append(fact.get("fp"))
                    cols["frame"].append(fact.get("frame"))
                    cols["taxonomy"].append(taxonomy)
                    cols["tag"].append(tag)
                    cols["unit"].append(unit)

    n = len(cols["value"])
    bad = next((a for a in cols["accession_number"] if not _ACCESSION.match(a)), None)
    if bad is not None:
        raise BadPayload(f"malformed accession number {bad!r}")
    try:
        arrays = {
            "cik": pa.array([cik] * n, pa.string()),
            "entity_name": pa.array([entity] * n, pa.string()),
            "taxonomy": pa.array(cols["taxonomy"], pa.string()),
            "tag": pa.array(cols["tag"], pa.string()),
            "unit": pa.array(cols["unit"], pa.string()),
            "value": pa.array(cols["value"], pa.float64()),
            "period_start": _dates(cols["period_start"], "start"),
            "period_end": _dates(cols["period_end"], "end"),
            "fy": pa.array(cols["fy"], pa.int32()),
            "fp": pa.array(cols["fp"], pa.string()),
            "form": pa.array(cols["form"], pa.string()),
            "filed": _dates(cols["filed"], "filed"),
            "accession_number": pa.array(cols["accession_number"], pa.string()),
            "frame": pa.array(cols["frame"], pa.string()),
        }
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise BadPayload(f"value of the wrong type: {exc}") from exc
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

    bad = next((a for a in accessions if not _ACCESSION.match(a)), None)
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
