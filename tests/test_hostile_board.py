"""A board's answers are untrusted: crafted content over a correct raw REPL never harms the host."""

from __future__ import annotations

import pytest

from belay_core.errors import UnsafeBoardPathError
from belay_testing.hostile import answer_results_with, lie_about_listings, tell_the_truth

FILE = 0x8000


@pytest.mark.parametrize(
    "name",
    ["../escaped.txt", "/.bashrc_pwned", "sub/../../escaped.txt", "..", ".", "a\\..\\..\\escaped.txt", ""],
)
def test_get_never_writes_outside_the_target_whatever_the_board_lists(tree_device, tmp_path, name):
    # The board lists a member whose name leads out of the target folder: a clear error, nothing written.
    tree_device.files.mkdir("/dir")
    tree_device.files.write_bytes("/dir/ok.txt", b"fine")
    tree_device.files.write_bytes("/escaped.txt", b"evil")
    lie_about_listings(tree_device, {"/dir": [("ok.txt", FILE, 0, 4), (name, FILE, 0, 4)]})
    target = tmp_path / "box" / "local"
    try:
        with pytest.raises(UnsafeBoardPathError, match="outside"):
            tree_device.get("/dir", target)
    finally:
        tell_the_truth(tree_device)
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    assert written == []  # not even the good file, nor the target folder


def test_a_result_nested_too_deeply_for_the_host_parser_is_a_protocol_error(tree_device):
    # A crafted result frame ("----...1") once surfaced as a bare MemoryError. (The micro:bit's heap
    # cannot hold such a payload.)
    from belay_core.errors import ProtocolError

    answer_results_with(tree_device, "'-' * 5000 + '1'")
    with pytest.raises(ProtocolError, match="nested too deeply"):
        tree_device("1 + 1")
    tree_device.soft_reset()
    assert tree_device("1 + 1") == 2


@pytest.mark.parametrize("info", [(), ("micropython",), ("micropython", 5, "linux", 0, ()), None])
def test_a_malformed_firmware_description_is_a_protocol_error(info):
    from belay_core.errors import ProtocolError
    from belay_core.implementation import Implementation

    with pytest.raises(ProtocolError, match="described its firmware"):
        Implementation.from_board(info)


def test_endless_digits_after_a_frame_mark_are_not_held_back(tree_device):
    # A frame's start followed by digits that never end was held back, growing without bound.
    import io

    out = io.StringIO()
    text = tree_device(
        "import sys\nsys.stdout.write(__belay_m + 'R' + '9' * 5000 + ':x\\n')\nprint('after')", stream_out=out
    )
    assert text is None
    assert out.getvalue().endswith("9" * 100 + ":x\nafter\n")


@pytest.mark.parametrize(
    "damage",
    ["s[:1] + s[2:]", "s.replace('2', '3', 1)", "s[:-1]", "'9' + s[1:]"],
    ids=["dropped", "flipped", "last dropped", "first changed"],
)
def test_a_result_damaged_on_the_line_is_a_protocol_error_never_a_wrong_value(device, damage):
    # A dropped or flipped byte once turned 12345 into 1245 or 13345.
    from belay_core.errors import ProtocolError
    from belay_testing.hostile import damage_results

    damage_results(device, damage)
    with pytest.raises(ProtocolError, match="damaged on the line"):
        device("12345")
    device.soft_reset()
    assert device("12345") == 12345
