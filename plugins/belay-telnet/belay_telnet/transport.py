"""A board's telnet REPL over TCP as the line to the board."""

from __future__ import annotations

import os
import re
import select
import socket
import time
from typing import Any, Optional
from urllib.parse import unquote, urlsplit

from attrs import define

from belay_core.errors import ConnectionLost, DeviceSpecError
from belay_core.transport import Transport
from belay_telnet.errors import AuthenticationError
from belay_telnet.protocol import TelnetCodec, escape

PREFIX = "telnet://"
DEFAULT_PORT = 23
DEFAULT_USER = "micro"
DEFAULT_PASSWORD = "python"  # MicroPython's documented default
USER_PROMPT = b"Login as:"
PASSWORD_PROMPT = b"Password:"
SUCCESS_MARKERS = (b"Login succeeded", b"for more information", b">>> ", b"raw REPL")
"""What a board prints once the password is accepted (WiPy: ``Login succeeded!``, then the banner)."""
FAILURE_MARKERS = (b"Login failed", b"Invalid credentials", b"Login incorrect", USER_PROMPT, PASSWORD_PROMPT)
"""What a board prints when it refuses: a message, or the prompts again."""
REPL_MARKERS = (b">>> ", b"raw REPL")
"""A REPL already talking: the server asks for no login."""
PASSWORD_PAUSE = 0.2
"""Seconds to wait after the password prompt: WiPy's server drops input that arrives with its prompt."""

_BARE = re.compile(r"^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$")


@define
class Address:
    """Where to connect, and the credentials the spec carried.

    Parameters
    ----------
    host, port
        The server.
    user, password
        From ``telnet://user:password@host``; ``None`` when absent.
    """

    host: str
    port: int
    user: Optional[str] = None
    password: Optional[str] = None

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse_spec(spec: str) -> Address:
    """The address in ``telnet://[user[:password]@]host[:port]`` or bare ``a.b.c.d[:port]``.

    Raises
    ------
    DeviceSpecError
        When the spec is not one of these forms (a bare spec must be an IPv4 address).

    Examples
    --------
    >>> parse_spec("192.168.4.1")
    Address(host='192.168.4.1', port=23, user=None, password=None)
    >>> parse_spec("telnet://micro:secret@board.local:2323")
    Address(host='board.local', port=2323, user='micro', password='secret')
    """
    if spec.startswith(PREFIX):
        try:
            parts = urlsplit(spec)
            port = parts.port
        except ValueError as exc:
            raise DeviceSpecError(f"invalid telnet spec {spec!r}: {exc}") from None
        if not parts.hostname:
            raise DeviceSpecError(f"telnet spec {spec!r} names no host: use telnet://HOST[:PORT]")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise DeviceSpecError(f"telnet spec {spec!r} has more than telnet://[USER[:PASSWORD]@]HOST[:PORT]")
        user = unquote(parts.username) if parts.username is not None else None
        password = unquote(parts.password) if parts.password is not None else None
        return Address(parts.hostname, DEFAULT_PORT if port is None else port, user or None, password)
    match = _BARE.match(spec)
    if not match or any(int(octet) > 255 for octet in match.group(1).split(".")):
        raise DeviceSpecError(
            f"{spec!r} is not a device spec the telnet transport knows: give an IPv4 address a.b.c.d[:PORT] "
            "or telnet://HOST[:PORT]"
        )
    port = int(match.group(2)) if match.group(2) else DEFAULT_PORT
    if not 0 < port < 65536:
        raise DeviceSpecError(f"port {port} in {spec!r} is out of range 1-65535")
    return Address(match.group(1), port)


class TelnetTransport(Transport):
    """A board's telnet server (WiPy, ESP32/ESP8266 builds with ``network.telnet`` and alike).

    Logs in like MicroPython's telnet servers ask: ``Login as:`` then ``Password:``. Credentials come
    from the options, else the spec (``telnet://user:password@host``), else ``BELAY_USER`` and
    ``BELAY_PASSWORD``, else MicroPython's defaults ``micro`` / ``python``.

    Parameters
    ----------
    spec
        ``"telnet://[user[:password]@]host[:port]"`` or ``"a.b.c.d[:port]"``; the port defaults to 23.
    user, password
        Login credentials.
    login
        ``True`` (default) expects the prompts and fails without them; ``False`` skips the handshake
        (a server that asks none); ``None`` logs in when prompted and goes on when a REPL prompt or
        nothing comes.
    connect_timeout
        Seconds for the TCP connection and for each step of the login.
    write_timeout
        Seconds a write may block on a full network buffer before the line counts as lost.
    """

    def __init__(
        self,
        spec: str,
        *,
        user: Optional[str] = None,
        password: Optional[str] = None,
        login: Optional[bool] = True,
        connect_timeout: float = 10.0,
        write_timeout: float = 30.0,
        **options: Any,
    ) -> None:
        if options:
            raise DeviceSpecError(f"telnet transport: unknown option(s) {', '.join(sorted(options))}")
        super().__init__(spec)
        self.address = parse_spec(spec)
        self.user = _first(user, self.address.user, os.environ.get("BELAY_USER"), DEFAULT_USER)
        self.password = _first(password, self.address.password, os.environ.get("BELAY_PASSWORD"), DEFAULT_PASSWORD)
        self.login = login
        self.connect_timeout = connect_timeout
        self.write_timeout = write_timeout
        self.codec = TelnetCodec()
        self.sock: Optional[socket.socket] = None
        self._pending = bytearray()

    def describe(self) -> str:
        return f"telnet {self.address}"

    # ------------------------------------------------------------------------------------------------
    # Opening and logging in
    # ------------------------------------------------------------------------------------------------

    def open(self) -> None:
        self.close()
        self.codec.reset()
        self._pending.clear()
        try:
            sock = socket.create_connection((self.address.host, self.address.port), timeout=self.connect_timeout)
        except socket.timeout:
            raise ConnectionLost(
                f"cannot connect to {self.address}: no answer within {self.connect_timeout:g} s"
            ) from None
        except ConnectionRefusedError:
            raise ConnectionLost(
                f"cannot connect to {self.address}: connection refused (is the board's telnet server running?)"
            ) from None
        except OSError as exc:
            raise ConnectionLost(f"cannot connect to {self.address}: {exc.strerror or exc}") from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # the raw REPL is many small writes
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        sock.settimeout(self.write_timeout)  # reads wait in select; this bounds blocking writes
        self.sock = sock
        try:
            if self.login is not False:
                self._log_in()
        except BaseException:
            self.close()
            raise

    def _log_in(self) -> None:
        seen = bytearray()
        wanted = (USER_PROMPT,) if self.login else (USER_PROMPT, *REPL_MARKERS)
        found = self._expect(seen, wanted, "the login prompt", optional=self.login is None)
        if found != USER_PROMPT:
            self._pending[:0] = seen  # login=None: a REPL answered, or nothing did; its bytes stay readable
            return
        seen.clear()
        self.write(self.user.encode() + b"\r\n")
        self._expect(seen, (PASSWORD_PROMPT, *FAILURE_MARKERS[:3]), "the password prompt")
        if PASSWORD_PROMPT not in seen:
            raise AuthenticationError(f"{self.address} refused the user {self.user!r}: {_tail(seen)}")
        seen.clear()
        time.sleep(PASSWORD_PAUSE)
        self.write(self.password.encode() + b"\r\n")
        found = self._expect(seen, (*SUCCESS_MARKERS, *FAILURE_MARKERS), "an answer to the password")
        if found in FAILURE_MARKERS:
            raise AuthenticationError(
                f"{self.address} refused the login as {self.user!r}: {_tail(seen)}. "
                "Give user= and password= to Device, telnet://USER:PASSWORD@HOST, or BELAY_USER/BELAY_PASSWORD."
            )

    def _expect(self, seen: bytearray, markers: tuple[bytes, ...], what: str, *, optional: bool = False) -> bytes:
        """Read into ``seen`` until one of ``markers`` appears; return the one that appeared first."""
        deadline = time.monotonic() + self.connect_timeout
        while True:
            hits = [(seen.find(marker), marker) for marker in markers if marker in seen]
            if hits:
                return min(hits)[1]
            left = deadline - time.monotonic()
            try:
                chunk = self.read(4096, left) if left > 0 else b""
            except ConnectionLost:
                if not seen:
                    raise
                # What a server says as it hangs up ("belay serve: the board is busy, ...") is the reason.
                raise ConnectionLost(f"{self.address} closed the connection: {_tail(seen)}") from None
            if not chunk:
                if optional:
                    return b""
                raise ConnectionLost(
                    f"{self.address} did not send {what} within {self.connect_timeout:g} s (received {_tail(seen)}). "
                    "Is it a MicroPython telnet server? login=False skips the login."
                )
            seen += chunk

    # ------------------------------------------------------------------------------------------------
    # The byte stream
    # ------------------------------------------------------------------------------------------------

    def read(self, size: int, timeout: Optional[float]) -> bytes:
        sock = self._require()
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._pending:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                ready, _, _ = select.select([sock], [], [], left)
            except (OSError, ValueError) as exc:
                raise ConnectionLost(f"reading from {self.address} failed: {exc}") from None
            if not ready:
                return b""
            try:
                raw = sock.recv(max(size, 4096))
            except (socket.timeout, BlockingIOError):
                continue
            except OSError as exc:
                raise ConnectionLost(f"reading from {self.address} failed: {exc.strerror or exc}") from None
            if not raw:
                raise ConnectionLost(f"{self.address} closed the connection")
            data, replies = self.codec.feed(raw)
            if replies:
                self._send(replies)
            self._pending += data
            if not self._pending and deadline is not None and time.monotonic() >= deadline:
                return b""
        data = bytes(self._pending[:size])
        del self._pending[:size]
        return data

    def write(self, data: bytes) -> None:
        self._send(escape(data))

    def write_within(self, data: bytes, timeout: float) -> bool:
        if timeout >= self.write_timeout:
            self._send(escape(data))
            return True
        sock = self._require()
        sock.settimeout(max(timeout, 0.001))  # the call's deadline comes first
        try:
            sock.sendall(escape(data))
        except socket.timeout:
            return False
        except OSError as exc:
            raise ConnectionLost(f"writing to {self.address} failed: {exc.strerror or exc}") from None
        finally:
            if self.sock is sock:
                sock.settimeout(self.write_timeout)
        return True

    def _send(self, raw: bytes) -> None:
        sock = self._require()
        try:
            sock.sendall(raw)
        except socket.timeout:
            raise ConnectionLost(
                f"writing to {self.address} blocked for {self.write_timeout:g} s: the board stopped reading"
            ) from None
        except OSError as exc:
            raise ConnectionLost(f"writing to {self.address} failed: {exc.strerror or exc}") from None

    def _require(self) -> socket.socket:
        if self.sock is None:
            raise ConnectionLost(f"{self.describe()} is not open")
        return self.sock

    def close(self) -> None:
        sock, self.sock = self.sock, None
        if sock is None:
            return
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()


def _first(*values: Optional[str]) -> str:
    return next(value for value in values if value is not None)


def _tail(seen: bytes) -> str:
    text = bytes(seen[-120:]).decode(errors="replace").strip()
    return repr(text) if text else "nothing"
