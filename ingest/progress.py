"""Progress of long stages for the person watching a run: `make run` echoes these log lines."""

from __future__ import annotations

import logging

_progress = logging.getLogger("edgarflow.progress")


def report_progress(stage: str, done: int, total: int, unit: str) -> None:
    """Log ``stage: done/total unit`` every tenth of the way (every 25 at least), and at the end."""
    step = max(25, total // 10)
    if done == total or done % step == 0:
        _progress.info("%s: %d/%d %s", stage, done, total, unit)
