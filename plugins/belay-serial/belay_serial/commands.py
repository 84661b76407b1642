"""``belay devices`` and ``belay select``."""

from __future__ import annotations

import json
import shlex
import sys

import click

from belay_serial.usb import KNOWN_VENDORS, SerialPort, list_devices

SHELLS = ("posix", "fish", "powershell", "cmd")


@click.command("devices")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--all", "all_ports", is_flag=True, help="Also list serial ports that are not USB.")
def devices(as_json: bool, all_ports: bool) -> None:
    """List the boards attached by USB serial.

    A '*' in the board column marks a known board or USB-UART vendor: those are the ports
    Device() with no spec picks from.
    """
    ports = list_devices(all_ports=all_ports)
    if as_json:
        click.echo(json.dumps([p.as_dict() for p in ports], indent=2))
        return
    if not ports:
        click.echo("No USB serial ports found." if not all_ports else "No serial ports found.", err=True)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Attached serial ports")
    for column in ("port", "vid:pid", "serial number", "manufacturer", "product", "location", "board"):
        table.add_column(column, overflow="fold")
    for p in ports:
        board = f"* {KNOWN_VENDORS[p.vid]}" if p.vid in KNOWN_VENDORS else ""
        table.add_row(
            p.port,
            p.vid_pid or "-",
            p.serial_number or "-",
            p.manufacturer or "-",
            p.product or "-",
            p.location or "-",
            board,
        )
    Console(width=160 if not sys.stdout.isatty() else None).print(table)


def _spec_for(port: SerialPort, ports: list[SerialPort], by_port: bool) -> str:
    """The most stable spec naming ``port``: its USB specifier JSON when one tells it apart, else its name."""
    if not by_port:
        specifier = port.specifier(ports)
        if specifier is not None:
            return specifier.to_json()
    return port.port


def _export_line(value: str, shell: str) -> str:
    if shell == "fish":
        return f"set -gx BELAY_DEVICE {shlex.quote(value)}"
    if shell == "powershell":
        return "$env:BELAY_DEVICE = '" + value.replace("'", "''") + "'"
    if shell == "cmd":
        return f"set BELAY_DEVICE={value}"
    return f"export BELAY_DEVICE={shlex.quote(value)}"


@click.command("select")
@click.option("--port", "by_port", is_flag=True, help="Name the port (/dev/ttyACM0) instead of the USB identity.")
@click.option(
    "--shell",
    type=click.Choice(SHELLS),
    default="cmd" if sys.platform == "win32" else "posix",
    show_default=True,
    help="Syntax of the printed line.",
)
@click.option("--all", "all_ports", is_flag=True, help="Offer every USB serial port, not only known boards.")
def select(by_port: bool, shell: str, all_ports: bool) -> None:
    """Choose an attached board and print the line that sets BELAY_DEVICE to it.

    The list and the question go to stderr, so  eval "$(belay select)"  sets it in a POSIX shell.
    With one board attached it is chosen without asking. The value is the board's USB identity as
    JSON (vid, pid and, when needed, serial number and location), which survives replugging.
    """
    every = list_devices()
    ports = every if all_ports else [p for p in every if p.known] or every
    if not ports:
        raise click.ClickException("no USB serial board is attached (see belay devices --all)")
    if len(ports) == 1:
        chosen = ports[0]
        click.echo(f"Using the only board attached: {_label(chosen)}", err=True)
    else:
        for number, p in enumerate(ports, 1):
            click.echo(f"{number:>3}. {_label(p)}", err=True)
        number = click.prompt("Board", type=click.IntRange(1, len(ports)), err=True)
        chosen = ports[number - 1]
    click.echo(_export_line(_spec_for(chosen, every, by_port), shell))


def _label(port: SerialPort) -> str:
    details = "  ".join(x for x in (port.vid_pid, port.manufacturer, port.product, port.serial_number) if x)
    return f"{port.port}  {details}".rstrip()
