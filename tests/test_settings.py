"""Settings come from EDGARFLOW_* variables; live mode refuses to start undeclared."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ingest.settings import BUNDLED_SAMPLE_DIR, Settings


def test_defaults_are_the_local_offline_deployment(monkeypatch):
    for name in ("EDGARFLOW_STORAGE_URL", "EDGARFLOW_PG_DSN", "EDGARFLOW_WAREHOUSE", "EDGARFLOW_SOURCE_MODE",
                 "EDGARFLOW_SAMPLE_DIR"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.source_mode == "sample" and settings.sample_dir == BUNDLED_SAMPLE_DIR
    assert settings.warehouse == "duckdb" and settings.pg_dsn is None
    assert settings.storage_url.endswith(".local/store")
    assert settings.sec_rate_limit == 9


def test_live_mode_requires_a_user_agent(monkeypatch):
    monkeypatch.setenv("EDGARFLOW_SOURCE_MODE", "live")
    monkeypatch.delenv("EDGARFLOW_SEC_USER_AGENT", raising=False)
    with pytest.raises(ValidationError, match="EDGARFLOW_SEC_USER_AGENT is required"):
        Settings()
    monkeypatch.setenv("EDGARFLOW_SEC_USER_AGENT", "Example Research ops@example.com")
    assert Settings().sec_user_agent == "Example Research ops@example.com"


def test_rate_limit_cannot_exceed_sec_fair_access(monkeypatch):
    monkeypatch.setenv("EDGARFLOW_SEC_RATE_LIMIT", "11")
    with pytest.raises(ValidationError):
        Settings()


def test_secrets_stay_out_of_reprs(monkeypatch):
    monkeypatch.setenv("EDGARFLOW_PG_DSN", "postgresql://loader:hunter2@db/edgarflow")
    monkeypatch.setenv("EDGARFLOW_ALERT_WEBHOOK", "https://hooks.example.com/T000/secret-token")
    text = repr(Settings())
    assert "hunter2" not in text and "secret-token" not in text


def test_bigquery_needs_a_project(monkeypatch):
    monkeypatch.setenv("EDGARFLOW_WAREHOUSE", "bigquery")
    monkeypatch.delenv("EDGARFLOW_BQ_PROJECT", raising=False)
    with pytest.raises(ValidationError, match="EDGARFLOW_BQ_PROJECT"):
        Settings()
