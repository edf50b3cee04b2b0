"""SEC's vocabulary has one definition (ingest/sec/vocab.py): normalization, the gates, the
documents landed and dbt all read it."""

from __future__ import annotations

import csv

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from conftest import LPA
from sample_tables import facts

from ingest.sec import vocab
from ingest.sec.documents import periodic_filings
from ingest.zones.store import LocalStore
from quality import suites
from quality.gate import run_gate


def test_dbt_seed_is_written_from_the_python_definitions():
    """`python -m ingest.sec.vocab` writes the seed; a stale committed copy fails here."""
    assert vocab.SEED.read_text() == vocab.forms_seed()
    rows = {r["form"]: r for r in csv.DictReader(vocab.SEED.open())}
    assert {f for f, r in rows.items() if r["is_annual_report"] == "true"} == vocab.ANNUAL_REPORT_FORMS
    assert {f for f, r in rows.items() if r["is_periodic_report"] == "true"} == vocab.PERIODIC_REPORT_FORMS


def test_transition_reports_are_periodic_and_annual():
    assert {"10-KT", "10-KT/A"} <= vocab.ANNUAL_REPORT_FORMS <= vocab.PERIODIC_REPORT_FORMS
    recent = {"accessionNumber": ["0000000001-24-000001", "0000000001-24-000002"], "form": ["10-KT", "8-K"],
              "filingDate": ["2024-03-01", "2024-03-02"], "reportDate": ["", ""],
              "primaryDocument": ["a.htm", "b.htm"], "primaryDocDescription": ["", ""]}  # fmt: skip
    (filing,) = periodic_filings("0000000001", {"filings": {"recent": recent}}, None, None)
    assert filing.form == "10-KT"


@pytest.mark.parametrize("taxonomy", ["cyd", "spac"])
def test_staged_gate_accepts_every_taxonomy_normalization_accepts(tmp_path, taxonomy):
    """A filer whose facts are all in a standard taxonomy the gate once did not list."""
    lpa = facts().filter(pc.equal(facts()["cik"], LPA))
    tagged = lpa.set_column(lpa.schema.get_field_index("taxonomy"), "taxonomy", pa.array([taxonomy] * lpa.num_rows))
    result = run_gate("staged", suites.staged_facts(), tagged, store=LocalStore(tmp_path), run_id="vocab")
    assert result.success and taxonomy in vocab.TAXONOMIES
