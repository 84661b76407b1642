"""Byte-level tests of the ``microbit`` board: the micro:bit firmware under qemu-system-arm."""

from __future__ import annotations

import os
import time

BANNER_END = b'Type "help()" for more information.\r\n>>> '


def _raw(board_io):
    io = board_io("microbit")
    io.read_until(BANNER_END)
    io.enter_raw()
    return io


def test_banner(board_io):
    io = board_io("microbit")
    banner = io.read_until(BANNER_END)
    assert banner.startswith(b"MicroPython v1.9.2")
    assert b"micro:bit" in banner


def test_raw_exec(board_io):
    io = _raw(board_io)
    assert io.exec_raw(b"print('hi', 6 * 7)") == (b"hi 42\r\n", b"")
    out, err = io.exec_raw(b"1/0")
    assert out == b""
    assert err.endswith(b"ZeroDivisionError: division by zero\r\n")


def test_soft_reset_clears_globals(board_io):
    io = _raw(board_io)
    io.exec_raw(b"secret = 1")
    io.write(b"\x04")
    assert io.read_until(b"soft reboot\r\n").startswith(b"OK")
    io.read_until(b"raw REPL; CTRL-B to exit\r\n>")
    assert io.exec_raw(b"print('secret' in globals())") == (b"False\r\n", b"")


def test_ctrl_c_interrupts_busy_loop(board_io):
    io = _raw(board_io)
    io.exec_raw(b"kept = 5")
    io.write(b"while True: pass\x04")
    io.read_until(b"OK")
    time.sleep(0.2)
    io.write(b"\x03")
    io.read_until(b"\x04", timeout=3)
    assert b"KeyboardInterrupt" in io.read_until(b"\x04", timeout=3)
    io.read_until(b">")
    assert io.exec_raw(b"print(kept)") == (b"5\r\n", b"")


def test_no_raw_paste(board_io):
    io = _raw(board_io)
    io.write(b"\x05A\x01")
    answer = io.read_until(b">", timeout=3)
    assert not answer.startswith(b"R")
    assert answer.endswith(b"raw REPL; CTRL-B to exit\r\n>")
    assert io.exec_raw(b"print(3)") == (b"3\r\n", b"")


def test_eof_exits_zero_and_ends_qemu(board_io, processes):
    io = board_io("microbit")
    io.read_until(BANNER_END)
    qemu = processes.children(io.proc.pid)
    assert qemu
    assert io.close() == 0
    assert processes.gone_within(qemu, 2)


def test_sigkill_of_relay_ends_qemu(board_io, processes):
    io = board_io("microbit")
    io.read_until(BANNER_END)
    qemu = processes.children(io.proc.pid)
    assert qemu
    os.kill(io.proc.pid, 9)
    io.proc.wait(5)
    assert processes.gone_within(qemu, 2)


def test_sigterm_exits_and_ends_qemu(board_io, processes):
    io = board_io("microbit")
    io.read_until(BANNER_END)
    qemu = processes.children(io.proc.pid)
    io.proc.terminate()
    assert io.proc.wait(5) == 0
    assert processes.gone_within(qemu, 2)


def test_bytes_sent_while_it_boots_wait_for_the_prompt(board_io):
    # A real board is already running when a host opens its line; the emulated one holds host bytes
    # until the firmware's first prompt, as the firmware drops what reaches its UART during boot.
    io = board_io("microbit")
    io.write(b"\r\x03\x03\x01")
    io.write(b"print(6 * 7)\x04")
    io.read_until(b"raw REPL; CTRL-B to exit\r\n>", timeout=60)
    assert io.read_until(b"\x04\x04>", timeout=10) == b"OK42\r\n\x04\x04>"
