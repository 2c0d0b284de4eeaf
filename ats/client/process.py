"""The client under test as a child process: started in its own process group, its output kept in
bounded buffers, stopped with SIGTERM and, 5 s later, SIGKILL."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping
from pathlib import Path

OUTPUT_CAP = 32 * 1024  # the last bytes of stdout and of stderr kept per run
KILL_AFTER = 5.0


class _Tail(threading.Thread):
    """Reads a pipe to its end and keeps its last `OUTPUT_CAP` bytes."""

    def __init__(self, pipe: object) -> None:
        super().__init__(daemon=True)
        self.pipe = pipe
        self.data = bytearray()
        self.total = 0

    def run(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            while chunk := self.pipe.read1(65536):  # type: ignore[attr-defined]
                self.total += len(chunk)
                self.data += chunk
                if len(self.data) > 2 * OUTPUT_CAP:
                    del self.data[: len(self.data) - OUTPUT_CAP]

    def text(self) -> str:
        kept = bytes(self.data[-OUTPUT_CAP:]).decode("utf-8", "replace")
        return (f"[{self.total - OUTPUT_CAP} earlier bytes not kept]\n" if self.total > OUTPUT_CAP else "") + kept


class ClientProcess:
    """One run of the client's command."""

    def __init__(self, argv: list[str], cwd: Path, env: Mapping[str, str]) -> None:
        self.argv = argv
        self.started = time.time()
        self.ended_by: str | None = None  # "exit", "end condition", "timeout"
        self.start_error: str | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self._tails: list[_Tail] = []
        try:
            self.proc = subprocess.Popen(
                argv,
                cwd=cwd,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            self.start_error = f"the client's command could not be started: {exc.strerror or exc}"
            return
        self._tails = [_Tail(self.proc.stdout), _Tail(self.proc.stderr)]
        for tail in self._tails:
            tail.start()

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def _signal(self, sig: int) -> None:
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)  # the group this process leads (start_new_session)

    def stop(self, reason: str) -> None:
        """SIGTERM, then SIGKILL after `KILL_AFTER` s; records why the run ended."""
        if self.proc is None:
            return
        if self.proc.poll() is not None:
            self.ended_by = self.ended_by or "exit"
        else:
            self.ended_by = reason
            self._signal(signal.SIGTERM)
            try:
                self.proc.wait(KILL_AFTER)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.proc.wait(5)
        self._signal(signal.SIGKILL)  # leftovers of the group (children that ignored SIGTERM)
        for tail in self._tails:
            tail.join(timeout=2)

    @property
    def stdout(self) -> str:
        return self._tails[0].text() if self._tails else ""

    @property
    def stderr(self) -> str:
        return self._tails[1].text() if self._tails else ""
