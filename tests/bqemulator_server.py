"""Start bqemulator (in its own virtualenv) with the fixes edgarflow's SQL needs, each a bug of the
emulator, not of BigQuery; the README's BigQuery section lists them.

1. dbt-bigquery writes a model with an enforced contract as
   ``CREATE OR REPLACE TABLE t (col type, ...) ... AS ( SELECT ... )``. bqemulator rewrites that
   form for DuckDB (``rewriter/create_table_schema_ctas.py``) only when the body is a bare SELECT,
   and a body in parentheses (dbt's) reaches DuckDB unchanged: "Parser Error: syntax error at or
   near "AS"". The fix unwraps the parentheses before the rewrite looks for the first SELECT.

2. BigQuery's NUMERIC is a decimal of precision 38 and scale 9. sqlglot, which bqemulator
   translates BigQuery SQL with, writes a bare NUMERIC as DuckDB's bare DECIMAL, which is
   DECIMAL(18, 3): every ``CAST(x AS NUMERIC)`` (and every contracted NUMERIC column) was rounded
   to three decimals, so ratios such as 0.516894057 came back as 0.517. The fix writes a bare
   DECIMAL as DECIMAL(38, 9).

Run with the emulator's interpreter: ``.local/bqemulator/bin/python tests/bqemulator_server.py start ...``.
"""

from __future__ import annotations

import sys

from bqemulator.cli import main
from bqemulator.sql.rewriter import create_table_schema_ctas
from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB

_first_select = create_table_schema_ctas._first_select


def _first_select_in_parentheses(body: exp.Expression | None) -> exp.Select | None:
    while isinstance(body, exp.Subquery):
        body = body.this
    return _first_select(body)


create_table_schema_ctas._first_select = _first_select_in_parentheses

_datatype_sql = DuckDB.Generator.datatype_sql


def _numeric_is_38_9(self, expression: exp.DataType) -> str:
    if expression.is_type(exp.DataType.Type.DECIMAL) and not expression.expressions:
        expression = exp.DataType.build("DECIMAL(38, 9)", dialect="duckdb")
    return _datatype_sql(self, expression)


DuckDB.Generator.datatype_sql = _numeric_is_38_9

if __name__ == "__main__":
    sys.exit(main())
