"""A subprocess as the line to a board."""

from __future__ import annotations

import collections
import os
import select
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any, Optional

from belay_core.errors import ConnectionLost, DeviceSpecError
from belay_core.transport import Transport, write_fd_within

PREFIX = "exec:"
CLOSE_GRACE = 1.0
"""Seconds a process gets to exit after its stdin closes, before it is terminated."""


class ExecTransport(Transport):
    """Run a command; its stdin and stdout are the line to the board.

    The command runs in its own session, so a Ctrl-C at the host's terminal reaches Belay (which
    interrupts the board over the line) and not the process. Its stderr is kept (the last lines)
    to explain an unexpected exit.

    Parameters
    ----------
    spec
        ``"exec:COMMAND"``; COMMAND is split like a POSIX shell command line.
    env
        Extra environment variables for the process.
    """

    restartable = True

    def __init__(self, spec: str, *, env: Optional[dict[str, str]] = None, **options: Any) -> None:
        if options:
            raise DeviceSpecError(f"exec transport: unknown option(s) {', '.join(sorted(options))}")
        super().__init__(spec)
        self.argv = self.command_from_spec(spec)
        self.env = env
        self.process: Optional[subprocess.Popen[bytes]] = None
        self._stderr: collections.deque[bytes] = collections.deque(maxlen=20)
        self._stderr_thread: Optional[threading.Thread] = None

    def command_from_spec(self, spec: str) -> Sequence[str]:
        """The argv to run for ``spec``; subclasses build their own."""
        command = spec[len(PREFIX) :].strip() if spec.startswith(PREFIX) else spec
        if not command:
            raise DeviceSpecError("exec: needs a command, e.g. exec:micropython or 'exec:belay-emulator unix'")
        try:
            return shlex.split(command)
        except ValueError as exc:
            raise DeviceSpecError(f"cannot split the command {command!r}: {exc}") from None

    def describe(self) -> str:
        return " ".join(self.argv)

    def open(self) -> None:
        env = None if self.env is None else {**os.environ, **self.env}
        try:
            self.process = subprocess.Popen(
                list(self.argv),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                bufsize=0,
                env=env,
                start_new_session=True,
            )
        except OSError as exc:
            raise ConnectionLost(f"cannot start {self.describe()!r}: {exc.strerror or exc}") from None
        if os.name != "nt" and self.process.stdin is not None:
            os.set_blocking(self.process.stdin.fileno(), False)  # writes wait in select, with a deadline
        self._stderr.clear()
        self._stderr_thread = threading.Thread(target=self._drain_stderr, args=(self.process,), daemon=True)
        self._stderr_thread.start()

    def _drain_stderr(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stderr is not None
        for line in process.stderr:
            self._stderr.append(line)

    def _lost(self, what: str) -> ConnectionLost:
        process = self.process
        code = None
        if process is not None:
            try:
                code = process.wait(0.5)
            except subprocess.TimeoutExpired:
                pass
            if self._stderr_thread is not None:
                self._stderr_thread.join(0.5)
        tail = b"".join(self._stderr).decode(errors="replace").strip()
        message = f"{what}: {self.describe()!r}"
        message += " is still running" if code is None else f" exited with code {code}"
        if tail:
            message += "; its last error output:\n" + tail
        return ConnectionLost(message)

    def read(self, size: int, timeout: Optional[float]) -> bytes:
        process = self._require()
        assert process.stdout is not None
        fd = process.stdout.fileno()
        if sys.platform != "win32":
            ready, _, _ = select.select([fd], [], [], timeout)
            if not ready:
                return b""
        try:
            data = os.read(fd, size)
        except OSError as exc:
            raise self._lost(f"reading failed ({exc})") from None
        if not data:
            raise self._lost("the line closed")
        return data

    def write(self, data: bytes) -> None:
        self._write_all(data, None)

    def write_within(self, data: bytes, timeout: float) -> bool:
        return self._write_all(data, time.monotonic() + timeout)

    def _write_all(self, data: bytes, deadline: Optional[float]) -> bool:
        """Write ``data`` to the program's stdin; ``False`` when ``deadline`` passed with some unwritten."""
        process = self._require()
        assert process.stdin is not None
        if os.name == "nt":  # no select on pipes: a blocking write
            try:
                process.stdin.write(data)
            except (OSError, ValueError):
                raise self._lost("writing failed") from None
            return True
        try:
            return write_fd_within(process.stdin.fileno(), data, deadline)
        except (OSError, ValueError):
            raise self._lost("writing failed") from None

    def _require(self) -> subprocess.Popen[bytes]:
        if self.process is None:
            raise ConnectionLost(f"{self.describe()!r} is not running")
        return self.process

    def close(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        try:
            if process.stdin:
                process.stdin.close()
        except OSError:
            pass
        try:
            process.wait(CLOSE_GRACE)
        except subprocess.TimeoutExpired:
            self._kill(process)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass

    @staticmethod
    def _kill(process: subprocess.Popen[bytes]) -> None:
        for sig in (signal.SIGTERM, getattr(signal, "SIGKILL", signal.SIGTERM)):
            try:
                os.killpg(process.pid, sig)
            except (OSError, AttributeError):
                process.kill()
            try:
                process.wait(CLOSE_GRACE)
                return
            except subprocess.TimeoutExpired:
                continue
