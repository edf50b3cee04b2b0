"""The staged prices of a company: its tickers' whole history, merged run after run.

staged/prices/CIK##########.parquet is the current state, as for every staged dataset: the
warehouse raw table is rebuilt from it. A run fetches only a window, so it merges: fetched rows
replace the ticker's rows over the span the fetch covered, everything else stays. Rows from a
Yahoo CSV only fill dates that hold no row yet (the chart API is the source of record).
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pyarrow as pa

from ingest.zones import schemas
from ingest.zones.staged import read_staged, staged_key, write_staged
from ingest.zones.store import ObjectStore

DATASET = "prices"
# Look-back rows whose close or adj_close moved by more than this were re-adjusted by Yahoo.
REVISION_RTOL = 1e-6


def read_company(store: ObjectStore, cik: str) -> pd.DataFrame:
    key = staged_key(DATASET, cik)
    table = read_staged(store, key) if store.exists(key) else schemas.PRICES.empty_table()
    return table.to_pandas()


def write_company(store: ObjectStore, cik: str, frame: pd.DataFrame) -> str:
    frame = frame.sort_values(["ticker", "trade_date"], kind="stable")
    return write_staged(store, DATASET, cik, pa.Table.from_pandas(frame, schema=schemas.PRICES, preserve_index=False))


def merge_fetched(staged: pd.DataFrame, fresh: pa.Table, symbol: str, since: date | None, until: date) -> pd.DataFrame:
    """``staged`` with ``symbol``'s rows in [since, until) replaced by ``fresh`` (since None: from
    the first fetched date, so a CSV backfill older than Yahoo's history stays)."""
    rows = fresh.to_pandas()
    start = since if since is not None else (min(rows["trade_date"]) if len(rows) else until)
    dates = staged["trade_date"]
    replaced = (staged["ticker"] == symbol) & (dates >= start) & (dates < until)
    return _concat(staged[~replaced], rows)


def merge_backfill(staged: pd.DataFrame, backfill: pa.Table) -> tuple[pd.DataFrame, int]:
    """``staged`` plus the backfill rows of dates it has no row for; returns (merged, rows added)."""
    rows = backfill.to_pandas()
    have = pd.MultiIndex.from_frame(staged[["ticker", "trade_date"]])
    new = rows[~pd.MultiIndex.from_frame(rows[["ticker", "trade_date"]]).isin(have)]
    return _concat(staged, new), len(new)


def revised_dates(staged: pd.DataFrame, fresh: pa.Table, symbol: str) -> list[date]:
    """Dates both hold whose close or adj_close differ: Yahoo re-adjusted the history (a split or
    dividend since the last run, or a correction), so the rows before the window are stale too."""
    old = staged.loc[staged["ticker"] == symbol, ["trade_date", "close", "adj_close"]]
    both = old.merge(fresh.select(["trade_date", "close", "adj_close"]).to_pandas(), on="trade_date")
    moved = pd.Series(False, index=both.index)
    for column in ("close", "adj_close"):
        a, b = both[f"{column}_x"], both[f"{column}_y"]
        moved |= (a - b).abs() > REVISION_RTOL * b.abs()
    return sorted(both.loc[moved, "trade_date"])


def _concat(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    parts = [f for f in (a, b) if len(f)]
    return pd.concat(parts, ignore_index=True) if parts else a
