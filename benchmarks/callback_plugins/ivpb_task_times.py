"""Print the wall time of every task (all hosts together) and of the whole run, for benchmarks/bench.py."""

from __future__ import annotations

import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: ivpb_task_times
type: aggregate
short_description: wall time per task, for the benchmark's profile
description: Prints one line per task with the seconds from its start to the next task's start.
requirements: [enable in ANSIBLE_CALLBACKS_ENABLED]
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "ivpb_task_times"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._start = time.perf_counter()
        self._current: tuple[str, float] | None = None
        self._times: list[tuple[str, float]] = []

    def _close(self) -> None:
        if self._current:
            name, started = self._current
            self._times.append((name, time.perf_counter() - started))
            self._current = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close()
        self._current = (task.get_name(), time.perf_counter())

    v2_playbook_on_handler_task_start = v2_playbook_on_task_start

    def v2_playbook_on_stats(self, stats):
        self._close()
        for name, seconds in self._times:
            self._display.display(f"ivpb-task-time {seconds:6.2f} s  {name}")
        self._display.display(f"ivpb-task-time {time.perf_counter() - self._start:6.2f} s  (whole run)")
