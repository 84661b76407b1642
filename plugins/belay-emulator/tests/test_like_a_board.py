r"""The unix and wasm boards answer like MicroPython hardware on a serial line, byte for byte.

- Code with ``\r\n`` line ends has one newline per ``\r\n`` (a board's lexer), in the raw REPL, raw-paste
  (flow control intact) and paste mode; what a running program reads from stdin arrives unchanged.
- Program output is cooked (``mp_hal_stdout_tx_strn_cooked``: every ``\n`` is sent as ``\r\n``, so
  ``print("a\r\nb")`` arrives as ``a\r\r\nb\r\n``); protocol text keeps its bytes.
- A crash of the WebAssembly firmware ends the board process: the call ends with ``ConnectionLost``.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from belay_core import ConnectionLost, Device

BOARDS = ("unix", "wasm")
BANNER_END = b'Type "help()" for more information.\r\n>>> '
RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n>"
CRASH = "eval('[' * 10000 + ']' * 10000)"
"""Crashes the WebAssembly port: compiling that deep a nesting overflows the JS stack (a RangeError out of
the interpreter, which is dead after it: the next call fails with 'table index is out of bounds')."""


def traceback(line: int, error: bytes = b"ZeroDivisionError: divide by zero") -> bytes:
    """A board's traceback of an error raised at ``line`` of the code sent."""
    return b'Traceback (most recent call last):\r\n  File "<stdin>", line %d, in <module>\r\n%s\r\n' % (line, error)


@pytest.fixture(params=BOARDS)
def friendly(request, board_io):
    """A started board at its friendly prompt."""
    board = board_io(request.param)
    board.read_until(BANNER_END, timeout=60)
    return board


@pytest.fixture
def raw(friendly):
    """A started board in the raw REPL."""
    friendly.enter_raw()
    return friendly


# --------------------------------------------------------------------------------------------------
# Code with \r\n line ends


def test_crlf_code_has_one_newline_per_line_end(raw):
    assert raw.exec_raw(b"x = 1\r\ny = 2\r\n1/0") == (b"", traceback(3))
    assert raw.exec_raw(b's = """a\r\nb"""\r\nprint(repr(s))') == (b"'a\\nb'\r\n", b"")


def test_crlf_code_in_raw_paste_keeps_flow_control(raw):
    # 1500 empty lines: far more than a window of line-end bytes, every one in a \r\n. The host never
    # sends beyond its window, so a window the board fails to grant is a timeout here.
    code = b"x = 0\r\n" + b"\r\n" * 1500 + b's = """a\r\nb"""\r\nprint(repr(s))\r\n1/0\r\n'
    assert len(code) > 2048
    assert raw.raw_paste(code) == (b"'a\\nb'\r\n", traceback(1505))
    lines = [f"v{i} = {i} * 2  # {'x' * 20}" for i in range(100)]
    code = ("\r\n".join(lines) + "\r\nprint(v99)\r\n1/0\r\n").encode()
    assert len(code) > 3000
    assert raw.raw_paste(code) == (b"198\r\n", traceback(102))


def test_crlf_code_in_paste_mode(friendly):
    friendly.write(b"\x05")
    friendly.read_until(b"=== ")
    friendly.write(b'x = 1\r\ny = """a\r\nb"""\r\nprint(repr(y))\r\n1/0\r\n\x04')
    # (The echo differs: a board echoes the \n of each \r\n as it is; the unix relay drops it before the port.)
    assert friendly.read_until(b">>> ").endswith(b"\r\n'a\\nb'\r\n" + traceback(5) + b">>> ")


def test_crlf_lines_at_the_friendly_prompt(friendly):
    # One Enter per \r\n: no empty line (an extra prompt, or the end of a block) in between.
    friendly.write(b"x = 6 * 7\r\nx\r\n")
    assert friendly.read_until(b"42\r\n>>> ") == b"x = 6 * 7\r\n>>> x\r\n42\r\n>>> "


def test_a_program_reads_stdin_bytes_unchanged(raw):
    raw.write(b"import sys\nprint(repr(sys.stdin.buffer.read(8)))\x04")
    raw.read_until(b"OK")
    raw.write(b"a\r\nb\r\n\x01\n")
    assert raw.read_until(b"\x04>") == b"b'a\\r\\nb\\r\\n\\x01\\n'\r\n\x04\x04>"
    assert raw.exec_raw(b"x = 1\r\n1/0") == (b"", traceback(2))  # the REPL reads code again


def test_input_takes_crlf_as_one_enter(raw):
    raw.write(b"a = input('who? ')\nb = input()\nprint([a, b])\x04")
    raw.read_until(b"who? ")
    raw.write(b"bob\r\nal\r")
    assert raw.read_until(b"\x04>") == b"bob\r\nal\r\n['bob', 'al']\r\n\x04\x04>"


# --------------------------------------------------------------------------------------------------
# Cooked output, exact protocol


@pytest.mark.parametrize(
    ("code", "answer"),
    [
        (b'print("a\\r\\nb")', b"OKa\r\r\nb\r\n\x04\x04>"),
        (b'print("x")', b"OKx\r\n\x04\x04>"),
        (b'import sys\nsys.stdout.write("p\\nq")', b"OKp\r\nq\x04\x04>"),
        (b'print("e", end="\\r\\n")', b"OKe\r\r\n\x04\x04>"),
        (b"print('before')\n1/0", b"OKbefore\r\n\x04" + traceback(2) + b"\x04>"),
        (b'raise ValueError("x\\r\\ny")', b"OK\x04" + traceback(1, b"ValueError: x\r\r\ny") + b"\x04>"),
    ],
    ids=["print-crlf", "print", "write", "end-crlf", "traceback", "message-crlf"],
)
def test_a_raw_repl_answer_is_what_a_board_sends(raw, code, answer):
    raw.write(code + b"\x04")
    assert raw.read_until(b"\x04>") == answer


def test_protocol_bytes_stay_exact(friendly):
    friendly.write(b"\x01")
    assert friendly.read_until(b">") == b"\r\n" + RAW_BANNER
    friendly.write(b"\x05A\x01")
    assert friendly.read_exactly(5) == b"R\x01\x80\x00\x01"
    friendly.write(b'print("a\\r\\nb")\x04')
    assert friendly.read_until(b"\x04>") == b"\x04a\r\r\nb\r\n\x04\x04>"
    friendly.write(b"\x04")
    assert friendly.read_until(RAW_BANNER) == b"OK\r\nMPY: soft reboot\r\n" + RAW_BANNER
    friendly.write(b"\x02")
    banner = friendly.read_until(b">>> ")
    assert banner.startswith(b"\r\nMicroPython ") and banner.endswith(b"\r\n" + BANNER_END)
    assert banner.count(b"\n") == banner.count(b"\r\n") == 3 and b"\r\r" not in banner


def test_friendly_results_are_cooked(friendly):
    friendly.write(b'print("a\\r\\nb")\r')
    assert friendly.read_until(b">>> ") == b'print("a\\r\\nb")\r\na\r\r\nb\r\n>>> '
    friendly.write(b"1/0\r")
    assert friendly.read_until(b">>> ") == b"1/0\r\n" + traceback(1) + b">>> "


@pytest.mark.parametrize("board", BOARDS)
def test_a_belay_user_gets_what_the_program_printed(board):
    # The host turns the board's \r\n into \n: a printed \r\n, sent as \r\r\n, is \r\n again.
    stream = io.StringIO()
    with Device(f"emu:{board}", timeout=30) as device:
        device('print("a\\r\\nb")\nprint("x")\nimport sys\nsys.stdout.write("p\\nq")', stream_out=stream)
        assert stream.getvalue() == "a\r\nb\nx\np\nq"
        device('s = """a\r\nb"""\r\nn = 1\r\n')
        assert device("s") == "a\nb"
        with pytest.raises(ZeroDivisionError, match=r'File "<stdin>", line 3,'):
            device("a = 1\r\nb = 2\r\n1/0")


# --------------------------------------------------------------------------------------------------
# A crash of the wasm firmware


def test_a_firmware_crash_ends_the_board_process(board_io, tmp_path: Path):
    board = board_io("wasm", "--fs", str(tmp_path))
    board.read_until(BANNER_END, timeout=60)
    board.enter_raw()
    board.write(f"open('written.txt', 'w').write('before the crash')\n{CRASH}\x04".encode())
    board.read_until(b"OK")
    assert board.proc.wait(10) != 0
    assert board.proc.stdout.read() == b""  # nothing after the crash: end of file
    assert b"the firmware crashed (RangeError" in board.proc.stderr.read()
    assert (tmp_path / "written.txt").read_text() == "before the crash"  # the flash survives, as a board's


def test_a_firmware_crash_ends_the_call_with_connection_lost():
    with Device("emu:wasm", timeout=60) as device:
        assert device("1 + 1") == 2
        with pytest.raises(ConnectionLost) as lost:
            device(CRASH, timeout=None)  # a board left hanging would be caught by pytest-timeout
    message = str(lost.value)
    assert "the line closed" in message and "exited with code" in message
    assert "the firmware crashed (RangeError: Maximum call stack size exceeded); the board process ends" in message


def test_after_a_crash_a_reconnect_starts_a_fresh_board(tmp_path: Path):
    with Device("emu:wasm", timeout=60, attempts=1, fs=str(tmp_path)) as device:
        # record=False: with attempts= set, calls are recorded for replay by default (as in the original).
        device("x = 41\nf = open('kept.txt', 'w')\nf.write('flash')\nf.close()", record=False)
        with pytest.raises(ConnectionLost):
            device(CRASH, timeout=None)  # crashes the board, and the fresh one the call is retried on
        assert device("1 + 1") == 2  # a third board
        assert device("'x' in globals()") is False
        assert device("open('kept.txt').read()") == "flash"
