"""Several boards in one test: run one call on all of them at the same time and gather what each gave.

>>> outcomes = run_on_all(belay_devices, lambda device: device("sys.platform"))  # doctest: +SKIP
>>> outcomes.values()                                                             # doctest: +SKIP
{'board-a': 'linux', 'board-b': 'webassembly'}
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from attrs import define, field

if TYPE_CHECKING:
    from belay_core import Device

Call = Union[str, Callable[..., Any]]
"""What to run on each board: code for ``device(code)``, or a function called with the device first."""


@define
class Outcome:
    """What one board gave: a value, or the exception its call raised.

    Parameters
    ----------
    board
        The board's name.
    value
        The call's result (``None`` when it raised).
    error
        The exception the call raised, ``None`` when it returned.
    """

    board: str
    value: Any = None
    error: Optional[BaseException] = None

    @property
    def ok(self) -> bool:
        """The call returned."""
        return self.error is None


class BoardsFailed(AssertionError):
    """Some boards' calls raised: the message names each board and its error; ``outcomes`` has them all."""

    def __init__(self, outcomes: Outcomes) -> None:
        self.outcomes = outcomes
        failed = [outcome for outcome in outcomes.by_board.values() if not outcome.ok]
        lines = [f"{len(failed)} of {len(outcomes)} boards failed:"]
        lines += [f"  {outcome.board}: {type(outcome.error).__name__}: {outcome.error}" for outcome in failed]
        super().__init__("\n".join(lines))


@define
class Outcomes(Mapping[str, Outcome]):
    """Each board's `Outcome`, by board name, in the order the boards were given."""

    by_board: dict[str, Outcome] = field(factory=dict)

    def __getitem__(self, board: str) -> Outcome:
        return self.by_board[board]

    def __iter__(self) -> Iterator[str]:
        return iter(self.by_board)

    def __len__(self) -> int:
        return len(self.by_board)

    @property
    def failed(self) -> dict[str, BaseException]:
        """The errors of the boards whose call raised, by board."""
        return {name: out.error for name, out in self.by_board.items() if out.error is not None}

    def values(self) -> dict[str, Any]:  # type: ignore[override]
        """Each board's value, by board; raises `BoardsFailed` naming every board whose call raised."""
        if self.failed:
            raise BoardsFailed(self)
        return {name: out.value for name, out in self.by_board.items()}


def run_on_all(
    devices: Union[Mapping[str, Device], Sequence[Device]], call: Call, *args: Any, **kwargs: Any
) -> Outcomes:
    """Run ``call`` on every device at once, one thread each, and gather each board's outcome.

    Parameters
    ----------
    devices
        The boards: `belay_devices`, a mapping of names to `Device`, or a sequence of `Device`
        (named after their spec).
    call
        Code (``device(call)`` runs it), or a function called as ``call(device, *args, **kwargs)``.
    *args, **kwargs
        Passed to a function ``call``.

    Returns
    -------
    Outcomes
        By board name, in the order given. An exception in one board's call is kept in its
        `Outcome`; the others still run to the end.
    """
    if isinstance(devices, Boards):
        devices = devices.by_name
    if isinstance(devices, Mapping):
        named = list(devices.items())
    else:
        named = [(str(device.spec), device) for device in devices]
        specs = [name for name, _ in named]
        if len(set(specs)) != len(specs):
            raise ValueError(f"two of the devices have the same spec, {specs}: pass a mapping of names to devices")
    outcomes = [Outcome(name) for name, _ in named]

    def one(device: Device, outcome: Outcome) -> None:
        try:
            outcome.value = device(call) if isinstance(call, str) else call(device, *args, **kwargs)
        except BaseException as exc:  # kept for the caller, raised there
            outcome.error = exc

    threads = [
        threading.Thread(target=one, args=(device, outcome), name=f"belay {outcome.board}", daemon=True)
        for (_, device), outcome in zip(named, outcomes)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Outcomes({outcome.board: outcome for outcome in outcomes})


@define
class Boards(Sequence["Device"]):
    """Every board of the fleet, connected: a sequence of `Device` with names.

    ``belay_devices[0]`` is a device, ``belay_devices["pico-1"]`` the one of that name, and
    ``belay_devices.run(call)`` is `run_on_all` on them all.
    """

    by_name: dict[str, Device] = field(factory=dict)

    def __len__(self) -> int:
        return len(self.by_name)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            try:
                return self.by_name[key]
            except KeyError:
                raise KeyError(f"no board named {key!r}; the boards are {', '.join(self.by_name)}") from None
        return list(self.by_name.values())[key]

    @property
    def names(self) -> list[str]:
        """The boards' names, in order."""
        return list(self.by_name)

    def run(self, call: Call, *args: Any, **kwargs: Any) -> Outcomes:
        """`run_on_all` on these boards."""
        return run_on_all(self.by_name, call, *args, **kwargs)


__all__ = ["Boards", "BoardsFailed", "Call", "Outcome", "Outcomes", "run_on_all"]
