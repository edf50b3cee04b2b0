"""Airflow plugin of the scale bench: each task process appends what it used to a JSON-lines file.

Loaded only where the bench points AIRFLOW__CORE__PLUGINS_FOLDER here and sets
EDGARFLOW_BENCH_USAGE (the file). The listener runs in the task's own process, from the moment
the task starts running to its end: wall and CPU time (its children's included: dbt's threads run
in-process, git and the like as children), peak resident memory (VmHWM: the process's own high
water mark; children's ru_maxrss if larger), and bytes read and written through system calls
(/proc/self/io rchar and wchar: files, sockets and pipes alike, reaped children included).
"""

from __future__ import annotations

import os
import resource
import sys
import time

import orjson
from airflow.listeners import hookimpl
from airflow.plugins_manager import AirflowPlugin

_started: dict[str, float] = {}


def _peak_rss() -> int:
    with open("/proc/self/status") as status:
        own = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return max(own, children)


def _io() -> dict[str, int]:
    with open("/proc/self/io") as io:
        fields = dict(line.split(": ") for line in io.read().splitlines())
    return {"read_bytes": int(fields["rchar"]), "written_bytes": int(fields["wchar"])}


def _record(task_instance, state: str) -> None:
    path = os.environ.get("EDGARFLOW_BENCH_USAGE")
    if not path:
        return
    times = os.times()
    row = {
        "dag_id": task_instance.dag_id, "task_id": task_instance.task_id, "map_index": task_instance.map_index,
        "run_id": task_instance.run_id, "state": state,
        "wall_s": time.monotonic() - _started.get(task_instance.task_id, time.monotonic()),
        "cpu_s": times.user + times.system + times.children_user + times.children_system,
        "peak_rss_bytes": _peak_rss(), **_io(),
    }  # fmt: skip
    with open(path, "ab") as f:  # one short append per task: whole lines, whatever runs at once
        f.write(orjson.dumps(row) + b"\n")


@hookimpl
def on_task_instance_running(previous_state, task_instance) -> None:
    _started[task_instance.task_id] = time.monotonic()


@hookimpl
def on_task_instance_success(previous_state, task_instance) -> None:
    _record(task_instance, "success")


@hookimpl
def on_task_instance_failed(previous_state, task_instance, error) -> None:
    _record(task_instance, "failed")


@hookimpl
def on_task_instance_skipped(previous_state, task_instance) -> None:
    _record(task_instance, "skipped")


class TaskUsage(AirflowPlugin):
    name = "edgarflow_task_usage"
    listeners = [sys.modules[__name__]]
