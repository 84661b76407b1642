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


def test_line_endings_are_cooked_as_on_a_board(board_io):
    # mp_hal_stdout_tx_strn_cooked sends every \n as \r\n, also the one of a printed \r\n; also in long output.
    io = _raw(board_io)
    out, _ = io.exec_raw(b"print('a\\nb\\r\\nc')\nprint('x' * 70000)")
    assert out == b"a\r\nb\r\r\nc\r\n" + b"x" * 70000 + b"\r\n"


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
    out, err = io.raw_paste(code)
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


def test_ctrl_c_at_the_end_of_short_commands_never_kills_the_port(board_io):
    # Each \x03 lands while "1" runs or just after: the port must show a prompt, never a soft reboot.
    io = board_io("unix")
    io.read_until(BANNER_END)
    for _ in range(600):
        io.write(b"1\r\x03")
        io.read_until(b"1\r\n")
        io.read_until(b">>> ")
    io.write(b"\x04")
    rest = io.read_until(b"MPY: soft reboot\r\n")
    assert b"soft reboot" not in rest[: -len(b"MPY: soft reboot\r\n")]


def _handler_toggler(tmp_path):
    """A CPython process flipping its SIGINT handler on and off as fast as it can."""
    script = tmp_path / "toggle.py"
    script.write_text(
        "import signal, sys\n"
        "count = 0\n"
        "def handler(signum, frame):\n"
        "    global count\n"
        "    count += 1\n"
        # Python's own SIGINT handler raises KeyboardInterrupt: it must be gone before "ready".
        "signal.signal(signal.SIGINT, handler)\n"
        "sys.stdout.write('ready\\n'); sys.stdout.flush()\n"
        # Before 3.10 a signal caught while SIG_DFL is the Python-level handler raises TypeError.
        "while sys.stdin.readable():\n"
        "    try:\n"
        "        signal.signal(signal.SIGINT, handler)\n"
        "        signal.signal(signal.SIGINT, signal.SIG_DFL)\n"
        "    except TypeError:\n"
        "        pass\n"
    )
    return script


def test_interrupt_if_running_never_meets_the_default_action(tmp_path):
    # A handler switched on and off all the time: reading the mask, then kill(), would land on
    # SIG_DFL sooner or later and kill the process; the stopped re-check never does.
    import subprocess
    import sys

    from belay_emulator.boards.unix import interrupt_if_running

    proc = subprocess.Popen(
        [sys.executable, "-W", "ignore", str(_handler_toggler(tmp_path))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        assert proc.stdout.readline() == b"ready\n"
        # Whether a try finds the handler on depends on where the toggler is when stopped, and a loaded
        # machine may leave the toggler unscheduled for many tries: go on until 10 signals went out and
        # at least 400 tries were made (pytest's timeout bounds it).
        sent = tries = 0
        while sent < 10 or tries < 400:
            sent += interrupt_if_running(proc.pid)
            tries += 1
            assert proc.poll() is None, f"killed by signal {-proc.returncode} after {tries} tries"
        time.sleep(0.05)
        assert proc.poll() is None, f"killed by signal {-proc.returncode}"
    finally:
        proc.kill()
        proc.wait()


def test_interrupt_if_running_leaves_idle_processes_alone(tmp_path):
    import subprocess
    import sys

    from belay_emulator.boards.unix import interrupt_if_running

    proc = subprocess.Popen(
        [sys.executable, "-c", "import signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); sys.stdin.read()"],
        stdin=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        time.sleep(0.3)
        assert not interrupt_if_running(proc.pid)
        time.sleep(0.05)
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait()
    assert not interrupt_if_running(proc.pid)


def _relay():
    from pathlib import Path

    from belay_emulator.boards.unix import UnixRelay

    return UnixRelay(site_dir="", root=Path())


def test_relay_counts_a_child_up_at_its_banner():
    from belay_emulator.boards.unix import FRIENDLY, RAW

    relay = _relay()
    relay.watch(b"Traceback ...\n")
    assert not relay.up
    relay.watch(b'MicroPython 1.x; linux\nType "help()" for more ')
    assert not relay.up
    relay.watch(b"information.\n>>> ")  # the banner split across two reads
    assert relay.up and relay.mode == FRIENDLY
    relay.watch(b"\nraw REPL; CTRL-B to exit\n>")
    assert relay.mode == RAW


def test_relay_after_a_reboot_waits_for_the_new_childs_banner():
    from belay_emulator.boards.unix import RAW, SOFT_REBOOT

    relay = _relay()
    relay.watch(b'Type "help()" for more information.\n>>> ')
    relay.up, relay.rebooting = False, True  # what the relay does when a child ends
    relay.watch(b'Type "help()" for more information.\n>>> ')  # the old child's output, read late
    assert not relay.up
    relay.watch(SOFT_REBOOT[:5])
    relay.watch(SOFT_REBOOT[5:] + b"raw REPL; CTRL-B")
    assert not relay.up and not relay.rebooting
    relay.watch(b" to exit\n>")
    assert relay.up and relay.mode == RAW
    relay.up, relay.rebooting = False, True
    relay.watch(b"OK")  # a marker already seen is not counted again
    assert not relay.up and relay.rebooting
