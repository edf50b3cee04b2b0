"""Marts incremental by filer, on a real DuckDB warehouse of the sample: a nightly build rebuilds
only the filers loaded since the last complete build, and gives the same marts as
`dbt build --full-refresh` over the same raw tables."""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest
from conftest import APPLE, NVIDIA

from ingest.warehouse.changes import build_window, record_build
from ingest.warehouse.load import load_raw_tables
from ingest.warehouse.runner import run_dbt
from ingest.warehouse.tables import SOURCE_DATASETS
from ingest.zones.staged import read_staged, staged_key, write_staged
from ingest.zones.store import LocalStore

pytestmark = [pytest.mark.slow, pytest.mark.dbt]

NO_UNIT_TESTS = ["--exclude", "resource_type:unit_test"]  # the session build ran them


def _incremental_models(run) -> list[str]:
    manifest = json.loads((run.artifacts_dir / "target" / "manifest.json").read_text())
    return sorted(
        f"{n['schema']}.{n['alias']}"
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["config"]["materialized"] == "incremental"
    )


def _differences(left, right, table: str) -> int:
    """Rows of ``table`` in one file and not the other, either way (as multisets)."""
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{left}' AS l (READ_ONLY)")
        con.execute(f"ATTACH '{right}' AS r (READ_ONLY)")
        sql = "select count(*) from (select * from {} except all select * from {})"
        return sum(
            con.execute(sql.format(f"{a}.{table}", f"{b}.{table}")).fetchone()[0] for a, b in (("l", "r"), ("r", "l"))
        )


@pytest.fixture(scope="module")
def nightly(warehouse, tmp_path_factory):
    """The session warehouse with Apple's newest filing held back and built, then the filing
    staged and loaded by filer as a nightly does, and the nightly's build: (settings, run, window,
    the incremental models)."""
    settings, _ = warehouse
    root = tmp_path_factory.mktemp("incremental")
    shutil.copytree(settings.storage_url + "/staged", root / "store" / "staged")
    store = LocalStore(root / "store")
    copy = settings.model_copy(update={"duckdb_path": root / "warehouse.duckdb", "storage_url": str(root / "store")})
    shutil.copy(settings.duckdb_path, copy.duckdb_path)

    facts = read_staged(store, staged_key("facts", APPLE))
    newest = max(facts["filed"].to_pylist())
    write_staged(store, "facts", APPLE, facts.filter([d < newest for d in facts["filed"].to_pylist()]))
    load_raw_tables(copy, store, SOURCE_DATASETS["edgar"], ciks=[APPLE])
    held_back = build_window(copy)
    run_dbt(copy, ["build", "--vars", json.dumps(held_back.dbt_vars()), *NO_UNIT_TESTS], artifacts_dir=root / "dbt")
    record_build(copy, held_back, "held back")

    # A sentinel: NVIDIA's rows are not to be rebuilt, so a changed value of theirs stays changed.
    with duckdb.connect(str(copy.duckdb_path)) as con:
        con.execute(
            "update marts.fct_financial_statements set value = -1 where cik = ? and metric = 'revenue'", [NVIDIA]
        )

    write_staged(store, "facts", APPLE, facts)
    load_raw_tables(copy, store, SOURCE_DATASETS["edgar"], ciks=[APPLE])
    window = build_window(copy)
    run = run_dbt(copy, ["build", "--vars", json.dumps(window.dbt_vars()), *NO_UNIT_TESTS], artifacts_dir=root / "dbt")
    return copy, run, window, _incremental_models(run)


def test_the_window_holds_the_filers_loaded_since_the_last_build(nightly):
    settings, _, window, models = nightly
    assert window.filers(settings) == 1
    assert window.after is not None and window.through > window.after
    assert {
        "marts.fct_financial_statements",
        "marts.fct_financial_signals",
        "intermediate.int_facts__metric_values",
    } <= set(models)


def test_other_filers_rows_are_left_as_they_were(nightly):
    settings, *_ = nightly
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        sql = "select count(*) from marts.fct_financial_statements where cik = ? and metric = 'revenue' and value = -1"
        assert con.execute(sql, [NVIDIA]).fetchone()[0] > 0


def test_a_full_refresh_gives_the_same_marts(nightly, tmp_path):
    settings, _, _, models = nightly
    refreshed = settings.model_copy(update={"duckdb_path": tmp_path / "refreshed.duckdb"})
    shutil.copy(settings.duckdb_path, refreshed.duckdb_path)
    run_dbt(refreshed, ["build", "--full-refresh", *NO_UNIT_TESTS], artifacts_dir=tmp_path / "dbt")

    differences = {m: _differences(settings.duckdb_path, refreshed.duckdb_path, m) for m in models}
    # Only the sentinel's rows differ: the full refresh rebuilt NVIDIA's revenue, the nightly did not.
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        sentinel = con.execute(
            "select count(*) from marts.fct_financial_statements where cik = ? and metric = 'revenue'", [NVIDIA]
        ).fetchone()[0]
    assert differences.pop("marts.fct_financial_statements") == 2 * sentinel
    assert differences == dict.fromkeys(differences, 0)
