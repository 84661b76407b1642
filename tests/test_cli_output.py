"""What Belay prints: values as the board's REPL shows them, tracebacks that name the user's files and lines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from belay_core.cli import cli


def _belay(*args: str) -> object:
    return CliRunner().invoke(cli, list(args))


def test_exec_prints_the_repr_of_any_value_as_a_repl_would():
    # object() once printed <UNPARSABLE_RESULT> with a warning.
    for code, shown in [("object()", "<object>\n"), ("bytearray(b'ab')", "bytearray(b'ab')\n"), ("6 * 7", "42\n")]:
        result = _belay("exec", "-d", "emu:", code)
        assert result.exit_code == 0, result.output
        assert result.output == shown


def test_exec_of_none_or_a_statement_prints_only_what_the_board_prints():
    assert _belay("exec", "-d", "emu:", "None").output == ""
    assert _belay("exec", "-d", "emu:", "x = 1; print('hi')").output == "hi\n"


def test_run_names_the_file_in_every_frame_of_its_traceback(tmp_path: Path):
    # The function's frame once said File "<stdin>", line 2, in f.
    program = tmp_path / "err.py"
    program.write_text("def f():\n    raise ValueError('boom')\n\nf()\n")
    result = _belay("run", "-d", "emu:", str(program))
    assert result.exit_code == 1
    assert f'File "{program}", line 4, in <module>' in result.stderr
    assert f'File "{program}", line 2, in f' in result.stderr
    assert "raise ValueError('boom')" in result.stderr
    assert "<stdin>" not in result.stderr


def test_an_uncaught_board_error_in_a_script_shows_no_engine_frames(tmp_path: Path):
    script = tmp_path / "user.py"
    script.write_text(
        "from belay_core import Device\n"
        "device = Device('emu:')\n\n"
        "@device.task\n"
        "def bad():\n"
        "    raise ValueError('boom')\n\n"
        "bad()\n"
    )
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    host_part, board_part = result.stderr.split("belay_core.errors.DeviceValueError: ", 1)
    assert f'File "{script}", line 8, in <module>' in host_part
    frames = [line for line in host_part.splitlines() if line.strip().startswith("File ")]
    assert len(frames) == 2, host_part  # the user's line and the one that re-raises, not the engine's
    assert "raised_on_the_board" in frames[1]
    assert f'File "{script}", line 6, in bad' in board_part


def test_a_task_typed_at_the_python_prompt_says_why_it_cannot_work():
    typed = "from belay_core import Device\ndevice = Device('emu:')\n@device.task\ndef f():\n    return 1\n\n"
    result = subprocess.run([sys.executable, "-i", "-q"], input=typed, capture_output=True, text=True, timeout=120)
    assert "DefinitionError: cannot read the source of 'f': it was typed at the Python prompt" in result.stderr
    assert "in a file, in IPython or Jupyter" in result.stderr


def test_a_task_typed_at_python_3_13_s_prompt_works():
    # Python 3.13's prompt keeps what was typed in linecache as <python-input-N> and compiles it under that
    # name; the same done here on any Python.
    import linecache

    from belay_core import Device

    source = "def f():\n    return 40 + 2\n\ndef g():\n    raise ValueError('typed')\n"
    name = "<python-input-0>"
    linecache.cache[name] = (len(source), None, source.splitlines(True), name)
    namespace: dict[str, object] = {}
    exec(compile(source, name, "exec"), namespace)
    with Device("emu:") as device:
        assert device.task(namespace["f"])() == 42
        try:
            device.task(namespace["g"])()
        except ValueError as error:
            assert 'File "<python-input-0>", line 5, in g' in str(error)
        else:
            raise AssertionError("g() did not raise")


def test_a_statement_keyword_alone_is_a_statement():
    # "pass".isidentifier() once made device("pass") and belay exec pass a SyntaxError on the board.
    from belay_core import Device

    with Device("emu:") as device:
        assert device("pass") is None
        assert device("None") is None and device("True") is True
    assert _belay("exec", "-d", "emu:", "pass").exit_code == 0
