"""Byte-level tests of the ``unix`` board: MicroPython's unix port behind the relay."""

from __future__ import annotations

import signal
import time

BANNER_END = b'Type "help()" for more information.\r\n>>> '


def _raw(board_io, *args: str):
    io = board_io("unix", *args)
    io.read_until(BANNER_END)
    io.enter_raw()
    return io


def test_banner(board_io):
    io = board_io("unix")
    banner = io.read_until(b">>> ")
    assert banner.startswith(b"MicroPython ")
    assert banner.endswith(BANNER_END)


def test_raw_exec_stdout_and_traceback(board_io):
    io = _raw(board_io)
    out, err = io.exec_raw(b"print('hello')\nprint(6 * 7)\n1/0")
    assert out == b"hello\r\n42\r\n"
    assert err.startswith(b"Traceback (most recent call last):\r\n")
    assert err.endswith(b"ZeroDivisionError: divide by zero\r\n")


def test_line_endings_are_crlf(board_io):
    io = _raw(board_io)
    out, _ = io.exec_raw(b"print('a\\nb\\r\\nc')\nprint('x' * 70000)")
    assert out.startswith(b"a\r\nb\r\nc\r\n")
    assert out.count(b"\n") == out.count(b"\r\n") == 4
    assert b"\r\r\n" not in out


def test_friendly_echo_and_result(board_io):
    io = board_io("unix")
    io.read_until(BANNER_END)
    io.write(b"1 + 2\r")
    assert io.read_until(b">>> ") == b"1 + 2\r\n3\r\n>>> "


def test_raw_paste_with_flow_control(board_io):
    io = _raw(board_io)
    lines = [f"v{i} = {i} * 3  # {'p' * 30}" for i in range(120)]
    code = ("\n".join(lines) + "\nprint(v119, len(dir()))\n").encode()
    assert len(code) > 5000
    io.write(b"\x05A\x01")
    assert io.read_exactly(2) == b"R\x01"
    window = int.from_bytes(io.read_exactly(2), "little")
    assert io.read_exactly(1) == b"\x01"
    assert window == 128
    credit = window
    sent = 0
    while sent < len(code):
        if credit == 0:
            io.read_until(b"\x01")
            credit += window
        chunk = code[sent : sent + credit]
        io.write(chunk)
        sent += len(chunk)
        credit -= len(chunk)
    io.write(b"\x04")
    io.read_until(b"\x04")
    out = io.read_until(b"\x04")[:-1]
    # Window credits that arrived after the last chunk are flow control, not output.
    out = out.lstrip(b"\x01")
    err = io.read_until(b"\x04")[:-1]
    io.read_until(b">")
    assert err == b""
    assert out.startswith(b"357 ")


def test_ctrl_c_interrupts_busy_loop(board_io):
    io = _raw(board_io)
    io.exec_raw(b"kept = 1")
    io.write(b"while True: pass\x04")
    io.read_until(b"OK")
    time.sleep(0.2)
    io.write(b"\x03")
    io.read_until(b"\x04", timeout=3)
    err = io.read_until(b"\x04", timeout=3)
    io.read_until(b">")
    assert b"KeyboardInterrupt" in err
    assert io.exec_raw(b"print(kept)") == (b"1\r\n", b"")


def test_ctrl_c_sent_with_the_code_interrupts(board_io):
    io = _raw(board_io)
    io.write(b"while True: pass\x04\x03")
    io.read_until(b"OK")
    io.read_until(b"\x04", timeout=3)
    assert b"KeyboardInterrupt" in io.read_until(b"\x04", timeout=3)
    io.read_until(b">")
    assert io.exec_raw(b"print(2)") == (b"2\r\n", b"")


def test_ctrl_c_at_idle_prompt_keeps_board(board_io):
    io = board_io("unix")
    io.read_until(BANNER_END)
    io.write(b"x = 9\r")
    io.read_until(b">>> ")
    io.write(b"\x03")
    assert io.read_until(b">>> ") == b"\r\n>>> "
    io.write(b"\x03\x03")
    io.read_until(b">>> ")
    io.read_until(b">>> ")
    io.enter_raw()
    io.write(b"\x03")
    time.sleep(0.1)
    assert io.exec_raw(b"print(x)") == (b"9\r\n", b"")
    assert io.proc.poll() is None


def test_soft_reset_in_raw_mode(board_io, tmp_path):
    io = _raw(board_io, "--fs", str(tmp_path))
    io.exec_raw(b"secret = 42\nwith open('kept.txt', 'w') as f:\n    f.write('still here')")
    io.write(b"\x04")
    assert io.read_until(b"soft reboot\r\n") == b"OK\r\nMPY: soft reboot\r\n"
    assert io.read_until(b">") == b"raw REPL; CTRL-B to exit\r\n>"
    out, err = io.exec_raw(b"print('secret' in globals(), open('kept.txt').read())")
    assert (out, err) == (b"False still here\r\n", b"")


def test_soft_reset_keeps_bytes_sent_meanwhile(board_io):
    io = _raw(board_io)
    io.write(b"\x04print('right after')\x04")
    io.read_until(b"raw REPL; CTRL-B to exit\r\n>")
    io.read_until(b"OK")
    assert io.read_until(b"\x04") == b"right after\r\n\x04"


def test_soft_reset_in_friendly_mode(board_io):
    io = board_io("unix")
    io.read_until(BANNER_END)
    io.write(b"y = 1\r")
    io.read_until(b">>> ")
    io.write(b"\x04")
    io.read_until(b"MPY: soft reboot\r\n")
    io.read_until(BANNER_END)
    io.write(b"'y' in globals()\r")
    assert io.read_until(b">>> ").endswith(b"False\r\n>>> ")


def test_root_is_the_fs_folder_and_persists(board_io, tmp_path):
    (tmp_path / "host.txt").write_text("from host")
    io = _raw(board_io, "--fs", str(tmp_path))
    out, err = io.exec_raw(
        b"import os\nprint(sorted(os.listdir('/')), os.getcwd())\n"
        b"os.mkdir('/lib')\nwith open('/lib/made.py', 'w') as f:\n    f.write('X = 3')"
    )
    assert (out, err) == (b"['host.txt'] /\r\n", b"")
    assert io.close() == 0
    assert (tmp_path / "lib" / "made.py").read_text() == "X = 3"
    again = _raw(board_io, "--fs", str(tmp_path))
    assert again.exec_raw(b"import made\nprint(made.X)") == (b"3\r\n", b"")


def test_default_fs_is_empty(board_io):
    io = _raw(board_io)
    assert io.exec_raw(b"import os\nprint(os.listdir('/'))") == (b"[]\r\n", b"")


def test_sys_path_is_board_like(board_io):
    io = _raw(board_io)
    assert io.exec_raw(b"import sys\nprint(sys.path)") == (b"['', '.frozen', '/lib']\r\n", b"")


def test_thread_and_viper(board_io):
    io = _raw(board_io)
    code = b"""\
import _thread, time
done = []
def work(n):
    done.append(n * 2)
_thread.start_new_thread(work, (21,))
for _ in range(100):
    if done:
        break
    time.sleep_ms(10)
@micropython.viper
def add(a: int, b: int) -> int:
    return a + b
@micropython.native
def mul(a, b):
    return a * b
print(done, add(2, 3), mul(4, 5))
"""
    assert io.exec_raw(code) == (b"[42] 5 20\r\n", b"")


def test_eof_exits_zero_and_reaps_child(board_io, processes):
    io = board_io("unix")
    io.read_until(BANNER_END)
    children = processes.children(io.proc.pid)
    assert children
    assert io.close() == 0
    assert processes.gone_within(children, 2)


def test_sigterm_exits_and_reaps_child(board_io, processes):
    io = board_io("unix")
    io.read_until(BANNER_END)
    children = processes.children(io.proc.pid)
    io.proc.send_signal(signal.SIGTERM)
    assert io.proc.wait(5) == 0
    time.sleep(0.1)
    assert processes.gone_within(children, 2)


def test_sigkill_of_relay_ends_child(board_io, processes):
    io = board_io("unix")
    io.read_until(BANNER_END)
    children = processes.children(io.proc.pid)
    io.proc.kill()
    io.proc.wait(5)
    assert processes.gone_within(children, 2)
