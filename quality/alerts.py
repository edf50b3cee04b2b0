"""Post failed checks to a webhook (Slack-compatible `text` plus structured fields).

The caller passes Settings.alert_webhook (EDGARFLOW_ALERT_WEBHOOK). Webhook URLs often carry a token in
their path, so neither the URL nor the HTTP library's own error text (which quotes it) is ever
put in a message; the payload holds only check names, counts and example values.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from quality.report import FailedCheck

TIMEOUT = 10.0
# A duplicated alert beats a lost one, so POST is retried too.
_RETRY = Retry(total=2, backoff_factor=0.5, status_forcelist=(429, 500, 502, 503, 504), allowed_methods=None)


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


def _send(webhook_url: str, payload: dict, timeout: float) -> None:
    with requests.Session() as session:
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
