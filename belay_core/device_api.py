"""What the parts of Belay use of a `belay_core.Device`: its public methods, as a typing protocol.

Executers, proxies, hashers, sync and plugins are given the device they serve; they type it as
`DeviceApi`, so they never import `belay_core.device` (which imports them) and data keeps flowing
one way: the device composes the parts, the parts call the device's public methods and its session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Optional, Protocol, Union

if TYPE_CHECKING:
    from belay_core.files import BoardFiles
    from belay_core.frames import TextSink
    from belay_core.implementation import Implementation
    from belay_core.plugins import Plugins
    from belay_core.session import Session
    from belay_core.tracebacks import SourceOrigin


class DeviceApi(Protocol):
    """The public side of `belay_core.Device` that Belay's parts rely on."""

    spec: str
    session: Session
    files: BoardFiles
    plugins: Plugins

    @property
    def implementation(self) -> Implementation: ...

    @property
    def timeout(self) -> Optional[float]: ...

    @property
    def board_cache(self) -> dict[str, Any]: ...

    def evaluate(
        self,
        expression: str,
        *,
        trusted: bool = ...,
        proxy: bool = ...,
        delete: Optional[bool] = ...,
        timeout: Optional[float] = ...,
        stream_out: Optional[TextSink] = ...,
        record: Optional[bool] = ...,
        return_time: bool = ...,
        with_timing: Optional[bool] = ...,
    ) -> Any: ...

    def run_statements(
        self,
        code: str,
        *,
        origin: Optional[SourceOrigin] = ...,
        timeout: Optional[float] = ...,
        stream_out: Optional[TextSink] = ...,
        record: Optional[bool] = ...,
        defines: Optional[str] = ...,
    ) -> None: ...

    def step_generator(self, step: str, *, trusted: bool, return_time: bool, timed: bool = ...) -> Any: ...

    def wants_time(self, with_timing: Optional[bool] = ..., return_time: bool = ...) -> bool: ...

    def define(self, source: Any, minify: Union[bool, str] = ...) -> None: ...

    def defer(self, code: str) -> None: ...

    def add_teardown(self, teardown: Callable[[], None]) -> None: ...

    def minify(self, code: str, minify: Union[bool, str] = ...) -> str: ...

    def proxy(self, cmd: str, delete: Optional[bool] = ...) -> Any: ...

    def proxy_call(self, source: str) -> Any: ...


__all__ = ["DeviceApi"]
