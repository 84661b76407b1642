# MicroPython code each emulated board (unix, wasm) runs in every fresh interpreter before its REPL
# starts: a board-like flash at `/` (a VfsPosix of the board's host folder), `sys.path` as on a
# board, and an `input()` that reads stdin and echoes like a board's line editor (the ports' own
# spins forever on wasm and takes \r\n for two Enters on unix). The host program replaces FLASH_ROOT
# with the folder's path (a string literal) before running it. Not imported by CPython.


def _belay_setup():
    import builtins
    import os
    import sys

    import vfs

    vfs.umount("/")
    vfs.mount(vfs.VfsPosix(FLASH_ROOT), "/")  # noqa: F821 - replaced before it runs
    os.chdir("/")
    sys.path[:] = ["", ".frozen", "/lib"]
    after_cr = [False]

    def input(prompt=""):
        if prompt:
            sys.stdout.write(prompt)
        line = ""
        while True:
            c = sys.stdin.read(1)
            if c == "\n" and after_cr[0]:
                after_cr[0] = False  # the second half of an Enter sent as \r\n
                continue
            after_cr[0] = c == "\r"
            if c == "":
                raise EOFError
            if c in ("\r", "\n"):
                sys.stdout.write("\n")  # cooked: the \r\n a board's line editor echoes
                return line
            if c == "\x03":
                raise KeyboardInterrupt
            if c == "\x04" and not line:
                raise EOFError
            if c in ("\x08", "\x7f"):
                if line:
                    line = line[:-1]
                    sys.stdout.write("\x08 \x08")
                continue
            line += c
            sys.stdout.write(c)

    builtins.input = input


_belay_setup()
del _belay_setup
