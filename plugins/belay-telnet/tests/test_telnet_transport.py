"""The telnet transport against a real TCP telnet server in front of an emulated board."""

from __future__ import annotations

import io
import socket
import threading

import pytest
from click.testing import CliRunner

from belay_core import ConnectionLost, Device, DeviceError, DeviceSpecError
from belay_core.cli import cli
from belay_core.plugins import get_plugins
from belay_telnet import AuthenticationError
from belay_telnet.protocol import DONT, ECHO, IAC, WONT
from belay_telnet.transport import TelnetTransport, parse_spec


def test_exec_tasks_and_errors_through_the_server(telnet_server):
    with Device(telnet_server.spec) as device:
        assert device("1 + 2") == 3
        assert device.implementation.platform == "linux"

        @device.task
        def add(a, b=2):
            return a + b

        assert add(40) == 42
        with pytest.raises(DeviceError, match="ZeroDivisionError"):
            device("1 / 0")
        assert device("'still usable'") == "still usable"
    assert telnet_server.logins == [("micro", "python")]


def test_the_client_refuses_the_servers_options(telnet_server):
    with Device(telnet_server.spec) as device:
        assert device("0") == 0
    replies = bytes(telnet_server.client_replies)
    assert bytes((IAC, DONT, ECHO)) in replies  # WILL ECHO refused
    assert bytes((IAC, WONT, 24)) in replies  # DO TERMINAL-TYPE refused


def test_bytes_ff_survive_both_ways(make_telnet_server):
    telnet_server = make_telnet_server(chatty=True)  # IAC NOP and WILL ECHO between output chunks too
    out = io.StringIO()
    with Device(telnet_server.spec, stream_out=out) as device:
        assert device("bytes([255, 0, 255])") == b"\xff\x00\xff"

        @device.task
        def shout(text):
            print(text)
            return text

        assert shout("\xff\xfe y\xff") == "\xff\xfe y\xff"
        assert "\xff\xfe y\xff" in out.getvalue()
        # Raw 0xFF bytes from the board itself: they cross the line as IAC IAC.
        device("import sys; sys.stdout.buffer.write(bytes([255, 65, 255]))")
        assert "\ufffdA\ufffd" in out.getvalue()  # one byte 255 each side of the A, decoded as undecodable
        assert "\ufffd\ufffd" not in out.getvalue()  # not IAC IAC left doubled


def test_raw_ff_bytes_round_trip_through_the_transport(telnet_server):
    transport = TelnetTransport(telnet_server.spec)
    transport.open()
    try:
        transport.write(b"\r\x03\x03\x01")
        seen = b""
        while b"raw REPL" not in seen or not seen.endswith(b">"):
            seen += transport.read(4096, 5)
        transport.write(b"import sys; sys.stdout.buffer.write(bytes([255, 0, 255, 255]))\x04")
        got = b""
        while got.count(b"\x04") < 2:
            chunk = transport.read(4096, 5)
            assert chunk, got
            got += chunk
        assert got.startswith(b"OK\xff\x00\xff\xff\x04")
    finally:
        transport.close()


def test_wrong_password_is_an_authentication_error(make_telnet_server):
    telnet_server = make_telnet_server(password="secret")
    with pytest.raises(AuthenticationError, match="Login failed"):
        Device(telnet_server.spec)


def test_reprompt_after_wrong_credentials_is_an_authentication_error(make_telnet_server):
    telnet_server = make_telnet_server(on_failure="reprompt")
    with pytest.raises(AuthenticationError, match="refused the login as 'nobody'"):
        Device(telnet_server.spec, user="nobody")


def test_credentials_from_options(make_telnet_server):
    telnet_server = make_telnet_server(user="admin", password="pw")
    with Device(telnet_server.spec, user="admin", password="pw") as device:
        assert device("2 * 21") == 42
    assert telnet_server.logins == [("admin", "pw")]


def test_credentials_from_the_environment(make_telnet_server, monkeypatch):
    telnet_server = make_telnet_server(user="env-user", password="env-pw")
    monkeypatch.setenv("BELAY_USER", "env-user")
    monkeypatch.setenv("BELAY_PASSWORD", "env-pw")
    with Device(telnet_server.spec) as device:
        assert device("7") == 7


def test_credentials_from_the_url_with_percent_escapes(make_telnet_server):
    telnet_server = make_telnet_server(user="me", password="p@ss:word")
    with Device(f"telnet://me:p%40ss%3Aword@127.0.0.1:{telnet_server.port}") as device:
        assert device("8") == 8


def test_options_win_over_url_and_url_over_environment(monkeypatch):
    monkeypatch.setenv("BELAY_USER", "env-user")
    monkeypatch.setenv("BELAY_PASSWORD", "env-pw")
    transport = TelnetTransport("telnet://url-user:url-pw@127.0.0.1:9", password="opt-pw")
    assert (transport.user, transport.password) == ("url-user", "opt-pw")
    transport = TelnetTransport("10.0.0.1")
    assert (transport.user, transport.password) == ("env-user", "env-pw")
    monkeypatch.delenv("BELAY_USER")
    monkeypatch.delenv("BELAY_PASSWORD")
    assert (TelnetTransport("10.0.0.1").user, TelnetTransport("10.0.0.1").password) == ("micro", "python")


def test_bare_ipv4_spec_with_port_works(telnet_server):
    assert get_plugins().transport_for(f"127.0.0.1:{telnet_server.port}").name == "telnet"
    with Device(f"127.0.0.1:{telnet_server.port}") as device:
        assert device("3") == 3


def test_spec_forms():
    assert str(parse_spec("192.168.4.1")) == "192.168.4.1:23"
    assert str(parse_spec("telnet://board.local")) == "board.local:23"
    assert str(parse_spec("telnet://[::1]:2323")) == "[::1]:2323"
    for bad in ("1234", "300.1.1.1", "1.2.3.4:99999", "1.2.3", "telnet://", "telnet://host/path"):
        with pytest.raises(DeviceSpecError):
            parse_spec(bad)


def test_bare_digits_that_are_no_address_get_a_clear_error():
    with pytest.raises(DeviceSpecError, match="IPv4 address"):
        Device("1234")


def test_unknown_option_is_rejected():
    with pytest.raises(DeviceSpecError, match="baudrate"):
        TelnetTransport("telnet://127.0.0.1", baudrate=9600)


def test_server_closing_is_connection_lost(telnet_server):
    device = Device(telnet_server.spec)
    try:
        assert device("1") == 1
        telnet_server.drop()
        with pytest.raises(ConnectionLost, match=r"closed the connection|failed"):
            device("2")
    finally:
        device.close()


def test_refused_connection_names_host_and_port(free_port):
    with pytest.raises(ConnectionLost, match=f"127.0.0.1:{free_port}: connection refused"):
        Device(f"telnet://127.0.0.1:{free_port}")


def test_silent_server_times_out_waiting_for_the_login_prompt():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        with pytest.raises(ConnectionLost, match=r"127\.0\.0\.1:\d+ did not send the login prompt within 0\.3 s"):
            Device(f"telnet://127.0.0.1:{port}", connect_timeout=0.3)


def test_server_without_login_with_login_none():
    # A server that asks no login and talks straight to a "REPL": login=None goes on without the prompts.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]

        def serve():
            conn, _ = listener.accept()
            with conn:
                conn.sendall(b"MicroPython\r\n>>> ")
                conn.recv(100)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        transport = TelnetTransport(f"telnet://127.0.0.1:{port}", login=None, connect_timeout=5)
        transport.open()
        try:
            assert transport.read(100, 5).endswith(b">>> ")
            transport.write(b"x")
        finally:
            transport.close()
        thread.join(5)


def test_belay_exec_over_telnet(telnet_server):
    result = CliRunner().invoke(cli, ["exec", "-d", telnet_server.spec, "print(6 * 7)"])
    assert result.exit_code == 0, result.output
    assert "42" in result.output


def test_belay_exec_with_a_wrong_password_fails_cleanly(make_telnet_server):
    telnet_server = make_telnet_server(password="secret")
    result = CliRunner().invoke(cli, ["exec", "-d", telnet_server.spec, "1"])
    assert result.exit_code != 0
    assert "Login failed" in result.output
    assert "Traceback" not in result.output


def test_belay_plugins_lists_telnet():
    result = CliRunner().invoke(cli, ["plugins"])
    assert result.exit_code == 0, result.output
    assert "telnet" in result.output
    assert get_plugins().infos["telnet"].status == "ok"


def test_a_board_that_stops_reading_cannot_hold_a_call_past_its_timeout(telnet_server):
    # The socket write once waited for write_timeout (30 s) whatever the call's timeout.
    import os
    import signal

    from belay_core import DeviceTimeoutError

    with Device(telnet_server.spec, timeout=3, pacing=False) as device:
        device.session.engine.raw_paste = False  # the whole code goes out in one write
        board = telnet_server.boards[-1]
        os.kill(board.pid, signal.SIGSTOP)
        try:
            with pytest.raises(DeviceTimeoutError, match="within 3 s"):
                device("x = " + repr("a" * 30_000_000))
        finally:
            os.kill(board.pid, signal.SIGCONT)
