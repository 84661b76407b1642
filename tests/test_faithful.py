"""Any program the firmware runs runs the same through Belay: exits, control bytes, frame-shaped output."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap

import pytest

from belay_core import Device, DeviceError, DeviceExit, DeviceResetError, ProtocolError, UsageError

# --------------------------------------------------------------------------------------------------
# sys.exit() and SystemExit
# --------------------------------------------------------------------------------------------------


def test_sys_exit_ends_the_call_with_its_code_and_the_device_stays_usable(board):
    out = io.StringIO()
    with Device(board, stream_out=out) as device:

        @device.setup
        def configure(level=1):
            limit = level * 10

        @device.task
        def read_limit():
            return limit

        configure(level=4)
        with pytest.raises(DeviceExit) as caught:
            device("print('leaving')\nimport sys\nsys.exit(3)")
        assert caught.value.code == 3
        assert caught.value.known
        # Current MicroPython soft-reboots on SystemExit; the micro:bit's 1.9 firmware carries on.
        assert caught.value.rebooted == (board != "emu:microbit")
        assert out.getvalue() == "leaving\n"  # no reboot banner, nothing of Belay's
        # Helpers restored, the task redefined and the recorded setup replayed.
        assert device("1 + 1") == 2
        assert read_limit() == 40
        assert out.getvalue() == "leaving\n"


def test_raise_system_exit_in_a_task_and_an_expression(board):
    with Device(board, stream_out=None) as device:

        @device.task
        def stop(code):
            raise SystemExit(code)

        with pytest.raises(DeviceExit) as caught:
            stop(4)
        assert caught.value.code == 4
        with pytest.raises(DeviceExit) as caught:
            device("__import__('sys').exit('why')")
        assert caught.value.code == "why"
        assert caught.value.exit_status == 1
        assert device("2 * 21") == 42


@pytest.mark.parametrize("board", ["unix", "wasm"], indirect=True)  # the boards with folders
def test_an_exit_in_code_belay_did_not_see_still_restores_the_device(board):
    with Device(board, stream_out=None) as device:
        device.write_text("/quitter.py", "import sys\ndef go():\n    sys.exit(9)\n")

        @device.setup
        def mark():
            marker = "restored"

        mark()
        with pytest.raises(DeviceExit) as caught:
            device("import quitter\nquitter.go()")  # the exit happens in a module's code
        assert not caught.value.known and caught.value.code is None
        assert caught.value.rebooted
        assert device("marker") == "restored"


def _belay(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "belay_core.cli", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("program", "status", "stderr"),
    [
        ("import sys\nprint('out')\nsys.exit(3)\n", 3, ""),
        ("import sys\nsys.exit()\n", 0, ""),
        ("raise SystemExit('bad input')\n", 1, "bad input"),
    ],
)
def test_belay_run_exits_with_the_program_s_code(tmp_path, board, program, status, stderr):
    script = tmp_path / "main.py"
    script.write_text(program)
    result = _belay("run", "-d", board, str(script))
    assert result.returncode == status, result.stderr
    assert stderr in result.stderr
    assert "soft reboot" not in result.stdout + result.stderr


def test_belay_run_of_a_file_that_is_one_expression_prints_nothing(tmp_path, board):
    script = tmp_path / "expr.py"
    script.write_text("1 + 1\n")
    result = _belay("run", "-d", board, str(script))
    assert (result.returncode, result.stdout) == (0, ""), result.stderr


def test_belay_run_tracebacks_name_the_file(tmp_path):
    script = tmp_path / "err.py"
    script.write_text("print('a')\n\nx = 1 / 0\n")
    result = _belay("run", "-d", "emu:unix", str(script))
    assert result.returncode == 1
    assert f'File "{script}", line 3, in <module>' in result.stderr
    assert "x = 1 / 0" in result.stderr


# --------------------------------------------------------------------------------------------------
# Output is passed on as printed
# --------------------------------------------------------------------------------------------------


def test_a_program_printing_stx_and_frame_shaped_text_is_shown(device):
    out = io.StringIO()
    device("print('a\\x02b')", stream_out=out)
    device("print('\\x02R1:5')", stream_out=out)
    assert device("print('\\x02R1:5') or 7", stream_out=out) == 7
    device("print('\\x02', end='')", stream_out=out)
    assert out.getvalue() == "a\x02b\n\x02R1:5\n\x02R1:5\n\x02"


class _Writer:
    """A stream with only ``write`` (no ``flush``), as the original belay accepted."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> None:
        self.parts.append(text)


def test_any_object_with_write_receives_the_output(device):
    writer = _Writer()
    device("print('hello')", stream_out=writer)
    assert "".join(writer.parts) == "hello\n"


def test_streaming_goes_on_after_a_stx(tmp_path):
    # The program prints a \x02 and then waits until the host has seen that line: only a host that
    # passes output on as it arrives lets it finish (the board's folder is a host folder here).
    flag = tmp_path / "seen"

    class Watcher:
        def __init__(self) -> None:
            self.text = ""

        def write(self, text: str) -> None:
            self.text += text
            if "after\n" in self.text:
                flag.write_text("1")

    watcher = Watcher()
    program = textwrap.dedent(
        """
        import os, time
        print('\\x02 then after')
        print('after')
        while 'seen' not in os.listdir('/'):
            time.sleep_ms(5)
        print('done')
        """
    )
    with Device("emu:unix", fs=str(tmp_path), stream_out=watcher) as device:
        device(program, timeout=20)
    assert watcher.text == "\x02 then after\nafter\ndone\n"


# --------------------------------------------------------------------------------------------------
# \x04 in a program's output
# --------------------------------------------------------------------------------------------------


def test_eot_in_output_is_output_and_the_exception_is_never_lost(device):
    out = io.StringIO()
    device("print('a\\x04b')", stream_out=out)
    assert out.getvalue() == "a\x04b\n"
    with pytest.raises(DeviceError) as caught:
        device("print('x\\x04y')\n1/0", stream_out=out)
    assert "ZeroDivisionError" in str(caught.value)
    with pytest.raises(DeviceError, match="ZeroDivisionError"):
        device("print('\\x04>')\n1/0", stream_out=out)
    device("print('p\\x04q\\x04', end='')", stream_out=out)
    assert out.getvalue() == "a\x04b\nx\x04y\n\x04>\np\x04q\x04"
    fresh = io.StringIO()
    assert device("print('next') or 5", stream_out=fresh) == 5
    assert fresh.getvalue() == "next\n"


def test_a_program_that_prints_the_answer_s_end_markers_never_leaks_into_the_next_call(board):
    # '\x04\x04>' printed by a program is the raw REPL's own end of an answer: the call seems to end
    # there. What the board sends after it must not reach the next call's output: that call raises a
    # clear ProtocolError (the line is resynchronised) or runs clean, and the device stays usable.
    with Device(board, stream_out=None) as device:
        device("print('\\x04\\x04>')\nprint('rest of the first call')")
        out = io.StringIO()
        try:
            assert device("print('second') or 2", stream_out=out) == 2
        except ProtocolError as exc:
            assert "resynchron" in str(exc) or "re-entered" in str(exc)
        assert "rest of the first call" not in out.getvalue()
        clean = io.StringIO()
        assert device("print('third') or 3", stream_out=clean) == 3
        assert clean.getvalue() == "third\n"


# --------------------------------------------------------------------------------------------------
# Control characters in the source
# --------------------------------------------------------------------------------------------------


def test_control_characters_in_string_literals_reach_the_board_intact(device):
    device("s = '\x01\x02\x03\x04\x05'  # a comment with \x04 too")
    assert device("[ord(c) for c in s]") == [1, 2, 3, 4, 5]
    assert device("b'\x04\x03'") == b"\x04\x03"
    assert device("'''line\x04\nnext'''") == "line\x04\nnext"


def test_control_characters_the_raw_repl_cannot_carry_are_refused_before_sending(device):
    trips = device.round_trips
    with pytest.raises(UsageError, match=r"control character '\\x04' at line 1, column 7, inside a raw string"):
        device("x = r'\x04'")
    with pytest.raises(UsageError, match="outside a string literal"):
        device("x = 1\x04")
    assert device.round_trips == trips


def test_crlf_line_ends_in_code_keep_line_numbers(device):
    with pytest.raises(DeviceError) as caught:
        device("a = 1\r\nb = 2\r\n1/0\r\n")
    assert 'File "<stdin>", line 3' in str(caught.value)
    assert device("'''x\r\ny'''") == "x\ny"


# --------------------------------------------------------------------------------------------------
# Belay's helpers stay out of the program's way
# --------------------------------------------------------------------------------------------------


def test_belay_leaves_no_names_a_program_could_trip_over(board):
    # Only the original belay's convenience names (os, time, ...) and Belay's own __belay_* names.
    with Device(board, startup="") as device:
        names = device("[n for n in globals() if not n.startswith('__')]")
        assert names == []


def test_a_program_that_rebinds_builtins_does_not_break_belay(board):
    with Device(board, stream_out=None) as device:
        device("str = 'text'\nlen = 3\nrepr = 'r'\ntype = 'kind'\nid = 0")
        assert device("1 + 2") == 3
        assert device("[1, 'a']") == [1, "a"]
        with pytest.raises(DeviceExit) as caught:
            device("import sys\nsys.exit(2)")
        assert caught.value.code == 2


def test_a_program_that_rebinds_print_prints_as_it_wants(board):
    out = io.StringIO()
    with Device(board, stream_out=out) as device:
        device("_print = print\ndef print(*a, **k):\n _print('LOG:', *a, **k)")
        device("print('hello')")
        assert device("6 * 7") == 42
        with pytest.raises(DeviceExit):
            device("print('bye')\nraise SystemExit(4)")
    assert out.getvalue() == "LOG: hello\nLOG: bye\n"


@pytest.mark.parametrize("board", ["unix", "wasm"], indirect=True)  # the firmware with compile()
def test_a_program_s_own_exec_frames_keep_their_name(board):
    with Device(board) as device, pytest.raises(DeviceError) as caught:
        device("# the word exit sends this through Belay's catcher\ndef g():\n exec('x = 1\\n1/0')\ng()")
    text = str(caught.value)
    assert 'File "<string>", line 2, in <module>' in text
    assert 'File "<stdin>", line 4, in <module>' in text
    assert "__belay" not in text


def test_helpers_lost_behind_belay_s_back_are_restored(board):
    with Device(board) as device:

        @device.setup
        def configure():
            level = 3

        configure()
        device("del __belay_r")  # as a reset from a terminal, or a watchdog, would
        assert device("level * 2") == 6  # helpers and the recorded setup restored, the call run once


CRASHER = """
class TooLong:
    def __len__(self):
        return 1 << 61
    def __iter__(self):
        yield 1.23
from array import array
print('before')
array('d', TooLong())
"""
"""A program that crashes the unix port (a firmware bug: a segmentation fault), which the board survives
as a soft reboot."""


@pytest.mark.parametrize("board", ["unix"], indirect=True)
def test_a_board_that_restarts_during_a_call_ends_it_at_once(board):
    out = io.StringIO()
    with Device(board, stream_out=out, timeout=None) as device:  # a missed restart would hang here

        @device.setup
        def configure():
            level = 5

        configure()
        with pytest.raises(DeviceResetError, match="restarted while the call ran"):
            device(CRASHER)
        assert out.getvalue() == "before\n"  # no reboot banner
        assert device("level + 1") == 6
