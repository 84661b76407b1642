"""The exec: transport over real processes: a real MicroPython board, errors for bad commands."""

from __future__ import annotations

import shlex
import sys

import pytest

from belay_core import ConnectionLost, Device, DeviceSpecError
from belay_exec.transport import ExecTransport

BOARD = f"exec:{shlex.quote(sys.executable)} -m belay_emulator unix"


def test_exec_drives_a_real_board():
    with Device(BOARD) as device:
        assert device("1 + 2") == 3
        assert device.implementation.platform == "linux"


def test_exec_transport_reads_and_writes():
    transport = ExecTransport("exec:cat")
    transport.open()
    try:
        transport.write(b"ping")
        assert transport.read(10, 5) == b"ping"
        assert transport.read(10, 0.05) == b""  # nothing more: timeout gives empty bytes
    finally:
        transport.close()


def test_empty_command_is_rejected():
    with pytest.raises(DeviceSpecError, match="needs a command"):
        ExecTransport("exec:")


def test_unbalanced_quotes_are_rejected():
    with pytest.raises(DeviceSpecError, match="cannot split"):
        ExecTransport("exec:echo 'unterminated")


def test_unknown_option_is_rejected():
    with pytest.raises(DeviceSpecError, match="baudrate"):
        ExecTransport("exec:cat", baudrate=9600)


def test_missing_program_is_connection_lost():
    with pytest.raises(ConnectionLost, match="cannot start"):
        Device("exec:/nonexistent/micropython")


def test_process_exit_reports_code_and_stderr():
    spec = f"exec:{shlex.quote(sys.executable)} -c \"import sys; sys.stderr.write('no board here\\\\n'); sys.exit(3)\""
    with pytest.raises(ConnectionLost) as caught:
        Device(spec)
    assert "exited with code 3" in str(caught.value)
    assert "no board here" in str(caught.value)


def test_not_a_board_times_out_clearly():
    from belay_core import DeviceTimeoutError
    from belay_core.repl import RawRepl

    transport = ExecTransport(f'exec:{shlex.quote(sys.executable)} -c "import time; time.sleep(30)"')
    transport.open()
    try:
        with pytest.raises(DeviceTimeoutError, match="did not answer like a MicroPython raw REPL"):
            RawRepl(transport).enter(timeout=0.5)
    finally:
        transport.close()


def test_close_reaps_the_process():
    transport = ExecTransport("exec:cat")
    transport.open()
    process = transport.process
    transport.close()
    assert process is not None and process.poll() is not None
    transport.close()  # twice is harmless


def test_a_program_that_stops_reading_cannot_hold_a_call_past_its_timeout():
    # A full pipe to a program that reads no more: the write waits only until the call's deadline.
    import os
    import signal

    from belay_core import DeviceTimeoutError

    with Device(f"exec:{shlex.quote(sys.executable)} -m belay_emulator unix", timeout=3, pacing=False) as device:
        device.session.engine.raw_paste = False
        pid = device.session.transport.process.pid
        os.killpg(pid, signal.SIGSTOP)
        try:
            with pytest.raises(DeviceTimeoutError, match="within 3 s"):
                device("x = " + repr("a" * 300_000))
        finally:
            os.killpg(pid, signal.SIGCONT)
        assert device("1 + 1") == 2
