"""Normalization stage for EDGAR: landed raw objects -> staged Parquet, bad filers -> quarantine.

Each landed document group (a filer's companyfacts, or its submissions with their pages) is
parsed exactly once, here; what that parse saw is kept as one small profile row per group
(ingest/zones/profiles.py), so the raw-zone gate judges the run's documents without reading
them again.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ingest.identifiers import run_key
from ingest.progress import report_progress
from ingest.sec.normalize import BadPayload, normalize_companyfacts, normalize_submissions
from ingest.zones.profiles import write_profiles
from ingest.zones.quarantine import quarantine_landed
from ingest.zones.raw import CorruptRaw, Landed, unpack
from ingest.zones.staged import write_staged
from ingest.zones.store import ObjectStore

log = logging.getLogger(__name__)


@dataclass
class Staging:
    staged: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # dataset -> keys
    rows: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # dataset -> rows
    quarantined: list[dict[str, str]] = field(default_factory=list)
    profiles: list[str] = field(default_factory=list)  # raw profile keys written

    def to_dict(self) -> dict:
        return {
            "staged": dict(self.staged),
            "rows": dict(self.rows),
            "quarantined": self.quarantined,
            "profiles": self.profiles,
        }


def stage_edgar(store: ObjectStore, landed: list[Landed], run_id: str) -> Staging:
    run_key(run_id)  # a run_id unfit for a key is refused before anything is written
    result = Staging()
    groups: dict[tuple[str, str], list[Landed]] = defaultdict(list)
    for item in landed:
        groups[(item.cik, item.dataset)].append(item)

    profiles: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for done, ((cik, dataset), items) in enumerate(sorted(groups.items()), 1):
        report_progress("normalize", done, len(groups), "documents")
        # The main document first, then its -submissions-NNN pages in order.
        items.sort(key=lambda x: ("-submissions-" in x.key, x.key))
        profile: dict[str, Any] = {"cik": cik, "dataset": dataset, "object_key": items[0].key, "objects": len(items)}
        profiles[dataset].append(profile)
        stored = [store.get(x.key) for x in items]  # a store failure fails the task (retried), not the filer
        try:
            bodies = [unpack(b) for b in stored]
            profile["bytes"] = sum(len(b) for b in bodies)
            if dataset == "companyfacts":
                tables = {"facts": normalize_companyfacts(bodies[0])}
            elif dataset == "submissions":
                companies, filings = normalize_submissions(bodies[0], bodies[1:])
                tables = {"companies": companies, "filings": filings}
            else:
                raise BadPayload(f"no normalizer for dataset {dataset!r}")
            profile.update(_describe(tables))
            _check_cik(tables, cik)
        except (BadPayload, CorruptRaw) as exc:
            reason = f"{type(exc).__name__}: {exc}"
            log.warning("quarantining %s %s: %s", dataset, cik, reason)
            profile.update(parsed=False, reason=reason)
            for item in items:
                result.quarantined.append(
                    {"cik": cik, "dataset": dataset, "key": quarantine_landed(store, item, reason, run_id), "reason": reason}
                )
            continue
        profile["parsed"] = True
        for name, table in tables.items():
            result.staged[name].append(write_staged(store, name, cik, table))
            result.rows[name] += table.num_rows

    for dataset, rows in profiles.items():
        result.profiles.append(write_profiles(store, run_id, dataset, rows))
    return result


def _describe(tables: dict[str, pa.Table]) -> dict[str, Any]:
    """What the parse saw, before the cik check: a document for another filer is profiled too."""
    if "facts" in tables:
        facts = tables["facts"]
        named = facts.num_rows > 0  # the entity name rides on each fact row
        return {
            "document_cik": facts["cik"][0].as_py() if named else None,
            "entity_name": facts["entity_name"][0].as_py() if named else None,
            "facts": facts.num_rows,
            "taxonomies": pc.count_distinct(facts["taxonomy"]).as_py(),
            "filings": pc.count_distinct(facts["accession_number"]).as_py(),
        }
    company = tables["companies"].to_pylist()[0]
    return {
        "document_cik": company["cik"],
        "entity_name": company["name"] or "",
        "filings": pc.count_distinct(tables["filings"]["accession_number"]).as_py(),
    }


def _check_cik(tables: dict, cik: str) -> None:
    for name, table in tables.items():
        if table.num_rows and table.column("cik")[0].as_py() != cik:
            raise BadPayload(f"{name} document is for CIK {table.column('cik')[0]}, requested {cik}")
