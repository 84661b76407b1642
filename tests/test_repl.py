"""The raw-REPL engine on real boards: raw-paste and its fallback, streaming, interrupts."""

from __future__ import annotations

import io
import os
import signal
import threading
import time

import pytest

from belay_core.errors import DeviceTimeoutError, ProtocolError
from belay_core.repl import RawRepl, split_error
from belay_emulator.transport import EmulatorTransport

RAW_PASTE = {"emu:unix": True, "emu:wasm": True, "emu:microbit": False}


@pytest.fixture
def repl(board):
    transport = EmulatorTransport(board)
    transport.open()
    engine = RawRepl(transport)
    engine.enter(soft_reset=True)
    yield engine
    engine.exit()
    transport.close()


def run(repl: RawRepl, code: str, timeout: float = 20) -> tuple[bytes, bytes]:
    out: list[bytes] = []
    err = repl.exec(code.encode(), timeout=timeout, on_stdout=out.append)
    return b"".join(out), err


def test_raw_paste_is_used_where_the_firmware_has_it(board, repl):
    out, err = run(repl, "print(6 * 7)")
    assert (out, err) == (b"42\r\n", b"")
    assert repl.raw_paste is RAW_PASTE[board]


def test_code_many_windows_long(board, repl):
    lines = 20 if board == "emu:microbit" else 200  # the micro:bit's heap is 9 KiB
    code = "total = 0\n" + "".join(f"total += {i}  # {'pad' * 10}\n" for i in range(lines)) + "print(total)"
    assert len(code) > 7 * 128
    out, err = run(repl, code)
    assert err == b""
    assert out == f"{sum(range(lines))}\r\n".encode()


def test_fallback_writes_classic_raw_repl(board, repl):
    repl.raw_paste = False
    padding = 600 if board == "emu:microbit" else 1500
    out, _ = run(repl, "print('classic')\n" + "#" * padding + "\nprint('end')")
    assert out == b"classic\r\nend\r\n"


def test_exception_comes_back_on_stderr(repl):
    out, err = run(repl, "print('before')\nraise ValueError('bad value')")
    assert out == b"before\r\n"
    assert b"ValueError: bad value" in err


def test_output_is_streamed_while_the_code_runs(repl):
    arrivals: list[tuple[float, bytes]] = []
    start = time.monotonic()
    repl.exec(
        b"import time\nprint('first')\ntime.sleep(0.6)\nprint('second')",
        timeout=20,
        on_stdout=lambda data: arrivals.append((time.monotonic() - start, data)),
    )
    received = b""
    first = second = None
    for when, data in arrivals:
        received += data
        if first is None and b"first" in received:
            first = when
        if second is None and b"second" in received:
            second = when
    assert first is not None and second is not None, arrivals
    # Streamed: "first" came while the board slept (0.6 s), not together with "second" at the end.
    assert second - first > 0.3, arrivals
    assert b"".join(d for _, d in arrivals) == b"first\r\nsecond\r\n"


def test_timeout_interrupts_with_ctrl_c(repl):
    with pytest.raises(DeviceTimeoutError):
        run(repl, "import time\nwhile True:\n    time.sleep_ms(5)", timeout=0.5)
    assert run(repl, "print(1)") == (b"1\r\n", b"")


def test_host_keyboard_interrupt_interrupts_the_board(repl):
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))  # as a Ctrl-C at the terminal
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            run(repl, "import time\nwhile True:\n    time.sleep_ms(5)", timeout=20)
    finally:
        timer.cancel()
    assert run(repl, "print(2)") == (b"2\r\n", b"")


@pytest.mark.parametrize("spec", ["emu:unix", "emu:microbit"])  # the wasm port cannot see Ctrl-C in a pure loop
def test_busy_loop_is_interrupted(spec):
    transport = EmulatorTransport(spec)
    transport.open()
    try:
        engine = RawRepl(transport)
        engine.enter()
        with pytest.raises(DeviceTimeoutError):
            run(engine, "while True:\n    pass", timeout=0.5)
        assert run(engine, "print(3)") == (b"3\r\n", b"")
    finally:
        transport.close()


def test_soft_reset_clears_the_heap(repl):
    run(repl, "marker = 1")
    repl.soft_reset()
    _, err = run(repl, "marker")
    assert b"NameError" in err


def test_raw_paste_forced_on_firmware_without_it_fails_cleanly():
    transport = EmulatorTransport("emu:microbit")
    transport.open()
    try:
        engine = RawRepl(transport)
        engine.enter()
        assert engine.raw_paste is False
        engine.raw_paste = True
        with pytest.raises((DeviceTimeoutError, ProtocolError)):
            run(engine, "print(1)", timeout=1)
        engine.raw_paste = False
        assert run(engine, "print(1)") == (b"1\r\n", b"")
    finally:
        transport.close()


# What a board thread's unhandled exception and a call's own traceback look like (unix port, real).
THREAD_TB = (
    b"Unhandled exception in thread started by <function f at 0x7f2ce5c056e0>\r\n"
    b"Traceback (most recent call last):\r\n"
    b'  File "<stdin>", line 3, in f\r\n'
    b"ValueError: boom\r\n"
)
CALL_TB = b'Traceback (most recent call last):\r\n  File "<stdin>", line 1, in <module>\r\nNameError: x\r\n'


def test_split_error_gives_a_thread_s_text_to_the_output():
    assert split_error(b"") == (b"", b"")
    assert split_error(b"tick 1\r\n") == (b"tick 1\r\n", b"")
    assert split_error(b"tick 1\r\n" + CALL_TB) == (b"tick 1\r\n", CALL_TB)


def test_split_error_knows_a_thread_s_traceback_from_the_call_s():
    assert split_error(THREAD_TB) == (THREAD_TB, b"")
    assert split_error(b"tick\r\n" + THREAD_TB + CALL_TB) == (b"tick\r\n" + THREAD_TB, CALL_TB)


def test_split_error_finds_a_traceback_less_exception():
    # MicroPython prints only the exception line when it had no memory for a traceback.
    assert split_error(b"tick\r\nMemoryError: memory allocation failed\r\n") == (
        b"tick\r\n",
        b"MemoryError: memory allocation failed\r\n",
    )
    assert split_error(b"KeyboardInterrupt\r\n") == (b"", b"KeyboardInterrupt\r\n")
    assert split_error(b"no Error: here\r\n") == (b"no Error: here\r\n", b"")


def _filter(*pieces: bytes):
    from belay_core.frames import ResultFilter

    stream = io.StringIO()
    output = ResultFilter(stream)
    for piece in pieces:
        output(piece)
    frame = output.finish()
    return (None if frame is None else (frame.kind, frame.payload)), stream.getvalue()


def test_a_frame_keeps_a_thread_s_text_printed_around_its_newline():
    # The board's helper writes a frame with its newline, so a thread's text comes after both; a
    # file read writes them apart, so a thread may print in between.
    assert _filter(b"out\r\n\x02R2:12\r\n") == (("R", "12"), "out\n")
    assert _filter(b"\x02R2:12\r\ntick 37\r\ntick 38\r\n") == (("R", "12"), "tick 37\ntick 38\n")
    assert _filter(b"\x02R2:12tick\r\n 15") == (("R", "12"), "tick 15")
    assert _filter(b"\x02R2:12", b" \r\n20", b"5") == (("R", "12"), " 205")
    assert _filter(b"\x02R2:12\r\ntick 3\r\n") == (("R", "12"), "tick 3\n")
    assert _filter(b"\x02R5:12") == (None, "\x02R5:12")  # cut short: no frame, all output


@pytest.mark.parametrize("board", ["unix"], indirect=True)  # the board with threads
def test_a_printing_thread_never_turns_a_good_call_into_an_error(repl):
    # Real firmware: a thread prints while calls run; every call succeeds and nothing the thread
    # printed is lost or mangled. It prints a known number of lines; calls go on until the last arrived.
    count = 300
    code = f"import _thread,time\ndef t():\n for i in range({count}):\n  print('tick',i)\n  time.sleep_ms(1)"
    assert run(repl, code) == (b"", b"")
    printed = []
    calls = ["_thread.start_new_thread(t,())", *(f"x={i}" for i in range(600))]
    while calls or f"tick {count - 1}\r\n".encode() not in b"".join(printed):
        out, err = run(repl, calls.pop(0) if calls else "x=0")
        assert err == b""
        printed.append(out)
    assert b"".join(printed).decode().splitlines() == [f"tick {i}" for i in range(count)]


def test_a_frame_split_into_small_pieces_is_still_found():
    # A slow line (the micro:bit's) delivers a frame a few bytes at a time, its mark and token too.
    from belay_core.frames import ResultFilter

    data = b"out\r\n\x02abcdR2:12\r\nafter\r\n"
    for size in range(1, 8):
        stream = io.StringIO()
        output = ResultFilter(stream, token=b"abcd")
        for start in range(0, len(data), size):
            output(data[start : start + size])
        frame = output.finish()
        assert (frame.kind, frame.payload) == ("R", "12"), size
        assert stream.getvalue() == "out\nafter\n"


def test_a_line_that_never_stops_talking_keeps_host_memory_bounded():
    # Waiting for the raw REPL's banner behind endless text once held all of it (gigabytes).
    import tracemalloc

    from belay_core import Device, DeviceTimeoutError

    tracemalloc.start()
    try:
        with pytest.raises(DeviceTimeoutError, match="did not answer like a MicroPython raw REPL"):
            Device("exec:yes", timeout=3)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20


@pytest.mark.parametrize("program", ["cat", "sleep 100"])
def test_the_calls_timeout_also_bounds_connecting(program):
    # A silent or echoing line was waited on for 10 s whatever the timeout.
    from belay_core import Device, DeviceTimeoutError

    with pytest.raises(DeviceTimeoutError, match=r"did not answer like a MicroPython raw REPL within 2 s"):
        Device(f"exec:{program}", timeout=2)
