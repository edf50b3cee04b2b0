"""Suites of the raw zone: the per-document profiles (ingest/zones/profiles.py) normalization writes."""

from __future__ import annotations

import math

import great_expectations.expectations as gxe

from quality.suites.common import (
    STRICT,
    Suite,
    cik_checks,
)

# Share of a run's documents that must pass a row-level raw check. Bad documents are already
# quarantined with their bytes; many of them at once means the source or our parser moved.
RAW_TOLERANCE = 0.95
# Documents any run may lose, so one malformed filer does not stop a small incremental run.
RAW_ALLOWANCE = 1
# What each dataset's document must hold: facts, or a filings index.
RAW_CONTENT = {
    "companyfacts": ("facts", "the document holds facts (an empty one parses, so a format change would pass)"),
    "submissions": ("filings", "the document lists filings (an empty index parses, so a format change would pass)"),
}


def raw_mostly(documents: int) -> float:
    """``mostly`` for a run of ``documents``: RAW_TOLERANCE of them, but RAW_ALLOWANCE may always fail.

    Computed as GX computes its success ratio, so exactly the allowed number of failures passes."""
    allowed = max(RAW_ALLOWANCE, math.floor(documents * (1 - RAW_TOLERANCE)))
    return 0.0 if documents <= allowed else (documents - allowed) / documents


def raw_documents(dataset: str, documents: int) -> Suite:
    """raw/sec/{dataset}: this run's landed documents, one profile row each. ``documents``: how
    many there are (the row-level threshold depends on it); zero documents pass."""
    column, description = RAW_CONTENT[dataset]
    mostly = raw_mostly(documents)
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
