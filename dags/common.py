"""Defaults shared by every edgarflow DAG."""

from datetime import timedelta

DEFAULT_ARGS = {
    "owner": "edgarflow",
    "retries": 2,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=15),
    "execution_timeout": timedelta(hours=2),
}
