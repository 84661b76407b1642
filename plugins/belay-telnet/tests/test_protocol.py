"""The telnet framing: commands out of received data at every split, 0xFF escaped, negotiation answered."""

from __future__ import annotations

from belay_telnet.protocol import BINARY, DO, DONT, ECHO, IAC, SB, SE, SGA, WILL, WONT, TelnetCodec, escape

STREAM = (
    b"Login"
    + bytes((IAC, WILL, ECHO))  # refused: DONT ECHO
    + b" as"
    + bytes((IAC, IAC))  # a data byte 255
    + bytes((IAC, DO, 24))  # terminal type: refused
    + bytes((IAC, SB, 24, 1, IAC, IAC, 0xFF // 3, IAC, SE))  # subnegotiation, dropped whole
    + bytes((IAC, 241))  # NOP
    + bytes((IAC, WILL, SGA))  # accepted: DO SGA
    + b": \xff\xff!"
)
DATA = b"Login as\xff: \xff!"
REPLIES = bytes((IAC, DONT, ECHO, IAC, WONT, 24, IAC, DO, SGA))


def test_commands_are_removed_and_answered():
    assert TelnetCodec().feed(STREAM) == (DATA, REPLIES)


def test_every_split_of_the_stream_gives_the_same_result():
    for cut in range(len(STREAM) + 1):
        codec = TelnetCodec()
        first = codec.feed(STREAM[:cut])
        second = codec.feed(STREAM[cut:])
        assert (first[0] + second[0], first[1] + second[1]) == (DATA, REPLIES), cut


def test_byte_at_a_time():
    codec = TelnetCodec()
    data, replies = b"", b""
    for byte in STREAM:
        got = codec.feed(bytes((byte,)))
        data, replies = data + got[0], replies + got[1]
    assert (data, replies) == (DATA, REPLIES)


def test_accepted_options_are_acknowledged_once():
    codec = TelnetCodec()
    assert codec.feed(bytes((IAC, WILL, BINARY, IAC, WILL, BINARY))) == (b"", bytes((IAC, DO, BINARY)))
    assert codec.feed(bytes((IAC, DO, SGA, IAC, DO, SGA))) == (b"", bytes((IAC, WILL, SGA)))
    assert codec.remote == {BINARY} and codec.local == {SGA}
    # Turning them off is acknowledged; turning off what is off is not answered (no loops).
    assert codec.feed(bytes((IAC, WONT, BINARY, IAC, DONT, SGA, IAC, DONT, ECHO))) == (
        b"",
        bytes((IAC, DONT, BINARY, IAC, WONT, SGA)),
    )


def test_reset_forgets_options_and_half_commands():
    codec = TelnetCodec()
    codec.feed(bytes((IAC, WILL, SGA, IAC)))
    codec.reset()
    assert codec.remote == set()
    assert codec.feed(b"\xfb") == (b"\xfb", b"")  # not the rest of the old IAC


def test_escape_doubles_iac():
    assert escape(bytes(range(250, 256))) == bytes((250, 251, 252, 253, 254, 255, 255))
    assert TelnetCodec().feed(escape(bytes(range(256))))[0] == bytes(range(256))
