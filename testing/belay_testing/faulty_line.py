"""A fault-injecting line: a program between Belay and a board that damages the bytes it relays.

Run it as an ``exec:`` board: ``exec:python faulty_line.py --after MARK [--fault KIND] [--skip N]
[--times K] [--delay S] -- BOARD COMMAND...``. It starts the board command and relays both ways; at
the ``N``-th letter or digit after each of the first ``K`` occurrences of ``MARK`` in what the host
sends (``--to-host``: in what the board sends), it injects a fault, as a bad line would:

``change``
    changes that letter or digit (a letter's case, or a digit): the other end gets valid but wrong text;
``drop``
    leaves that byte out;
``delay``
    holds the line for ``S`` seconds before that byte (a board or line that stalls);
``cut``
    relays nothing from that byte on and ends the board (a cable pulled mid-answer).

Everything else passes unchanged. ``--change-after MARK`` is ``--after MARK --fault change``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from typing import Callable

FAULTS = ("change", "drop", "delay", "cut")


def _change(byte: int) -> int:
    if 48 <= byte <= 57:
        return 48 + (byte - 48 + 1) % 10
    if 65 <= byte <= 90 or 97 <= byte <= 122:
        return byte ^ 0x20
    return -1


class _Line:
    """Finds the fault points in a stream (the ``skip``-th letter or digit after each of ``times`` marks)."""

    def __init__(self, mark: bytes, skip: int, times: int, fault: str, delay: float) -> None:
        self.mark, self.skip, self.left, self.fault, self.delay = mark, skip, times, fault, delay
        self.tail = b""
        self.countdown = -1

    def _is_fault_point(self, byte: int) -> bool:
        if self.countdown >= 0:
            if _change(byte) >= 0:
                if self.countdown == 0:
                    self.countdown = -1
                    return True
                self.countdown -= 1
            return False
        if self.left > 0:
            self.tail = (self.tail + bytes((byte,)))[-len(self.mark) :]
            if self.tail == self.mark:
                self.left -= 1
                self.countdown = self.skip
        return False

    def relay(self, data: bytes, write: Callable[[bytes], None]) -> bool:
        """Write ``data`` with the faults it holds; False once the line is cut."""
        out = bytearray(data)
        start = 0
        for index in range(len(out)):
            if self.left <= 0 and self.countdown < 0:
                break
            if not self._is_fault_point(out[index]):
                continue
            if self.fault == "change":
                out[index] = _change(out[index])
            elif self.fault == "drop":
                write(bytes(out[start:index]))
                start = index + 1
            elif self.fault == "delay":
                write(bytes(out[start:index]))
                time.sleep(self.delay)
                start = index
            else:
                write(bytes(out[start:index]))
                return False
        write(bytes(out[start:]))
        return True


def _pump(source: int, sink: int, line: _Line | None, cut: Callable[[], None]) -> None:
    def write(data: bytes) -> None:
        if data:
            os.write(sink, data)

    while True:
        try:
            data = os.read(source, 65536)
        except OSError:
            data = b""
        if not data:
            break
        try:
            if line is None:
                write(data)
            elif not line.relay(data, write):
                cut()
                break
        except OSError:
            break


def main(argv: list[str]) -> int:
    """Relay between the host (stdin and stdout) and the board command, with faults as told; the board's exit code."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--after", help="the text after which the fault comes")
    parser.add_argument("--change-after", help="the same as --after MARK --fault change")
    parser.add_argument("--fault", choices=FAULTS, default="change", help="what happens at the fault point")
    parser.add_argument("--skip", type=int, default=5, help="letters or digits left alone after the mark")
    parser.add_argument("--times", type=int, default=1, help="how many marks get a fault")
    parser.add_argument("--delay", type=float, default=5.0, help="seconds a delay fault holds the line")
    parser.add_argument("--to-host", action="store_true", help="damage what the board sends, not what it gets")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    mark = args.after if args.after is not None else args.change_after
    if mark is None:
        parser.error("--after MARK is required")
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    board = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
    assert board.stdin is not None and board.stdout is not None
    line = _Line(mark.encode(), args.skip, args.times, args.fault, args.delay)

    def cut() -> None:
        board.kill()
        os.close(1)

    to_board = threading.Thread(
        target=_pump, args=(0, board.stdin.fileno(), None if args.to_host else line, cut), daemon=True
    )
    to_board.start()
    _pump(board.stdout.fileno(), 1, line if args.to_host else None, cut)
    board.wait()
    return 0 if args.fault == "cut" else board.returncode or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
