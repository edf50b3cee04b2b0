"""Start bqemulator (in its own virtualenv) with the fixes edgarflow's SQL needs, each a bug of the
emulator, not of BigQuery; the README's BigQuery section lists them.

1. dbt-bigquery writes a model with an enforced contract as
   ``CREATE OR REPLACE TABLE t (col type, ...) ... AS ( SELECT ... )``. bqemulator rewrites that
   form for DuckDB (``rewriter/create_table_schema_ctas.py``) only when the body is a bare SELECT,
   and a body in parentheses (dbt's) reaches DuckDB unchanged: "Parser Error: syntax error at or
   near "AS"". The fix unwraps the parentheses before the rewrite looks for the first SELECT.

Run with the emulator's interpreter: ``.local/bqemulator/bin/python tests/bqemulator_server.py start ...``.
"""

from __future__ import annotations

import sys

from bqemulator.cli import main
from bqemulator.sql.rewriter import create_table_schema_ctas
from sqlglot import exp

_first_select = create_table_schema_ctas._first_select


def _first_select_in_parentheses(body: exp.Expression | None) -> exp.Select | None:
    while isinstance(body, exp.Subquery):
        body = body.this
    return _first_select(body)


create_table_schema_ctas._first_select = _first_select_in_parentheses

if __name__ == "__main__":
    sys.exit(main())
