"""A board's WebREPL as the line to it: REPL bytes in text frames, file transfers in binary frames.

The WebREPL protocol, as MicroPython's ``modwebrepl.c`` speaks it on the board:

Login
    The board sends ``Password: ``; the client sends the password and ``\\r``. The board answers
    ``\\r\\nWebREPL connected\\r\\n>>> `` or ``\\r\\nAccess denied\\r\\n`` and closes the connection. The
    board keeps at most 9 characters of a password. A board with a client already connected closes a
    second connection at once.

REPL
    Text frames carry the REPL's bytes both ways (not necessarily valid UTF-8: validation is off).

Files
    Binary frames carry requests: an 82-byte header ``struct.pack("<2sBBQLH64s", b"WA", op, 0, 0, size,
    len(name), name)`` with op 1 (put) or 2 (get); the board answers ``WB`` and a little-endian
    16-bit status (0 is success). A put then sends ``size`` bytes and gets a second status. A get
    sends one zero byte per chunk and receives a 16-bit length and that many bytes (at most 256),
    until a length of 0, then a second status. The board opens the file while reading its input: on
    firmware where opening fails with an exception, the board drops the connection.
"""

from __future__ import annotations

import os
import socket
import struct
import threading
import time
from contextlib import suppress
from typing import Any, Callable, Optional
from urllib.parse import unquote, urlsplit

import websocket

from belay_core.errors import ConnectionLost, DeviceSpecError, DeviceTimeoutError, ProtocolError
from belay_core.transport import Transport
from belay_webrepl.errors import AuthenticationError

DEFAULT_PORT = 8266
PASSWORD_ENV = "BELAY_PASSWORD"
PASSWORD_PROMPT = b"Password: "
CONNECTED = b"WebREPL connected\r\n"
DENIED = b"Access denied"
LOGIN_TIMEOUT = 10.0
"""Default seconds for the websocket handshake and the login."""
WRITE_TIMEOUT = 30.0
"""Default seconds a write may block before the line counts as lost."""
FILE_TIMEOUT = 60.0
"""Default seconds a file transfer may go without progress."""
MAX_NAME = 63
"""Longest board path, in UTF-8 bytes, a file request can carry (the header has 64, NUL-terminated)."""
CLOSE_WAIT = 1.0
"""Seconds `WebreplTransport.close` waits for the board to end the connection after the close frame."""
FRAME_SIZE = 1024
"""Most payload bytes sent in one frame: small boards (the ESP8266) have small socket buffers."""

PUT_FILE, GET_FILE, GET_VERSION = 1, 2, 3
_REQUEST = struct.Struct("<2sBBQLH64s")
_STATUS = struct.Struct("<2sH")


class WebreplTransport(Transport):
    """A MicroPython board's WebREPL: ``ws://[:PASSWORD@]HOST[:PORT][/PATH]`` or ``wss://...``.

    A soft reset ends a WebREPL connection on real boards (the board closes its sockets as it frees the
    heap, and ``boot.py`` starts a new WebREPL server), so `Device` does not soft-reset on connect over
    this transport.

    Parameters
    ----------
    spec
        ``ws://HOST`` (port 8266), ``ws://HOST:PORT``, ``wss://HOST:PORT`` behind a TLS proxy. A
        password may ride in the URL as ``ws://:PASSWORD@HOST`` (percent-encode ``@ : / %``); a bare
        ``ws://PASSWORD@HOST`` works too.
    password
        The WebREPL password. Default: the one in the URL, else the ``BELAY_PASSWORD`` environment
        variable.
    connect_timeout
        Seconds for the websocket handshake and the login (default 10).
    write_timeout
        Seconds a write may block on a board that stopped reading before the line counts as lost
        (default 30).
    sslopt
        Options for ``wss://`` passed to websocket-client (``{"ca_certs": "proxy.pem"}``,
        ``{"cert_reqs": ssl.CERT_NONE}``).
    """

    soft_reset_on_connect = False

    def __init__(
        self,
        spec: str,
        *,
        password: Optional[str] = None,
        connect_timeout: float = LOGIN_TIMEOUT,
        write_timeout: float = WRITE_TIMEOUT,
        sslopt: Optional[dict[str, Any]] = None,
        **options: Any,
    ) -> None:
        if options:
            raise DeviceSpecError(f"webrepl transport: unknown option(s) {', '.join(sorted(options))}")
        super().__init__(spec)
        self.url, self.address, url_password = self.parse(spec)
        self._password = password if password is not None else url_password
        self.login_timeout = connect_timeout
        self.write_timeout = write_timeout
        self.sslopt = sslopt
        self._ws: Optional[websocket.WebSocket] = None
        self._reader: Optional[threading.Thread] = None
        self._cond = threading.Condition()
        self._text = bytearray()
        self._binary = bytearray()
        self._lost: Optional[str] = None
        self._file_lock = threading.Lock()
        self._unsent = b""

    @staticmethod
    def parse(spec: str) -> tuple[str, str, Optional[str]]:
        """Split a spec into the URL to connect to (no password), ``scheme://host:port`` and the password.

        Examples
        --------
        >>> WebreplTransport.parse("ws://:abc%40d@192.168.4.1")
        ('ws://192.168.4.1:8266/', 'ws://192.168.4.1:8266', 'abc@d')
        """
        try:
            parts = urlsplit(spec)
            port = parts.port or DEFAULT_PORT
        except ValueError as exc:
            raise DeviceSpecError(f"invalid WebREPL URL {spec!r}: {exc}") from None
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise DeviceSpecError(f"invalid WebREPL URL {spec!r}: use ws://HOST[:PORT], e.g. ws://192.168.4.1")
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        address = f"{parts.scheme}://{host}:{port}"
        password: Optional[str] = None
        if parts.password is not None:
            password = unquote(parts.password)
        elif parts.username:
            password = unquote(parts.username)
        path = parts.path or "/"
        url = address + path + (f"?{parts.query}" if parts.query else "")
        return url, address, password

    def describe(self) -> str:
        return self.address

    @property
    def password(self) -> Optional[str]:
        """The password to log in with: the ``password`` option, the URL's, or ``BELAY_PASSWORD``."""
        if self._password is not None:
            return self._password
        return os.environ.get(PASSWORD_ENV)

    # ------------------------------------------------------------------------------------------------
    # Line
    # ------------------------------------------------------------------------------------------------

    def open(self) -> None:
        password = self.password
        self.close()
        ws = websocket.WebSocket(skip_utf8_validation=True, sslopt=self.sslopt)
        try:
            ws.connect(self.url, timeout=self.login_timeout, suppress_origin=True)
        except (OSError, websocket.WebSocketException) as exc:
            ws.shutdown()
            dropped = isinstance(exc, (ConnectionResetError, websocket.WebSocketConnectionClosedException))
            hint = " (is another WebREPL client connected? a board serves one)" if dropped else ""
            raise ConnectionLost(f"cannot connect to the WebREPL at {self.address}: {exc}{hint}") from None
        if password is None:  # asked only once the board answered: a refused connection says so first
            ws.shutdown()
            raise AuthenticationError(
                f"{self.address} needs the WebREPL password: set {PASSWORD_ENV}, pass password=..., "
                "or put it in the URL as ws://:PASSWORD@HOST"
            )
        ws.settimeout(self.write_timeout)
        with self._cond:
            self._text.clear()
            self._binary.clear()
            self._lost = None
            self._unsent = b""
        self._ws = ws
        self._reader = threading.Thread(target=self._receive, args=(ws,), name=f"webrepl {self.address}", daemon=True)
        self._reader.start()
        try:
            self._login(password)
        except BaseException:
            self.close()
            raise

    def _login(self, password: str) -> None:
        deadline = time.monotonic() + self.login_timeout
        try:
            self._wait_text(PASSWORD_PROMPT, deadline)
        except ConnectionLost:
            raise ConnectionLost(
                f"{self.address} closed the connection before asking for the password: "
                "is another WebREPL client connected?"
            ) from None
        self.write(password.encode() + b"\r")
        # Text that came before the connection ended is still searched: a refusal is seen, not lost.
        if self._wait_text(CONNECTED, deadline, DENIED) == DENIED:
            hint = " (the board keeps at most 9 characters)" if len(password) > 9 else ""
            raise AuthenticationError(f"{self.address} refused the WebREPL password: Access denied{hint}")

    def _wait_text(self, marker: bytes, deadline: float, other: Optional[bytes] = None) -> bytes:
        """Consume text through ``marker`` (or ``other``) and return which one came."""

        def came() -> Optional[bytes]:
            return next((wanted for wanted in (marker, other) if wanted is not None and wanted in self._text), None)

        with self._cond:
            if not self._wait_for(lambda: came() is not None, deadline):
                seen = bytes(self._text[-100:])
                raise DeviceTimeoutError(
                    f"{self.address} did not answer like a WebREPL (waiting for {marker!r}, received {seen!r})"
                )
            wanted = came()
            assert wanted is not None
            del self._text[: self._text.index(wanted) + len(wanted)]
            return wanted

    def _wait_for(self, ready: Callable[[], bool], deadline: Optional[float]) -> bool:
        """Wait, holding ``self._cond``, until ``ready()``; ``False`` when ``deadline`` passes first.

        Raises
        ------
        ConnectionLost
            When the connection ended or was closed before ``ready()``.
        """
        while not ready():
            if self._lost is not None:
                raise ConnectionLost(self._lost)
            if self._ws is None:
                raise ConnectionLost(f"the WebREPL connection to {self.address} is closed")
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            self._cond.wait(left)
        return True

    def _receive(self, ws: websocket.WebSocket) -> None:
        """Reader thread: sort incoming frames into the text and binary buffers until the socket ends."""
        reason = "the board closed the WebREPL connection"
        try:
            while True:
                try:
                    opcode, data = ws.recv_data()
                except websocket.WebSocketTimeoutException:
                    continue  # an idle board; the frame reader resumes where it was
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    break
                with self._cond:
                    if opcode == websocket.ABNF.OPCODE_TEXT:
                        self._text += data
                    elif opcode == websocket.ABNF.OPCODE_BINARY:
                        self._binary += data
                    self._cond.notify_all()
        except websocket.WebSocketConnectionClosedException:
            pass
        except (OSError, websocket.WebSocketException) as exc:
            reason = f"the WebREPL connection failed ({exc})"
        finally:
            with self._cond:
                if self._lost is None:
                    self._lost = f"{reason}: {self.address}"
                self._cond.notify_all()

    def read(self, size: int, timeout: Optional[float]) -> bytes:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            if not self._wait_for(lambda: bool(self._text), deadline):
                return b""
            data = bytes(self._text[:size])
            del self._text[:size]
            return data

    def write(self, data: bytes) -> None:
        self._send(data, websocket.ABNF.OPCODE_TEXT)

    def write_within(self, data: bytes, timeout: float) -> bool:
        return self._send(data, websocket.ABNF.OPCODE_TEXT, time.monotonic() + timeout)

    def _send(self, data: bytes, opcode: int, deadline: Optional[float] = None) -> bool:
        """Send ``data`` in frames; ``False`` when ``deadline`` passed first.

        Each send waits at most ``write_timeout`` (then the line counts as lost) or until ``deadline``.
        A frame cut short by the deadline is finished by the next write, so the websocket stream stays
        whole for the interrupt that follows a timeout.
        """
        ws = self._ws
        if ws is None or self._lost is not None:
            raise ConnectionLost(self._lost or f"the WebREPL connection to {self.address} is closed")
        frames = [
            websocket.ABNF.create_frame(data[at : at + FRAME_SIZE], opcode).format()
            for at in range(0, len(data), FRAME_SIZE)
        ]
        with ws.lock:  # the reader thread answers pings through the same socket
            sock = ws.sock
            if sock is None:
                raise ConnectionLost(f"the WebREPL connection to {self.address} is closed")
            try:
                if self._unsent:  # the rest of a frame a deadline cut short
                    self._unsent = self._send_raw(sock, self._unsent, None)
                for raw in frames:
                    self._unsent = self._send_raw(sock, raw, deadline)
                    if self._unsent:
                        return False
            except (OSError, websocket.WebSocketException) as exc:
                raise ConnectionLost(f"writing to the WebREPL at {self.address} failed ({exc})") from None
            finally:
                with suppress(OSError):  # a socket closed meanwhile (the line is lost: said above)
                    sock.settimeout(self.write_timeout)
        return True

    def _send_raw(self, sock: socket.socket, raw: bytes, deadline: Optional[float]) -> bytes:
        """Send ``raw``; return what is left unsent when ``deadline`` passed (``b""`` once all went)."""
        view = memoryview(raw)
        while view:
            left = self.write_timeout if deadline is None else min(self.write_timeout, deadline - time.monotonic())
            if left <= 0:
                return bytes(view)
            sock.settimeout(left)
            try:
                view = view[sock.send(view) :]
            except socket.timeout:
                if deadline is None or time.monotonic() < deadline:
                    raise ConnectionLost(
                        f"the WebREPL at {self.address} stopped reading for {self.write_timeout:g} s"
                    ) from None
                return bytes(view)
        return b""

    def close(self) -> None:
        ws, self._ws = self._ws, None
        if ws is None:
            return
        reader, self._reader = self._reader, None
        try:
            if self._lost is None:
                ws.send_close()
                if reader is not None and reader is not threading.current_thread():
                    reader.join(CLOSE_WAIT)  # the board answers, or drops the connection
        except (OSError, websocket.WebSocketException):
            pass
        try:
            if ws.sock is not None:
                ws.sock.shutdown(socket.SHUT_RDWR)  # wakes the reader thread
        except OSError:
            pass
        ws.shutdown()
        if reader is not None and reader is not threading.current_thread():
            reader.join(CLOSE_WAIT)

    # ------------------------------------------------------------------------------------------------
    # Files
    # ------------------------------------------------------------------------------------------------

    def put_file(self, remote: str, data: bytes, timeout: Optional[float] = FILE_TIMEOUT) -> None:
        """Write ``data`` to the board file ``remote`` with WebREPL's binary put.

        The board must be waiting for input (idle at a REPL prompt), as it is between `Device` calls.

        Parameters
        ----------
        remote
            The board path; its directory must exist. At most 63 bytes in UTF-8.
        data
            The file's new contents.
        timeout
            Seconds to wait for each answer; ``None`` waits forever.

        Raises
        ------
        ProtocolError
            When the board answers with an error status or something else than the protocol allows.
        ConnectionLost
            When the board drops the connection (firmware that fails to open the file does).
        """
        data = bytes(data)
        with self._file_lock:
            self._discard_binary()
            header = self._request(PUT_FILE, remote, len(data))
            # The board reads a request's first bytes on their own; send them apart, as MicroPython's client does.
            self._send(header[:10], websocket.ABNF.OPCODE_BINARY)
            self._send(header[10:], websocket.ABNF.OPCODE_BINARY)
            self._check_status(remote, "put", timeout)
            self._send(data, websocket.ABNF.OPCODE_BINARY)
            self._check_status(remote, "put", timeout)

    def get_file(self, remote: str, timeout: Optional[float] = FILE_TIMEOUT) -> bytes:
        """Read the board file ``remote`` with WebREPL's binary get (256 bytes per round trip).

        Parameters
        ----------
        remote
            The board path; it must be an existing file. At most 63 bytes in UTF-8.
        timeout
            Seconds to wait for each answer; ``None`` waits forever.

        Returns
        -------
        bytes
            The file's contents.

        Raises
        ------
        ProtocolError
            When the board answers with an error status or something else than the protocol allows.
        ConnectionLost
            When the board drops the connection (firmware that fails to open the file does).
        """
        with self._file_lock:
            self._discard_binary()
            self._send(self._request(GET_FILE, remote, 0), websocket.ABNF.OPCODE_BINARY)
            self._check_status(remote, "get", timeout)
            out = bytearray()
            while True:
                self._send(b"\x00", websocket.ABNF.OPCODE_BINARY)
                (size,) = struct.unpack("<H", self._read_binary(2, timeout))
                if size == 0:
                    break
                out += self._read_binary(size, timeout)
            self._check_status(remote, "get", timeout)
            return bytes(out)

    def get_version(self, timeout: Optional[float] = LOGIN_TIMEOUT) -> tuple[int, int, int]:
        """The board's MicroPython version ``(major, minor, micro)``, from WebREPL's version request."""
        with self._file_lock:
            self._discard_binary()
            self._send(self._request(GET_VERSION, "", 0), websocket.ABNF.OPCODE_BINARY)
            major, minor, micro = self._read_binary(3, timeout)
            return major, minor, micro

    @staticmethod
    def _request(op: int, remote: str, size: int) -> bytes:
        name = remote.encode()
        if len(name) > MAX_NAME:
            raise ValueError(f"board path {remote!r} is too long for WebREPL: at most {MAX_NAME} bytes in UTF-8")
        if size >= 1 << 32:
            raise ValueError(f"{size} bytes is too large for one WebREPL put (under 4 GiB)")
        return _REQUEST.pack(b"WA", op, 0, 0, size, len(name), name)

    def _check_status(self, remote: str, what: str, timeout: Optional[float]) -> None:
        signature, status = _STATUS.unpack(self._read_binary(4, timeout))
        if signature != b"WB":
            raise ProtocolError(f"{self.address} answered a WebREPL {what} of {remote!r} with {signature!r}")
        if status != 0:
            raise ProtocolError(f"{self.address} failed the WebREPL {what} of {remote!r} (status {status})")

    def _discard_binary(self) -> None:
        with self._cond:
            self._binary.clear()

    def _read_binary(self, size: int, timeout: Optional[float]) -> bytes:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            if not self._wait_for(lambda: len(self._binary) >= size, deadline):
                raise DeviceTimeoutError(f"{self.address} did not answer a WebREPL file request in {timeout:g} s")
            data = bytes(self._binary[:size])
            del self._binary[:size]
            return data
