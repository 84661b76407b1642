"""belay add / install / update with GitHub and GitLab sources, against the fake hosts and an emulated board."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from belay_core.cli import cli
from belay_packages.lock import read_lock
from belay_testing import code_hosts as hosts


def belay(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def project(code_hosts: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    assert belay("new", "app").exit_code == 0
    monkeypatch.chdir(tmp_path / "app")
    return tmp_path / "app"


def test_add_pins_a_github_file_to_its_commit_and_install_keeps_it(project: Path, code_hosts: Any, tmp_path: Path):
    result = belay("add", "driver", "github:owner/repo/lib/driver.py")
    assert result.exit_code == 0, result.output
    [package] = read_lock(project / "belay.lock").package
    assert package.source[0].resolved == hosts.SHA_MAIN
    assert (project / ".belay/dependencies/main/driver/__init__.py").read_bytes() == b"VERSION = 2\n"

    code_hosts.github("owner/repo", hosts.COMMITS, {**hosts.REFS, "main": hosts.SHA_BRANCH})  # main moves
    shutil.rmtree(project / ".belay")
    (project / "check.py").write_text("import driver\nprint('driver', driver.VERSION)\n")
    board = tmp_path / "board"
    board.mkdir()
    installed = belay("install", "-d", f"emu:unix?fs={board}", "--run", "check.py")
    assert installed.exit_code == 0, installed.output
    assert "driver 2" in installed.output  # the locked commit, not the branch's new head

    assert belay("update", "driver").exit_code == 0
    assert read_lock(project / "belay.lock").package[0].source[0].resolved == hosts.SHA_BRANCH
    updated = belay("install", "-d", f"emu:unix?fs={board}", "--run", "check.py")
    assert "driver 3" in updated.output


def test_add_a_gitlab_folder_infers_the_name_and_installs_the_tree(project: Path, tmp_path: Path):
    result = belay("add", "gitlab:owner/repo/lib@v1.0", "--group", "dev")
    assert result.exit_code == 0, result.output
    assert 'lib = "gitlab:owner/repo/lib@v1.0"' in (project / "pyproject.toml").read_text()
    [package] = read_lock(project / "belay.lock").package
    assert package.group == "dev" and package.source[0].resolved == hosts.SHA_V1
    assert sorted(package.files) == ["lib/driver.py", "lib/sub/helper.py"]
    (project / "check.py").write_text("import os\nprint(sorted(os.listdir('/lib/lib/sub')))\n")
    installed = belay("install", "-d", "emu:unix", "--with", "dev", "--run", "check.py")
    assert installed.exit_code == 0, installed.output
    assert "['helper.py']" in installed.output


def test_add_an_unknown_ref_changes_nothing(project: Path):
    before = (project / "pyproject.toml").read_text()
    result = belay("add", "driver", "github:owner/repo/lib/driver.py@nope")
    assert result.exit_code == 2
    assert "nope" in result.output
    assert (project / "pyproject.toml").read_text() == before
    assert not (project / "belay.lock").exists()
