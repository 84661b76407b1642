"""`Device` against real MicroPython on every emulated board."""

from __future__ import annotations

import io
import os

import pytest

from belay_core import (
    UNPARSABLE_RESULT,
    ConnectionLost,
    Device,
    DeviceClosedError,
    DeviceError,
    DeviceSpecError,
    DeviceTimeoutError,
)
from belay_core.frames import UnparsableResultWarning


def test_expressions_return_values(device):
    assert device("1 + 1") == 2
    assert device("[1, 'two', 3.5, None, True, b'\\x00', (1,), {'a': 1}]") == [
        1,
        "two",
        3.5,
        None,
        True,
        b"\x00",
        (1,),
        {"a": 1},
    ]


def test_statements_return_none_and_keep_state(device):
    assert device("x = 21") is None
    assert device("x * 2") == 42


def test_print_output_is_streamed(device):
    out = io.StringIO()
    assert device("print('hello'); print('world')", stream_out=out) is None
    assert out.getvalue() == "hello\nworld\n"


def test_print_inside_an_expression_comes_before_the_result(device):
    out = io.StringIO()
    assert device("print('side effect') or 7", stream_out=out) == 7
    assert out.getvalue() == "side effect\n"


def test_user_output_that_looks_like_a_result_frame_is_not_taken_for_one(device):
    out = io.StringIO()
    assert device("print('\\x025:hello')", stream_out=out) is None
    assert out.getvalue() == "\x025:hello\n"
    assert device("print('\\x021:9') or 3", stream_out=out) == 3


def test_stream_out_none_silences(device, capsys):
    device.stream_out = None
    device("print('quiet')")
    assert capsys.readouterr().out == ""


def test_default_stream_is_stdout(device, capsys):
    device("print('to stdout')")
    assert capsys.readouterr().out == "to stdout\n"


def test_device_exception_raises_device_error_with_traceback(device):
    with pytest.raises(DeviceError) as caught:
        device("1 / 0")
    assert caught.value.exception_name == "ZeroDivisionError"
    assert "Traceback" in caught.value.traceback
    assert device("1 + 2") == 3  # still usable


def test_syntax_error_on_the_board(device):
    with pytest.raises(DeviceError) as caught:
        device("def broken(:\n  pass")
    assert caught.value.exception_name == "SyntaxError"


def test_non_literal_result_is_unparsable_with_a_warning_unless_trusted(device):
    # The original belay's UNPARSABLE_RESULT, with a warning saying what to do instead.
    with pytest.warns(UnparsableResultWarning, match=r"returned a .object.*not a plain value.*proxy"):
        assert device("object()") is UNPARSABLE_RESULT
    with pytest.warns(UnparsableResultWarning, match="not Python literals"):
        assert device("[object()]") is UNPARSABLE_RESULT
    assert device("{1, 2}", trusted=True) == {1, 2}


def test_unicode_round_trip(device):
    assert device("'héllo ✓'") == "héllo ✓"
    out = io.StringIO()
    device("print('ünïcode ✓')", stream_out=out)
    assert out.getvalue() == "ünïcode ✓\n"


def test_large_code_is_sent_whole(device):
    # The micro:bit has ~4 KiB free, and no raw-paste: long input is at the mercy of its receive buffer.
    lines = 14 if device.implementation.platform == "microbit" else 100
    body = "total = 0\n" + "".join(f"total += {i}  # {'padding' * 8}\n" for i in range(lines))
    assert len(body) > 950
    device(body)
    assert device("total") == sum(range(lines))


def test_convenience_names_exist(device):
    assert device("callable(sleep)") is True
    assert device("'os' in globals() and 'time' in globals()") is True


def test_custom_startup(board):
    with Device(board, startup="greeting = 'hi'") as device:
        assert device("greeting") == "hi"
        assert device("'sleep' in globals()") is False


def test_soft_reset_on_connect_gives_a_fresh_heap(board):
    with Device(board) as first:
        first("leftover = 1")
    with Device(board) as second:
        assert second("'leftover' in globals()") is False


def test_soft_reset_keeps_the_device_usable(device):
    device("y = 5")
    device.soft_reset()
    assert device("'y' in globals()") is False
    assert device("1 + 1") == 2


def test_timeout_interrupts_and_leaves_the_device_usable(device):
    with pytest.raises(DeviceTimeoutError, match="interrupted"):
        device("while True:\n    time.sleep_ms(5)", timeout=0.5)
    assert device("1 + 1") == 2


def test_closed_device_raises(board):
    device = Device(board)
    device.close()
    device.close()  # twice is harmless
    assert device.closed
    with pytest.raises(DeviceClosedError):
        device("1")


def test_spec_from_environment(board, monkeypatch):
    monkeypatch.setenv("BELAY_DEVICE", board)
    with Device() as device:
        assert device("2 * 3") == 6


def test_missing_spec_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("BELAY_DEVICE", raising=False)
    with pytest.raises(DeviceSpecError, match="BELAY_DEVICE"):
        Device()


def test_connection_lost_when_the_board_dies(device):
    os.killpg(device.session.transport.process.pid, 9)
    with pytest.raises(ConnectionLost, match="exited"):
        device("1")


def test_connect_takes_at_most_three_round_trips(device):
    # Firmware without raw-paste (the micro:bit's) gets its start-up code in acknowledged pieces.
    assert device.round_trips <= (3 if device.session.engine.raw_paste else 8)
    before = device.round_trips
    device("0")
    assert device.round_trips == before + 1


IMPLEMENTATIONS = {
    "emu:unix": ("micropython", "linux", "x64", ("native", "viper")),
    "emu:wasm": ("micropython", "webassembly", None, ()),
    "emu:microbit": ("micropython", "microbit", None, ()),
}


def test_implementation(device):
    name, platform, arch, emitters = IMPLEMENTATIONS[device.spec]
    impl = device.implementation
    assert (impl.name, impl.platform, impl.arch, impl.emitters) == (name, platform, arch, emitters)
    assert impl.version >= (1, 9)
    if device.spec == "emu:microbit":
        assert impl.mpy_version is None
    else:
        assert impl.mpy_version == 6


@pytest.mark.parametrize(
    ("mpy", "arch", "version", "sub"),
    [
        (2822, "x64", 6, 3),
        (6, None, 6, 0),
        (0x1006, "armv6m", 6, 0),
        (0x3006, "rv64imc", 6, 0),
        (0x2C06, "rv32imc", 6, 0),
    ],
)
def test_arch_is_decoded_from_sys_implementation_mpy(mpy, arch, version, sub):
    from belay_core import Implementation

    impl = Implementation.from_board(("micropython", (1, 24, 0, ""), "rp2", mpy, []))
    assert (impl.arch, impl.mpy_version, impl.mpy_sub_version, impl.version) == (arch, version, sub, (1, 24, 0))


DISCOVERING = """
from belay_core import hookimpl, Transport
from belay_core.records import TransportRecord

FOUND = {found!r}


class Finder(Transport):
    @classmethod
    def discover(cls):
        return list(FOUND)


@hookimpl
def belay_register_transports():
    return [TransportRecord("finder", __name__ + ":Finder", prefixes=("finder:",), discovers=True)]
"""


def test_no_spec_uses_the_one_attached_board(fake_plugins, monkeypatch):
    monkeypatch.delenv("BELAY_DEVICE", raising=False)
    fake_plugins("finder", DISCOVERING.format(found=["emu:unix"]))
    with Device() as device:
        assert device.spec == "emu:unix"
        assert device("1 + 1") == 2


def test_no_spec_with_several_boards_lists_them(fake_plugins, monkeypatch):
    monkeypatch.delenv("BELAY_DEVICE", raising=False)
    fake_plugins("finder", DISCOVERING.format(found=["/dev/ttyACM0", "/dev/ttyACM1"]))
    with pytest.raises(DeviceSpecError, match=r"2 boards attached \(/dev/ttyACM0, /dev/ttyACM1\)"):
        Device()
