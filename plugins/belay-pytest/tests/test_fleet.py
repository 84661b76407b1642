"""A fleet over pytest-xdist: one board per worker, never shared; claims across processes; boards on other hosts.

Other hosts are execnet socket gateways on 127.0.0.1 (execnet's own ``socketserver.py``), each started
with its own environment, as a lab machine would have its own fleet file.
"""

from __future__ import annotations

import collections
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Callable

import execnet
import pytest

from belay_pytest.claims import try_claim

RECORD = """
import os
import pytest

@pytest.mark.parametrize("n", range({count}))
def test_board(belay_device, n):
    # The board counts the tests it ran: a board shared by two workers would count from two places.
    belay_device("ran = globals().get('ran', 0) + 1")
    ran = belay_device("ran")
    line = f"{{os.environ.get('PYTEST_XDIST_WORKER')}} {{belay_device.spec}} {{ran}}\\n"
    with open({log!r}, "a") as log:
        log.write(line)
"""


def _fleet(path: Path, *names: str, host: str = "") -> Path:
    """A fleet file of emulated unix boards, one folder each (a distinct spec per board)."""
    lines = []
    for name in names:
        folder = path.parent / f"fs-{name}"
        folder.mkdir(exist_ok=True)
        lines += ["[[board]]", f'spec = "emu:unix?fs={folder}"', f'name = "{name}"']
        if host:
            lines.append(f'host = "{host if name != "elsewhere" else "lab-z"}"')
        lines.append("")
    path.write_text("\n".join(lines))
    return path


def _runs(log: Path) -> list[tuple[str, str, int]]:
    rows = [line.split() for line in log.read_text().splitlines()]
    return [(worker, spec, int(ran)) for worker, spec, ran in rows]


def _check_never_shared(runs: list[tuple[str, str, int]]) -> dict[str, str]:
    """Each board ran on one worker only, and counted its tests 1, 2, 3, ...: the worker of each board."""
    workers = collections.defaultdict(set)
    counts = collections.defaultdict(list)
    for worker, spec, ran in runs:
        workers[spec].add(worker)
        counts[spec].append(ran)
    assert all(len(found) == 1 for found in workers.values()), workers
    assert all(ran == list(range(1, len(ran) + 1)) for ran in counts.values()), counts
    return {spec: found.pop() for spec, found in workers.items()}


def test_two_workers_use_both_boards_and_never_share_one(pytester: pytest.Pytester):
    fleet = _fleet(pytester.path / "fleet.toml", "a", "b")
    log = pytester.path / "runs.log"
    pytester.makepyfile(RECORD.format(count=8, log=str(log)))
    result = pytester.runpytest_subprocess("-p", "no:randomly", "--belay-fleet", str(fleet), "-n", "2")
    result.assert_outcomes(passed=8)
    owners = _check_never_shared(_runs(log))
    assert len(owners) == 2 and set(owners.values()) == {"gw0", "gw1"}


def test_n_auto_starts_one_worker_per_board(pytester: pytest.Pytester):
    fleet = _fleet(pytester.path / "fleet.toml", "a", "b", "c")
    log = pytester.path / "runs.log"
    pytester.makepyfile(RECORD.format(count=9, log=str(log)))
    result = pytester.runpytest_subprocess("-p", "no:randomly", "--belay-fleet", str(fleet), "-n", "auto")
    result.assert_outcomes(passed=9)
    result.stdout.fnmatch_lines(["*3 workers [[]9 items[]]*"])
    assert len(_check_never_shared(_runs(log))) == 3


def test_a_worker_without_a_free_board_fails_clearly(pytester: pytest.Pytester):
    fleet = _fleet(pytester.path / "fleet.toml", "a", "b")
    log = pytester.path / "runs.log"
    pytester.makepyfile(RECORD.format(count=12, log=str(log)))
    result = pytester.runpytest_subprocess("-p", "no:randomly", "--belay-fleet", str(fleet), "-n", "3")
    outcomes = result.parseoutcomes()
    assert outcomes["passed"] + outcomes["errors"] == 12 and outcomes["errors"] >= 1
    result.stdout.fnmatch_lines(
        ["*no free board for gw?, pid *: ? (gw?, pid *), ? (gw?, pid *) in use; run with -n 2 or -n auto*"]
    )
    assert len(_check_never_shared(_runs(log))) == 2


def test_a_board_claimed_by_another_process_is_not_used(pytester: pytest.Pytester):
    fleet = _fleet(pytester.path / "fleet.toml", "a")
    spec = f"emu:unix?fs={pytester.path / 'fs-a'}"
    pytester.makepyfile("def test_x(belay_device):\n    pass\n")
    claim, _ = try_claim(spec, "the bench script, pid 1")
    assert claim is not None
    result = pytester.runpytest_subprocess("-p", "no:randomly", "--belay-fleet", str(fleet))
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*no free board for pytest, pid *: a (the bench script, pid 1) in use*"])
    claim.release()
    pytester.runpytest_subprocess("-p", "no:randomly", "--belay-fleet", str(fleet)).assert_outcomes(passed=1)


def test_a_claim_ends_with_its_process(tmp_path: Path):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from belay_pytest.claims import try_claim; "
         "c, _ = try_claim('emu:x', 'child'); print(c is not None, flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdin is not None
    assert holder.stdout.readline().strip() == "True"
    assert try_claim("emu:x", "parent") == (None, "child")
    holder.kill()  # no clean-up runs: the OS drops the lock
    holder.wait()
    claim, _ = try_claim("emu:x", "parent")
    assert claim is not None
    claim.release()


@pytest.fixture
def gateway(tmp_path: Path, free_port: int) -> Iterator[Callable[..., str]]:
    """Start execnet socket gateways on 127.0.0.1 (``gateway(env)`` -> the ``--tx`` spec); all stopped after."""
    server = Path(execnet.__file__).parent / "script" / "socketserver.py"
    started: list[subprocess.Popen[str]] = []
    ports = iter([free_port, *range(free_port + 1, free_port + 50)])

    def start(name: str, **env: str) -> str:
        home = tmp_path / name
        home.mkdir()
        port = next(ports)
        proc = subprocess.Popen(
            [sys.executable, str(server), f"127.0.0.1:{port}"],
            cwd=home,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started.append(proc)
        assert proc.stdout is not None
        for line in proc.stdout:
            if "Entering Accept loop" in line:
                break
        else:
            pytest.fail(f"execnet's socket server did not start: exit {proc.wait()}")
        return f"socket=127.0.0.1:{port}//chdir={home / 'checkout'}"

    yield start
    for proc in started:
        proc.kill()
        proc.wait()


def test_boards_on_other_hosts_run_there(pytester: pytest.Pytester, gateway: Callable[..., str], tmp_path: Path):
    # Host A lists its board in its own BELAY_FLEET; host B reads a lab-wide file and keeps the boards of its host.
    own = _fleet(tmp_path / "a.toml", "a")
    lab = _fleet(tmp_path / "lab.toml", "b", "elsewhere", host="lab-b")
    host_a = gateway("host-a", BELAY_FLEET=str(own))
    host_b = gateway("host-b", BELAY_FLEET=str(lab), BELAY_HOST="lab-b")
    log = tmp_path / "runs.log"
    tests = pytester.makepyfile(RECORD.format(count=8, log=str(log)))
    result = pytester.runpytest_subprocess(
        "-p", "no:randomly", "-W", "ignore::DeprecationWarning", "-d", "--tx", host_a, "--tx", host_b,
        "--rsyncdir", str(pytester.path), str(tests),
    )  # fmt: skip
    result.assert_outcomes(passed=8)
    owners = _check_never_shared(_runs(log))
    assert owners == {f"emu:unix?fs={tmp_path / 'fs-a'}": "gw0", f"emu:unix?fs={tmp_path / 'fs-b'}": "gw1"}


def test_one_lab_file_for_every_host_by_option(pytester: pytest.Pytester, gateway: Callable[..., str], tmp_path: Path):
    # --belay-fleet reaches every worker; each keeps the boards of its own host (BELAY_HOST stands for the name).
    lab = tmp_path / "lab.toml"
    for name in ("a", "b"):
        (tmp_path / f"fs-{name}").mkdir()
    lab.write_text(
        f'[[board]]\nspec = "emu:unix?fs={tmp_path / "fs-a"}"\nname = "a"\nhost = "lab-a"\n\n'
        f'[[board]]\nspec = "emu:unix?fs={tmp_path / "fs-b"}"\nname = "b"\nhost = "lab-b"\n'
    )
    host_a = gateway("host-a", BELAY_HOST="lab-a")
    host_b = gateway("host-b", BELAY_HOST="lab-b")
    log = tmp_path / "runs.log"
    tests = pytester.makepyfile(RECORD.format(count=6, log=str(log)))
    result = pytester.runpytest_subprocess(
        "-p", "no:randomly", "-W", "ignore::DeprecationWarning", f"--belay-fleet={lab}",
        "-d", "--tx", host_a, "--tx", host_b, "--rsyncdir", str(pytester.path), str(tests),
    )  # fmt: skip
    result.assert_outcomes(passed=6)
    owners = _check_never_shared(_runs(log))
    assert owners == {f"emu:unix?fs={tmp_path / 'fs-a'}": "gw0", f"emu:unix?fs={tmp_path / 'fs-b'}": "gw1"}
