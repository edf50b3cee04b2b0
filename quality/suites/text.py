"""Suites of the staged filing text (staged/sections, staged/filing_texts). Strict: sections are
derived by edgarflow's own code from documents kept in the raw zone, so a bad row is a bug to
fix, not a source's row to quarantine; a document that cannot be segmented is flagged instead."""

from __future__ import annotations

import great_expectations.expectations as gxe
import pandas as pd

from ingest.text.sections import ANNUAL_FORMS, MAX_SECTION_CHARS, MIN_SECTION_CHARS
from quality.suites.common import STRICT, Suite, accession_checks, cik_checks, required

ITEM = r"^(?:(?:I|II|III|IV)-)?\d{1,2}[A-D]?$"


def staged_sections() -> Suite:
    """staged/sections, without the text itself (its sizes are checked)."""
    return Suite(
        "staged_sections",
        (
            *cik_checks(mostly=STRICT),
            *accession_checks(mostly=STRICT),
            *required("form", "filing_date", "item", "title", mostly=STRICT),
            gxe.ExpectColumnValuesToMatchRegex(column="item", regex=ITEM),
            gxe.ExpectColumnValuesToBeBetween(column="char_count", min_value=0, max_value=MAX_SECTION_CHARS),
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="char_count", column_B="word_count", or_equal=True),
            gxe.ExpectCompoundColumnsToBeUnique(column_list=["cik", "accession_number", "item"]),
        ),
        keys=("cik", "accession_number", "item"),
    )


def staged_filing_texts() -> Suite:
    """staged/filing_texts with ``risk_factors_chars`` and ``mda_chars`` (from staged/sections)
    beside each filing: every 10-K has items 1A and 7 of plausible size, or is flagged with a reason."""

    def usable(df: pd.DataFrame) -> pd.DataFrame:
        plausible = df["risk_factors_chars"].between(MIN_SECTION_CHARS, MAX_SECTION_CHARS) & df["mda_chars"].between(
            MIN_SECTION_CHARS, MAX_SECTION_CHARS
        )
        annual = df["form"].isin(sorted(ANNUAL_FORMS))
        return df.assign(text_usable=(~annual | df["flag"].notna() | plausible).astype(bool))

    return Suite(
        "staged_filing_texts",
        (
            *cik_checks(mostly=STRICT),
            *accession_checks(mostly=STRICT),
            *required("form", "filing_date", "raw_key", mostly=STRICT),
            gxe.ExpectCompoundColumnsToBeUnique(column_list=["cik", "accession_number"]),
            gxe.ExpectColumnValuesToBeInSet(
                column="text_usable",
                value_set=[True],
                description=f"every 10-K has items 1A and 7 of {MIN_SECTION_CHARS:,} to {MAX_SECTION_CHARS:,} "
                "characters, or a flag saying why not",
            ),
        ),
        keys=("cik", "accession_number", "form", "flag"),
        derive=usable,
    )
