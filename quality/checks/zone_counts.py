"""Rows of a staged dataset over the whole zone: every file is fetched, only its Parquet footer parsed."""

from __future__ import annotations

import io
from collections.abc import Mapping

import pandas as pd
import pyarrow.parquet as pq

from ingest.zones.staged import staged_keys
from ingest.zones.store import ObjectStore
from quality.checks.postgres_state import table_frame


def zone_rows(store: ObjectStore, dataset: str) -> int:
    return sum(pq.read_metadata(io.BytesIO(store.get(key))).num_rows for key in staged_keys(store, dataset))


def counts_frame(rows: Mapping[str, int], previous: Mapping[str, int]) -> pd.DataFrame:
    """dataset, row_count, previous_row_count, change (null where no passing run counted it)."""
    frame = table_frame(rows, previous).rename(columns={"table": "dataset"})
    return frame.assign(change=(frame["row_count"] / frame["previous_row_count"] - 1).astype("Float64"))
