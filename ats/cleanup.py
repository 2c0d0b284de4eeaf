"""Deleting what finished tests created, off the critical path (issue 9 section 7).

A test's teardown hands its DELETEs (newest first) to the worker's `Janitor`, which sends them in a
background thread on its own connection while the next test runs; against a remote target this
saves one round trip per created object. The test cases never rely on the deletion of another
test's objects (under pytest-xdist other workers' objects are there anyway); `settle` waits for
the queue where something must see the deletions done (the end of the run, the project's tests).
"""

from __future__ import annotations

import queue
import threading
import time

from ats.ixit import Ixit
from ats.recorder import Transport
from ats.verdicts import Failure, Inconclusive

SETTLE_TIMEOUT = 60.0  # seconds the end of a run waits at most for outstanding deletions


class Janitor:
    """Sends queued DELETE requests in a daemon thread; best effort (errors are ignored)."""

    def __init__(self, ixit: Ixit, timeout: float) -> None:
        self._ixit, self._timeout = ixit, timeout
        self._queue: queue.Queue[tuple[str, dict[str, str]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def delete(self, url: str, headers: dict[str, str]) -> None:
        """Queue `DELETE url` (the thread starts with the first one)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="interflex-ats-cleanup", daemon=True)
            self._thread.start()
        self._queue.put((url, headers))

    def settle(self, timeout: float = SETTLE_TIMEOUT) -> bool:
        """Wait until every queued deletion was sent (at most `timeout` s); True when the queue is empty."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self._queue.unfinished_tasks

    def close(self) -> None:
        """Send what is queued (at most SETTLE_TIMEOUT s), then stop the thread."""
        if self._thread is None:
            return
        self.settle()
        self._queue.put(None)
        self._thread.join(timeout=self._timeout + 1)

    def _run(self) -> None:
        transport = Transport(self._ixit, self._timeout)
        try:
            while (item := self._queue.get()) is not None:
                try:
                    transport.send("DELETE", item[0], item[1], None)
                except (Inconclusive, Failure):
                    pass
                finally:
                    self._queue.task_done()
        finally:
            transport.close()
