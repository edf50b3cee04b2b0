"""Freshness and completeness over the whole real sample (13 companyfacts filers, 39 submissions)."""

from __future__ import annotations

import pytest
from conftest import LPA, SAMPLE, TESLA
from sample_tables import facts, submissions

from ingest.zones.store import LocalStore
from quality.checks.freshness import check_completeness, completeness_frame, freshness_frame
from quality.report import GateFailed


def _latest_filed():
    return facts().group_by("cik").aggregate([("filed", "max")]).rename_columns(["cik", "latest_filed"])


def test_freshness_frame_judges_only_companies_the_index_covers():
    frame = freshness_frame(_latest_filed(), submissions()[1]).set_index("cik")

    assert len(frame) == 13
    judged = frame["lag_days"].dropna()
    assert len(judged) == 6  # 7 companyfacts filers have no submissions in the sample
    assert judged[judged > 0].to_dict() == {TESLA: 1193}  # companyfacts captured in 2022, submissions in 2026
    assert judged["0001045810"] < 0  # NVIDIA's companyfacts was captured after its submissions


def test_every_expected_company_landed(tmp_path):
    expected = [p.name[3:13] for p in (SAMPLE / "edgar" / "companyfacts").glob("CIK*.json*")]
    landed = set(facts()["cik"].to_pylist())
    store = LocalStore(tmp_path)

    assert check_completeness(expected, landed, store=store, run_id="r1").row_count == 13
    with pytest.raises(GateFailed) as failed:
        check_completeness(expected, landed - {LPA}, store=store, run_id="r2")
    (check,) = failed.value.result.failing
    assert check.affected == (LPA,) and f"cik='{LPA}' landed=False" in check.examples


def test_completeness_frame_lists_each_expected_company_once():
    frame = completeness_frame(["0000000002", "0000000001", "0000000002"], ["0000000002", "0000000003"])
    assert frame.to_dict("records") == [
        {"cik": "0000000001", "landed": False},
        {"cik": "0000000002", "landed": True},
    ]
