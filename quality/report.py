"""What a gate found, as plain data: failing checks, the gate's result and its exception.

No GX or pandas here, so anything that only reports on gates (alerts, DAG failure callbacks, run
summaries) stays light to import.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

# Beside each gate's result (quality/gate.py writes both): the result JSON and its GX data docs.
RESULT_FILE = "result.json"
DOCS_DIR = "docs"


def data_docs_key(result_key: str) -> str:
    """The data docs' index page of the result stored at ``result_key``."""
    return posixpath.join(posixpath.dirname(result_key), DOCS_DIR, "index.html")


@dataclass(frozen=True)
class FailedCheck:
    expectation: str  # type and columns, e.g. expect_column_values_to_match_regex(cik)
    expected: str  # the expectation's parameters, e.g. regex='^\d{10}$', mostly=0.99
    unexpected_count: int | None
    unexpected_percent: float | None
    observed: Any
    examples: tuple[str, ...]
    # Distinct values of the suite's first key (the company) among the rejected rows.
    affected: tuple[str, ...] = ()
    affected_count: int = 0
    description: str | None = None

    def describe(self) -> str:
        text = f"{self.expectation} [{self.expected}]" if self.expected else self.expectation
        if self.description:
            text += f" ({self.description})"
        if self.unexpected_count is not None:
            text += f": {self.unexpected_count} unexpected ({self.unexpected_percent or 0:.2f}%)"
        elif self.observed is not None:
            text += f": observed {self.observed}"
        if self.affected:
            more = self.affected_count - len(self.affected)
            named = ", ".join(self.affected) + (f" (+{more} more)" if more else "")
            text += f"; {self.affected_count} affected: {named}"
        if self.examples:
            text += "; e.g. " + " | ".join(self.examples)
        return text

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class GateResult:
    run_id: str
    stage: str
    suite: str
    success: bool
    evaluated: int
    failed: int
    row_count: int
    failing: tuple[FailedCheck, ...]
    result_uri: str
    docs_uri: str
    # Row-level check -> positions of the rows it rejected, for quarantine.split_rows.
    row_failures: Mapping[str, Sequence[int]] = field(default_factory=dict, repr=False)

    def describe(self) -> str:
        head = (
            f"{self.stage} gate {'passed' if self.success else 'FAILED'}: suite {self.suite}, run {self.run_id}, "
            f"{self.row_count} rows, {self.failed} of {self.evaluated} expectations failed"
        )
        lines = [head, *(f"  - {check.describe()}" for check in self.failing)]
        lines.append(f"  result: {self.result_uri}  docs: {self.docs_uri}")
        return "\n".join(lines)


class GateFailed(Exception):
    """The batch failed its suite; ``result`` says where and how (also written to the store)."""

    def __init__(self, result: GateResult):
        super().__init__(result.describe())
        self.result = result

    def __reduce__(self):  # picklable across processes (executors), rebuilt from the result
        return GateFailed, (self.result,)
