"""Suites of the raw zone: the per-document profiles (ingest/zones/profiles.py) normalization writes."""

from __future__ import annotations

import math

import great_expectations.expectations as gxe

from quality.suites.common import (
    STRICT,
    Suite,
    cik_checks,
)

# What each dataset's document must hold: facts, or a filings index.
RAW_CONTENT = {
    "companyfacts": ("facts", "the document holds facts (an empty one parses, so a format change would pass)"),
    "submissions": ("filings", "the document lists filings (an empty index parses, so a format change would pass)"),
}


def raw_mostly(documents: int, max_bad_fraction: float, min_bad: int) -> float:
    """``mostly`` for a run of ``documents``: the circuit breaker. Bad documents are quarantined
    with their bytes and the rest proceed; the run stops only on a systemic failure (the source
    or our parser moved): at least ``min_bad`` bad documents that are also more than
    ``max_bad_fraction`` of the run. A small manual run can therefore never trip it by chance.

    Computed as GX computes its success ratio, so exactly the allowed number of failures passes."""
    allowed = max(min_bad - 1, math.floor(documents * max_bad_fraction))
    return 0.0 if documents <= allowed else (documents - allowed) / documents


def raw_documents(dataset: str, documents: int, max_bad_fraction: float, min_bad: int) -> Suite:
    """raw/sec/{dataset}: this run's landed documents, one profile row each. ``documents``: how
    many there are (the row-level threshold depends on it, see raw_mostly); zero documents pass."""
    column, description = RAW_CONTENT[dataset]
    mostly = raw_mostly(documents, max_bad_fraction, min_bad)
    return Suite(
        f"raw_{dataset}",
        (
            *cik_checks(mostly=STRICT),
            gxe.ExpectColumnValuesToNotBeNull(column="object_key"),
            gxe.ExpectColumnValuesToMatchRegex(
                column="object_key", regex=rf"^raw/sec/{dataset}/ingest_date=\d{{4}}-\d{{2}}-\d{{2}}/CIK\d{{10}}"
            ),
            gxe.ExpectCompoundColumnsToBeUnique(
                column_list=["cik", "dataset"], description="one document group per filer and run"
            ),
            gxe.ExpectColumnValuesToBeInSet(
                column="parsed",
                value_set=[True],
                mostly=mostly,
                description="the document normalizes (a bad one is quarantined with its bytes)",
            ),
            gxe.ExpectColumnPairValuesToBeEqual(
                column_A="document_cik",
                column_B="cik",
                ignore_row_if="either_value_is_missing",
                mostly=mostly,
                description="the document is about the filer requested",
            ),
            gxe.ExpectColumnValueLengthsToBeBetween(
                column="entity_name", min_value=1, mostly=mostly, description="the document names its filer"
            ),
            gxe.ExpectColumnValuesToBeBetween(column=column, min_value=1, mostly=mostly, description=description),
        ),
        keys=("cik", "object_key", "reason"),
    )
