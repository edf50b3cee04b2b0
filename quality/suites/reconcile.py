"""The suite of cross-system reconciliation (quality/checks/reconcile.py builds its frame)."""

from __future__ import annotations

import great_expectations.expectations as gxe
from great_expectations.expectations.expectation import Expectation

from quality.suites.common import (
    SUM_REL_TOLERANCE,
    Suite,
)


def reconciliation(dataset: str) -> Suite:
    """Per-company rows and value sums agree between staged Parquet, PostgreSQL and the warehouse.

    Validates the frame built by ``quality.checks.reconcile.compare``.
    """
    expectations: list[Expectation] = [gxe.ExpectColumnValuesToBeUnique(column="cik")]
    for system in ("postgres", "warehouse"):
        expectations += [
            gxe.ExpectColumnPairValuesToBeEqual(column_A="staged_rows", column_B=f"{system}_rows"),
            gxe.ExpectColumnValuesToBeBetween(
                column=f"{system}_sum_rel_diff", min_value=0, max_value=SUM_REL_TOLERANCE
            ),
        ]
    return Suite(f"reconcile_{dataset}", tuple(expectations), keys=("cik",))
