"""``belay serve``: one attached board, for other machines, on stdin/stdout or a TCP port.

The board's line is opened once and relayed byte for byte; the client's Belay speaks the raw REPL
through it, so the board keeps its state from one client to the next.

- **stdin/stdout** (the default): for ``exec:ssh HOST belay serve -d /dev/ttyACM0`` on the client.
  Nothing but the board's bytes goes to stdout; the relay ends with stdin.
- **TCP** (``--port``): a telnet server like MicroPython's own (``Login as:``, ``Password:``, then the
  board), so the client is belay-telnet's ``telnet://USER:PASSWORD@HOST:PORT`` (any user name). Bound
  to 127.0.0.1 unless ``--host`` says otherwise; a password is required (a random one is made and shown
  when none is given). One client at a time: another connection is told in one line that the board is
  busy, and closed. 0xFF data bytes travel as ``IAC IAC``, as the telnet client sends and expects.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import secrets
import select
import socket
import sys
import threading
import time
from typing import Any, Optional

import click

from belay_core.commands.options import resolve_spec, spec_option
from belay_telnet.protocol import TelnetCodec, escape

READ = 4096
LOGIN_TIMEOUT = 30.0
"""Seconds a TCP client has to log in."""
BUSY_GRACE = 1.0
"""Seconds a new client waits for the slot of one that just left before it is refused."""
SEND_TIMEOUT = 30.0
"""Seconds board output may wait on a client that does not read it, before that client is dropped."""


@click.command("serve")
@spec_option
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Serve on this TCP port (0: any free one).")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="The address to listen on with --port (0.0.0.0: every interface).",
)
@click.option(
    "--password",
    envvar="BELAY_SERVE_PASSWORD",
    show_envvar=True,
    default=None,
    help="What TCP clients must give (default: a random one, shown at start).",
)
@click.option("--board-password", default=None, help="The board's own password (a WebREPL board).")
def serve(
    spec: Optional[str], port: Optional[int], host: str, password: Optional[str], board_password: Optional[str]
) -> None:
    """Serve one board to other machines: on stdin/stdout, or a TCP port with --port.

    \b
    On the machine the board is on:
      belay serve -d /dev/ttyACM0                    # for: exec:ssh HOST belay serve -d /dev/ttyACM0
      belay serve -d /dev/ttyACM0 --port 8266 --host 0.0.0.0 --password s3cret
    and elsewhere, Device("telnet://belay:s3cret@HOST:8266") or belay -d telnet://belay:s3cret@HOST:8266 ...

    The board stays connected between clients, so its state carries over; one client at a time.
    """
    from belay_core.commands.console import reporting
    from belay_core.plugins import open_transport

    options: dict[str, Any] = {} if board_password is None else {"password": board_password}
    with reporting():
        target = resolve_spec(spec) or ""
        transport = open_transport(target, **options)
        transport.open()
        try:
            if port is None:
                code = _serve_stdio(transport)
            else:
                if password == "":
                    raise click.UsageError("--password cannot be empty: TCP clients must give one")
                code = _serve_tcp(transport, target, host, port, password)
        except KeyboardInterrupt:
            click.echo("belay serve: stopped", err=True)
            code = 130
        finally:
            transport.close()
    sys.exit(code)


def _lost(exc: BaseException) -> str:
    return f"belay serve: lost the board: {exc}"


def _serve_stdio(transport: Any) -> int:
    """Relay stdin to the board and the board to stdout until stdin ends; 0, or 1 when the board is lost."""
    out = sys.stdout.buffer
    lost: list[BaseException] = []
    stop = threading.Event()

    def board_to_stdout() -> None:
        try:
            while not stop.is_set():
                data = transport.read(READ, 0.2)
                if data:
                    out.write(data)
                    out.flush()
        except Exception as exc:  # the line died, or stdout closed
            if not stop.is_set():
                lost.append(exc)

    reader = threading.Thread(target=board_to_stdout, name="belay serve board", daemon=True)
    reader.start()
    try:
        while not lost:
            ready, _, _ = select.select([0], [], [], 0.2)  # a lost board ends the relay without more input
            if not ready:
                continue
            data = os.read(0, READ)
            if not data:
                break
            transport.write(data)
    except Exception as exc:
        lost.append(exc)
    finally:
        stop.set()
        reader.join(1.0)
    if lost:
        click.echo(_lost(lost[0]), err=True)
        return 1
    return 0


class _Server:
    """The TCP side: one logged-in client at a time, relayed to the board."""

    def __init__(self, transport: Any, password: str) -> None:
        self.transport = transport
        self.password = password.encode()
        self.lock = threading.Lock()
        self.client: Optional[socket.socket] = None
        self.client_name = ""
        self.lost: Optional[BaseException] = None
        self.stop = threading.Event()

    def claim(self, name: str) -> str:
        """Take the one client slot for ``name``; who has it when it stays taken.

        A client that just closed may not be gone yet on this side: the slot gets `BUSY_GRACE` seconds
        to free before the newcomer is refused.
        """
        deadline = time.monotonic() + BUSY_GRACE
        while True:
            with self.lock:
                if not self.client_name:
                    self.client_name = name
                    return ""
                busy = self.client_name
            if time.monotonic() >= deadline:
                return busy
            time.sleep(0.02)

    def board_to_client(self) -> None:
        """Board output goes to the client logged in, if any (else it is dropped, as a closed terminal would)."""
        try:
            while not self.stop.is_set():
                data = self.transport.read(READ, 0.2)
                client = self.client
                if data and client is not None:
                    try:
                        client.sendall(escape(data))
                    except OSError:  # it stopped reading, or is going: let it go
                        with contextlib.suppress(OSError):
                            client.shutdown(socket.SHUT_RDWR)
        except Exception as exc:
            self.lost = exc
            self.stop.set()

    def welcome(self, conn: socket.socket, name: str) -> None:
        """Log a client in, then relay its bytes to the board until it leaves."""
        codec = TelnetCodec()
        try:
            conn.settimeout(LOGIN_TIMEOUT)
            lines = _Lines(conn, codec)
            conn.sendall(b"Login as: ")
            lines.next()
            conn.sendall(b"Password: ")
            given = lines.next()
            if given is None or not hmac.compare_digest(given, self.password):
                conn.sendall(b"\r\nLogin failed\r\n")
                click.echo(f"belay serve: {name} gave a wrong password", err=True)
                return
            conn.settimeout(SEND_TIMEOUT)  # a client that stops reading is dropped, not waited on
            self.client = conn
            conn.sendall(b"\r\nLogin succeeded!\r\n")
            click.echo(f"belay serve: {name} connected", err=True)
            early = lines.rest()
            if early:
                self.transport.write(early)
            while not self.stop.is_set():
                ready, _, _ = select.select([conn], [], [], 0.2)
                if not ready:
                    continue
                raw = conn.recv(READ)
                if not raw:
                    break
                data, replies = codec.feed(raw)
                if replies:
                    conn.sendall(replies)
                if data:
                    self.transport.write(data)
        except OSError:
            pass
        except Exception as exc:  # the board's line
            self.lost = exc
            self.stop.set()
        finally:
            with self.lock:
                if self.client is conn:
                    self.client = None
                    click.echo(f"belay serve: {name} left", err=True)
                self.client_name = ""
            conn.close()


class _Lines:
    """The lines a client types while logging in (empty ones skipped: ``\\r\\n`` may come in two pieces)."""

    def __init__(self, conn: socket.socket, codec: TelnetCodec) -> None:
        self.conn = conn
        self.codec = codec
        self.buffer = bytearray()

    def next(self) -> Optional[bytes]:
        """The next line (without its end), or ``None`` when the client left or sent too much first."""
        while True:
            self.buffer[:] = self.buffer.lstrip(b"\r\n")
            ends = [at for at in (self.buffer.find(b"\r"), self.buffer.find(b"\n")) if at >= 0]
            if ends:
                line = bytes(self.buffer[: min(ends)])
                del self.buffer[: min(ends)]
                return line
            if len(self.buffer) > 1024:
                return None
            raw = self.conn.recv(256)
            if not raw:
                return None
            data, replies = self.codec.feed(raw)
            if replies:
                self.conn.sendall(replies)
            self.buffer += data

    def rest(self) -> bytes:
        """What came after the last line: the start of the client's session."""
        rest = bytes(self.buffer.lstrip(b"\r\n"))
        self.buffer.clear()
        return rest


def _serve_tcp(transport: Any, target: str, host: str, port: int, password: Optional[str]) -> int:
    shown = password is None
    password = password or secrets.token_urlsafe(12)
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listener = socket.create_server((host, port), family=family)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    bound_host, bound_port = listener.getsockname()[:2]
    told = f"password: {password}" if shown else "password from --password or BELAY_SERVE_PASSWORD"
    click.echo(f"Serving {target} on {bound_host}:{bound_port} ({told}). Ctrl-C stops.", err=True)
    server = _Server(transport, password)
    threading.Thread(target=server.board_to_client, name="belay serve board", daemon=True).start()
    listener.settimeout(0.2)
    with listener:
        while not server.stop.is_set():
            try:
                conn, address = listener.accept()
            except socket.timeout:
                continue
            name = f"{address[0]}:{address[1]}"
            busy = server.claim(name)
            if busy:
                try:
                    conn.sendall(f"belay serve: the board is busy, in use by {busy}\r\n".encode())
                except OSError:
                    pass
                conn.close()
                click.echo(f"belay serve: refused {name}: the board is in use by {busy}", err=True)
                continue
            threading.Thread(target=server.welcome, args=(conn, name), name=f"belay serve {name}", daemon=True).start()
    client = server.client
    if client is not None:
        client.close()
    if server.lost is not None:
        click.echo(_lost(server.lost), err=True)
        return 1
    return 0


__all__ = ["serve"]
