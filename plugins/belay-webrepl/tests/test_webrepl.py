"""The ws:// transport against a real WebREPL server on 127.0.0.1 in front of an emulated unix board."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

import belay_webrepl
from belay_core import ConnectionLost, Device, DeviceError, DeviceSpecError
from belay_core.cli import cli
from belay_core.files import BoardFileNotFoundError
from belay_webrepl import AuthenticationError
from belay_webrepl.transport import WebreplTransport


def test_exec_tasks_and_errors_over_webrepl(webrepl_server):
    with Device(webrepl_server.url, password=webrepl_server.password) as device:
        assert device("1 + 2") == 3
        device("x = [i * i for i in range(5)]")
        assert device("x") == [0, 1, 4, 9, 16]

        @device.task
        def add(a, b):
            return a + b

        assert add(2, 3) == 5
        with pytest.raises(DeviceError) as caught:
            device("1 / 0")
        assert caught.value.exception_name == "ZeroDivisionError"
        assert device("'still usable'") == "still usable"
    assert webrepl_server.logins == 1


def test_output_streams_and_non_utf8_bytes_pass(webrepl_server, capsys):
    with Device(webrepl_server.url, password=webrepl_server.password) as device:
        device("print('hello from the board')")
        # Raw bytes that are not UTF-8 come back in text frames: validation must be off.
        assert device("bytes(range(256))") == bytes(range(256))
        device("import sys; sys.stdout.buffer.write(b'\\xff\\xfe ok\\n')")
    assert "hello from the board" in capsys.readouterr().out


def test_wrong_password_is_authentication_error(webrepl_server):
    with pytest.raises(AuthenticationError, match="Access denied"):
        Device(webrepl_server.url, password="wrong")
    assert webrepl_server.logins == 0


def test_missing_password_is_explained(webrepl_server):
    with pytest.raises(AuthenticationError, match="BELAY_PASSWORD"):
        Device(webrepl_server.url)


def test_password_from_environment(webrepl_server, monkeypatch):
    monkeypatch.setenv("BELAY_PASSWORD", webrepl_server.password)
    with Device(webrepl_server.url) as device:
        assert device("6 * 7") == 42


def test_password_from_url(webrepl_server, monkeypatch):
    monkeypatch.setenv("BELAY_PASSWORD", "wrong")  # the URL's password wins over the environment's
    with Device(f"ws://:{webrepl_server.password}@127.0.0.1:{webrepl_server.port}") as device:
        assert device("6 * 7") == 42
        assert webrepl_server.password not in device.session.transport.describe()


def test_option_password_wins_over_url(webrepl_server):
    with Device(f"ws://:wrong@127.0.0.1:{webrepl_server.port}", password=webrepl_server.password) as device:
        assert device("1") == 1


def test_spec_parsing():
    assert WebreplTransport.parse("ws://192.168.4.1") == ("ws://192.168.4.1:8266/", "ws://192.168.4.1:8266", None)
    assert WebreplTransport.parse("wss://:p%40ss@board.local:443/repl")[1:] == ("wss://board.local:443", "p@ss")
    assert WebreplTransport.parse("ws://abc@h:1")[2] == "abc"
    with pytest.raises(DeviceSpecError):
        WebreplTransport("ws://")
    with pytest.raises(DeviceSpecError, match="baudrate"):
        WebreplTransport("ws://h", baudrate=1)


def test_nothing_listening_is_connection_lost(webrepl_server):
    port = webrepl_server.port
    webrepl_server.close()
    with pytest.raises(ConnectionLost, match="cannot connect"):
        Device(f"ws://127.0.0.1:{port}", password=webrepl_server.password)


def test_server_closing_the_socket_is_connection_lost(webrepl_server):
    device = Device(webrepl_server.url, password=webrepl_server.password)
    try:
        assert device("1") == 1
        webrepl_server.drop()
        with pytest.raises(ConnectionLost):
            device("2")
    finally:
        device.close()


def test_transport_read_returns_buffered_bytes_and_raises_after_close(webrepl_server):
    transport = WebreplTransport(webrepl_server.url, password=webrepl_server.password)
    transport.open()
    try:
        assert transport.read(100, 0.2) == b">>> "  # the rest of the board's login answer
        transport.write(b"print(6 * 7)\r")
        seen = b""
        while b"42" not in seen:
            chunk = transport.read(3, 5)
            assert chunk, seen
            assert len(chunk) <= 3
            seen += chunk
        webrepl_server.drop()
        with pytest.raises(ConnectionLost):
            while True:
                transport.read(100, 5)
    finally:
        transport.close()


def test_second_client_is_rejected_like_a_board(webrepl_server):
    with Device(webrepl_server.url, password=webrepl_server.password) as device:
        with pytest.raises(ConnectionLost, match="another WebREPL client"):
            Device(webrepl_server.url, password=webrepl_server.password)
        assert device("1") == 1


def test_no_soft_reset_on_connect_and_soft_reset_drops_the_line(webrepl_server):
    with Device(webrepl_server.url, password=webrepl_server.password) as device:
        device("kept = 1")
    with Device(webrepl_server.url, password=webrepl_server.password) as device:
        assert device("kept") == 1  # the heap survived: no soft reset on connect over WebREPL
        with pytest.raises(ConnectionLost):
            device.soft_reset()  # a board ends the WebREPL connection when it soft-resets


def test_put_get_round_trip_random(webrepl_server, webrepl_fs):
    data = os.urandom(20 * 1024)
    with Device(webrepl_server.url, password=webrepl_server.password) as device:
        transport = device.session.transport
        transport.put_file("/blob.bin", data)
        assert (webrepl_fs / "blob.bin").read_bytes() == data
        assert transport.get_file("/blob.bin") == data
        assert device.read_bytes("/blob.bin") == data  # the REPL sees the same file
        assert device("1 + 1") == 2  # and the REPL still works after binary frames


def test_put_get_all_byte_values_and_empty(webrepl_server, webrepl_fs):
    data = bytes(range(256)) * 3
    with Device(webrepl_server.url, password=webrepl_server.password) as device:
        transport = device.session.transport
        transport.put_file("bytes.bin", data)
        assert transport.get_file("bytes.bin") == data
        transport.put_file("empty.bin", b"")
        assert (webrepl_fs / "empty.bin").read_bytes() == b""
        assert transport.get_file("empty.bin") == b""
        assert transport.get_version() == (1, 28, 0)


def test_put_and_get_functions(webrepl_server, webrepl_fs, tmp_path):
    local = tmp_path / "script.py"
    local.write_bytes(bytes(range(256)) + b"\nprint('hi')\n")
    with Device(webrepl_server.url, password=webrepl_server.password) as device:
        assert belay_webrepl.put(device, local, "/lib/") == "/lib/script.py"
        assert (webrepl_fs / "lib" / "script.py").read_bytes() == local.read_bytes()
        assert belay_webrepl.put(device, local, "/app/main.py") == "/app/main.py"
        out = tmp_path / "out"
        out.mkdir()
        assert belay_webrepl.get(device, "/app/main.py", out) == out / "main.py"
        assert (out / "main.py").read_bytes() == local.read_bytes()
        with pytest.raises(BoardFileNotFoundError):
            belay_webrepl.get(device, "/missing.py", out)
        assert device("'connection kept'") == "connection kept"


def test_put_rejects_a_device_not_over_webrepl():
    with Device(f"exec:{sys.executable} -m belay_emulator unix") as device, pytest.raises(TypeError, match="WebREPL"):
        belay_webrepl.put(device, __file__, "/x.py")


def test_too_long_board_path_is_rejected(webrepl_server):
    with Device(webrepl_server.url, password=webrepl_server.password) as device:  # noqa: SIM117 (Python 3.9)
        with pytest.raises(ValueError, match="too long"):
            device.session.transport.put_file("/" + "a" * 70, b"x")


def test_cli_exec_with_password_from_environment(webrepl_server, monkeypatch):
    monkeypatch.setenv("BELAY_PASSWORD", webrepl_server.password)
    result = CliRunner().invoke(cli, ["exec", "-d", webrepl_server.url, "6 * 7"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "42"


def test_cli_exec_wrong_password_is_a_clean_error(webrepl_server, monkeypatch):
    monkeypatch.setenv("BELAY_PASSWORD", "wrong")
    result = CliRunner().invoke(cli, ["exec", "-d", webrepl_server.url, "1"])
    assert result.exit_code == 2
    assert "Access denied" in result.output


def test_help_does_not_import_websocket():
    code = "import sys\nfrom belay_core.cli import main\nmain(['--help'])\n"
    code = f"try:\n    exec({code!r})\nexcept SystemExit:\n    pass\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = result.stdout.strip().splitlines()[-1].split()
    assert "belay_core" in loaded
    assert [m for m in loaded if m.startswith(("websocket", "belay_webrepl.transport"))] == []


def test_plugins_lists_webrepl():
    result = CliRunner().invoke(cli, ["plugins"])
    assert result.exit_code == 0, result.output
    assert "webrepl" in result.output
    assert "belay-webrepl" in result.output


def test_package_import_is_light():
    code = "import sys, belay_webrepl; print('websocket' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_idle_longer_than_the_socket_timeout_keeps_the_line(webrepl_server):
    with Device(webrepl_server.url, password=webrepl_server.password, write_timeout=0.1) as device:
        time.sleep(0.4)
        device("import time\ntime.sleep(0.3)")  # the board is silent longer than the socket timeout
        assert device("5") == 5
        assert device("'x' * 5000") == "x" * 5000


def test_a_refused_connection_says_so_before_asking_for_a_password(free_port, monkeypatch):
    # ws://127.0.0.1:PORT with nothing listening once answered "needs the WebREPL password".
    monkeypatch.delenv("BELAY_PASSWORD", raising=False)
    with pytest.raises(ConnectionLost, match="cannot connect to the WebREPL"):
        Device(f"ws://127.0.0.1:{free_port}")


def test_a_board_that_stops_reading_cannot_hold_a_call_past_its_timeout(webrepl_server):
    # The websocket send once waited for write_timeout (30 s) whatever the call's timeout.
    import os
    import signal

    from belay_core import DeviceTimeoutError

    with Device(webrepl_server.url, password=webrepl_server.password, timeout=3, pacing=False) as device:
        device.session.engine.raw_paste = False  # the whole code goes out in one write
        os.kill(webrepl_server.board.pid, signal.SIGSTOP)
        try:
            with pytest.raises(DeviceTimeoutError, match="within 3 s"):
                device("x = " + repr("a" * 30_000_000))
        finally:
            os.kill(webrepl_server.board.pid, signal.SIGCONT)
