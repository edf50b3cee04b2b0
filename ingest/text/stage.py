"""Stage the text of landed primary documents: sections, what each document gave, text signals.

    staged/sections/CIK##########.parquet      every section of the filer's documents read so far
    staged/filing_texts/CIK##########.parquet  one row per document: sections found, flag
    staged/text_signals/CIK##########.parquet  one row per 10-K, compared with the previous 10-K

A filer's files hold all of its documents, so a run that adds one filing rewrites the filer's
files with the new filing's rows beside the earlier ones (a filing read again replaces its rows),
and its text signals are computed again from the whole history: a 10-K backfilled out of order
still meets the right previous 10-K. A document that cannot be read is quarantined with its
bytes and a reason; the filer's other documents proceed.
"""

from __future__ import annotations

import gzip
import logging
from collections import defaultdict
from datetime import date

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ingest.identifiers import run_key
from ingest.progress import report_progress
from ingest.sec.stage import Staging
from ingest.text import signals
from ingest.text.sections import ANNUAL_FORMS, Segmented, segment
from ingest.zones import schemas
from ingest.zones.quarantine import quarantine_document
from ingest.zones.staged import read_staged, staged_key, write_staged
from ingest.zones.store import ObjectStore

log = logging.getLogger(__name__)

DATASETS = ("sections", "filing_texts", "text_signals")
RISK_FACTORS, MDA = "1A", "7"


def stage_texts(store: ObjectStore, documents: list[dict], run_id: str) -> Staging:
    """Sections of the landed ``documents`` (extraction's records: cik, accession_number, key,
    metadata), merged into each filer's staged text files."""
    run_key(run_id)
    result = Staging()
    by_cik: dict[str, list[dict]] = defaultdict(list)
    for document in documents:
        by_cik[document["cik"]].append(document)
    for done, (cik, landed) in enumerate(sorted(by_cik.items()), 1):
        report_progress("sections", done, len(by_cik), "filers")
        sections, texts = [], []
        for document in landed:
            metadata = orjson.loads(store.get(document["metadata"]))
            raw = store.get(document["key"])
            try:
                segmented = segment(gzip.decompress(raw), metadata["form"])
            except (OSError, ValueError) as exc:  # gzip, and lxml's "Document is empty" and kin
                reason = f"unreadable document: {type(exc).__name__}: {exc}"
                log.warning("quarantining %s %s: %s", cik, document["accession_number"], reason)
                key = quarantine_document(store, document["key"], raw, reason, run_id, cik=cik, url=metadata["url"])
                result.quarantined.append({"cik": cik, "dataset": "filing_documents", "key": key, "reason": reason})
                continue
            sections.extend(section_rows(metadata, segmented))
            texts.append(filing_text_row(metadata, document["key"], segmented))
        if texts:
            _merge(store, result, cik, sections, texts)
    return result


def section_rows(metadata: dict, segmented: Segmented) -> list[dict]:
    filed = date.fromisoformat(metadata["filing_date"])
    return [
        {
            "cik": metadata["cik"],
            "accession_number": metadata["accession_number"],
            "form": metadata["form"],
            "filing_date": filed,
            "item": s.item,
            "covers": s.covers,
            "title": s.title,
            "position": s.position,
            "text": s.text,
            "table_text": s.table_text,
            "char_count": s.char_count,
            "word_count": s.word_count,
            "headings": s.headings,
        }
        for s in segmented.sections
    ]


def filing_text_row(metadata: dict, raw_key: str, segmented: Segmented) -> dict:
    report = metadata.get("report_date")
    return {
        "cik": metadata["cik"],
        "accession_number": metadata["accession_number"],
        "form": metadata["form"],
        "filing_date": date.fromisoformat(metadata["filing_date"]),
        "report_date": date.fromisoformat(report) if report else None,
        "primary_document": metadata["primary_document"],
        "raw_key": raw_key,
        "sections": len(segmented.sections),
        "char_count": sum(s.char_count for s in segmented.sections),
        "flag": segmented.flag,
    }


def _merge(store: ObjectStore, result: Staging, cik: str, sections: list[dict], texts: list[dict]) -> None:
    """The filer's staged text files with these documents' rows replacing any earlier ones."""
    read = {a["accession_number"] for a in texts}
    merged = {
        "sections": _replaced(store, "sections", cik, read, sections),
        "filing_texts": _replaced(store, "filing_texts", cik, read, texts),
    }
    merged["text_signals"] = text_signals(merged["sections"], merged["filing_texts"])
    for dataset, table in merged.items():
        result.staged[dataset].append(write_staged(store, dataset, cik, table))
        result.rows[dataset] += table.num_rows


def _replaced(store: ObjectStore, dataset: str, cik: str, accessions: set[str], rows: list[dict]) -> pa.Table:
    schema = schemas.BY_DATASET[dataset]
    new = pa.Table.from_pylist(rows, schema=schema)
    key = staged_key(dataset, cik)
    if not store.exists(key):
        return new
    earlier = read_staged(store, key)
    kept = earlier.filter(pc.invert(pc.is_in(earlier["accession_number"], pa.array(sorted(accessions)))))
    return pa.concat_tables([kept.cast(schema), new]).sort_by([("filing_date", "ascending"), ("accession_number", "ascending")])


def text_signals(sections: pa.Table, texts: pa.Table) -> pa.Table:
    """One row per 10-K of the filer (flagged ones included, their missing parts null), each
    compared with the filer's latest 10-K filed before it."""
    by_filing: dict[str, dict[str, dict]] = defaultdict(dict)
    for row in sections.select(["accession_number", "covers", "text", "headings"]).to_pylist():
        for item in row["covers"]:
            by_filing[row["accession_number"]].setdefault(item, row)
    annual = sorted(
        (t for t in texts.to_pylist() if t["form"] in ANNUAL_FORMS),
        key=lambda t: (t["filing_date"], t["accession_number"]),
    )
    rows, previous = [], None
    for filing in annual:
        current = by_filing.get(filing["accession_number"], {})
        before = by_filing.get(previous["accession_number"], {}) if previous else {}
        rows.append(_signals(filing, previous, current, before))
        previous = filing
    return pa.Table.from_pylist(rows, schema=schemas.TEXT_SIGNALS)


def _signals(filing: dict, previous: dict | None, current: dict, before: dict) -> dict:
    risk, mda = _text(current, RISK_FACTORS), _text(current, MDA)
    risk_before, mda_before = _text(before, RISK_FACTORS), _text(before, MDA)
    headings = current.get(RISK_FACTORS, {}).get("headings") or []
    if previous is not None and RISK_FACTORS in current and RISK_FACTORS in before:
        added, removed = signals.headings_diff(before[RISK_FACTORS]["headings"] or [], headings)
    else:
        added = removed = None
    return {
        "cik": filing["cik"],
        "accession_number": filing["accession_number"],
        "form": filing["form"],
        "filing_date": filing["filing_date"],
        "previous_accession_number": previous["accession_number"] if previous else None,
        "risk_factors_chars": _chars(risk),
        "mda_chars": _chars(mda),
        "risk_factors_words": _words(risk),
        "mda_words": _words(mda),
        "previous_risk_factors_chars": _chars(risk_before),
        "previous_mda_chars": _chars(mda_before),
        "risk_factors_cosine": _compared(signals.cosine_similarity, risk_before, risk),
        "risk_factors_jaccard": _compared(signals.jaccard_similarity, risk_before, risk),
        "mda_cosine": _compared(signals.cosine_similarity, mda_before, mda),
        "mda_jaccard": _compared(signals.jaccard_similarity, mda_before, mda),
        "risk_headings": len(headings) if risk is not None else None,
        "risk_headings_added_count": len(added) if added is not None else None,
        "risk_headings_removed_count": len(removed) if removed is not None else None,
        "risk_headings_added": added,
        "risk_headings_removed": removed,
        "risk_factors_fog": signals.gunning_fog(risk) if risk else None,
        "mda_fog": signals.gunning_fog(mda) if mda else None,
    }


def _text(sections: dict, item: str) -> str | None:
    return sections[item]["text"] if item in sections else None


def _chars(text: str | None) -> int | None:
    return len(text) if text is not None else None


def _words(text: str | None) -> int | None:
    return len(signals.words(text)) if text is not None else None


def _compared(measure, before: str | None, now: str | None) -> float | None:
    return measure(before, now) if before is not None and now is not None else None
