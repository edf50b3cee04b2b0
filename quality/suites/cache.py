"""The cache gate's suite: every sampled key is cached exactly as PostgreSQL serves it."""

from __future__ import annotations

import great_expectations.expectations as gxe

from quality.suites.common import Suite


def cache_entries() -> Suite:
    """Validates ``quality.checks.cache.cache_sample``: strict, one stale, missing or extra entry fails."""
    return Suite(
        "cache_entries",
        (
            gxe.ExpectColumnValuesToBeUnique(column="key"),
            gxe.ExpectColumnValuesToBeInSet(
                column="matches",
                value_set=[True],
                description="the cached document equals the one PostgreSQL's serving views give (or both are absent)",
            ),
        ),
        keys=("key", "in_cache", "in_postgres"),
    )
