"""The functions the tasks of ``edgar_nightly`` call: SEC filers up to loaded raw tables.

Each takes and returns typed payloads (pipelines/payloads.py), opens what it needs from
Settings, and reads only what the stage before it wrote. Extraction and normalization run once
per batch of filers (mapped tasks); a batch's lists live in run manifests, so what travels
between tasks stays small whatever the universe. The marts are built by ``warehouse_build``.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import date

from ingest.endpoints import open_endpoints
from ingest.postgres.connection import connect
from ingest.postgres.loader import load_dataset
from ingest.postgres.runs import record_quarantine
from ingest.postgres.source_state import covered_through, known_filers, load_state, record_coverage, save_state
from ingest.sec.bulk import extract_bulk
from ingest.sec.client import SecClient
from ingest.sec.daily_index import FEED, IndexUnavailable, filers_since
from ingest.sec.extract import Mode, extract_edgar
from ingest.sec.stage import stage_edgar
from ingest.sec.state import SourceState
from ingest.sec.universe import sample_ciks, select, ticker_map
from ingest.settings import Settings
from ingest.text.stage import stage_texts
from ingest.zones.manifests import manifest_key, read_manifest, write_manifest
from ingest.zones.raw import Landed
from ingest.zones.staged import staged_cik
from ingest.zones.store import ObjectStore, local_copies, open_store
from pipelines import warehouse_build
from pipelines.params import EDGAR_BATCH_SIZE
from pipelines.payloads import Batch, Extracted, Gate, LoadCounts, Loads, Staged, TableLoads
from pipelines.summaries import nightly_summary, record_summary, render

log = logging.getLogger(__name__)

DAG_ID = "edgar_nightly"
# Parents before children: filings and facts reference companies.
PG_LOAD_ORDER = ("companies", "filings", "facts", "sections")


def plan_batches(
    run_id: str,
    run_day: str,
    ciks: list[str] | None = None,
    tickers: list[str] | None = None,
    batch_size: int = EDGAR_BATCH_SIZE,
    bulk: bool = False,
    full_refresh: bool = False,
    filed_from: str | None = None,
    filed_to: str | None = None,
) -> list[Batch]:
    """This run's filers in batches, one extract task each; none when there is nothing to ask
    (every task up to the summary is then skipped, and the summary still records the run).

    A nightly run over the whole universe covers the filers SEC's daily indexes list since the
    last such run, and those never landed (ingest/sec/daily_index.py); with no mark yet, or an
    index that cannot be read, every filer. A bulk run is one batch: every batch would otherwise
    stream SEC's whole archives again.
    """
    settings = Settings()
    day = date.fromisoformat(run_day)
    universe = plan_universe(ciks, tickers)
    whole = not (ciks or tickers or filed_from or filed_to)
    if whole and not (full_refresh or bulk):
        universe = _filed_or_unseen(settings, universe, day)
    if whole:
        with connect(settings) as conn:
            record_coverage(conn, settings.source_mode, FEED, day, run_id)
    size = max(len(universe) if bulk else batch_size, 1)
    store = open_store(settings.storage_url)
    batches = []
    for index, start in enumerate(range(0, len(universe), size)):
        filers = universe[start : start + size]
        key = write_manifest(store, manifest_key(DAG_ID, run_id, "plan_batches", f"batch-{index:05d}"), filers)
        batches.append(Batch(index=index, size=len(filers), manifest=key))
    return batches


def _filed_or_unseen(settings: Settings, universe: list[str], day: date) -> list[str]:
    with connect(settings) as conn:
        covered = covered_through(conn, settings.source_mode, FEED)
        if covered is None:
            return universe
        known = known_filers(conn, settings.source_mode, universe)
    try:
        with open_endpoints(settings) as endpoints, SecClient(settings) as client:
            filed = filers_since(client, endpoints.daily_index, covered, day)
    except IndexUnavailable as exc:
        log.warning("%s: this run asks SEC about every filer", exc)
        return universe
    chosen = [cik for cik in universe if cik in filed or cik not in known]
    log.info("daily indexes %s..%s: %d of %d filers filed or were never landed", covered, day, len(chosen), len(universe))
    return chosen


def plan_universe(ciks: list[str] | None = None, tickers: list[str] | None = None) -> list[str]:
    """The run's CIKs: the sample directory's filers, or SEC's ticker list live; narrowed to
    ``ciks`` / ``tickers`` when given."""
    settings = Settings()
    by_ticker = _ticker_map(settings) if (tickers or settings.source_mode == "live") else {}
    if settings.source_mode == "sample":
        universe = sample_ciks(settings.sample_dir)
    else:
        universe = sorted(set(by_ticker.values()))
    return select(universe, ciks, tickers, by_ticker)


def _ticker_map(settings: Settings) -> dict[str, str]:
    with open_endpoints(settings) as endpoints, SecClient(settings) as client:
        return ticker_map(client.get(endpoints.tickers_exchange()).body)


def extract(
    batch: Batch,
    ingest_date: str,
    run_id: str,
    full_refresh: bool = False,
    filed_from: str | None = None,
    filed_to: str | None = None,
    bulk: bool = False,
    documents_only: bool = False,
) -> Extracted:
    """Land what changed for the batch's filers (see ingest/sec/extract.py for the modes).

    ``bulk``: a full refresh from SEC's nightly companyfacts.zip and submissions.zip instead of
    two or more requests per filer. ``documents_only``: the filed range's primary documents, no
    companyfacts (a text backfill).
    """
    settings = Settings()
    store = open_store(settings.storage_url)
    ciks = read_manifest(store, batch.manifest)
    day = date.fromisoformat(ingest_date)
    mode = Mode(full_refresh or bulk, _date(filed_from), _date(filed_to), documents_only)
    with connect(settings) as conn:
        known = SourceState() if mode.full_refresh else load_state(conn, settings.source_mode, ciks)
    with open_endpoints(settings) as endpoints:
        if bulk:
            extraction = extract_bulk(settings, store, endpoints, ciks, day)
        else:
            extraction = extract_edgar(settings, store, endpoints, ciks, day, run_id, mode, known)
    with connect(settings) as conn:
        save_state(conn, settings.source_mode, run_id, extraction.new_state)
        # A body cut short: its bytes are kept; say so where runs are read.
        _record_quarantined(conn, run_id, [f for f in extraction.failed if "quarantine_key" in f], "quarantine_key")
    key = manifest_key(DAG_ID, run_id, "extract", f"batch-{batch.index:05d}")
    write_manifest(store, key, extraction.to_dict())
    return Extracted(
        batch=batch.index,
        manifest=key,
        companies=len({x.cik for x in extraction.landed}),
        landed=len(extraction.landed),
        missing=dict(Counter(x["dataset"] for x in extraction.missing)),
        failed=len(extraction.failed),
        blocked=sum(1 for f in extraction.failed if f.get("blocked")),
        unchanged=len(extraction.unchanged),
        skipped=len(extraction.skipped),
        documents=len(extraction.documents),
    )


def _record_quarantined(conn, run_id: str, objects: list[dict], key_field: str) -> None:
    """A row in edgar.quarantine per SEC object whose bytes went to quarantine/ (at ``object[key_field]``)."""
    for item in objects:
        record_quarantine(
            conn, run_id=run_id, source="sec", dataset=item["dataset"], cik=item["cik"],
            object_key=item[key_field], reason=item["reason"],
        )  # fmt: skip


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def normalize(extracted: Extracted, run_id: str) -> Staged:
    """Stage the batch's landed objects and the sections of its landed documents; bad filers and
    unreadable documents are quarantined with their bytes and recorded."""
    settings = Settings()
    store = open_store(settings.storage_url)
    extraction = read_manifest(store, extracted.manifest)
    staging = stage_edgar(store, [Landed(**x) for x in extraction["landed"]], run_id)
    texts = stage_texts(store, extraction["documents"], run_id)
    for dataset, keys in texts.staged.items():
        staging.staged[dataset].extend(keys)
        staging.rows[dataset] += texts.rows[dataset]
    staging.quarantined += texts.quarantined
    if staging.quarantined:
        with connect(settings) as conn:
            _record_quarantined(conn, run_id, staging.quarantined, "key")
    key = manifest_key(DAG_ID, run_id, "normalize", f"batch-{extracted.batch:05d}")
    write_manifest(store, key, staging.to_dict())
    return Staged(
        batch=extracted.batch,
        manifest=key,
        companies=len({staged_cik(k) for keys in staging.staged.values() for k in keys}),
        rows=dict(staging.rows),
        quarantined=len(staging.quarantined),
    )


def staged_keys(stagings: list[Staged], store: ObjectStore | None = None) -> dict[str, list[str]]:
    """dataset -> the staged files this run wrote, over every batch (manifests in ``store``,
    default the configured one)."""
    store = store or open_store(Settings().storage_url)
    keys: dict[str, list[str]] = {}
    for staging in stagings:
        for dataset, written in read_manifest(store, staging.manifest)["staged"].items():
            keys.setdefault(dataset, []).extend(written)
    return keys


def run_ciks(stagings: list[Staged]) -> list[str]:
    """The companies this run staged: what gate_postgres checks."""
    return sorted({cik for keys in staged_keys(stagings).values() for k in keys if (cik := staged_cik(k))})


def load_warehouse(stagings: list[Staged], bulk: bool) -> TableLoads:
    """edgar's raw warehouse tables: replaced whole after a bulk run (every filer), else only the
    rows of this run's filers, so a nightly's load and the build after it follow what changed."""
    return warehouse_build.load_warehouse("edgar", None if bulk else run_ciks(stagings))


def load_postgres(stagings: list[Staged], run_id: str) -> Loads:
    """Upsert this run's staged companies, filings and facts; one transaction per dataset."""
    settings = Settings()
    store = open_store(settings.storage_url)
    staged = staged_keys(stagings, store)
    # Checked again rather than taken as written: the staged gate may have restaged files.
    keys = {d: [k for k in staged.get(d, []) if store.exists(k)] for d in PG_LOAD_ORDER}
    results = {}
    with connect(settings) as conn:
        for dataset in PG_LOAD_ORDER:
            with local_copies(store, keys[dataset]) as paths:
                result = load_dataset(conn, dataset, paths, run_id=run_id)
            results[dataset] = LoadCounts(inserted=result.inserted, updated=result.updated, unchanged=result.unchanged)
            log.info("postgres %s: %s", dataset, result)
    return Loads(datasets=results)


def summarize(
    run_id: str,
    extractions: list[Extracted],
    stagings: list[Staged],
    gates: dict[str, Gate | None],
    loads: Loads | None,
) -> None:
    """The run's summary, recorded in edgar.pipeline_runs and logged. A run with no batch (nothing
    to ask SEC) skipped its gates and loads: None here."""
    settings = Settings()
    ran = {name: gate for name, gate in gates.items() if gate is not None}
    summary = nightly_summary(settings, run_id, extractions, stagings, ran, loads or Loads(datasets={}))
    record_summary(settings, DAG_ID, summary)
    log.info("\n%s", render(summary))
