"""The scale bench's universe (bench/scale/universe.py): replicas of the real sample that the
pipeline's own readers take for companies of their own, served by the replay server per company
and as ready-made bulk zips; held-back filings appear when released."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import zipfile

import orjson
import pyarrow.compute as pc
import requests

from bench.scale.universe import build_universe, release_held_back, replica_cik
from ingest.replay import ReplayServer
from ingest.sec.daily_index import filers_in_index
from ingest.sec.normalize import normalize_companyfacts, normalize_submissions
from ingest.sec.universe import sample_ciks, ticker_map
from ingest.yahoo.universe import csv_files, recorded_symbols


def test_replicas_are_companies_of_their_own(tmp_path):
    universe = build_universe(tmp_path / "u", 30, held_back_every=10)

    ciks = sample_ciks(universe.root)
    assert ciks == sorted(replica_cik(i) for i in range(30)) and universe.filers == 30
    tickers = ticker_map(gzip.decompress((universe.root / "edgar/tickers/company_tickers_exchange.json.gz").read_bytes()))
    assert len(set(tickers.values())) == 30 and all("-R" in t for t in tickers)
    assert recorded_symbols(universe.root) and set(csv_files(universe.root)) <= set(tickers)
    # Replica 2 is Apple (the third sample filer with facts and submissions), under its own CIK, name and ticker.
    facts = normalize_companyfacts(gzip.decompress((universe.root / f"edgar/companyfacts/CIK{replica_cik(2)}.json.gz").read_bytes()))
    assert pc.unique(facts["cik"]).to_pylist() == [replica_cik(2)]
    assert facts["entity_name"][0].as_py() == "Apple Inc. (replica 2)"
    assert tickers["AAPL-R2"] == replica_cik(2)
    companies, filings = normalize_submissions(
        gzip.decompress((universe.root / f"edgar/submissions/CIK{replica_cik(2)}.json.gz").read_bytes())
    )
    assert companies["cik"].to_pylist() == [replica_cik(2)] and filings.num_rows > 0


def test_bulk_zips_are_served_ready_made_and_held_back_filings_appear_when_released(tmp_path):
    universe = build_universe(tmp_path / "u", 14, held_back_every=12)
    held = replica_cik(12)  # replica 12 is replica 0's company again, held back
    path = universe.root / f"edgar/companyfacts/CIK{held}.json.gz"
    before = orjson.loads(gzip.decompress(path.read_bytes()))
    with ReplayServer(universe.root) as server:
        answer = requests.get(f"{server.base_url}/Archives/edgar/daily-index/xbrl/companyfacts.zip", timeout=30)
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        assert len(archive.namelist()) == 14 and f"CIK{held}.json" in archive.namelist()

    assert release_held_back(universe, 12, dt.date(2026, 12, 1)) == 2  # replicas 0 and 12
    index = gzip.decompress((universe.root / "edgar/daily-index/master.20261201.idx.gz").read_bytes())
    assert filers_in_index(index) == {replica_cik(0), held}
    after = orjson.loads(gzip.decompress(path.read_bytes()))
    newest = max(v["filed"] for t in after["facts"].values() for c in t.values() for vs in c["units"].values() for v in vs)
    latest_before = max(v["filed"] for t in before["facts"].values() for c in t.values() for vs in c["units"].values() for v in vs)
    assert latest_before < newest
