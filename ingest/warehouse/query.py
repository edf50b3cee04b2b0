"""Run one SQL query against the configured warehouse (DuckDB or BigQuery) and print the result.

    .venv/bin/python -m ingest.warehouse.query "select * from marts.dim_metric limit 5"
"""

from __future__ import annotations

import sys

from ingest.settings import Settings
from ingest.warehouse.reader import WarehouseReader


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        sys.exit(__doc__)
    frame = WarehouseReader(Settings()).frame(argv[0])
    print(frame.to_string(index=False, max_rows=100, float_format=_number))


def _number(value: float) -> str:
    """Amounts in full with thousands separators, ratios and per-share values to six figures."""
    return f"{value:,.0f}" if abs(value) >= 1e6 else f"{value:.6g}"


if __name__ == "__main__":
    main(sys.argv[1:])
