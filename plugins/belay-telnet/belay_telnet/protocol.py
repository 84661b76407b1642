"""The telnet framing Belay needs (RFC 854, RFC 855), on any byte stream.

Only what a board's telnet REPL needs: ``IAC`` sequences are taken out of received data, a data byte
0xFF is sent as ``IAC IAC``, and option negotiation is answered so the server is never left waiting:
every request is refused except binary transmission and suppress-go-ahead, which keep the line an
8-bit clean, character-at-a-time stream. Nothing is negotiated unasked.
"""

from __future__ import annotations

from attrs import define, field

IAC = 255
"""Interpret As Command: starts every telnet command; doubled for a data byte 255."""
DONT = 254
DO = 253
WONT = 252
WILL = 251
SB = 250
"""Start of a subnegotiation, ended by ``IAC SE``."""
SE = 240

BINARY = 0
"""Option: 8-bit binary transmission (RFC 856)."""
ECHO = 1
"""Option: echo (RFC 857)."""
SGA = 3
"""Option: suppress go-ahead (RFC 858)."""

ACCEPTED = frozenset({BINARY, SGA})
"""Options agreed to in both directions; every other one is refused."""

_DATA, _COMMAND, _OPTION, _SUB, _SUB_IAC = range(5)


def escape(data: bytes) -> bytes:
    """Data bytes as sent on a telnet line: each 0xFF doubled.

    Examples
    --------
    >>> escape(b"a\\xffb")
    b'a\\xff\\xffb'
    """
    return data.replace(b"\xff", b"\xff\xff")


@define
class TelnetCodec:
    """Separates data from telnet commands in received bytes, across any split of the stream.

    Parameters
    ----------
    accepted
        Options agreed to when the other side offers (``WILL``) or asks (``DO``) them.

    Examples
    --------
    >>> codec = TelnetCodec()
    >>> codec.feed(b"ab\\xff\\xfb\\x01c\\xff")
    (b'abc', b'\\xff\\xfe\\x01')
    >>> codec.feed(b"\\xffd")
    (b'\\xffd', b'')
    """

    accepted: frozenset[int] = ACCEPTED
    local: set[int] = field(factory=set)
    """Options in effect on our side (we agreed to ``DO``)."""
    remote: set[int] = field(factory=set)
    """Options in effect on the other side (we agreed to its ``WILL``)."""
    _state: int = _DATA
    _verb: int = 0

    def reset(self) -> None:
        """Forget every option and any half-received command (for a new connection)."""
        self.local.clear()
        self.remote.clear()
        self._state = _DATA
        self._verb = 0

    def feed(self, data: bytes) -> tuple[bytes, bytes]:
        """Take the next received bytes.

        Parameters
        ----------
        data
            Bytes as they came off the line; a command may be split across calls.

        Returns
        -------
        tuple[bytes, bytes]
            The data bytes in them, and the answers to send back (empty when none are due).
        """
        out = bytearray()
        replies = bytearray()
        i, n = 0, len(data)
        while i < n:
            state = self._state
            if state == _DATA:
                j = data.find(b"\xff", i)
                if j < 0:
                    out += data[i:]
                    break
                out += data[i:j]
                self._state = _COMMAND
                i = j + 1
                continue
            byte = data[i]
            i += 1
            if state == _COMMAND:
                if byte == IAC:
                    out.append(IAC)
                    self._state = _DATA
                elif byte in (WILL, WONT, DO, DONT):
                    self._verb = byte
                    self._state = _OPTION
                elif byte == SB:
                    self._state = _SUB
                else:  # NOP, GA, DM, BRK, AYT, ...: two-byte commands, nothing to do
                    self._state = _DATA
            elif state == _OPTION:
                replies += self._negotiate(self._verb, byte)
                self._state = _DATA
            elif state == _SUB:
                if byte == IAC:
                    self._state = _SUB_IAC
            else:  # _SUB_IAC: IAC SE ends the subnegotiation, IAC IAC is data inside it
                self._state = _DATA if byte == SE else _SUB
        return bytes(out), bytes(replies)

    def _negotiate(self, verb: int, option: int) -> bytes:
        """The answer to ``IAC verb option``; nothing when the option is already in that state (RFC 854)."""
        if verb == WILL:
            if option in self.remote:
                return b""
            if option in self.accepted:
                self.remote.add(option)
                return bytes((IAC, DO, option))
            return bytes((IAC, DONT, option))
        if verb == WONT:
            if option in self.remote:
                self.remote.discard(option)
                return bytes((IAC, DONT, option))
            return b""
        if verb == DO:
            if option in self.local:
                return b""
            if option in self.accepted:
                self.local.add(option)
                return bytes((IAC, WILL, option))
            return bytes((IAC, WONT, option))
        # DONT
        if option in self.local:
            self.local.discard(option)
            return bytes((IAC, WONT, option))
        return b""
