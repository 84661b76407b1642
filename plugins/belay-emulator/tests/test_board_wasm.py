"""Byte-level tests of the ``wasm`` board (MicroPython's WebAssembly port under Node.js), no mocks."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from belay_emulator.boards import wasm

BANNER = b"MicroPython v1.27.0 on "
PROMPT = b">>> "
RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n>"


@pytest.fixture
def board(board_io):
    """A started wasm board in the raw REPL."""
    io = board_io("wasm")
    io.read_until(PROMPT, timeout=60)  # first use may install the npm package
    io.enter_raw()
    return io


def test_banner_and_prompt_at_start(board_io):
    io = board_io("wasm")
    out = io.read_until(PROMPT, timeout=60)
    assert out.startswith(BANNER)
    assert b'; JS with Emscripten\r\nType "help()" for more information.\r\n>>> ' in out


def test_friendly_repl_evaluates(board_io):
    io = board_io("wasm")
    io.read_until(PROMPT, timeout=60)
    io.write(b"6*7\r")
    assert io.read_until(PROMPT) == b"6*7\r\n42\r\n>>> "


def test_raw_repl_exec_stdout_and_traceback(board):
    out, err = board.exec_raw(b"print('hello')\nprint(1 + 1)")
    assert (out, err) == (b"hello\r\n2\r\n", b"")
    out, err = board.exec_raw(b"print('before')\n1/0")
    assert out == b"before\r\n"
    assert err.startswith(b"Traceback (most recent call last):\r\n")
    assert err.endswith(b"ZeroDivisionError: divide by zero\r\n")


def test_output_is_cooked_as_on_a_board(board):
    # mp_hal_stdout_tx_strn_cooked sends every \n as \r\n, also the one of a printed \r\n.
    out, _ = board.exec_raw(b"print('a\\nb')\nprint('c\\r\\nd', end='\\r\\n')")
    assert out == b"a\r\nb\r\nc\r\r\nd\r\r\n"


def test_ctrl_b_back_to_friendly(board):
    board.write(b"\x02")
    out = board.read_until(PROMPT)
    assert BANNER in out
    board.write(b"1+2\r")
    assert board.read_until(PROMPT).endswith(b"3\r\n>>> ")


def test_paste_mode(board_io):
    io = board_io("wasm")
    io.read_until(PROMPT, timeout=60)
    io.write(b"\x05")
    io.read_until(b"=== ")
    io.write(b"x = 3\rprint(x * 2)\r\x04")
    assert io.read_until(PROMPT).endswith(b"6\r\n>>> ")


def test_raw_paste_large_program_with_flow_control(board):
    lines = [f"v{i} = {i} * 3  # {'x' * 40}" for i in range(120)]
    code = (
        "\n".join(lines) + "\nprint(v0 + v1 + v2)\nprint(v119, sum(globals()[f'v{i}'] for i in range(120)))\n"
    ).encode()
    assert len(code) > 5 * 1024
    out, err = board.raw_paste(code)
    assert err == b""
    assert out == b"9\r\n357 21420\r\n"
    # the board is in the raw REPL as before
    assert board.exec_raw(b"print(v5)") == (b"15\r\n", b"")


def test_raw_paste_traceback_and_no_ok(board):
    board.write(b"\x05A\x01")
    assert board.read_until(b"\x01", 10)  # R\x01
    header = board.read_until(b"\x01")  # window (128, 0) then the first extra-window \x01
    assert header == b"\x80\x00\x01"
    board.write(b"print(7)\nraise ValueError('bad')\x04")
    assert board.read_until(b"\x04") == b"\x04"
    assert board.read_until(b"\x04") == b"7\r\n\x04"
    err = board.read_until(b"\x04>")
    assert err.endswith(b"ValueError: bad\r\n\x04>")


def test_raw_paste_ctrl_c_aborts(board):
    board.write(b"\x05A\x01")
    board.read_until(b"\x80\x00\x01")
    board.write(b"print('never')\x03")
    assert board.read_until(b">") == b"\x04\x04KeyboardInterrupt: \r\n\x04>"
    assert board.exec_raw(b"print('alive')") == (b"alive\r\n", b"")


def test_ctrl_c_interrupts_sleep_loop(board):
    board.write(b"import time\nwhile True:\n    time.sleep_ms(10)\x04")
    board.read_until(b"OK")
    time.sleep(0.3)
    board.write(b"\x03")
    out = board.read_until(b"\x04", timeout=5)
    assert out == b"\x04"
    err = board.read_until(b"\x04", timeout=5)
    assert b"KeyboardInterrupt" in err
    board.read_until(b">")
    assert board.exec_raw(b"print('still here')") == (b"still here\r\n", b"")


def test_soft_reset_clears_globals_keeps_files(board):
    board.exec_raw(b"x = 123\nwith open('keep.txt', 'w') as f:\n    f.write('kept')")
    board.write(b"\x04")
    assert board.read_until(b"soft reboot\r\n") == b"OK\r\nMPY: soft reboot\r\n"
    assert board.read_until(RAW_BANNER) == RAW_BANNER
    out, err = board.exec_raw(b"print(open('keep.txt').read())\nprint('x' in globals())")
    assert (out, err) == (b"kept\r\nFalse\r\n", b"")


def test_soft_reset_in_friendly_mode(board_io):
    io = board_io("wasm")
    io.read_until(PROMPT, timeout=60)
    io.write(b"y = 1\r")
    io.read_until(PROMPT)
    io.write(b"\x04")
    out = io.read_until(PROMPT)
    assert out.startswith(b"\r\nMPY: soft reboot\r\n" + BANNER)
    io.write(b"'y' in globals()\r")
    assert io.read_until(PROMPT).endswith(b"False\r\n>>> ")


def test_filesystem_board_like(board):
    out, err = board.exec_raw(
        b"import os, sys, errno\n"
        b"print(os.listdir('/'), os.getcwd(), sys.path)\n"
        b"try:\n    open('/missing.txt')\nexcept OSError as e:\n    print(e.errno, e.errno == errno.ENOENT)\n"
        b"os.mkdir('/lib')\n"
        b"try:\n    os.mkdir('/lib')\nexcept OSError as e:\n    print(e.errno == errno.EEXIST)\n"
        b"open('/lib/a.py', 'w').write('A = 1')\n"
        b"print(os.listdir('/'), os.listdir('/lib'), os.stat('/lib/a.py')[6])\n"
        b"os.remove('/lib/a.py')\nos.rmdir('/lib')\n"
        b"print(os.listdir('/'), os.statvfs('/')[0] > 0)"
    )
    assert err == b""
    assert out == (b"[] / ['', '.frozen', '/lib']\r\n2 True\r\nTrue\r\n['lib'] ['a.py'] 5\r\n[] True\r\n")


def test_input_reads_stdin(board):
    board.write(b"name = input('who? ')\nprint('hi', name)\x04")
    board.read_until(b"who? ")
    board.write(b"bob\r")
    out = board.read_until(b"\x04")
    assert out == b"bob\r\nhi bob\r\n\x04"
    board.read_until(b"\x04>")
    board.write(b"import sys\nprint(repr(sys.stdin.read(3)))\x04")
    board.read_until(b"OK")
    board.write(b"xyz")
    assert board.read_until(b"\x04") == b"'xyz'\r\n\x04"
    board.read_until(b">")


def test_eof_on_stdin_exits_zero(board_io):
    io = board_io("wasm")
    io.read_until(PROMPT, timeout=60)
    io.proc.stdin.close()
    assert io.proc.wait(5) == 0  # exits by itself (a hang raises TimeoutExpired)


def test_eof_while_code_runs_exits_zero(board):
    board.write(b"import time\nwhile True:\n    time.sleep_ms(5)\x04")
    board.read_until(b"OK")
    board.proc.stdin.close()
    assert board.proc.wait(5) == 0


def test_sigterm_exits_promptly(board):
    board.write(b"import time\nwhile True:\n    time.sleep_ms(5)\x04")
    board.read_until(b"OK")
    board.proc.terminate()
    assert board.proc.wait(5) == -15


def test_fs_dir_round_trip(board_io, tmp_path: Path):
    flash = tmp_path / "flash"
    (flash / "lib").mkdir(parents=True)
    (flash / "lib" / "mod.py").write_text("VALUE = 41\n")
    io = board_io("wasm", "--fs", str(flash))
    io.read_until(PROMPT, timeout=60)
    io.enter_raw()
    out, err = io.exec_raw(
        b"import mod, os\nprint(mod.VALUE + 1, os.listdir('/'))\n"
        b"open('/new.txt', 'w').write('data')\nos.mkdir('/d')\nos.remove('/lib/mod.py')"
    )
    assert (out, err) == (b"42 ['lib']\r\n", b"")
    assert io.close() == 0
    assert (flash / "new.txt").read_text() == "data"
    assert (flash / "d").is_dir()
    assert not (flash / "lib" / "mod.py").exists()
    again = board_io("wasm", "--fs", str(flash))
    again.read_until(PROMPT, timeout=60)
    again.enter_raw()
    out, _ = again.exec_raw(b"import os\nprint(sorted(os.listdir('/')), open('new.txt').read())")
    assert out == b"['d', 'lib', 'new.txt'] data\r\n"


def test_raw_exec_answers_every_call_in_turn(board):
    # How fast is the benchmark's business (bench/run.py, "eval 0" on the wasm board).
    for i in range(200):
        assert board.exec_raw(b"print(%d)" % i) == (b"%d\r\n" % i, b"")


def test_install_is_idempotent():
    message = wasm.install()
    assert str(wasm.cache_dir()) in message
    assert wasm.install() == message


def test_cli_install_command():
    result = subprocess.run(
        [sys.executable, "-m", "belay_emulator", "install", "wasm"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert str(wasm.cache_dir()) in result.stdout
