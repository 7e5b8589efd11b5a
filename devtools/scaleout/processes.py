"""Child processes the cluster supervises: each in its own process group, logging to a file.

A process group per child lets the supervisor stop a gunicorn master together with
its workers (a killed master's workers would otherwise keep serving on the inherited
socket for a moment). On Linux every child is also told to receive SIGTERM when the
supervisor dies, so a supervisor killed with SIGKILL still leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # Runs in the child between fork and exec. The signal is sent when the thread that
    # started the child exits, so children are started from the main thread only.
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class ChildProcess:
    """One supervised program: started, stopped gracefully, or killed with its whole group."""

    name: str
    command: Sequence[str]
    environment: Mapping[str, str]
    log_file: Path
    working_directory: Path
    stop_signal: int = signal.SIGTERM
    process: subprocess.Popen | None = field(default=None, repr=False)

    def start(self) -> None:
        if self.running:
            return
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as log:
            self.process = subprocess.Popen(
                list(self.command),
                env=dict(self.environment),
                cwd=self.working_directory,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def exit_code(self) -> int | None:
        return self.process.poll() if self.process is not None else None

    def request_stop(self) -> None:
        """Ask the program to stop (gunicorn and nginx finish the requests in flight)."""
        if self.running:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, self.stop_signal)

    def wait_stopped(self, deadline: float) -> None:
        """Wait until ``deadline`` (monotonic) for the program to exit, then kill its group."""
        if self.process is None:
            return
        remaining = max(0.0, deadline - time.monotonic())
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=remaining)
        self.kill()

    def stop(self, timeout: float = 10.0) -> None:
        self.request_stop()
        self.wait_stopped(time.monotonic() + timeout)

    def kill(self) -> None:
        """SIGKILL the whole process group: the program and anything it forked."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        self._wait_for_group_gone(self.process.pid)

    @staticmethod
    def _wait_for_group_gone(group: int, timeout: float = 5.0) -> None:
        # Workers may outlive their master by a moment; the group is empty once killpg fails.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.killpg(group, 0)
            except (ProcessLookupError, PermissionError):
                return
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGKILL)
            time.sleep(0.05)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""
