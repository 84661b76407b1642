r"""The board side of WebREPL, on 127.0.0.1, in front of a real emulated MicroPython board.

A `WebreplServer` runs ``python -m belay_emulator unix --fs DIR`` on pipes and serves one websocket
client at a time, speaking what MicroPython's ``webrepl.py`` and ``modwebrepl.c`` speak on a board:

* the websocket handshake and framing of RFC 6455 (written here: no server package needed);
* ``Password: ``, then ``\r\nWebREPL connected\r\n>>> `` or ``\r\nAccess denied\r\n`` and a closed
  socket (only the first 10 characters typed count, as on the board);
* text frames carry REPL bytes: to the board's stdin, and the board's stdout back (dropped while no
  client is logged in, as the board does);
* binary frames carry the file protocol (put, get, version) on the board's filesystem folder DIR;
  a file that cannot be opened drops the connection, as the exception does on a board;
* a second client is closed at once (``Concurrent WebREPL connection ... rejected``);
* a soft reset (``soft reboot`` in the board's output) drops the connection, as on ESP32/ESP8266
  boards, unless ``drop_on_soft_reset=False``.
"""

from __future__ import annotations

import base64
import hashlib
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Optional

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, BINARY, CLOSE, PING, PONG = 0x1, 0x2, 0x8, 0x9, 0xA
REQUEST = struct.Struct("<2sBBQLH64s")
PUT_FILE, GET_FILE, GET_VERSION = 1, 2, 3
CHUNK = 256
"""Bytes per get chunk, as on the board."""
VERSION = bytes((1, 28, 0))
READY_TIMEOUT = 30.0
"""Seconds the board may take to show its first prompt."""


class _Closed(Exception):
    """The client's socket ended."""


def _recv_exact(conn: socket.socket, size: int) -> bytes:
    out = bytearray()
    while len(out) < size:
        data = conn.recv(size - len(out))
        if not data:
            raise _Closed
        out += data
    return bytes(out)


def _unmask(data: bytes, key: bytes) -> bytes:
    n = len(data)
    pad = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "little") ^ int.from_bytes(pad, "little")).to_bytes(n, "little")


def frame(opcode: int, payload: bytes) -> bytes:
    """One unmasked final frame, as a server sends."""
    n = len(payload)
    if n < 126:
        header = struct.pack(">BB", 0x80 | opcode, n)
    elif n < 1 << 16:
        header = struct.pack(">BBH", 0x80 | opcode, 126, n)
    else:
        header = struct.pack(">BBQ", 0x80 | opcode, 127, n)
    return header + payload


def read_frame(conn: socket.socket) -> tuple[bool, int, bytes]:
    """``(final, opcode, payload)`` of the next frame from a client (unmasked)."""
    b0, b1 = _recv_exact(conn, 2)
    size = b1 & 0x7F
    if size == 126:
        (size,) = struct.unpack(">H", _recv_exact(conn, 2))
    elif size == 127:
        (size,) = struct.unpack(">Q", _recv_exact(conn, 8))
    key = _recv_exact(conn, 4) if b1 & 0x80 else b""
    payload = _recv_exact(conn, size)
    return bool(b0 & 0x80), b0 & 0x0F, _unmask(payload, key) if key else payload


def handshake(conn: socket.socket) -> None:
    """Answer a client's HTTP upgrade request."""
    request = b""
    while b"\r\n\r\n" not in request:
        data = conn.recv(1024)
        if not data:
            raise _Closed
        request += data
    key = b""
    for line in request.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"sec-websocket-key":
            key = value.strip()
    accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
    conn.sendall(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
    )


class _Session:
    """One logged-in (or logging-in) client: password state and the file protocol's state."""

    def __init__(self, server: WebreplServer, conn: socket.socket) -> None:
        self.server = server
        self.conn = conn
        self.send_lock = threading.Lock()
        self.logged_in = False
        self.typed = bytearray()
        self.buffer = bytearray()
        self.op = 0
        self.file: Optional[IO[bytes]] = None
        self.to_receive = 0

    def send(self, opcode: int, payload: bytes) -> None:
        with self.send_lock:
            self.conn.sendall(frame(opcode, payload))

    def drop(self) -> None:
        try:
            self.conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.conn.close()
        if self.file is not None:
            self.file.close()
            self.file = None

    def serve(self) -> None:
        self.send(TEXT, b"Password: ")
        kind = TEXT
        while True:
            _, opcode, payload = read_frame(self.conn)
            if opcode == CLOSE:
                self.send(CLOSE, payload[:2])
                return
            if opcode == PING:
                self.send(PONG, payload)
                continue
            if opcode == PONG:
                continue
            if opcode in (TEXT, BINARY):
                kind = opcode
            if kind == TEXT:
                if not self.text(payload):
                    return
            elif not self.binary(payload):
                return

    def text(self, data: bytes) -> bool:
        if not self.logged_in:
            for index, byte in enumerate(data):
                if byte in b"\r\n":
                    if self.typed.decode(errors="replace") != self.server.password:
                        self.send(TEXT, b"\r\nAccess denied\r\n")
                        return False
                    self.logged_in = True
                    self.server.logins += 1
                    self.send(TEXT, b"\r\nWebREPL connected\r\n>>> ")
                    data = data[index + 1 :]
                    break
                if len(self.typed) < 10:
                    self.typed.append(byte)
            else:
                return True
        if data:
            self.server.to_board(data)
        return True

    def binary(self, data: bytes) -> bool:
        if not self.logged_in:  # a board takes the password from a frame of either kind (modwebrepl.c)
            return self.text(data)
        self.buffer += data
        while True:
            if self.op == 0:
                if len(self.buffer) < REQUEST.size:
                    return True
                signature, op, _, _, size, _, raw_name = REQUEST.unpack(self.buffer[: REQUEST.size])
                del self.buffer[: REQUEST.size]
                if signature != b"WA":
                    return False
                if op == GET_VERSION:
                    self.send(BINARY, VERSION)
                    continue
                name = raw_name.split(b"\0", 1)[0].decode()
                path = self.server.board_path(name)
                try:
                    if path is None:
                        raise OSError("outside the board's filesystem")
                    self.file = open(path, "wb" if op == PUT_FILE else "rb")  # noqa: SIM115
                except OSError:
                    return False  # the board's open() raises inside dupterm: the connection goes
                self.server.file_requests += 1
                self.op = op
                self.to_receive = size
                self.send(BINARY, b"WB\0\0")
                if op == PUT_FILE and size == 0:
                    self.finish()
            elif self.op == PUT_FILE:
                if not self.buffer:
                    return True
                take = bytes(self.buffer[: self.to_receive])
                del self.buffer[: len(take)]
                assert self.file is not None
                self.file.write(take)
                self.to_receive -= len(take)
                if self.to_receive == 0:
                    self.finish()
            else:  # GET_FILE: one zero byte asks for the next chunk
                if not self.buffer:
                    return True
                del self.buffer[:1]
                assert self.file is not None
                chunk = self.file.read(CHUNK)
                self.send(BINARY, struct.pack("<H", len(chunk)) + chunk)
                if not chunk:
                    self.finish()

    def finish(self) -> None:
        assert self.file is not None
        self.file.close()
        self.file = None
        self.op = 0
        self.send(BINARY, b"WB\0\0")


class WebreplServer:
    """A WebREPL on ``ws://127.0.0.1:PORT`` (an ephemeral port) in front of an emulated unix board.

    Parameters
    ----------
    password
        The WebREPL password.
    fs
        The board's filesystem folder (``belay-emulator unix --fs``), also where file requests go.
    drop_on_soft_reset
        Close the client's connection when the board soft-resets, as real boards do.
    """

    def __init__(self, password: str, fs: Path, *, drop_on_soft_reset: bool = True) -> None:
        self.password = password
        self.fs = Path(fs).resolve()
        self.drop_on_soft_reset = drop_on_soft_reset
        self.logins = 0
        self.file_requests = 0
        self.rejected = 0
        self._session: Optional[_Session] = None
        self._lock = threading.Lock()
        self._tail = b""
        self._closed = False
        self.board = subprocess.Popen(
            [sys.executable, "-m", "belay_emulator", "unix", "--fs", str(self.fs)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            bufsize=0,
            start_new_session=True,
        )
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        # Serve once the board shows its prompt, as a board's boot.py starts WebREPL after boot: a Ctrl-C
        # reaching the emulated board while its process starts would end it.
        self._ready = threading.Event()
        threading.Thread(target=self._from_board, daemon=True).start()
        if not self._ready.wait(READY_TIMEOUT):
            self.close()
            raise RuntimeError("the emulated board did not show its prompt")
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        """``ws://127.0.0.1:PORT``."""
        return f"ws://127.0.0.1:{self.port}"

    def board_path(self, name: str) -> Optional[Path]:
        """The host path of board path ``name`` (the board's current directory is ``/``), if inside ``fs``."""
        path = (self.fs / name.lstrip("/")).resolve()
        return path if path == self.fs or self.fs in path.parents else None

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            # A client that just closed may not be gone yet: give its session a moment to end.
            deadline = time.monotonic() + 1.0
            while True:
                with self._lock:
                    busy = self._session is not None
                if not busy or time.monotonic() > deadline:
                    break
                time.sleep(0.01)
            if busy:
                self.rejected += 1
                conn.close()
                continue
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # REPL bytes go out in small frames
            session = _Session(self, conn)
            with self._lock:
                self._session = session
            threading.Thread(target=self._serve, args=(session,), daemon=True).start()

    def _serve(self, session: _Session) -> None:
        try:
            handshake(session.conn)
            session.serve()
        except (_Closed, OSError, ValueError):
            pass
        finally:
            with self._lock:
                if self._session is session:
                    self._session = None
            session.drop()

    def to_board(self, data: bytes) -> None:
        """Write REPL input to the board's stdin."""
        assert self.board.stdin is not None
        try:
            self.board.stdin.write(data)
        except (BrokenPipeError, ValueError):
            pass

    def _from_board(self) -> None:
        assert self.board.stdout is not None
        fd = self.board.stdout.fileno()
        while True:
            try:
                data = os.read(fd, 4096)
            except OSError:
                return
            if not data:
                return
            with self._lock:
                session = self._session
            self._tail = (self._tail + data)[-64:]
            if not self._ready.is_set() and self._tail.endswith(b">>> "):
                self._ready.set()
            reset = b"soft reboot" in self._tail
            if reset:
                self._tail = b""
            if session is None or not session.logged_in:
                continue
            try:
                session.send(TEXT, data)
            except OSError:
                continue
            if reset and self.drop_on_soft_reset:
                self.drop()

    def drop(self) -> None:
        """Close the client's connection abruptly (no close frame), as a board losing Wi-Fi would."""
        with self._lock:
            session, self._session = self._session, None
        if session is not None:
            session.drop()

    def close(self) -> None:
        """Stop serving and stop the board."""
        if self._closed:
            return
        self._closed = True
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread (close alone does not)
        except OSError:
            pass
        self.listener.close()
        self.drop()
        assert self.board.stdin is not None
        try:
            self.board.stdin.close()
        except OSError:
            pass
        try:
            self.board.wait(3)
        except subprocess.TimeoutExpired:
            os.killpg(self.board.pid, signal.SIGKILL)
            self.board.wait(3)
        if self.board.stdout is not None:
            self.board.stdout.close()

    def __enter__(self) -> WebreplServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
