"""Warehouse raw loads: each source loads only its own tables, an emptied dataset empties its
table, and a task waits for the DuckDB file while another process holds it."""

from __future__ import annotations

import subprocess
import sys
import time

import duckdb
import pyarrow.compute as pc
import pytest
from conftest import APPLE, NVIDIA, TESLA
from sample_tables import stage_sample

from ingest.settings import Settings
from ingest.warehouse import duckdb_file
from ingest.warehouse.load import load_raw_tables
from ingest.warehouse.reader import WarehouseReader
from ingest.warehouse.tables import SOURCE_DATASETS
from ingest.zones.staged import read_staged, staged_key, write_staged
from ingest.zones.store import LocalStore


def _rows(settings: Settings) -> dict[str, int]:
    return WarehouseReader(settings).table_rows()


@pytest.fixture
def staged(tmp_path):
    store = LocalStore(tmp_path / "store")
    stage_sample(store, [APPLE])
    settings = Settings(storage_url=str(tmp_path / "store"), duckdb_path=tmp_path / "w.duckdb", warehouse="duckdb")
    return settings, store


def test_a_source_loads_its_own_tables_and_leaves_the_others(staged):
    settings, store = staged
    loads = load_raw_tables(settings, store, SOURCE_DATASETS["market"])
    assert [x.table for x in loads] == ["raw.yahoo_prices"]
    # dbt's sources exist from the first load on, empty until their source loads.
    assert _rows(settings) == {
        "raw.edgar_companies": 0, "raw.edgar_facts": 0, "raw.edgar_filer_loads": 0, "raw.edgar_filing_sections": 0,
        "raw.edgar_filing_texts": 0, "raw.edgar_filings": 0, "raw.edgar_text_signals": 0, "raw.yahoo_prices": 0,
    }  # fmt: skip

    load_raw_tables(settings, store, SOURCE_DATASETS["edgar"])
    apple = _rows(settings)
    assert apple["raw.edgar_facts"] > 0
    # Staged but not yet gated by edgar_nightly: a market load must not publish it.
    stage_sample(store, [NVIDIA])
    load_raw_tables(settings, store, SOURCE_DATASETS["market"])
    assert _rows(settings) == apple
    load_raw_tables(settings, store, SOURCE_DATASETS["edgar"])
    assert _rows(settings)["raw.edgar_facts"] > apple["raw.edgar_facts"]


def _by_cik(settings: Settings, table: str) -> dict[str, int]:
    rows = WarehouseReader(settings).query(f"select cik, count(*) as n from raw.{table} group by cik").to_pylist()
    return {r["cik"]: r["n"] for r in rows}


def test_a_load_by_filer_replaces_only_their_rows_and_records_them(staged):
    settings, store = staged
    stage_sample(store, [NVIDIA])
    load_raw_tables(settings, store, SOURCE_DATASETS["edgar"])
    whole = _by_cik(settings, "edgar_facts")
    assert set(whole) == {APPLE, NVIDIA}
    assert _by_cik(settings, "edgar_filer_loads") == {APPLE: 1, NVIDIA: 1}

    # Apple's staged facts lose their newest filing; NVIDIA's file stays as loaded.
    facts = read_staged(store, staged_key("facts", APPLE))
    newest = pc.max(facts["filed"])
    write_staged(store, "facts", APPLE, facts.filter(pc.less(facts["filed"], newest)))
    (loaded, *_) = load_raw_tables(settings, store, SOURCE_DATASETS["edgar"], ciks=[APPLE, TESLA])
    assert (loaded.table, loaded.files) == ("raw.edgar_facts", 1)
    after = _by_cik(settings, "edgar_facts")
    assert after[NVIDIA] == whole[NVIDIA]
    assert after[APPLE] == loaded.rows < whole[APPLE]
    # Every company of the load is recorded, one with no staged file too (its rows, none, replaced).
    assert _by_cik(settings, "edgar_filer_loads") == {APPLE: 2, NVIDIA: 1, TESLA: 1}

    with pytest.raises(ValueError, match="not loaded by filer"):
        load_raw_tables(settings, store, SOURCE_DATASETS["market"], ciks=[APPLE])


def test_an_emptied_dataset_empties_its_table(staged):
    settings, store = staged
    load_raw_tables(settings, store, SOURCE_DATASETS["edgar"])
    store.delete_prefix("staged/facts/")
    load_raw_tables(settings, store, SOURCE_DATASETS["edgar"])
    assert _rows(settings)["raw.edgar_facts"] == 0


def test_unknown_datasets_are_refused(staged):
    with pytest.raises(ValueError, match="no raw table"):
        load_raw_tables(*staged, ["fact"])


def _hold(path, seconds: float = 3) -> subprocess.Popen:
    """Another process with the file open for writing, for ``seconds``."""
    code = f"import duckdb, time; c = duckdb.connect({str(path)!r}); print('held', flush=True); time.sleep({seconds})"
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_reader_waits_for_the_file_while_another_process_writes(tmp_path):
    path = tmp_path / "w.duckdb"
    duckdb.connect(str(path)).close()
    holder = _hold(path)
    started = time.monotonic()
    with duckdb_file.connect(path, read_only=True, wait_seconds=60, memory_limit="1GB", storage_version="v1.4.0") as con:
        assert con.execute("select 1").fetchone() == (1,)
    assert time.monotonic() - started > 1  # it waited for the writer to let go
    holder.wait()
    # Without time to wait, the lock conflict is raised as DuckDB words it.
    holder = _hold(path)
    with pytest.raises(duckdb.IOException, match="Could not set lock"):
        duckdb_file.connect(path, read_only=True, wait_seconds=0, memory_limit="1GB", storage_version="v1.4.0")
    holder.wait()


def test_the_file_is_written_in_the_format_older_duckdb_releases_read(staged):
    settings, store = staged
    load_raw_tables(settings, store, SOURCE_DATASETS["edgar"])
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        assert duckdb_file.file_storage_version(con) == "v1.4.0"


def test_a_file_in_a_newer_format_is_rewritten_once_with_everything_in_it(tmp_path):
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:  # DuckDB's own, newest format
        con.execute("CREATE SCHEMA marts")
        con.execute("CREATE TABLE marts.t AS SELECT range AS x, 1.5::DECIMAL(38, 9) AS d FROM range(1000)")
        con.execute("CREATE VIEW marts.v AS SELECT sum(x) AS s FROM marts.t")
        assert duckdb_file.file_storage_version(con) != "v1.4.0"
    with duckdb_file.connect(path, read_only=False, wait_seconds=0, memory_limit="1GB", storage_version="v1.4.0") as con:
        assert duckdb_file.file_storage_version(con) == "v1.4.0"
        assert con.execute("SELECT s FROM marts.v").fetchone() == (499500,)
        assert con.execute("SELECT sum(d) FROM marts.t").fetchone()[0] == 1500
    assert [p.name for p in tmp_path.iterdir()] == ["w.duckdb"]  # no copy left behind
    # A reader never rewrites: it opens what is there.
    with duckdb_file.connect(path, read_only=True, wait_seconds=0, memory_limit="1GB", storage_version="v1.3.0") as con:
        assert duckdb_file.file_storage_version(con) == "v1.4.0"


def test_no_table_exists_before_the_first_load(tmp_path):
    reader = WarehouseReader(Settings(duckdb_path=tmp_path / "none.duckdb", warehouse="duckdb"))
    assert not reader.exists("raw", "edgar_facts")
    assert not (tmp_path / "none.duckdb").exists()  # asking creates no file
