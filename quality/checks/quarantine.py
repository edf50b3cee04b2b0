"""Row-level quarantine: rows a passing gate tolerated (``mostly``) leave the batch, with their
reason, to ``quarantine/{source}/{dataset}/run_id={run_id}/{suite}.parquet`` (ingest/zones/quarantine.py).

A gate whose failing share is over threshold raises GateFailed instead, and nothing moves.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingest.identifiers import CIK_PATTERN
from ingest.postgres.runs import record_quarantine
from ingest.zones.quarantine import REASON, quarantine_rows
from ingest.zones.staged import staged_key, write_staged
from ingest.zones.store import ObjectStore
from quality.gate import Data
from quality.report import GateResult


@dataclass(frozen=True)
class Quarantined:
    good: Data
    bad: Data  # the rejected rows plus a `reason` column
    key: str | None  # where the rejected rows were written; None when there were none


def split_rows(result: GateResult, data: Data) -> tuple[Data, Data]:
    """(rows every row-level check accepted, rejected rows with a `reason` column).

    ``data`` is the batch ``result`` came from, in the same order; the type (Arrow or pandas) is kept.
    """
    n = data.num_rows if isinstance(data, pa.Table) else len(data)
    if n != result.row_count:
        raise ValueError(f"the batch has {n} rows but {result.suite} validated {result.row_count}")
    reasons: dict[int, list[str]] = {}
    for check, rows in result.row_failures.items():
        for row in rows:
            reasons.setdefault(row, []).append(check)
    bad_rows = np.array(sorted(reasons), dtype=np.int64)
    keep = np.ones(n, dtype=bool)
    keep[bad_rows] = False
    reason = ["; ".join(reasons[row]) for row in bad_rows]
    if isinstance(data, pa.Table):
        bad = data.take(pa.array(bad_rows)).append_column(REASON, pa.array(reason, pa.string()))
        return data.filter(pa.array(keep)), bad
    frame = data.reset_index(drop=True)
    return frame[keep], frame.iloc[bad_rows].assign(**{REASON: reason})


def quarantine(
    store: ObjectStore, result: GateResult, data: Data, *, source: str, dataset: str, name: str | None = None
) -> Quarantined:
    """Split ``data`` by ``result`` and write the rejected rows to the quarantine zone, under
    ``name`` (default: the suite's; a batch validated in parts names each part)."""
    good, bad = split_rows(result, data)
    if len(bad) == 0:
        return Quarantined(good, bad, None)
    key = quarantine_rows(
        store, _arrow(bad), source=source, dataset=dataset, run_id=result.run_id, name=name or result.suite
    )
    return Quarantined(good, bad, key)


def restage(store: ObjectStore, dataset: str, moved: Quarantined) -> list[str]:
    """Rewrite the staged files of the companies that lost rows, so loaders never see those rows.

    Staged files are per company and normalize writes each under its own CIK, so a rejected row
    lives in its company's file; a malformed cik names no staged file (normalize stages none).
    """
    good = _arrow(moved.good)
    ciks = _arrow(moved.bad)["cik"].to_pylist()
    written = []
    for cik in sorted({c for c in ciks if isinstance(c, str) and CIK_PATTERN.match(c)}):
        if store.exists(staged_key(dataset, cik)):
            written.append(write_staged(store, dataset, cik, good.filter(pc.equal(good["cik"], cik))))
    return written


def record_rejected_rows(conn, run_id: str, source: str, dataset: str, moved: Quarantined) -> None:
    """One edgar.quarantine row per company: how many of its rows were rejected, and why."""
    if moved.key is None:
        return
    bad = moved.bad.to_pandas() if isinstance(moved.bad, pa.Table) else moved.bad
    for cik, group in bad.groupby(bad["cik"].fillna(""), sort=True):
        reasons = Counter(r for text in group[REASON] for r in text.split("; "))
        record_quarantine(
            conn,
            source=source,
            dataset=dataset,
            reason="; ".join(sorted(reasons)),
            run_id=run_id,
            cik=cik if CIK_PATTERN.match(cik) else None,  # the column is CHECKed; detail keeps the bad value
            object_key=moved.key,
            detail={"rows": len(group), "reasons": dict(reasons), "cik_value": cik},
        )


def _arrow(data: Data) -> pa.Table:
    return data if isinstance(data, pa.Table) else pa.Table.from_pandas(data, preserve_index=False)
