"""A fault-injecting line: a program between Belay and a board that damages the bytes it relays.

Run it as an ``exec:`` board: ``exec:python faulty_line.py --change-after MARK [--skip N] [--times K]
-- BOARD COMMAND...``. It starts the board command and relays both ways; after each of the first
``K`` occurrences of ``MARK`` in what the host sends, it changes the ``N``-th letter or digit that
follows (a letter's case, or a digit), as a noisy line flips a bit: the board gets valid but wrong
text. ``--to-host`` damages what the board sends instead. Everything else passes unchanged.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading


def _change(byte: int) -> int:
    if 48 <= byte <= 57:
        return 48 + (byte - 48 + 1) % 10
    if 65 <= byte <= 90 or 97 <= byte <= 122:
        return byte ^ 0x20
    return -1


class _Damager:
    """Changes one letter or digit ``skip`` places after each of the first ``times`` marks."""

    def __init__(self, mark: bytes, skip: int, times: int) -> None:
        self.mark, self.skip, self.left = mark, skip, times
        self.tail = b""
        self.countdown = -1

    def __call__(self, data: bytes) -> bytes:
        out = bytearray(data)
        for index in range(len(out)):
            if self.countdown >= 0:
                changed = _change(out[index])
                if changed >= 0:
                    if self.countdown == 0:
                        out[index] = changed
                        self.countdown = -1
                        continue
                    self.countdown -= 1
                continue
            if self.left <= 0:
                break
            self.tail = (self.tail + bytes((out[index],)))[-len(self.mark) :]
            if self.tail == self.mark:
                self.left -= 1
                self.countdown = self.skip
        return bytes(out)


def _pump(source: int, sink: int, transform: object) -> None:
    while True:
        try:
            data = os.read(source, 65536)
        except OSError:
            data = b""
        if not data:
            break
        if callable(transform):
            data = transform(data)
        try:
            os.write(sink, data)
        except OSError:
            break


def main(argv: list[str]) -> int:
    """Relay between the host (stdin and stdout) and the board command, damaging as told; the board's exit code."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--change-after", required=True, help="the text after which a byte is changed")
    parser.add_argument("--skip", type=int, default=5, help="letters or digits left alone after the mark")
    parser.add_argument("--times", type=int, default=1, help="how many marks get a damaged byte")
    parser.add_argument("--to-host", action="store_true", help="damage what the board sends, not what it gets")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    board = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
    assert board.stdin is not None and board.stdout is not None
    damage = _Damager(args.change_after.encode(), args.skip, args.times)
    to_board = threading.Thread(
        target=_pump, args=(0, board.stdin.fileno(), None if args.to_host else damage), daemon=True
    )
    to_board.start()
    _pump(board.stdout.fileno(), 1, damage if args.to_host else None)
    board.wait()
    return board.returncode or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
