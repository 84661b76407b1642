"""The ``belay`` command line: lazy help, every command's help, device commands end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from belay_core.cli import cli
from belay_core.known_plugins import COMMANDS
from belay_core.plugins import get_plugins

HEAVY = (
    "serial",
    "websocket",
    "httpx",
    "tomlkit",
    "platformdirs",
    "belay_exec.transport",
    "belay_emulator.transport",
    "belay_core.commands",
    "belay_packages.downloaders",
    "belay_packages.manager",
    "belay_packages.commands",
    "belay_github.download",
)


def _modules_after(args: list[str]) -> set[str]:
    code = (
        "import sys\nfrom belay_core.cli import main\n"
        f"code = main({args!r})\n"
        "print('\\n' + ' '.join(sorted(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(result.stdout.strip().splitlines()[-1].split())


@pytest.mark.parametrize("args", [["--help"], ["--version"]])
def test_help_and_version_import_no_implementation(args):
    loaded = _modules_after(args)
    heavy = sorted(m for m in loaded if m.startswith(HEAVY))
    assert heavy == []


def test_version():
    from belay_core import __version__

    result = CliRunner().invoke(cli, ["--version"])
    assert __version__ in result.output


def test_every_registered_command_has_help():
    names = list(get_plugins().records("commands"))
    assert {"exec", "run", "info", "latency", "plugins"} <= set(names)
    runner = CliRunner()
    for name in names:
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "Usage:" in result.output


def test_exec_prints_expression_value(board):
    result = CliRunner().invoke(cli, ["exec", "-d", board, "6 * 7"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "42"


def test_exec_streams_prints(board):
    result = CliRunner().invoke(cli, ["exec", "-d", board, "print('from the board')"])
    assert result.output == "from the board\n"


def test_device_error_prints_board_traceback_and_fails():
    result = subprocess.run(
        [sys.executable, "-m", "belay_core.cli", "exec", "-d", "emu:unix", "1/0"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "ZeroDivisionError" in result.stderr
    assert "belay_core" not in result.stderr  # no host stack trace


def test_unknown_spec_is_a_clean_error():
    env = {**os.environ, "BELAY_DISABLE_PLUGINS": "webrepl"}
    result = subprocess.run(
        [sys.executable, "-m", "belay_core.cli", "exec", "-d", "ws://127.0.0.1:1", "1"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 2
    assert "belay-webrepl is installed but blocked" in result.stderr
    assert "Installed transports:" in result.stderr
    assert "Traceback" not in result.stderr


def test_device_from_environment(monkeypatch):
    monkeypatch.setenv("BELAY_DEVICE", "emu:unix")
    result = CliRunner().invoke(cli, ["exec", "1 + 1"])
    assert result.output.strip() == "2"


def test_missing_device_is_explained(monkeypatch):
    monkeypatch.delenv("BELAY_DEVICE", raising=False)
    result = CliRunner().invoke(cli, ["exec", "1"])
    assert result.exit_code == 2
    assert "--device" in result.output


def test_run_file(board, tmp_path: Path):
    script = tmp_path / "script.py"
    script.write_text("for i in range(3):\n    print('line', i)\n")
    result = CliRunner().invoke(cli, ["run", "-d", board, str(script)])
    assert result.exit_code == 0, result.output
    assert result.output == "line 0\nline 1\nline 2\n"


def test_info_json(board):
    result = CliRunner().invoke(cli, ["info", "-d", board, "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["name"] == "micropython"
    assert info["platform"] in ("linux", "webassembly", "microbit")


def test_info_table():
    result = CliRunner().invoke(cli, ["info", "-d", "emu:unix"])
    assert "x64" in result.output and "native, viper" in result.output


def test_latency():
    result = CliRunner().invoke(cli, ["latency", "-d", "emu:unix", "-n", "20"])
    assert result.exit_code == 0, result.output
    assert "20 calls: min" in result.output and "median" in result.output and "stdev" in result.output


def test_timeout_option():
    result = subprocess.run(
        [sys.executable, "-m", "belay_core.cli", "exec", "-d", "emu:unix", "--timeout", "0.5", "while True: pass"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "did not finish within 0.5 s" in result.stderr


PACKAGE_COMMANDS = sorted(name for name, dist in COMMANDS.items() if dist == "belay-packages")

AS_IF_NOT_INSTALLED = """
import sys
import belay_core.plugins as loading

installed = loading._entry_points
loading._entry_points = lambda: [ep for ep in installed() if ep.name != "packages"]
from belay_core.cli import main

sys.exit(main(sys.argv[1:]))
"""
"""``belay ARGS...`` as if belay-packages were not installed: its entry point is not listed."""


def _belay_without_packages(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", AS_IF_NOT_INSTALLED, *args], capture_output=True, text=True)


def _listed_commands(help_text: str) -> set[str]:
    section = help_text.split("\nCommands:\n", 1)[1]
    return {line.split()[0] for line in section.splitlines() if line.startswith("  ") and not line.startswith("   ")}


def test_help_without_the_package_manager_lists_none_of_its_commands():
    result = _belay_without_packages("--help")
    assert result.returncode == 0, result.stderr
    listed = _listed_commands(result.stdout)
    assert {"exec", "run", "sync", "fs"} <= listed
    assert listed.isdisjoint(PACKAGE_COMMANDS)


@pytest.mark.parametrize("command", ["install", "new", "add", "lock"])
def test_a_package_command_without_the_plugin_says_which_to_install(command):
    result = _belay_without_packages(command, "--help")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"Error: 'belay {command}' comes from the belay-packages plugin, which is not installed: "
        "pip install belay-packages"
    ]


def test_run_local_without_the_plugin_says_which_to_install():
    result = _belay_without_packages("run", "--local", "micropython", "main.py")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "Error: 'belay run --local' comes from the belay-packages plugin, which is not installed: "
        "pip install belay-packages"
    ]


def test_a_package_command_of_a_blocked_plugin_says_it_is_blocked():
    env = {**os.environ, "BELAY_DISABLE_PLUGINS": "packages"}
    for args in (["install", "-d", "emu:"], ["run", "--local", "micropython"]):
        result = subprocess.run(
            [sys.executable, "-m", "belay_core.cli", *args], capture_output=True, text=True, env=env
        )
        assert result.returncode == 2
        [line] = result.stderr.splitlines()
        assert "belay-packages plugin, which is installed but blocked: blocked by BELAY_DISABLE_PLUGINS" in line
    listing = subprocess.run(
        [sys.executable, "-m", "belay_core.cli", "--help"], capture_output=True, text=True, env=env, check=True
    )
    assert _listed_commands(listing.stdout).isdisjoint(PACKAGE_COMMANDS)


def test_an_unknown_command_is_still_clicks_usage_error():
    result = CliRunner().invoke(cli, ["no-such-command"])
    assert result.exit_code == 2
    assert "No such command 'no-such-command'" in result.output
