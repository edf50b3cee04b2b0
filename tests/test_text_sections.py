"""Clean text and sections of real 10-K and 10-Q primary documents, and their staging.

The seven 10-Ks are the sample's real documents (NVIDIA FY2023-FY2025, Tesla FY2023-FY2024, Apple
FY2024, Salesforce FY2025), the 10-Q Apple's of 2025-03-29. The small HTML fragments below are
layouts the field reports trouble with (combined items, cross-references, contents lists set as
paragraphs, no item headings), written as structure only: they carry no financial data.
"""

from __future__ import annotations

from datetime import date

import pyarrow.compute as pc
import pytest
from conftest import sample_bytes

from ingest.sec.client import FetchResult
from ingest.sec.documents import Filing, land_document
from ingest.settings import Settings
from ingest.text.clean import blocks
from ingest.text.sections import segment
from ingest.text.stage import stage_texts
from ingest.zones.manifests import write_manifest
from ingest.zones.staged import read_staged, staged_key, write_staged
from ingest.zones.store import LocalStore

NVIDIA, TESLA, APPLE, SALESFORCE = "0001045810", "0001318605", "0000320193", "0001108524"
TEN_KS = {
    (NVIDIA, "0001045810-23-000017", "nvda-20230129.htm", "2023-02-24"),
    (NVIDIA, "0001045810-24-000029", "nvda-20240128.htm", "2024-02-21"),
    (NVIDIA, "0001045810-25-000023", "nvda-20250126.htm", "2025-02-26"),
    (TESLA, "0001628280-24-002390", "tsla-20231231.htm", "2024-01-29"),
    (TESLA, "0001628280-25-003063", "tsla-20241231.htm", "2025-01-30"),
    (APPLE, "0000320193-24-000123", "aapl-20240928.htm", "2024-11-01"),
    (SALESFORCE, "0001108524-25-000006", "crm-20250131.htm", "2025-03-05"),
}
TEN_Q = (APPLE, "0000320193-25-000057", "aapl-20250329.htm", "2025-05-02")


def document(cik: str, accession: str, name: str) -> bytes:
    return sample_bytes(f"edgar/documents/CIK{cik}/{accession}/{name}")


@pytest.mark.parametrize(("cik", "accession", "name", "filed"), sorted(TEN_KS))
def test_every_sample_10k_has_risk_factors_and_mda_of_plausible_size(cik, accession, name, filed):
    segmented = segment(document(cik, accession, name), "10-K")
    items = {s.item: s for s in segmented.sections}
    assert segmented.flag is None
    assert [s.item for s in segmented.sections][:2] == ["1", "1A"]  # the body's, not the contents'
    assert 40_000 < items["1A"].char_count < 150_000 and 10_000 < items["7"].char_count < 80_000
    assert items["1A"].title.lower().startswith("item 1a. risk factors")
    for section in segmented.sections:
        # Neither the hidden XBRL header, nor the contents list, nor a running footer.
        assert "iso4217" not in section.text and "xbrli" not in section.text
        assert "Unresolved Staff Comments | " not in section.text
        assert "Table of Contents" not in section.text.split("\n\n")
    # Tables are kept apart from prose: MD&A's results table is in table_text only.
    assert " | " in items["7"].table_text and " | " not in items["7"].text


def test_risk_factor_headings_and_page_breaks():
    nvidia = {s.item: s for s in segment(document(NVIDIA, "0001045810-25-000023", "nvda-20250126.htm"), "10-K").sections}
    risk = nvidia["1A"]
    assert "Competition could adversely impact our market share and financial results." in risk.headings
    assert "Risks Related to Our Industry and Markets" in risk.headings
    # A paragraph cut by a page break is one paragraph again, and a fragment is no heading.
    assert "could cause our stock price to decline" in risk.text
    assert not any(h[0].islower() for h in risk.headings)


def test_10q_parts_and_items():
    cik, accession, name, _ = TEN_Q
    segmented = segment(document(cik, accession, name), "10-Q")
    items = [s.item for s in segmented.sections]
    assert items[:4] == ["I-1", "I-2", "I-3", "I-4"] and "II-1A" in items and "II-6" in items
    # Part II's short items ("None.") follow one another closely and are still kept: only a run
    # whose items come again later is a contents list.
    assert segmented.flag is None
    mda = next(s for s in segmented.sections if s.item == "I-2")
    assert mda.char_count > 10_000


def _html(*paragraphs: str) -> bytes:
    return ("<html><body>" + "".join(f"<p>{p}</p>" for p in paragraphs) + "</body></html>").encode()


PROSE = " ".join(["The company describes its operations in plain words here."] * 60)


def test_combined_items_cross_references_and_contents_paragraphs():
    layout = _html(
        "Item 1 and 2. Business and Properties", "Item 1A. Risk Factors", "Item 7. Management's Discussion",  # contents
        "Items 1 and 2. Business and Properties", PROSE,
        "Item 1A. Risk Factors", PROSE,
        "Item 7 of this report describes results; see it for detail.",  # a cross-reference set as its own paragraph
        PROSE,
        "Item 7. Management's Discussion and Analysis", PROSE,
    )  # fmt: skip
    segmented = segment(layout, "10-K")
    assert [(s.item, s.covers) for s in segmented.sections] == [("1", ["1", "2"]), ("1A", ["1A"]), ("7", ["7"])]
    risk = segmented.sections[1]
    assert risk.text.count(PROSE) == 2 and "Item 7 of this report" in risk.text  # not cut short
    assert segmented.flag is None


def test_flags_say_why_sections_are_not_usable():
    assert segment(_html(PROSE, "See the cross-reference index on page 120.", PROSE), "10-K").flag == (
        "no item headings found: the filer may use a cross-reference index"
    )
    short = segment(_html("Item 1. Business", PROSE, "Item 1A. Risk Factors", "Not required for smaller reporting companies.",
                          "Item 7. Management's Discussion", PROSE), "10-K")  # fmt: skip
    assert short.flag == "item 1A (Risk Factors) has 45 characters (omitted: the filing says it is not required)"
    missing = segment(_html("Item 1. Business", PROSE, "Item 1A. Risk Factors", PROSE), "10-K")
    assert missing.flag == "item 7 (Management's Discussion and Analysis) not found"
    assert segment(_html(PROSE), "20-F").flag == "sections of form 20-F are not segmented (10-K and 10-Q only)"


def test_hidden_parts_are_dropped():
    html = (
        b'<html><body><div style="display:none"><ix:header>c-1 iso4217:USD</ix:header></div>'
        b"<p>Visible <b>text</b> here.</p><table><tr><td>Revenue</td><td>$</td><td>1</td></tr></table></body></html>"
    )
    found = blocks(html)
    assert [(b.text, b.table) for b in found] == [("Visible text here.", False), ("Revenue | $ | 1", True)]


def _land(store: LocalStore, cik: str, accession: str, name: str, filed: str, form: str = "10-K", body: bytes | None = None):
    filing = Filing(cik, accession, form, filed, None, name, None)
    url = f"https://www.sec.gov/Archives/edgar/data/{int(cik)}/{accession.replace('-', '')}/{name}"
    response = FetchResult(url, 200, body if body is not None else document(cik, accession, name), None, None, "text/html")
    return land_document(store, date(2026, 12, 1), filing, response)


def test_staging_merges_each_filers_documents_and_compares_consecutive_10ks(tmp_path):
    store = LocalStore(str(tmp_path / "store"))
    nvidia = sorted(k for k in TEN_KS if k[0] == NVIDIA)
    # The latest two first, the oldest later (a backfill out of order): signals are recomputed.
    first = stage_texts(store, [_land(store, *k) for k in nvidia[1:]], "run-1")
    assert first.rows["filing_texts"] == 2 and not first.quarantined
    later = stage_texts(store, [_land(store, *nvidia[0])], "run-2")
    assert later.rows["filing_texts"] == 3 and later.rows["text_signals"] == 3

    signals = read_staged(store, staged_key("text_signals", NVIDIA)).to_pylist()
    assert [s["accession_number"] for s in signals] == [k[1] for k in nvidia]
    assert [s["previous_accession_number"] for s in signals] == [None, nvidia[0][1], nvidia[1][1]]
    assert signals[0]["risk_factors_cosine"] is None and signals[0]["risk_headings_added"] is None
    for row in signals[1:]:
        # Consecutive 10-Ks of one filer reuse most of their language (Lazy Prices' premise).
        assert 0.8 < row["risk_factors_cosine"] <= 1 and 0.4 < row["risk_factors_jaccard"] < 1
        assert 0.8 < row["mda_cosine"] <= 1 and 0 < row["mda_jaccard"] < 1
        assert row["risk_headings_added_count"] == len(row["risk_headings_added"]) > 0
        assert 10 < row["risk_factors_fog"] < 30
    sections = read_staged(store, staged_key("sections", NVIDIA))
    assert pc.count_distinct(sections["accession_number"]).as_py() == 3

    # Read again, the same documents give the same files.
    before = {d: store.get(staged_key(d, NVIDIA)) for d in ("sections", "filing_texts", "text_signals")}
    stage_texts(store, [_land(store, *k) for k in nvidia], "run-3")
    assert {d: store.get(staged_key(d, NVIDIA)) for d in before} == before


def test_an_unreadable_document_is_quarantined_and_the_rest_proceed(tmp_path):
    store = LocalStore(str(tmp_path / "store"))
    tesla = sorted(k for k in TEN_KS if k[0] == TESLA)
    good = _land(store, *tesla[0])
    bad = _land(store, *tesla[1], body=b"")
    staging = stage_texts(store, [good, bad], "run-1")
    (quarantined,) = staging.quarantined
    assert quarantined["reason"].startswith("unreadable document:") and store.exists(quarantined["key"])
    texts = read_staged(store, staged_key("filing_texts", TESLA))
    assert texts["accession_number"].to_pylist() == [tesla[0][1]]


def test_the_staged_gate_holds_every_10k_to_risk_factors_and_mda_or_a_flag(tmp_path, pg_store):
    """The text this run staged passes in parts; a 10-K whose Risk Factors went missing without
    a flag (a segmenter regression) fails the gate, named with its accession."""
    from pipelines import gates
    from pipelines.payloads import Staged
    from quality.report import GateFailed

    settings = Settings(pg_dsn=pg_store, storage_url=str(tmp_path / "store"))
    store = LocalStore(settings.storage_url)
    landed = [_land(store, *k) for k in sorted(TEN_KS)]
    staging = stage_texts(store, landed, "run-1")
    manifest = write_manifest(store, "manifests/edgar_nightly/run-1/normalize/batch-00000.json", {"staged": dict(staging.staged)})
    stagings = [Staged(batch=0, manifest=manifest, companies=4, rows=dict(staging.rows), quarantined=0)]

    gate = gates.gate_staged("run-1", stagings, settings)
    assert gate.suite("staged_filing_texts").rows == 7 and gate.suite("staged_sections").rows == staging.rows["sections"]

    sections = read_staged(store, staged_key("sections", APPLE))
    write_staged(store, "sections", APPLE, sections.filter(pc.not_equal(sections["item"], "1A")))
    with pytest.raises(GateFailed, match=r"expect_column_values_to_be_in_set\(text_usable\)") as failed:
        gates.gate_staged("run-2", stagings, settings)
    assert "0000320193-24-000123" in str(failed.value)
