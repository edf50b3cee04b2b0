"""Alerts reach a real HTTP server on loopback, carry the failing checks, and never leak the webhook URL."""

from __future__ import annotations

import json
import logging
import socket

import pytest
from conftest import FLAKY_PATH, SECRET_PATH

from quality.alerts import AlertFailed, post_alert
from quality.report import FailedCheck

CHECK = FailedCheck(
    expectation="expect_column_values_to_match_regex(cik)",
    expected="regex='^\\\\d{10}$', mostly=0.99",
    unexpected_count=9696,
    unexpected_percent=5.0,
    observed=None,
    examples=("cik='320193' tag='Assets'",),
    affected=("0000320193",),
    affected_count=1,
)


def test_alert_arrives_with_the_failing_checks(webhook):
    base, received = webhook
    post_alert(base + SECRET_PATH, "scheduled__2026-11-21T06:30:00+00:00", "staged", [CHECK])

    (alert,) = received
    assert alert["type"] == "application/json"
    body = alert["body"]
    assert body["run_id"] == "scheduled__2026-11-21T06:30:00+00:00" and body["stage"] == "staged"
    assert body["failing_checks"][0]["expectation"] == CHECK.expectation
    assert body["failing_checks"][0]["examples"] == ["cik='320193' tag='Assets'"]
    assert body["text"].startswith("edgarflow staged gate failed") and "9696 unexpected" in body["text"]
    assert "s3cr3t" not in json.dumps(body)


def test_a_transient_server_error_is_retried_and_no_log_line_shows_the_url(webhook, caplog):
    base, received = webhook
    caplog.set_level(logging.DEBUG)  # urllib3 names the path in its retry warning and debug lines
    post_alert(base + FLAKY_PATH, "r1", "warehouse", [CHECK])
    assert [a["path"] for a in received] == [FLAKY_PATH]
    urllib3_lines = [r.getMessage() for r in caplog.records if r.name.startswith("urllib3")]
    assert any("Retry" in line for line in urllib3_lines)  # the retry was logged, ...
    assert not [line for line in urllib3_lines if "s3cr3t" in line]  # ... without the secret


def test_a_refused_alert_raises_without_the_url(webhook):
    base, _ = webhook
    with pytest.raises(AlertFailed, match="HTTP 404") as failed:
        post_alert(base + "/hooks/wrong/s3cr3t-token", "r1", "staged", [CHECK])
    assert "s3cr3t" not in str(failed.value) and failed.value.__cause__ is None


def test_an_unreachable_webhook_raises_without_the_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens here
    with pytest.raises(AlertFailed, match="127.0.0.1") as failed:
        post_alert(f"http://127.0.0.1:{port}{SECRET_PATH}", "r1", "staged", [CHECK], timeout=2)
    assert "s3cr3t" not in str(failed.value) and failed.value.__suppress_context__


def test_task_failure_alert(webhook):
    from quality.alerts import post_task_failure

    base, received = webhook
    post_task_failure(base + SECRET_PATH, "edgar_nightly", "manual__1", "load_postgres", "LoadError: duplicate key")
    (alert,) = received
    assert alert["body"]["stage"] == "load_postgres" and alert["body"]["dag_id"] == "edgar_nightly"
    assert "LoadError: duplicate key" in alert["body"]["text"]
