"""A serial port as the line to a board, with pyserial."""

from __future__ import annotations

import errno
import os
import select
import time
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, PositiveInt, ValidationError

from belay_core.errors import ConnectionLost, DeviceSpecError
from belay_core.transport import Transport, write_fd_within
from belay_serial.errors import PortBusyError, PortNotFoundError
from belay_serial.usb import USB_PREFIX, UsbSpecifier, board_ports, describe_ports, list_devices

POSIX = os.name == "posix"

_BUSY_ERRNOS = {errno.EBUSY, errno.EAGAIN, errno.EWOULDBLOCK}


class SerialOptions(BaseModel):
    """Options of the serial transport, given to `belay_core.Device` as keyword arguments.

    Parameters
    ----------
    baudrate
        Line speed. USB CDC boards (Pico, pyboard, ESP32-S2/S3) ignore it; boards behind a USB-UART
        bridge (CP210x, CH340, FTDI) need the firmware's speed, 115200 for MicroPython.
    exclusive
        Lock the port so no other program (and no second Belay) can use it at once (POSIX; Windows
        ports are always exclusive).
    dtr, rts
        Modem-control lines to set before opening; ``None`` leaves pyserial's default (asserted). ESP8266
        and ESP32 boards with an auto-reset circuit may need ``dtr=False, rts=False`` to not reset or
        enter the boot loader.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    baudrate: PositiveInt = 115200
    exclusive: bool = True
    dtr: Optional[bool] = None
    rts: Optional[bool] = None


def _options(options: dict[str, Any]) -> SerialOptions:
    try:
        return SerialOptions(**options)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = ".".join(str(p) for p in error.get("loc", ()))
            if error.get("type") == "extra_forbidden":
                known = ", ".join(SerialOptions.model_fields)
                problems.append(f"unknown option {name} (known: {known})")
            else:
                problems.append(f"option {name}: {error.get('msg')}")
        raise DeviceSpecError(f"serial transport: {'; '.join(problems)}") from None


def _attached() -> str:
    try:
        return describe_ports(list_devices())
    except Exception as exc:  # listing is only a hint in a message
        return f"  (cannot list ports: {exc})"


class SerialTransport(Transport):
    """A serial port: a device path (``/dev/ttyACM0``), a Windows port (``COM3``), or a USB specifier.

    A USB specifier (``usb:vid=0x2E8A,pid=0x0005`` or its JSON ``{"vid": "0x2e8a", ...}``) is resolved
    to a port at each `open`, so a replugged board is found again under a new name.

    Parameters
    ----------
    spec
        The port or USB specifier.
    **options
        `SerialOptions`: ``baudrate``, ``exclusive``, ``dtr``, ``rts``. Others raise `DeviceSpecError`.
    """

    restartable = False
    legacy_options = frozenset({"baudrate", "exclusive"})

    def __init__(self, spec: str, **options: Any) -> None:
        self.settings = _options(options)
        super().__init__(spec, **self.settings.model_dump(exclude_none=True))
        self.usb: Optional[UsbSpecifier] = UsbSpecifier.parse(spec) if spec.startswith(("{", USB_PREFIX)) else None
        self.port: Optional[str] = None if self.usb else spec
        self.serial: Any = None

    @classmethod
    def discover(cls) -> list[str]:
        """Ports of attached USB boards whose vendor id is a known board or bridge vendor."""
        return [p.port for p in board_ports()]

    def describe(self) -> str:
        if self.usb is None:
            return self.spec
        return f"{self.usb.to_spec()} ({self.port})" if self.port else self.usb.to_spec()

    # ------------------------------------------------------------------------------------------------
    # Opening and closing
    # ------------------------------------------------------------------------------------------------

    def open(self) -> None:
        import serial

        port = self.usb.to_port() if self.usb is not None else self.spec
        self.port = port
        line = serial.Serial()
        line.port = port
        line.baudrate = self.settings.baudrate
        if POSIX:
            line.exclusive = self.settings.exclusive
        if self.settings.dtr is not None:
            line.dtr = self.settings.dtr
        if self.settings.rts is not None:
            line.rts = self.settings.rts
        try:
            line.open()
        except (serial.SerialException, OSError) as exc:
            raise self._open_error(port, exc) from None
        self.serial = line

    def _open_error(self, port: str, exc: BaseException) -> ConnectionLost:
        code = getattr(exc, "errno", None)
        text = str(exc)
        if code == errno.ENOENT or "FileNotFoundError" in text or (code == errno.ENODEV and POSIX):
            return PortNotFoundError(f"serial port {port} not found. Attached USB serial ports:\n{_attached()}")
        if code in _BUSY_ERRNOS or "exclusively lock" in text or (not POSIX and "PermissionError" in text):
            return PortBusyError(
                f"serial port {port} is busy: another program has it open (a terminal, mpremote, Thonny, "
                "an IDE or another Belay); close it and try again"
            )
        if code == errno.EACCES:
            hint = " (on Linux, add yourself to the port's group, e.g. dialout, and log in again)" if POSIX else ""
            return ConnectionLost(f"permission denied opening serial port {port}{hint}")
        return ConnectionLost(f"cannot open serial port {port}: {text}")

    def close(self) -> None:
        line, self.serial = self.serial, None
        if line is None:
            return
        try:
            line.close()
        except Exception:  # an unplugged port can fail to restore its settings; it is closed either way
            pass

    # ------------------------------------------------------------------------------------------------
    # Bytes
    # ------------------------------------------------------------------------------------------------

    def _lost(self, what: object) -> ConnectionLost:
        return ConnectionLost(
            f"serial port {self.port or self.spec} is gone ({what}): the board was unplugged or reset its USB"
        )

    def _require(self) -> Any:
        if self.serial is None:
            raise ConnectionLost(f"serial port {self.describe()} is not open")
        return self.serial

    def read(self, size: int, timeout: Optional[float]) -> bytes:
        line = self._require()
        if not POSIX:
            return self._read_pyserial(line, size, timeout)
        try:
            fd = line.fileno()
            ready, _, _ = select.select([fd], [], [], timeout)
        except (OSError, ValueError) as exc:
            raise self._lost(exc) from None
        if not ready:
            return b""
        try:
            data = os.read(fd, size)
        except BlockingIOError:
            return b""
        except OSError as exc:
            raise self._lost(exc.strerror or exc) from None
        if not data:
            raise self._lost("end of file")
        return data

    def _read_pyserial(self, line: Any, size: int, timeout: Optional[float]) -> bytes:
        import serial

        try:
            line.timeout = timeout
            data = line.read(1)
            if data and size > 1:
                waiting = line.in_waiting
                if waiting:
                    data += line.read(min(waiting, size - 1))
        except (serial.SerialException, OSError) as exc:
            raise self._lost(exc) from None
        return bytes(data)

    def write(self, data: bytes) -> None:
        import serial

        line = self._require()
        try:
            line.write(data)
        except (serial.SerialException, OSError, TypeError) as exc:
            raise self._lost(exc) from None

    def write_within(self, data: bytes, timeout: float) -> bool:
        import serial

        line = self._require()
        try:
            if not POSIX:  # pyserial's own bound (setting it reconfigures the port, so only here)
                line.write_timeout = max(timeout, 0.001)
                try:
                    line.write(data)
                except serial.SerialTimeoutException:
                    return False
                finally:
                    line.write_timeout = None
                return True
            # pyserial opens the port non-blocking.
            return write_fd_within(line.fileno(), data, time.monotonic() + timeout)
        except (serial.SerialException, OSError, TypeError, ValueError) as exc:
            raise self._lost(exc) from None


__all__ = ["SerialOptions", "SerialTransport"]
