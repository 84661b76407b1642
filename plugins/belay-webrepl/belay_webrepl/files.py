"""Copy files to and from a board over WebREPL's binary protocol, beside `Device.put` and `Device.get`.

The websocket library is imported only when these run, so importing `belay_webrepl` stays light.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Union

if TYPE_CHECKING:
    from belay_core.device import Device
    from belay_webrepl.transport import WebreplTransport

LocalPath = Union[str, "os.PathLike[str]"]


def _transport(device: Device) -> WebreplTransport:
    from belay_webrepl.transport import WebreplTransport

    transport = device.session.transport
    if not isinstance(transport, WebreplTransport):
        raise TypeError(f"{device!r} is not connected over WebREPL (ws:// or wss://)")
    return transport


def put(device: Device, local: LocalPath, remote: str = "/", *, timeout: Optional[float] = None) -> str:
    """Copy one host file to the board through WebREPL's binary put.

    Parameters
    ----------
    device
        A `Device` connected with a ``ws://`` or ``wss://`` spec.
    local
        A host file.
    remote
        Where on the board: the file's path, or a directory (existing, or ending with ``/``) to put it
        into under its own name. Missing parent directories are made (over the REPL).
    timeout
        Seconds to wait for each answer of the board (default: the device's timeout).

    Returns
    -------
    str
        The board path written.

    Raises
    ------
    FileNotFoundError
        When ``local`` is not a file.
    TypeError
        When ``device`` is not connected over WebREPL.
    """
    transport = _transport(device)
    source = Path(local)
    if not source.is_file():
        raise FileNotFoundError(f"no such file on the host: {str(source)!r}")
    data = source.read_bytes()
    target = remote or "/"
    if target.endswith("/") or device.is_dir(target):
        target = posixpath.join(target, source.name)
    parent = posixpath.dirname(target)
    if parent not in ("", "/"):
        device.mkdir(parent, parents=True)
    with device.session.lock:  # no Device call may write REPL bytes while the board takes a file
        transport.put_file(target, data, device.timeout if timeout is None else timeout)
    return target


def get(device: Device, remote: str, local: LocalPath = ".", *, timeout: Optional[float] = None) -> Path:
    """Copy one board file to the host through WebREPL's binary get.

    Parameters
    ----------
    device
        A `Device` connected with a ``ws://`` or ``wss://`` spec.
    remote
        A file on the board.
    local
        Where on the host: the file's path, or a folder (existing, or ending with the path separator)
        to put it into under its own name. Missing folders are made.
    timeout
        Seconds to wait for each answer of the board (default: the device's timeout).

    Returns
    -------
    Path
        The host file written.

    Raises
    ------
    BoardFileNotFoundError
        When ``remote`` does not exist on the board (checked over the REPL first: some firmware drops
        the WebREPL connection when asked for a missing file).
    BoardIsADirectoryError
        When ``remote`` is a directory.
    """
    transport = _transport(device)
    device.size(remote)  # raises for a missing file or a directory
    destination = Path(local)
    if destination.is_dir() or str(local).endswith(("/", os.sep)):
        destination = destination / posixpath.basename(remote.rstrip("/"))
    with device.session.lock:
        data = transport.get_file(remote, device.timeout if timeout is None else timeout)
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_bytes(data)
    return destination
