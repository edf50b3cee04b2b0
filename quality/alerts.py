"""Post failed checks to a webhook (Slack-compatible `text` plus structured fields).

The caller passes Settings.alert_webhook (EDGARFLOW_ALERT_WEBHOOK). Webhook URLs often carry a token in
their path, so neither the URL nor the HTTP library's own error text (which quotes it) is ever
put in a message, and urllib3's own log lines (retry warnings, debug lines, which name the path)
have it redacted; the payload holds only check names, counts and example values.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from quality.report import FailedCheck

TIMEOUT = 10.0
# A duplicated alert beats a lost one, so POST is retried too.
_RETRY = Retry(total=2, backoff_factor=0.5, status_forcelist=(429, 500, 502, 503, 504), allowed_methods=None)


# The loggers urllib3 writes request paths to: its connection pool and its retry logic.
_URLLIB3_LOGGERS = ("urllib3.connectionpool", "urllib3.util.retry", "urllib3.connection")
REDACTED = "<redacted>"


class AlertFailed(RuntimeError):
    """The webhook could not be reached or refused the alert."""


def post_alert(
    webhook_url: str,
    run_id: str,
    stage: str,
    failing_checks: Sequence[FailedCheck],
    *,
    timeout: float = TIMEOUT,
) -> None:
    """A failed gate: each failing check with its counts and examples."""
    lines = [f"edgarflow {stage} gate failed (run {run_id}): {len(failing_checks)} failing check(s)"]
    lines += [f"- {check.describe()}" for check in failing_checks]
    _send(
        webhook_url,
        {
            "text": "\n".join(lines),
            "source": "edgarflow",
            "run_id": run_id,
            "stage": stage,
            "failing_checks": [check.to_json() for check in failing_checks],
        },
        timeout,
    )


def post_task_failure(
    webhook_url: str, dag_id: str, run_id: str, task_id: str, error: str, *, timeout: float = TIMEOUT
) -> None:
    """A failed task that is not a gate (gates alert with their checks themselves)."""
    _send(
        webhook_url,
        {
            "text": f"edgarflow {dag_id}.{task_id} failed (run {run_id}): {error[:500]}",
            "source": "edgarflow",
            "run_id": run_id,
            "stage": task_id,
            "dag_id": dag_id,
            "error": error[:2000],
        },
        timeout,
    )


class _Redact(logging.Filter):
    def __init__(self, secrets: Sequence[str]):
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if any(s in text for s in self.secrets):
            for secret in self.secrets:
                text = text.replace(secret, REDACTED)
            record.msg, record.args = text, ()
        return True


@contextmanager
def _redacted(webhook_url: str) -> Iterator[None]:
    """urllib3's log lines without the webhook's URL, path or query while the alert is sent."""
    parts = urlsplit(webhook_url)
    secrets = [s for s in (webhook_url, parts.path + (f"?{parts.query}" if parts.query else ""), parts.path) if len(s) > 1]
    redact = _Redact(secrets)
    loggers = [logging.getLogger(name) for name in _URLLIB3_LOGGERS]
    for logger in loggers:
        logger.addFilter(redact)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(redact)


def _send(webhook_url: str, payload: dict, timeout: float) -> None:
    with _redacted(webhook_url), requests.Session() as session:
        session.mount("http://", HTTPAdapter(max_retries=_RETRY))
        session.mount("https://", HTTPAdapter(max_retries=_RETRY))
        try:
            response = session.post(webhook_url, json=payload, timeout=timeout)
            response.raise_for_status()
        except requests.RequestException as exc:
            status = f" HTTP {exc.response.status_code}" if exc.response is not None else ""
            raise AlertFailed(
                f"alert webhook on {urlsplit(webhook_url).hostname} failed:{status} {type(exc).__name__}"
            ) from None
