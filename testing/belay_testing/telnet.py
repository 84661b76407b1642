"""A real telnet server on 127.0.0.1 in front of an emulated board, as MicroPython's telnet servers behave.

At connect it negotiates a few options (and sends a subnegotiation) to exercise the client, asks
``Login as:`` and ``Password:``, answers ``Login failed`` to wrong credentials (or asks again, like
WiPy), then bridges the connection to ``python -m belay_emulator unix``: IAC sequences are taken out
of what the client sends, 0xFF in the board's output goes out as ``IAC IAC``.
"""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import threading
from typing import Optional

from belay_telnet.protocol import DO, ECHO, IAC, SB, SE, SGA, WILL, WONT, TelnetCodec, escape

LINEMODE = 34
TTYPE = 24
NAWS = 31
GREETING = bytes((IAC, WILL, ECHO, IAC, WILL, SGA, IAC, DO, TTYPE, IAC, DO, NAWS, IAC, WONT, LINEMODE))
SUBNEGOTIATION = bytes((IAC, SB, TTYPE, 1, IAC, IAC, 7, IAC, SE))
BOARD = [sys.executable, "-m", "belay_emulator", "unix"]


class TelnetBoardServer:
    """Serves one emulated board per connection on an ephemeral port of 127.0.0.1.

    Parameters
    ----------
    user, password
        The credentials it accepts.
    on_failure
        ``"message"``: print ``Login failed`` and close; ``"reprompt"``: ``Invalid credentials`` and
        ``Login as:`` again (WiPy).
    chatty
        Put ``IAC NOP`` and a repeated ``IAC WILL ECHO`` between output chunks.
    """

    def __init__(
        self, user: str = "micro", password: str = "python", on_failure: str = "message", chatty: bool = False
    ) -> None:
        self.user = user
        self.password = password
        self.on_failure = on_failure
        self.chatty = chatty
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.port: int = self.listener.getsockname()[1]
        self.client_replies = bytearray()
        """Every negotiation answer the clients sent (for the tests to check)."""
        self.logins: list[tuple[str, str]] = []
        self._connections: list[socket.socket] = []
        self._processes: list[subprocess.Popen[bytes]] = []
        self._lock = threading.Lock()
        self._stopped = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def spec(self) -> str:
        return f"telnet://127.0.0.1:{self.port}"

    @property
    def boards(self) -> list[subprocess.Popen[bytes]]:
        """The board processes serving connections, oldest first."""
        with self._lock:
            return list(self._processes)

    def _accept(self) -> None:
        while not self._stopped:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._connections.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _read_line(self, conn: socket.socket, codec: TelnetCodec, buffer: bytearray) -> Optional[str]:
        while b"\n" not in buffer:
            raw = conn.recv(4096)
            if not raw:
                return None
            data, _ = self._decode(codec, raw)
            buffer += data
        line, _, rest = bytes(buffer).partition(b"\n")
        buffer[:] = rest
        return line.rstrip(b"\r").decode(errors="replace")

    def _decode(self, codec: TelnetCodec, raw: bytes) -> tuple[bytes, bytes]:
        """Strip commands from what the client sent; answer nothing, like MicroPython's servers."""
        if b"\xff" in raw:
            self.client_replies += raw  # before login the client sends ASCII and its negotiation answers
        data, _ = codec.feed(raw)
        return data, b""

    def _serve(self, conn: socket.socket) -> None:
        codec = TelnetCodec(accepted=frozenset())
        buffer = bytearray()
        try:
            conn.sendall(GREETING + SUBNEGOTIATION + b"MicroPython telnet test server\r\n")
            while True:
                conn.sendall(b"Login as: ")
                user = self._read_line(conn, codec, buffer)
                if user is None:
                    return
                conn.sendall(b"Password: ")
                password = self._read_line(conn, codec, buffer)
                if password is None:
                    return
                self.logins.append((user, password))
                if (user, password) == (self.user, self.password):
                    break
                if self.on_failure == "reprompt":
                    conn.sendall(b"\r\nInvalid credentials, try again.\r\n")
                    continue
                conn.sendall(b"\r\nLogin failed\r\n")
                return
            conn.sendall(b'\r\nLogin succeeded!\r\nType "help()" for more information.\r\n\r\n')
            self._bridge(conn, codec, bytes(buffer))
        except OSError:
            pass
        finally:
            conn.close()

    def _bridge(self, conn: socket.socket, codec: TelnetCodec, early: bytes) -> None:
        process = subprocess.Popen(BOARD, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
        with self._lock:
            self._processes.append(process)
        assert process.stdin is not None and process.stdout is not None
        out_fd = process.stdout.fileno()
        try:
            if early:
                process.stdin.write(early)
            while True:
                ready, _, _ = select.select([conn, out_fd], [], [])
                if out_fd in ready:
                    chunk = os.read(out_fd, 65536)
                    if not chunk:
                        return
                    prefix = bytes((IAC, 241, IAC, WILL, ECHO)) if self.chatty else b""
                    conn.sendall(prefix + escape(chunk))
                if conn in ready:
                    raw = conn.recv(65536)
                    if not raw:
                        return
                    data, _ = codec.feed(raw)
                    if data:
                        process.stdin.write(data)
        except (OSError, ValueError):  # ValueError: drop() closed the socket under select
            return
        finally:
            _stop(process)

    def drop(self) -> None:
        """Close every client connection and stop the boards behind them (the board went away)."""
        with self._lock:
            connections, self._connections = self._connections, []
            processes, self._processes = self._processes, []
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
        for process in processes:
            _stop(process)

    def close(self) -> None:
        """Stop listening and drop every connection."""
        self._stopped = True
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        self.drop()
        self._thread.join(2)


def _stop(process: subprocess.Popen[bytes]) -> None:
    try:
        if process.stdin:
            process.stdin.close()
    except OSError:
        pass
    try:
        process.wait(1)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(2)
    if process.stdout:
        process.stdout.close()
