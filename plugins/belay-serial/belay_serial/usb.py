"""Attached serial ports and `UsbSpecifier`, which names a board by its USB identity instead of its port.

A port's name (``/dev/ttyACM0``, ``COM3``) can change when boards are replugged or several are
attached; a USB vendor/product id and serial number do not. Ports are listed with pyserial's
``serial.tools.list_ports.comports()``, looked up at each call (tests replace it with fakes).
"""

from __future__ import annotations

import json
from typing import Any, Optional, Union

from attrs import define
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_serializer, field_validator, model_validator

from belay_core.errors import DeviceSpecError, InsufficientSpecifierError
from belay_serial.errors import PortNotFoundError

KNOWN_VENDORS: dict[int, str] = {
    0xF055: "MicroPython (pyboard)",
    0x2E8A: "Raspberry Pi (Pico)",
    0x239A: "Adafruit (CircuitPython)",
    0x303A: "Espressif (native USB)",
    0x0D28: "Arm DAPLink (micro:bit)",
    0x10C4: "Silicon Labs CP210x bridge",
    0x1A86: "WCH CH340/CH9102 bridge",
    0x0403: "FTDI bridge",
    0x2341: "Arduino",
    0x2886: "Seeed Studio",
    0x1B4F: "SparkFun",
    0x1915: "Nordic Semiconductor",
    0x0483: "STMicroelectronics",
    0x16C0: "Teensy (PJRC)",
    0x1209: "pid.codes (open hardware)",
}
"""USB vendor ids of MicroPython/CircuitPython boards and of the USB-UART bridges boards carry.

Discovery (``Device()`` with no spec) only picks ports with one of these ids, so a USB modem or
other serial gadget is not mistaken for a board; give any other port by name or specifier."""

USB_FIELDS = ("vid", "pid", "serial_number", "manufacturer", "product", "location")
"""The fields a `UsbSpecifier` matches, in display order."""

USB_PREFIX = "usb:"


@define(frozen=True)
class SerialPort:
    """One serial port as the operating system lists it.

    Parameters
    ----------
    port
        The name to open: ``/dev/ttyACM0``, ``COM3``.
    vid, pid
        USB vendor and product id; ``None`` for ports that are not USB.
    serial_number, manufacturer, product, location
        USB descriptors and the port's place on the USB tree (``1-1.4:1.0``), when known.
    description
        The operating system's description.
    """

    port: str
    vid: Optional[int] = None
    pid: Optional[int] = None
    serial_number: Optional[str] = None
    manufacturer: Optional[str] = None
    product: Optional[str] = None
    location: Optional[str] = None
    description: Optional[str] = None

    @classmethod
    def from_info(cls, info: Any) -> SerialPort:
        """Build from a pyserial ``ListPortInfo``."""

        def text(name: str) -> Optional[str]:
            value = getattr(info, name, None)
            return None if value in (None, "", "n/a") else str(value)

        return cls(
            port=info.device,
            vid=getattr(info, "vid", None),
            pid=getattr(info, "pid", None),
            serial_number=text("serial_number"),
            manufacturer=text("manufacturer"),
            product=text("product"),
            location=text("location"),
            description=text("description"),
        )

    @property
    def usb(self) -> bool:
        """Whether the port is a USB device (it has a vendor id)."""
        return self.vid is not None

    @property
    def known(self) -> bool:
        """Whether its vendor id is in `KNOWN_VENDORS`, so discovery takes it for a board."""
        return self.vid in KNOWN_VENDORS

    @property
    def vid_pid(self) -> str:
        """``"2e8a:0005"``, or ``""`` for a port that is not USB."""
        if self.vid is None:
            return ""
        return f"{self.vid:04x}:{self.pid or 0:04x}"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (ids as ``0x`` hex strings)."""
        return {
            "port": self.port,
            "vid": None if self.vid is None else f"0x{self.vid:04x}",
            "pid": None if self.pid is None else f"0x{self.pid:04x}",
            "serial_number": self.serial_number,
            "manufacturer": self.manufacturer,
            "product": self.product,
            "location": self.location,
            "description": self.description,
            "known_vendor": self.known,
        }

    def specifier(self, among: Optional[list[SerialPort]] = None) -> Optional[UsbSpecifier]:
        """The shortest `UsbSpecifier` that picks this port alone among ``among`` (default: attached ports).

        Tries vid+pid, then adds the serial number, then the location. Returns ``None`` for a port
        that is not USB, or when no specifier tells it apart.
        """
        if not self.usb:
            return None
        among = list_devices(all_ports=True) if among is None else among
        candidates = [
            UsbSpecifier(vid=self.vid, pid=self.pid),
            UsbSpecifier(vid=self.vid, pid=self.pid, serial_number=self.serial_number),
            UsbSpecifier(vid=self.vid, pid=self.pid, serial_number=self.serial_number, location=self.location),
        ]
        for spec in candidates:
            matching = [p for p in among if spec.matches(p)]
            if len(matching) == 1 and matching[0].port == self.port:
                return spec
        return None


def _comports() -> list[Any]:
    from serial.tools import list_ports  # looked up at each call, so tests can replace comports()

    return list(list_ports.comports())


def list_devices(*, all_ports: bool = False) -> list[SerialPort]:
    """The serial ports attached now, sorted by port name.

    Parameters
    ----------
    all_ports
        Include ports that are not USB (``/dev/ttyS0``, Bluetooth); by default only USB serial ports.

    Returns
    -------
    list of SerialPort
    """
    ports = [SerialPort.from_info(info) for info in _comports()]
    if not all_ports:
        ports = [p for p in ports if p.usb]
    return sorted(ports, key=lambda p: p.port)


def list_usb_specifiers() -> list[UsbSpecifier]:
    """The original belay's ``list_devices()``: a `UsbSpecifier` for each attached port with USB details.

    Each carries its port name in ``device`` (not part of its JSON), so ``to_port()`` returns it.

    Returns
    -------
    list of UsbSpecifier
    """
    found = []
    for port in list_devices(all_ports=True):
        fields = {name: getattr(port, name) for name in USB_FIELDS if getattr(port, name) is not None}
        if fields:
            found.append(UsbSpecifier(**fields, device=port.port))
    return found


def board_ports() -> list[SerialPort]:
    """USB serial ports whose vendor id is a known board or bridge vendor (`KNOWN_VENDORS`)."""
    return [p for p in list_devices() if p.known]


def describe_ports(ports: list[SerialPort], indent: str = "  ") -> str:
    """One line per port, for error messages; ``"(none)"`` when empty."""
    if not ports:
        return f"{indent}(none)"
    lines = []
    for p in ports:
        details = ", ".join(
            f"{name}={value}"
            for name, value in (
                ("serial_number", p.serial_number),
                ("manufacturer", p.manufacturer),
                ("product", p.product),
                ("location", p.location),
            )
            if value
        )
        lines.append(f"{indent}{p.port}  {p.vid_pid or 'not USB'}  {details}".rstrip())
    return "\n".join(lines)


def _parse_id(value: Any) -> Any:
    """Vendor/product id: an int as is; a string is hexadecimal with or without ``0x`` (as lsusb shows)."""
    if isinstance(value, str):
        text = value.strip().lower()
        try:
            return int(text[2:] if text.startswith("0x") else text, 16)
        except ValueError:
            raise ValueError(f"{value!r} is not a hexadecimal USB id (like 0x2E8A)") from None
    return value


class UsbSpecifier(BaseModel):
    """A board named by its USB identity; every given field must match (strings case-insensitively).

    Parameters
    ----------
    vid, pid
        USB vendor and product id: ints, or hexadecimal strings (``"0x2E8A"`` or ``"2e8a"``).
    serial_number, manufacturer, product
        USB descriptor strings, compared whole but ignoring case.
    location
        The port's place on the USB tree as pyserial reports it (``"1-1.4:1.0"``).

    Examples
    --------
    >>> UsbSpecifier.parse('usb:vid=0x2E8A,pid=0x0005').pid
    5
    >>> UsbSpecifier.parse('{"vid": "0x2e8a", "serial_number": "E6614C"}').to_json()
    '{"vid": "0x2e8a", "serial_number": "E6614C"}'
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    vid: Optional[int] = None
    pid: Optional[int] = None
    serial_number: Optional[str] = None
    manufacturer: Optional[str] = None
    product: Optional[str] = None
    location: Optional[str] = None
    device: Optional[str] = Field(default=None, exclude=True)
    """The port this specifier was listed from (`list_usb_specifiers`), as the original's had it."""

    @field_validator("vid", "pid", mode="before")
    @classmethod
    def _parse_ids(cls, value: Any) -> Any:
        return _parse_id(value)

    @field_validator("vid", "pid")
    @classmethod
    def _check_range(cls, value: Optional[int]) -> Optional[int]:
        if value is not None and not 0 <= value <= 0xFFFF:
            raise ValueError(f"USB ids are 16 bits (0 to 0xFFFF), not {value}")
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> UsbSpecifier:
        if not self.fields():
            raise ValueError(f"a USB specifier needs at least one of {', '.join(USB_FIELDS)}")
        return self

    @field_serializer("vid", "pid")
    def _hex(self, value: Optional[int]) -> Optional[str]:
        return None if value is None else f"0x{value:04x}"

    # ------------------------------------------------------------------------------------------------
    # Parsing and printing
    # ------------------------------------------------------------------------------------------------

    @classmethod
    def parse(cls, spec: str) -> UsbSpecifier:
        """Read a device spec: JSON (``{"vid": "0x2E8A", ...}``) or ``usb:`` form.

        The ``usb:`` form is ``usb:KEY=VALUE,KEY=VALUE`` with the field names above
        (``usb:vid=0x2E8A,pid=0x0005,serial_number=E6614C``), or the short ``usb:VID[:PID]`` in
        hexadecimal as lsusb prints it (``usb:2e8a:0005``). Values cannot contain commas: use JSON.

        Raises
        ------
        DeviceSpecError
            When the spec is malformed or names an unknown field.
        """
        fields: Union[dict[str, Any], Any]
        if spec.startswith(USB_PREFIX):
            fields = _usb_fields(spec[len(USB_PREFIX) :].strip(), spec)
        else:
            try:
                fields = json.loads(spec)
            except json.JSONDecodeError as exc:
                raise DeviceSpecError(f"the USB specifier {spec!r} is not valid JSON: {exc}") from None
            if not isinstance(fields, dict):
                raise DeviceSpecError(f"the USB specifier {spec!r} must be a JSON object")
        try:
            return cls.model_validate(fields)
        except ValidationError as exc:
            raise DeviceSpecError(f"invalid USB specifier {spec!r}: {_validation_message(exc)}") from None

    def fields(self) -> dict[str, Union[int, str]]:
        """The fields that are set."""
        return {name: getattr(self, name) for name in USB_FIELDS if getattr(self, name) is not None}

    def to_json(self) -> str:
        """Compact JSON of the set fields, ids as hex strings: the form for ``BELAY_DEVICE``."""
        return json.dumps(self.model_dump(exclude_none=True))

    def to_spec(self) -> str:
        """The ``usb:KEY=VALUE,...`` form (JSON when a value holds a comma or ``=``)."""
        dumped = self.model_dump(exclude_none=True)
        if any("," in str(v) or "=" in str(v) for v in dumped.values()):
            return self.to_json()
        return USB_PREFIX + ",".join(f"{k}={v}" for k, v in dumped.items())

    def __str__(self) -> str:
        return self.to_spec()

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v:#06x}" if k in ("vid", "pid") else f"{k}={v!r}" for k, v in self.fields().items())
        return f"UsbSpecifier({fields})"

    # ------------------------------------------------------------------------------------------------
    # Matching
    # ------------------------------------------------------------------------------------------------

    def matches(self, port: SerialPort) -> bool:
        """Whether every set field equals the port's (strings compared case-insensitively)."""
        for name, wanted in self.fields().items():
            have = getattr(port, name)
            if have is None:
                return False
            if isinstance(wanted, str):
                if str(have).casefold() != wanted.casefold():
                    return False
            elif have != wanted:
                return False
        return True

    def find(self, ports: Optional[list[SerialPort]] = None) -> list[SerialPort]:
        """The ports that match, among ``ports`` (default: the attached USB ports)."""
        ports = list_devices() if ports is None else ports
        return [p for p in ports if self.matches(p)]

    def to_port(self, ports: Optional[list[SerialPort]] = None) -> str:
        """The name of the one attached port that matches.

        Raises
        ------
        PortNotFoundError
            When none matches (a `ConnectionLost`: the board may be unplugged), listing attached boards.
        InsufficientSpecifierError
            When several match, listing them: add fields (serial_number, location) to choose one.
        """
        if self.device is not None:
            return self.device
        ports = list_devices() if ports is None else ports
        matching = self.find(ports)
        if len(matching) == 1:
            return matching[0].port
        if not matching:
            raise PortNotFoundError(
                f"no attached serial port matches {self.to_spec()}. Attached USB serial ports:\n"
                + describe_ports(ports)
            )
        raise InsufficientSpecifierError(
            f"{len(matching)} attached serial ports match {self.to_spec()}; add serial_number or location "
            "to choose one:\n" + describe_ports(matching)
        )


def _usb_fields(body: str, spec: str) -> dict[str, Any]:
    if not body:
        raise DeviceSpecError(f"{spec!r} names no board: e.g. usb:vid=0x2E8A,pid=0x0005 or usb:2e8a:0005")
    if "=" not in body:
        parts = body.split(":")
        if len(parts) > 2 or not all(parts):
            raise DeviceSpecError(f"{spec!r} is not usb:VID[:PID] (e.g. usb:2e8a:0005)")
        return dict(zip(("vid", "pid"), parts))
    fields: dict[str, Any] = {}
    for item in body.split(","):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise DeviceSpecError(f"{spec!r}: {item!r} is not KEY=VALUE (keys: {', '.join(USB_FIELDS)})")
        if key in fields:
            raise DeviceSpecError(f"{spec!r}: {key} is given twice")
        fields[key] = value.strip()
    return fields


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()))
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        if error.get("type") == "extra_forbidden":
            message = f"unknown field (known: {', '.join(USB_FIELDS)})"
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


__all__ = ["KNOWN_VENDORS", "SerialPort", "UsbSpecifier", "board_ports", "list_devices"]
