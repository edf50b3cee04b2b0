"""The dbt project compiles for BigQuery without credentials or network, to SQL BigQuery parses.

dbt-bigquery builds its client on connect: Application Default Credentials of type
authorized_user (a dummy refresh token) satisfy it without any request, as long as nothing
queries the warehouse (no adapter cache, no introspective macros in models).
"""

from __future__ import annotations

import json

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from ingest.settings import Settings
from ingest.warehouse.runner import run_dbt

pytestmark = [pytest.mark.slow, pytest.mark.dbt]


@pytest.fixture(scope="module")
def bigquery_compile(tmp_path_factory, monkeypatch_module):
    root = tmp_path_factory.mktemp("bq_compile")
    adc = root / "adc.json"
    adc.write_text(
        json.dumps(
            {"type": "authorized_user", "client_id": "offline", "client_secret": "offline", "refresh_token": "offline"}
        )
    )
    monkeypatch_module.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc))
    settings = Settings(warehouse="bigquery", bq_project="edgarflow-offline", bq_dataset="edgarflow", bq_location="EU")
    args = ["compile", "--exclude", "resource_type:unit_test", "--no-populate-cache", "--no-introspect"]
    return run_dbt(settings, args, artifacts_dir=root / "dbt")


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_every_model_and_test_compiles_to_bigquery_sql(bigquery_compile):
    compiled = {n.name: n.compiled_code for n in bigquery_compile.nodes if n.resource_type in ("model", "test")}
    assert {"fct_financial_statements", "dim_company", "dim_date", "dim_metric", "int_financials__q4_derived"} <= set(
        compiled
    )
    assert len(compiled) > 50
    unparsable, unknown_functions = {}, {}
    for name, sql in compiled.items():
        try:
            trees = sqlglot.parse(sql, read="bigquery", error_level=sqlglot.ErrorLevel.RAISE)
        except ParseError as exc:
            unparsable[name] = str(exc)[:300]
            continue
        # Calls sqlglot does not know as BigQuery functions (DuckDB's list_value, struct_pack, ...).
        anonymous = {f.name for tree in trees for f in tree.find_all(exp.Anonymous)}
        if anonymous:
            unknown_functions[name] = anonymous
    assert unparsable == {}
    assert unknown_functions == {}


def test_bigquery_relations_use_the_configured_datasets(bigquery_compile):
    code = {n.name: n.compiled_code for n in bigquery_compile.nodes}
    assert "`edgarflow-offline`.`edgarflow_raw`.`edgar_facts`" in code["stg_edgar__facts"]
    assert (
        "`edgarflow-offline`.`edgarflow_intermediate`.`int_facts__metric_values`"
        in code["fct_financial_statements"]
    )
    assert "`edgarflow-offline`.`edgarflow_snapshots`.`snp_edgar__companies`" in code["dim_company"]
    # Cross-database macros rendered in BigQuery's dialect, values as NUMERIC.
    assert "datetime_diff(" in code["int_facts__fiscal_periods_assigned"]
    assert "as numeric" in code["int_facts__mapped_to_metrics"]
    # Exact percentiles: BigQuery's analytic PERCENTILE_CONT where DuckDB has quantile_cont.
    assert "percentile_cont(" in code["agg_sector_benchmarks"]
    assert "quantile_cont" not in code["agg_sector_benchmarks"]
    assert "safe_cast(" in code["agg_sector_benchmarks"]
    assert "::" not in "".join(c or "" for c in code.values())
