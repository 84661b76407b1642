"""Plugin loading: entry points, failures that never break Belay, allow/block lists, registries."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from belay_core.cli import cli
from belay_core.errors import PluginError, TransportNotFoundError
from belay_core.hookspecs import KINDS
from belay_core.known_plugins import COMMANDS, DOWNLOADERS, transport_distribution
from belay_core.plugins import load_plugins
from belay_core.records import TransportRecord

EVERY_KIND = """
from belay_core import hookimpl
from belay_core.records import (CommandRecord, CompilerRecord, DownloaderRecord, ExecuterRecord, ExportRecord,
                                HasherRecord, MinifierRecord, TransportRecord)

@hookimpl
def belay_register_transports():
    return [TransportRecord("fake", "fake_transport_module:Nope", "A fake.", prefixes=("fake:",), example="fake:1")]

@hookimpl
def belay_register_executers():
    return [ExecuterRecord("timed", "fake_exec:Timed", "Timed tasks.")]

@hookimpl
def belay_register_hashers():
    return [HasherRecord("sha-fake", "fake_hash:Sha", "A hasher.")]

@hookimpl
def belay_register_minifiers():
    return [MinifierRecord("noop", "builtins:str", "Returns the source as it is.")]

@hookimpl
def belay_register_downloaders():
    return [DownloaderRecord("fake-dl", "fake_dl:Dl", "A downloader.", schemes=("fake+https://",))]

@hookimpl
def belay_register_compilers():
    return [CompilerRecord("fake-cc", "fake_cc:find", "A compiler.")]

@hookimpl
def belay_register_exports():
    return [ExportRecord("FakeThing", "builtins:dict", "A name for belay_core.")]

@hookimpl
def belay_register_commands():
    return [CommandRecord("hello", "fake_cmd:hello", "Say hello.")]
"""


def test_every_hook_kind_registers_records(fake_plugins):
    fake_plugins("every", EVERY_KIND)
    plugins = load_plugins({})
    info = plugins.infos["every"]
    assert info.status == "ok", info.error
    assert info.distribution == "belay-every"
    assert info.version == "0.3.1"
    assert info.provides == {
        "transports": ["fake"],
        "executers": ["timed"],
        "hashers": ["sha-fake"],
        "minifiers": ["noop"],
        "downloaders": ["fake-dl"],
        "compilers": ["fake-cc"],
        "exports": ["FakeThing"],
        "commands": ["hello"],
    }
    assert set(info.provides) == set(KINDS)
    assert plugins.transport_for("fake:abc").name == "fake"
    assert plugins.get("minifiers", "noop").load() is str
    assert plugins.get("exports", "FakeThing").load() is dict


def test_core_builtins_register_through_the_hooks():
    plugins = load_plugins({})
    core = plugins.infos["core"]
    assert core.status == "ok"
    assert core.distribution == "belay-core"
    assert {"exec", "run", "info", "latency", "plugins"} <= set(core.provides["commands"])


def test_plugin_failing_to_import_is_recorded_not_raised(fake_plugins):
    fake_plugins("broken", "raise RuntimeError('boom at import')\n")
    plugins = load_plugins({})
    info = plugins.infos["broken"]
    assert info.status == "failed"
    assert "boom at import" in info.error
    assert plugins.infos["exec"].status == "ok"  # the others still load


def test_strict_mode_raises_on_a_broken_plugin(fake_plugins):
    fake_plugins("broken", "raise RuntimeError('boom at import')\n")
    with pytest.raises(PluginError, match="boom at import"):
        load_plugins({"BELAY_STRICT_PLUGINS": "1"})


def test_bad_registrations_are_recorded(fake_plugins):
    fake_plugins(
        "badreg",
        """
        from belay_core import hookimpl
        from belay_core.records import CommandRecord

        @hookimpl
        def belay_register_transports():
            return [CommandRecord("oops", "x:y")]

        @hookimpl
        def belay_register_hashers():
            raise ValueError("cannot hash today")
        """,
    )
    info = load_plugins({}).infos["badreg"]
    assert info.status == "failed"
    assert "expected TransportRecord" in info.error
    assert "cannot hash today" in info.error


def test_unknown_hook_name_is_a_failure(fake_plugins):
    fake_plugins(
        "typo",
        """
        from belay_core import hookimpl

        @hookimpl
        def belay_register_transport():
            return []
        """,
    )
    info = load_plugins({}).infos["typo"]
    assert info.status == "failed"
    assert "belay_register_transport" in info.error


def test_duplicate_names_name_both_distributions(fake_plugins):
    source = """
    from belay_core import hookimpl
    from belay_core.records import TransportRecord

    @hookimpl
    def belay_register_transports():
        return [TransportRecord("twin", "m:C", prefixes=("twin:",))]
    """
    fake_plugins("alpha", source)
    fake_plugins("beta", source)
    plugins = load_plugins({})
    failed = [i for i in (plugins.infos["alpha"], plugins.infos["beta"]) if i.status == "failed"]
    assert len(failed) == 1
    assert "belay-alpha" in failed[0].error and "belay-beta" in failed[0].error
    with pytest.raises(PluginError, match=r"belay-alpha.*belay-beta"):
        load_plugins({"BELAY_STRICT_PLUGINS": "1"})


def test_duplicate_of_a_core_command_is_refused(fake_plugins):
    fake_plugins(
        "shadow",
        """
        from belay_core import hookimpl
        from belay_core.records import CommandRecord

        @hookimpl
        def belay_register_commands():
            return [CommandRecord("exec", "m:c")]
        """,
    )
    plugins = load_plugins({})
    assert plugins.infos["shadow"].status == "failed"
    assert plugins.get("commands", "exec").target == "belay_core.commands.exec:exec_"


def test_blocked_plugin_is_never_imported(fake_plugins):
    module = fake_plugins("blocked", "raise RuntimeError('must not be imported')\n")
    plugins = load_plugins({"BELAY_DISABLE_PLUGINS": "blocked"})
    assert plugins.infos["blocked"].status == "blocked"
    assert module not in sys.modules


def test_allow_list_loads_only_named_plugins(fake_plugins):
    module = fake_plugins("other", "raise RuntimeError('must not be imported')\n")
    plugins = load_plugins({"BELAY_PLUGINS": "exec"})
    assert plugins.infos["exec"].status == "ok"
    assert plugins.infos["other"].status == "blocked"
    assert plugins.infos["emulator"].status == "blocked"
    assert module not in sys.modules
    assert plugins.infos["core"].status == "ok"  # built-ins are not plugins one can forget


def test_unknown_spec_lists_transports_and_names_the_plugin_to_install(monkeypatch):
    import belay_core.plugins as loading

    installed = loading._entry_points
    monkeypatch.setattr(loading, "_entry_points", lambda: [ep for ep in installed() if ep.name != "webrepl"])
    plugins = load_plugins({})  # as if belay-webrepl were not installed
    with pytest.raises(TransportNotFoundError) as caught:
        plugins.transport_for("ws://192.168.4.1")
    message = str(caught.value)
    assert "pip install belay-webrepl" in message
    assert "exec" in message and "emu" in message


def test_unknown_spec_says_when_its_plugin_is_blocked():
    plugins = load_plugins({"BELAY_DISABLE_PLUGINS": "emulator"})
    with pytest.raises(TransportNotFoundError, match="belay-emulator is installed but blocked"):
        plugins.transport_for("emu:unix")


def test_belay_plugins_json_shows_failures(fake_plugins, monkeypatch):
    fake_plugins("broken", "raise ImportError('no such thing')\n")
    monkeypatch.delenv("BELAY_STRICT_PLUGINS", raising=False)
    result = CliRunner().invoke(cli, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert rows["broken"]["status"] == "failed"
    assert "no such thing" in rows["broken"]["error"]
    assert rows["exec"]["provides"] == {"transports": ["exec"]}
    assert rows["emulator"]["distribution"] == "belay-emulator"


def test_belay_plugins_table(fake_plugins, monkeypatch):
    fake_plugins("broken", "raise ImportError('no such thing')\n")
    monkeypatch.delenv("BELAY_STRICT_PLUGINS", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    result = CliRunner().invoke(cli, ["plugins"])
    assert result.exit_code == 0, result.output
    assert "belay-exec" in result.output
    assert "failed" in result.output and "no such thing" in result.output


def test_broken_plugin_does_not_break_help(fake_plugins, monkeypatch):
    fake_plugins("broken", "raise RuntimeError('boom')\n")
    monkeypatch.delenv("BELAY_STRICT_PLUGINS", raising=False)
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "exec" in result.output


def test_plugin_command_is_listed_and_runs(fake_plugins, tmp_path):
    module = fake_plugins(
        "hello",
        """
        import click
        from belay_core import hookimpl
        from belay_core.records import CommandRecord

        @click.command()
        @click.argument("who")
        def hello(who):
            '''Greet WHO.'''
            click.echo(f"hello {who}")

        @hookimpl
        def belay_register_commands():
            return [CommandRecord("hello", __name__ + ":hello", "Say hello.")]
        """,
    )
    runner = CliRunner()
    listing = runner.invoke(cli, ["--help"])
    assert "hello" in listing.output and "Say hello." in listing.output
    result = runner.invoke(cli, ["hello", "world"])
    assert result.output == "hello world\n", module


def test_a_plugin_s_export_is_a_belay_core_name(fake_plugins):
    # belay_register_exports: belay_core.<name> loads the plugins and imports the record's target.
    import belay_core

    fake_plugins("every", EVERY_KIND)
    assert belay_core.FakeThing is dict
    with pytest.raises(AttributeError):
        belay_core.NoSuchName  # noqa: B018


def test_sync_compiles_with_the_registered_compiler(fake_plugins, tmp_path):
    # belay_register_compilers: sync's mpy_cross= asks the registry for a compiler, never a package by name.
    fake_plugins(
        "cc",
        """
        from belay_core import hookimpl
        from belay_core.records import CompilerRecord


        class Upper:
            version = "upper 1"

            def compile(self, data, *, filename):
                return data.upper()


        def find(mpy_version, mpy_sub_version, *, binary=None):
            return Upper()


        @hookimpl(tryfirst=True)
        def belay_register_compilers():
            return [CompilerRecord("upper", __name__ + ":find", "Upper-cases files.")]
        """,
    )
    from belay_core import Device

    src = tmp_path / "src"
    src.mkdir()
    (src / "mod.py").write_text("x = 1\n")
    with Device("emu:unix") as device:
        plan = device.sync(src, dst="/app", mpy_cross=True)
        assert plan.upload == ["/app/mod.mpy"]
        assert device.read_bytes("/app/mod.mpy") == b"X = 1\n"


def _our_distributions() -> set[str]:
    """The distributions of this repository's plugins."""
    root = Path(__file__).resolve().parent.parent
    names = set()
    for pyproject in (root / "plugins").glob("*/pyproject.toml"):
        match = re.search(r'^name = "([^"]+)"', pyproject.read_text(), re.M)
        assert match, pyproject
        names.add(match.group(1))
    return names


def test_the_known_commands_are_the_ones_our_plugins_register():
    plugins = load_plugins({})
    ours = _our_distributions()
    owners = {
        name: info.distribution
        for info in plugins.infos.values()
        if info.distribution in ours
        for name in info.provides.get("commands", [])
    }
    assert owners == COMMANDS


def test_the_known_transport_patterns_name_the_distribution_of_each_example():
    plugins = load_plugins({})
    ours = _our_distributions()
    checked = 0
    for info in plugins.infos.values():
        if info.distribution not in ours:
            continue
        for name in info.provides.get("transports", []):
            record = plugins.get("transports", name)
            assert isinstance(record, TransportRecord)
            assert transport_distribution(record.example) == info.distribution, record
            checked += 1
    assert checked >= 5


def test_the_known_downloader_schemes_are_registered_by_the_distribution_named():
    plugins = load_plugins({})
    for schemes, distribution in DOWNLOADERS:
        for scheme in schemes:
            owners = [
                info.distribution
                for info in plugins.infos.values()
                for name in info.provides.get("downloaders", [])
                if scheme in plugins.get("downloaders", name).schemes
            ]
            assert owners == [distribution], scheme


def test_device_uses_the_plugin_set_it_is_given():
    # Device(spec, plugins=...): the device builds its transport and finds its executers in that set,
    # not in the process-wide one, which stays as it was.
    import types

    from belay_core import Device
    from belay_core.executers import TaskExecuter
    from belay_core.hookspecs import hookimpl
    from belay_core.plugins import get_plugins
    from belay_core.records import ExecuterRecord

    class DoubleExecuter(TaskExecuter):
        def register(self, f, **options):
            task = super().register(f, **options)
            return lambda *args: 2 * task(*args)

    extra = types.ModuleType("belay_extra_executer")
    extra.belay_register_executers = hookimpl(lambda: [ExecuterRecord(name="doubled", target=DoubleExecuter)])
    plugins = load_plugins({})
    plugins.add("extra", extra)
    with Device("emu:unix", plugins=plugins) as device:
        assert device.plugins is plugins

        @device.doubled
        def add(a, b):
            return a + b

        assert add(1, 2) == 6
    assert "doubled" not in get_plugins().records("executers")
    with Device("emu:unix") as device, pytest.raises(AttributeError):
        device.doubled  # noqa: B018

    blocked = load_plugins({"BELAY_DISABLE_PLUGINS": "emulator"})
    with pytest.raises(TransportNotFoundError):
        Device("emu:unix", plugins=blocked)
