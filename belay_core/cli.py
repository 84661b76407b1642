"""The ``belay`` command line: a click group whose commands come from plugins.

Commands are registered as `belay_core.records.CommandRecord` records and imported only when they
run or show their own ``--help``: ``belay --help`` lists them from the records' summaries. A
command of one of Belay's own plugins that is not installed (`belay_core.known_plugins.COMMANDS`)
ends in one line naming the distribution to install, with exit status 2.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Optional

import click

from belay_core._version import __version__

if TYPE_CHECKING:
    from belay_core.records import Record

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class MissingPluginCommandError(click.ClickException):
    """A command of one of Belay's own plugins that is not installed, or not loaded: one line, exit status 2."""

    exit_code = 2


def missing_command_message(name: str, shown: Optional[str] = None) -> Optional[str]:
    """The one line saying which plugin provides the unregistered command ``name``, if Belay knows one.

    Parameters
    ----------
    name
        The command's registered name (``"install"``, ``"run-local"``).
    shown
        How the user wrote it (``"run --local"``); default ``name``.

    Returns
    -------
    str or None
        ``None`` when no plugin of Belay's (`belay_core.known_plugins.COMMANDS`) registers ``name``.
    """
    from belay_core.known_plugins import command_distribution
    from belay_core.plugins import get_plugins

    distribution = command_distribution(name)
    if distribution is None:
        return None
    what = f"'belay {shown or name}' comes from the {distribution} plugin"
    for info in get_plugins().infos.values():
        if info.distribution == distribution and info.status != "ok":
            return f"{what}, which is installed but {info.status}: {info.error}"
    return f"{what}, which is not installed: pip install {distribution}"


def plugin_command(name: str, shown: Optional[str] = None) -> click.Command:
    """The ``belay`` command ``name`` as registered by a plugin, imported now.

    Core's commands use it to hand over to a plugin's command without importing the plugin by name
    (``belay run --local`` runs belay-packages' ``run-local``).

    Raises
    ------
    MissingPluginCommandError
        When no plugin registers ``name``; the message names the distribution to install.
    click.ClickException
        When the registered target cannot be imported or is not a click command.
    """
    from belay_core.plugins import get_plugins

    record = get_plugins().records("commands").get(name)
    if record is None:
        raise MissingPluginCommandError(
            missing_command_message(name, shown) or f"no installed plugin provides 'belay {shown or name}'"
        )
    return _load_command(name, record)


def _load_command(name: str, record: Record) -> click.Command:
    from belay_core.errors import PluginError

    try:
        command = record.load()
    except PluginError as exc:
        raise click.ClickException(str(exc)) from None
    if not isinstance(command, click.Command):
        raise click.ClickException(f"command {name!r} from {record.target!r} is not a click command")
    return command


class PluginGroup(click.Group):
    """A group listing plugin-registered commands without importing them."""

    def _records(self) -> dict[str, Any]:
        from belay_core.plugins import get_plugins

        return get_plugins().records("commands")

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._records()))

    def get_command(self, ctx: click.Context, cmd_name: str) -> Optional[click.Command]:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        record = self._records().get(cmd_name)
        if record is None:
            message = None if ctx.resilient_parsing else missing_command_message(cmd_name)
            if message is not None:
                raise MissingPluginCommandError(message)
            return None
        return _load_command(cmd_name, record)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        records = self._records()
        rows = []
        for name in self.list_commands(ctx):
            if name in records:
                rows.append((name, records[name].summary))
            else:
                command = super().get_command(ctx, name)
                if command is not None and not command.hidden:
                    rows.append((name, command.get_short_help_str(formatter.width)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


CHAIN = "+"
"""The word between commands that share one connection: ``belay -d SPEC exec "x = 1" + exec "print(x)"``."""


COMMANDS_AFTER = "belay.commands_after"
"""``ctx.meta`` key: how many chained commands come after the one running (``belay mount`` needs one)."""


class BelayGroup(PluginGroup):
    """The ``belay`` group: runs commands chained with ``+`` one after the other, on one connection."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        segments: list[list[str]] = [[]]
        for arg in args:
            if arg == CHAIN:
                segments.append([])
            else:
                segments[-1].append(arg)
        if len(segments) > 1 and not all(segments):
            raise click.UsageError(f"give a command on each side of '{CHAIN}'", ctx)
        ctx.meta["belay.chain"] = segments[1:]
        return super().parse_args(ctx, segments[0])

    def invoke(self, ctx: click.Context) -> Any:
        chain: list[list[str]] = ctx.meta.pop("belay.chain", [])
        ctx.meta[COMMANDS_AFTER] = len(chain)
        if not chain:
            return super().invoke(ctx)
        with ctx:  # the connection (a resource of this context) stays open across the chain
            super().invoke(ctx)
            for index, args in enumerate(chain):
                ctx.meta[COMMANDS_AFTER] = len(chain) - index - 1
                name, command, rest = self.resolve_command(ctx, args)
                assert name is not None and command is not None
                with command.make_context(name, rest, parent=ctx) as sub_ctx:
                    command.invoke(sub_ctx)
        return None


@click.group(cls=BelayGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version", prog_name="belay")
@click.option(
    "-d",
    "--device",
    "spec",
    metavar="SPEC",
    help="The board for every command (a command's own -d wins; default: BELAY_DEVICE, else the one attached).",
)
@click.option(
    "--timeout", type=float, default=None, metavar="SECONDS", help="For every command: seconds a call may take."
)
@click.option("--no-soft-reset", is_flag=True, help="For every command: connect without a soft reset.")
@click.pass_context
def cli(ctx: click.Context, spec: Optional[str], timeout: Optional[float], no_soft_reset: bool) -> None:
    """Belay: drive MicroPython and CircuitPython boards from host Python.

    Board commands take -d/--device SPEC (default: the BELAY_DEVICE environment variable, else the
    one board attached), e.g. 'emu:' for an emulated board, 'exec:COMMAND', or a serial port.
    Chain commands with '+' to run them on one connection, keeping the board's state:

    \b
      belay -d emu: exec "x = 6 * 7" + exec "print(x)"
    """
    ctx.meta["belay.options"] = (spec, timeout, no_soft_reset)


def main(argv: Optional[list[str]] = None) -> int:
    """Entry point of the ``belay`` console script."""
    try:
        # Not standalone: errors are shown here; ctx.exit(n) in a command comes back as its return value.
        result = cli.main(args=argv, prog_name="belay", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return 130
    except SystemExit as exc:  # sys.exit(n)
        return exc.code if isinstance(exc.code, int) else 1
    return result if isinstance(result, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
