"""Normalization stage for EDGAR: landed raw objects -> staged Parquet, bad filers -> quarantine."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field

from ingest.landing import Landed, quarantine_landed, read_raw
from ingest.normalize import BadPayload, normalize_companyfacts, normalize_submissions
from ingest.staging import write_staged
from ingest.storage import ObjectStore

log = logging.getLogger(__name__)


@dataclass
class Staging:
    staged: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # dataset -> keys
    rows: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # dataset -> rows
    quarantined: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"staged": dict(self.staged), "rows": dict(self.rows), "quarantined": self.quarantined}


def stage_edgar(store: ObjectStore, landed: list[Landed], run_id: str) -> Staging:
    result = Staging()
    groups: dict[tuple[str, str], list[Landed]] = defaultdict(list)
    for item in landed:
        groups[(item.cik, item.dataset)].append(item)

    for (cik, dataset), items in sorted(groups.items()):
        # The main document first, then its -submissions-NNN pages in order.
        items.sort(key=lambda x: ("-submissions-" in x.key, x.key))
        try:
            bodies = [read_raw(store, x.key) for x in items]
            if dataset == "companyfacts":
                tables = {"facts": normalize_companyfacts(bodies[0])}
            elif dataset == "submissions":
                companies, filings = normalize_submissions(bodies[0], bodies[1:])
                tables = {"companies": companies, "filings": filings}
            else:
                raise BadPayload(f"no normalizer for dataset {dataset!r}")
            _check_cik(tables, cik)
        except (BadPayload, OSError, EOFError) as exc:
            reason = f"{type(exc).__name__}: {exc}"
            log.warning("quarantining %s %s: %s", dataset, cik, reason)
            for item in items:
                result.quarantined.append(
                    {"cik": cik, "dataset": dataset, "key": quarantine_landed(store, item, reason, run_id), "reason": reason}
                )
            continue
        for name, table in tables.items():
            result.staged[name].append(write_staged(store, name, cik, table))
            result.rows[name] += table.num_rows
    return result


def _check_cik(tables: dict, cik: str) -> None:
    for name, table in tables.items():
        if table.num_rows and table.column("cik")[0].as_py() != cik:
            raise BadPayload(f"{name} document is for CIK {table.column('cik')[0]}, requested {cik}")
