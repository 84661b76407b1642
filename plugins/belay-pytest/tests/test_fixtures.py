"""belay-pytest on one board and on several at once: fixtures, scope, reset policies, marker skips, reports.

Each test writes a small suite with pytester and runs it against the emulated boards.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

STATE = """
def test_sets(belay_device):
    belay_device("x = 41")

def test_sees(belay_device):
    assert belay_device("'x' in globals()") == EXPECTED
"""


def test_belay_device_is_one_connection_for_the_session(pytester: pytest.Pytester):
    pytester.makepyfile(STATE.replace("EXPECTED", "True"))
    result = pytester.runpytest("-p", "no:randomly", "--belay-device", "emu:unix")
    result.assert_outcomes(passed=2)


def test_belay_scope_function_connects_for_each_test(pytester: pytest.Pytester):
    pytester.makepyfile(STATE.replace("EXPECTED", "False"))
    result = pytester.runpytest("-p", "no:randomly", "--belay-device", "emu:unix", "--belay-scope", "function")
    result.assert_outcomes(passed=2)


def test_a_module_fixture_can_build_on_belay_device(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.fixture(scope="module")
        def blink(belay_device):
            @belay_device.task
            def blink(times):
                return times * 2
            return blink

        def test_blink(blink):
            assert blink(3) == 6
        """
    )
    result = pytester.runpytest("-p", "no:randomly", "--belay-device", "emu:wasm")
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize(("policy", "kept"), [("none", True), ("soft", False), ("hard", False)])
def test_reset_policy_between_tests(pytester: pytest.Pytester, policy: str, kept: bool):
    pytester.makepyfile(STATE.replace("EXPECTED", str(kept)))
    result = pytester.runpytest("-p", "no:randomly", "--belay-device", "emu:unix", "--belay-reset", policy)
    result.assert_outcomes(passed=2)


def test_belay_device_falls_back_to_belay_device_variable(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("BELAY_DEVICE", "emu:wasm")
    pytester.makepyfile("def test_platform(belay_device):\n    assert belay_device('sys.platform') == 'webassembly'\n")
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=1)


MARKED = """
import pytest

@pytest.mark.belay(features=["thread"])
def test_threads(belay_device):
    assert belay_device("import _thread") is None

@pytest.mark.belay(platform=["linux", "rp2"], emitters="native")
def test_native(belay_device):
    pass

@pytest.mark.belay(implementation="circuitpython")
def test_circuitpython(belay_device):
    pass

def test_anywhere(belay_device):
    pass
"""


def test_marker_skips_a_board_lacking_what_the_test_asks_for(pytester: pytest.Pytester):
    pytester.makepyfile(MARKED)
    result = pytester.runpytest("-p", "no:randomly", "-rs", "--belay-device", "emu:wasm")
    result.assert_outcomes(passed=1, skipped=3)
    result.stdout.fnmatch_lines(
        [
            "*.py:3: emu:wasm lacks feature thread",
            "*.py:7: emu:wasm lacks platform linux or rp2 (it is webassembly), emitter native",
            "*.py:11: emu:wasm lacks implementation circuitpython (it is micropython)",
        ]
    )


def test_marker_runs_tests_on_a_board_that_has_it(pytester: pytest.Pytester):
    pytester.makepyfile(MARKED)
    result = pytester.runpytest("-p", "no:randomly", "-rs", "--belay-device", "emu:unix")
    result.assert_outcomes(passed=3, skipped=1)


def test_marker_works_with_m_and_k(pytester: pytest.Pytester):
    pytester.makepyfile(MARKED)
    result = pytester.runpytest("-p", "no:randomly", "--strict-markers", "--belay-device", "emu:unix", "-m", "belay")
    result.assert_outcomes(passed=2, skipped=1, deselected=1)
    result = pytester.runpytest("-p", "no:randomly", "--belay-device", "emu:unix", "-k", "anywhere or native")
    result.assert_outcomes(passed=2, deselected=2)


def test_marker_with_an_unknown_keyword_fails_clearly(pytester: pytest.Pytester):
    pytester.makepyfile("import pytest\n\n@pytest.mark.belay(feature='thread')\ndef test_x(belay_device):\n    pass\n")
    result = pytester.runpytest("-p", "no:randomly", "--belay-device", "emu:unix")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*@pytest.mark.belay has no 'feature'; it takes implementation, platform, *"])


FAILING = """
def test_fails_on_the_board(belay_device):
    belay_device("print('reading sensor 7')")

    @belay_device.task
    def read_sensor():
        raise OSError(19)  # no device

    read_sensor()

def test_passes(belay_device):
    belay_device("print('quiet')")
"""


def test_a_failing_board_test_reports_board_output_and_traceback(pytester: pytest.Pytester):
    pytester.makepyfile(FAILING)
    xml = pytester.path / "junit.xml"
    result = pytester.runpytest("-p", "no:randomly", "--belay-device", "emu:unix", f"--junitxml={xml}")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- belay output of emu:unix -*",
            "reading sensor 7",
            "*- belay board traceback -*",
            "Traceback (most recent call last):",
            '*File "*test_a_failing_board_test_reports_board_output_and_traceback.py", line 6, in read_sensor',
            "*raise OSError(19)*",
            "OSError: [[]Errno 19[]] ENODEV",
        ]
    )
    assert result.stdout.str().count("belay output of") == 1  # only the failing test's
    assert "raised_on_the_board" not in result.stdout.str()  # Belay's own frame is hidden from pytest
    cases = ET.parse(xml).getroot().iter("testcase")
    boards = {case.get("name"): {p.get("name"): p.get("value") for p in case.iter("property")} for case in cases}
    assert boards == {
        "test_fails_on_the_board": {"belay_board": "emu:unix", "belay_spec": "emu:unix"},
        "test_passes": {"belay_board": "emu:unix", "belay_spec": "emu:unix"},
    }


def test_a_lost_board_is_reported_and_not_used_again(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        import os

        def test_kills_the_board(belay_device):
            os.killpg(belay_device.session.transport.process.pid, 9)
            belay_device("1")

        def test_after(belay_device):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:randomly", "--belay-device", "emu:unix")
    result.assert_outcomes(failed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*board emu:unix was lost (ConnectionLost in test_a_lost_board*::test_kills_the_board); it is not used "
            "again*",
            "*ConnectionLost: *exited with code -9*",
            "*= belay: boards lost =*",
            "emu:unix: ConnectionLost in *::test_kills_the_board; not used again in this run",
        ]
    )


def test_belay_device_factory_connects_and_closes(pytester: pytest.Pytester):
    pytester.makepyfile(
        """
        import pytest

        devices = []

        def test_two_boards(belay_device_factory):
            unix, wasm = belay_device_factory("emu:unix"), belay_device_factory("emu:wasm", startup="import sys")
            devices.extend([unix, wasm])
            assert (unix("sys.platform"), wasm("sys.platform")) == ("linux", "webassembly")
            assert unix.timeout == 7

        def test_closed_after():
            assert [device.closed for device in devices] == [True, True]
        """
    )
    result = pytester.runpytest("-p", "no:randomly", "--belay-timeout", "7")
    result.assert_outcomes(passed=2)


TOGETHER = """
import pytest
from belay_pytest import BoardsFailed, run_on_all

def test_all_at_once(belay_devices):
    assert belay_devices.names == ["unix", "wasm"]
    assert belay_devices.run("sys.platform").values() == {"unix": "linux", "wasm": "webassembly"}
    assert belay_devices["wasm"] is belay_devices[1]

def test_errors_per_board(belay_devices):
    outcomes = belay_devices.run(lambda device, name: device(f"import {name}"), "_thread")
    assert outcomes["unix"].ok and outcomes["unix"].value is None
    assert type(outcomes["wasm"].error).__name__ == "DeviceImportError"
    with pytest.raises(BoardsFailed, match=r"1 of 2 boards failed:\\n  wasm: DeviceImportError"):
        outcomes.values()

def test_at_the_same_time(belay_devices):
    import threading

    both = threading.Barrier(2, timeout=30)

    def call(device):
        both.wait()  # returns only once the other board's call has started too
        return device("1 + 1")

    assert belay_devices.run(call).values() == {"unix": 2, "wasm": 2}
    assert run_on_all({"first": belay_devices[0]}, "2 + 2").values() == {"first": 4}
"""


def test_belay_devices_runs_one_call_on_every_board(pytester: pytest.Pytester, tmp_path: Path):
    unix_fs, wasm_fs = tmp_path / "unix", tmp_path / "wasm"
    unix_fs.mkdir()
    wasm_fs.mkdir()
    fleet = pytester.path / "fleet.toml"
    fleet.write_text(
        f'[[board]]\nspec = "emu:unix?fs={unix_fs}"\nname = "unix"\n\n'
        f'[[board]]\nspec = "emu:wasm?fs={wasm_fs}"\nname = "wasm"\n'
    )
    pytester.makepyfile(TOGETHER)
    result = pytester.runpytest("-p", "no:randomly", "--belay-fleet", str(fleet))
    result.assert_outcomes(passed=3)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[board]]\nspec = "emu:"\ncolour = "red"\n', "fleet file *: board.0.colour: unknown key"),
        ("[[board]]\nname = 'a'\n", "fleet file *: board.0.spec: Field required"),
        ('[[board]]\nspec = "emu:"\n[[board]]\nspec = "emu:"\n', "*two boards are named 'emu:'; give each its own*"),
        ("[[board]\n", "fleet file *: not valid TOML: *"),
    ],
)
def test_a_bad_fleet_file_is_one_line(pytester: pytest.Pytester, text: str, message: str):
    (pytester.path / "fleet.toml").write_text(text)
    pytester.makepyfile("def test_x(belay_device):\n    pass\n")
    result = pytester.runpytest("-p", "no:randomly", "--belay-fleet", "fleet.toml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {message}"])


def test_a_missing_fleet_file_is_one_line(pytester: pytest.Pytester):
    pytester.makepyfile("def test_x(belay_device):\n    pass\n")
    result = pytester.runpytest("-p", "no:randomly", "--belay-fleet", "nowhere.toml")
    result.stderr.fnmatch_lines(["ERROR: fleet file nowhere.toml: cannot read it: No such file or directory"])


def test_tests_without_boards_connect_to_none(pytester: pytest.Pytester):
    pytester.makepyfile("def test_plain():\n    import sys\n    assert 'belay_core' not in sys.modules\n")
    pytester.runpytest_subprocess("-p", "no:randomly", "--belay-device", "emu:unix").assert_outcomes(passed=1)


def test_a_board_served_from_another_machine_is_a_fleet_board(pytester: pytest.Pytester):
    # What `exec:ssh HOST belay serve -d PORT` gives, without the ssh: belay serve on a pipe.
    import shlex
    import shutil
    import sys

    belay = shutil.which("belay") or str(Path(sys.executable).with_name("belay"))
    spec = "exec:" + shlex.join([belay, "serve", "-d", "emu:wasm"])
    (pytester.path / "fleet.toml").write_text(f"[[board]]\nspec = {spec!r}\nname = 'far'\n")
    pytester.makepyfile("def test_far(belay_device):\n    assert belay_device('sys.platform') == 'webassembly'\n")
    xml = pytester.path / "junit.xml"
    result = pytester.runpytest("-p", "no:randomly", "--belay-fleet", "fleet.toml", f"--junitxml={xml}")
    result.assert_outcomes(passed=1)
    assert 'name="belay_board" value="far"' in xml.read_text()
