"""What DAG tasks hand each other through XCom: small typed records of keys and counts.

Lists that grow with the universe (a batch's filers, the objects it landed, the files it
staged, per-ticker outcomes) never travel here: the task that makes them writes a run manifest
(ingest/zones/manifests.py) and passes its key. Airflow serializes these pydantic models itself;
airflow.cfg allows ``pipelines.payloads.*`` to be deserialized.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Batch(Payload):
    """A batch of work for a mapped task: its position, size, and the manifest listing it."""

    index: int
    size: int  # filers, or tickers
    manifest: str


class Extracted(Payload):
    """One batch's SEC extraction (ingest/sec/extract.py), counted; the lists are in ``manifest``."""

    batch: int
    manifest: str
    companies: int  # filers with an object landed
    landed: int
    missing: dict[str, int]  # dataset -> 404s: SEC has no such document for the filer
    failed: int
    blocked: int = 0  # of failed: refused by SEC's fair-access block page
    unchanged: int  # 304
    skipped: int  # nothing new for the run's mode
    documents: int  # filing documents landed


class Staged(Payload):
    """One batch's normalization; staged keys and quarantined objects are in ``manifest``."""

    batch: int
    manifest: str
    companies: int  # filers with a staged file
    rows: dict[str, int]  # dataset -> rows staged
    quarantined: int  # raw objects quarantined


class LoadCounts(Payload):
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0  # snapshots only

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.updated)


class Loads(Payload):
    """PostgreSQL loads of a run, per dataset."""

    datasets: dict[str, LoadCounts]

    @property
    def changed(self) -> bool:
        """Whether any load inserted or updated a row: only then is there news for the warehouse."""
        return any(load.changed for load in self.datasets.values())


class TableLoads(Payload):
    """Warehouse raw tables as loaded: table -> rows."""

    tables: dict[str, int]


class SuiteOutcome(Payload):
    suite: str
    rows: int  # rows (documents, companies, tickers) validated
    quarantined: int = 0  # rows moved to quarantine
    bad: int = 0  # documents that did not parse (raw gate)
    result: str | None = None  # the stored validation result


class Gate(Payload):
    """A gate task's outcome. A blocking gate that fails raises instead, so ``success`` False
    comes only from monitors (``blocking`` False), whose failures are alerted and reported."""

    success: bool = True
    blocking: bool = True
    suites: tuple[SuiteOutcome, ...] = ()
    failing: tuple[str, ...] = ()  # what failed, a line each

    @property
    def outcome(self) -> str:
        if self.success:
            return "passed"
        return "WARNING (alerted, not blocking)" if not self.blocking else "FAILED"

    @property
    def quarantined(self) -> int:
        return sum(s.quarantined for s in self.suites)

    def suite(self, name: str) -> SuiteOutcome:
        """The outcome of suite ``name``; KeyError when the gate did not run it."""
        found = [s for s in self.suites if s.suite == name]
        if not found:
            raise KeyError(f"no suite {name!r} in this gate: {[s.suite for s in self.suites]}")
        return found[0]


class Fetched(Payload):
    """One batch of market_daily's fetch or CSV backfill; per-ticker reports are in ``manifest``."""

    batch: int
    source: str  # yahoo_chart, yahoo_csv
    manifest: str
    tickers: int
    outcomes: dict[str, int]  # status -> tickers
    rows: int  # rows staged
    rejected_rows: int


class Built(Payload):
    """The warehouse build's dbt run."""

    nodes: int
    statuses: dict[str, int]
    filers: int = 0  # filers the incremental models rebuilt
    window: dict[str, str] = {}  # the dbt vars of their window (ingest/warehouse/changes.py); {}: every filer


class Published(Payload):
    companies: int
    signals: int
    load: LoadCounts
    serving: dict[str, LoadCounts] = {}  # latest_statements, latest_valuation


class Warmed(Payload):
    """A cache refresh (ingest/cache/generations.py): documents written, carried over, removed."""

    generation: int | None
    written: int
    carried: int
    removed: int


class Docs(Payload):
    """The docs site a build published (pipelines/docs_site.py): its index page and what it covers."""

    index: str
    models: int  # in dbt's docs
    suites: int  # with their latest result linked
    catalog_errors: int  # catalog queries the warehouse refused: those columns' types are missing
