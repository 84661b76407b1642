"""The package manager end to end with local sources: belay new, add, lock, update, clean, install, run --local."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from belay_core import Device
from belay_core.cli import cli
from belay_packages.lock import read_lock
from belay_packages.manager import Project


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A new project made by `belay new`, with the working directory in it and a private cache."""
    monkeypatch.setenv("BELAY_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    result = belay("new", "blink")
    assert result.exit_code == 0, result.output
    vendor = tmp_path / "vendor"
    vendor.mkdir()
    (vendor / "mylib.py").write_text("def answer():\n    return 42\n")
    (vendor / "pkg").mkdir()
    (vendor / "pkg" / "__init__.py").write_text("NAME = 'pkg'\n")
    (vendor / "pkg" / "util.py").write_text("def double(x):\n    return 2 * x\n")
    monkeypatch.chdir(tmp_path / "blink")
    return tmp_path / "blink"


def belay(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def test_new_creates_a_project_that_loads(project: Path):
    for name in ("pyproject.toml", "main.py", "blink/__init__.py", "README.md", ".gitignore"):
        assert (project / name).is_file(), name
    loaded = Project.load()
    assert loaded.config.name == "blink"
    assert loaded.config.group["dev"].optional
    assert ".belay/" in (project / ".gitignore").read_text()


def test_new_never_overwrites_and_init_adds_the_section_keeping_comments(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    original = (
        '[project]\nname = "my-app"  # keep me\nversion = "1.0"\n\n# a comment that must stay\n[tool.other]\nx = 1\n'
    )
    (tmp_path / "pyproject.toml").write_text(original)
    (tmp_path / "main.py").write_text("print('mine')\n")
    result = belay("init")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "pyproject.toml").read_text()
    assert text.startswith(original)
    assert "[tool.belay]" in text
    assert (tmp_path / "main.py").read_text() == "print('mine')\n"
    assert Project.load().config.name == "my_app"  # [project] name, as an identifier
    again = belay("init")
    assert "already has [tool.belay]" in again.output
    assert (tmp_path / "pyproject.toml").read_text() == text


def test_init_in_an_existing_project_adds_only_the_section_named_after_the_project(tmp_path: Path, monkeypatch):
    folder = tmp_path / "Some Folder"
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "app.py").write_text("x = 1\n")
    (folder / "pyproject.toml").write_text('[project]\nname = "my-app"\nversion = "1.0"\n')
    monkeypatch.chdir(folder)
    result = belay("init")
    assert result.exit_code == 0, result.output
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))
    assert files == ["pyproject.toml", "src", "src/app.py"]  # no main.py, package, README.md or .gitignore
    assert Project.load().config.name == "my_app"
    assert "cd " not in result.output  # the project is the working directory
    assert "next: belay add" in result.output
    # From the folder above, the hint says how to get there, as typed.
    (folder / "pyproject.toml").write_text('[project]\nname = "Other.Name-2"\n')
    monkeypatch.chdir(tmp_path)
    result = belay("init", "Some Folder")
    assert result.exit_code == 0, result.output
    assert "next: cd 'Some Folder' && belay add" in result.output
    assert str(tmp_path) not in result.output.split("next:")[1]
    assert Project.load(folder).config.name == "other_name_2"
    assert not (folder / "main.py").exists()
    help_text = belay("init", "--help").output  # the help says what it does
    assert "only the missing [tool.belay] sections are added" in help_text and "no other file" in help_text


def test_new_hint_says_cd_only_to_another_folder(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = belay("new", "blink")
    assert result.exit_code == 0, result.output
    assert "next: cd blink && belay install -d emu: --main main.py --follow" in result.output
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    result = belay("new")
    assert result.exit_code == 0, result.output
    assert (here / "main.py").is_file() and (here / "here" / "__init__.py").is_file()
    assert "cd " not in result.output
    assert "next: belay install -d emu: --main main.py --follow" in result.output


def test_new_rejects_a_bad_package_name(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["new", "x", "--name", "not-valid"])
    assert result.exit_code != 0
    assert "not a valid package name" in result.output
    assert not (tmp_path / "x" / "pyproject.toml").exists()


def test_add_downloads_then_edits_pyproject_keeping_formatting(project: Path):
    before = (project / "pyproject.toml").read_text()
    result = belay("add", "mylib", "../vendor/mylib.py")
    assert result.exit_code == 0, result.output
    after = (project / "pyproject.toml").read_text()
    assert 'mylib = "../vendor/mylib.py"' in after
    for line in before.splitlines():
        assert line in after  # comments and layout kept
    assert (project / ".belay/dependencies/main/mylib/__init__.py").read_text().startswith("def answer")
    lock = read_lock(project / "belay.lock")
    assert lock is not None
    [package] = lock.package
    assert (package.group, package.name) == ("main", "mylib")
    assert list(package.files) == ["mylib/__init__.py"]
    assert belay("lock", "--check").exit_code == 0


def test_add_forms_develop_no_rename_and_groups(project: Path):
    assert belay("add", "../vendor/pkg", "--group", "dev").exit_code == 0
    assert belay("add", "tool", "../vendor/mylib.py", "--no-rename-to-init", "--group", "extra").exit_code == 0
    assert belay("add", "live", "../vendor/mylib.py", "--develop").exit_code == 0
    config = Project.load().config
    assert config.group["dev"].dependencies["pkg"][0].uri == "../vendor/pkg"
    assert config.group["extra"].dependencies["tool"][0].rename_to_init is False
    assert config.dependencies["live"][0].develop is True
    assert (project / ".belay/dependencies/dev/pkg/util.py").is_file()
    assert (project / ".belay/dependencies/extra/tool/mylib.py").is_file()
    assert not (project / ".belay/dependencies/main/live").exists()  # develop: used from disk at install
    lock = read_lock(project / "belay.lock")
    assert lock.get("main", "live").files == {}


def test_add_refuses_duplicates_bad_python_and_missing_sources_leaving_pyproject_alone(project: Path):
    assert belay("add", "mylib", "../vendor/mylib.py").exit_code == 0
    text = (project / "pyproject.toml").read_text()
    duplicate = CliRunner().invoke(cli, ["add", "mylib", "../vendor/pkg"])
    assert duplicate.exit_code != 0 and "already a dependency" in duplicate.output
    (project.parent / "vendor" / "broken.py").write_text("def oops(:\n")
    broken = CliRunner().invoke(cli, ["add", "../vendor/broken.py"])
    assert broken.exit_code == 2
    assert "broken.py is not valid Python (line 1" in broken.output
    missing = CliRunner().invoke(cli, ["add", "../vendor/nothing.py"])
    assert missing.exit_code == 2 and "nothing.py" in missing.output
    assert (project / "pyproject.toml").read_text() == text
    assert [p.name for p in read_lock(project / "belay.lock").package] == ["mylib"]


def test_lock_check_notices_every_disagreement(project: Path):
    assert belay("add", "mylib", "../vendor/mylib.py").exit_code == 0
    path = project / "pyproject.toml"
    path.write_text(
        path.read_text().replace('mylib = "../vendor/mylib.py"', 'mylib = "../vendor/pkg"\nother = "../vendor/pkg"')
    )
    result = CliRunner().invoke(cli, ["lock", "--check"])
    assert result.exit_code == 1
    assert "main.mylib: its sources in pyproject.toml differ" in result.output
    assert "main.other: in pyproject.toml but not in belay.lock" in result.output
    install = CliRunner().invoke(cli, ["install", "-d", "emu:unix"])
    assert install.exit_code == 2 and "does not match" in install.output and "belay lock" in install.output
    assert belay("lock").exit_code == 0
    assert belay("lock", "--check").exit_code == 0
    assert (project / ".belay/dependencies/main/other/util.py").is_file()
    assert (project / ".belay/dependencies/main/mylib/__init__.py").read_text() == "NAME = 'pkg'\n"


def test_a_changed_source_fails_install_until_update(project: Path):
    assert belay("add", "mylib", "../vendor/mylib.py").exit_code == 0
    (project.parent / "vendor" / "mylib.py").write_text("def answer():\n    return 43\n")
    shutil.rmtree(project / ".belay")
    result = CliRunner().invoke(cli, ["install", "-d", "emu:unix"])
    assert result.exit_code == 2
    assert "main.mylib: mylib/__init__.py has sha256" in result.output
    assert "belay update mylib" in result.output
    assert not (project / ".belay/dependencies/main/mylib/__init__.py").exists()  # nothing unverified written
    update = belay("update", "mylib")
    assert update.exit_code == 0, update.output
    assert "return 43" in (project / ".belay/dependencies/main/mylib/__init__.py").read_text()
    assert belay("update", "nosuch").exit_code == 2


def test_clean_removes_what_the_config_no_longer_names(project: Path):
    assert belay("add", "mylib", "../vendor/mylib.py").exit_code == 0
    assert belay("add", "pkg", "../vendor/pkg", "--group", "dev").exit_code == 0
    path = project / "pyproject.toml"
    text = path.read_text().replace('mylib = "../vendor/mylib.py"\n', "")
    path.write_text(text.split("[tool.belay.group.dev]")[0])
    result = belay("clean")
    assert result.exit_code == 0, result.output
    assert not (project / ".belay/dependencies/dev").exists()
    assert not (project / ".belay/dependencies/main/mylib").exists()
    assert read_lock(project / "belay.lock").package == []
    assert belay("lock", "--check").exit_code == 0


def test_install_to_a_board_then_again_then_after_removing_a_dependency(project: Path, tree_board: str):
    board = project.parent / "board"
    board.mkdir()
    tree_board = f"{tree_board}?fs={board}"  # the board's files outlive each connection
    assert belay("add", "mylib", "../vendor/mylib.py").exit_code == 0
    assert belay("add", "pkg", "../vendor/pkg", "--group", "dev").exit_code == 0
    (project / "main.py").write_text("import blink, mylib\nblink.hello()\nprint('answer', mylib.answer())\n")
    result = belay("install", "-d", tree_board, "--with", "dev", "--main", "main.py", "--follow")
    assert result.exit_code == 0, result.output
    assert "Hello from blink!" in result.output and "answer 42" in result.output
    assert "/lib: 3 uploaded" in result.output
    again = belay("install", "-d", tree_board, "--with", "dev")
    assert "/lib: 0 uploaded, 3 unchanged, 0 deleted" in again.output, again.output
    assert "/blink: 0 uploaded, 1 unchanged" in again.output
    with Device(tree_board) as device:
        device.write_text("/lib/mine.py", "x = 1\n")  # not the installer's: must survive
    without_dev = belay("install", "-d", tree_board, "--run", "main.py")
    assert "/lib: 0 uploaded, 1 unchanged, 2 deleted" in without_dev.output, without_dev.output
    assert "answer 42" in without_dev.output
    with Device(tree_board) as device:
        assert device.exists("/lib/mine.py")
        assert not device.exists("/lib/pkg/util.py")
        assert device.exists("/lib/mylib/__init__.py")


def test_install_options_are_checked(project: Path):
    unknown = CliRunner().invoke(cli, ["install", "-d", "emu:unix", "--with", "nope"])
    assert unknown.exit_code == 2 and "no dependency group 'nope'" in unknown.output and "dev" in unknown.output
    (project / "notes.txt").write_text("hi")
    not_python = CliRunner().invoke(cli, ["install", "-d", "emu:unix", "--main", "notes.txt"])
    assert not_python.exit_code == 2 and "not a .py file" in not_python.output
    os.chdir(project.parent.parent)
    (project.parent.parent / "pyproject.toml").unlink(missing_ok=True)


def test_install_develop_source_is_taken_fresh_from_disk(project: Path):
    assert belay("add", "live", "../vendor/mylib.py", "--develop").exit_code == 0
    (project.parent / "vendor" / "mylib.py").write_text("def answer():\n    return 'fresh'\n")
    (project / "check.py").write_text("import live\nprint('live', live.answer())\n")
    result = belay("install", "-d", "emu:unix", "--run", "check.py")
    assert result.exit_code == 0, result.output
    assert "live fresh" in result.output


def test_install_warns_when_a_local_dependency_changed_since_the_lock(project: Path):
    vendor = project.parent / "vendor"
    assert belay("add", "mylib", "../vendor/mylib.py").exit_code == 0
    assert belay("add", "pkg", "../vendor/pkg").exit_code == 0
    assert belay("add", "live", "../vendor/mylib.py", "--develop").exit_code == 0
    (project / "check.py").write_text("import mylib, pkg.util\nprint('answer', mylib.answer(), pkg.util.double(2))\n")
    unchanged = belay("install", "-d", "emu:unix", "--run", "check.py")
    assert unchanged.exit_code == 0, unchanged.output
    assert "warning" not in unchanged.stderr
    (vendor / "mylib.py").write_text("def answer():\n    return 43\n")  # also what the develop source reads
    result = belay("install", "-d", "emu:unix", "--run", "check.py")
    assert result.exit_code == 0, result.output
    assert "answer 42 4" in result.stdout  # still installed: the locked copy
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [
        "warning: main.mylib: ../vendor/mylib.py changed since belay.lock was written; the locked copy is used "
        "(run `belay update mylib` to take the change)"
    ]
    (vendor / "pkg" / "util.py").write_text("def double(x):\n    return 3 * x\n")  # a folder source
    result = belay("install", "-d", "emu:unix", "--run", "check.py")
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2 and "main.pkg: ../vendor/pkg changed" in warnings[1], result.stderr
    assert "belay update pkg" in warnings[1]
    (vendor / "pkg" / "util.py").write_text("def double(x:\n")  # no longer Python: still named, still installed
    broken = belay("install", "-d", "emu:unix", "--run", "check.py")
    assert broken.exit_code == 0, broken.output
    assert "answer 42 4" in broken.stdout
    assert "warning: main.pkg: ../vendor/pkg: util.py is not valid Python" in broken.stderr
    assert "belay update pkg" in broken.stderr
    (vendor / "pkg" / "util.py").write_text("def double(x):\n    return 3 * x\n")
    assert belay("update", "mylib", "pkg").exit_code == 0
    taken = belay("install", "-d", "emu:unix", "--run", "check.py")
    assert taken.exit_code == 0, taken.output
    assert "answer 43 6" in taken.stdout
    assert "warning" not in taken.stderr


def test_run_local_sets_micropythonpath_and_returns_the_exit_code(project: Path):
    if shutil.which("micropython") is None:
        pytest.fail("the MicroPython unix port (micropython on PATH) is needed: it comes with belay-emulator")
    assert belay("add", "mylib", "../vendor/mylib.py").exit_code == 0
    (project / "check.py").write_text("import sys, mylib, blink\nprint('local', mylib.answer())\nsys.exit(3)\n")
    result = CliRunner().invoke(cli, ["run", "--local", "micropython", "check.py"])
    assert result.exit_code == 3
    missing = CliRunner().invoke(cli, ["run", "--local", "no-such-micropython"])
    assert missing.exit_code == 2 and "no such command" in missing.output


def test_run_local_output_reaches_the_terminal(project: Path, tmp_path: Path):
    import subprocess

    assert belay("add", "mylib", "../vendor/mylib.py").exit_code == 0
    (project / "check.py").write_text("import mylib\nprint('local', mylib.answer())\n")
    env = {**os.environ}
    out = subprocess.run(
        [sys.executable, "-m", "belay_core.cli", "run", "--local", "micropython", "check.py"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "local 42"


def test_run_on_a_board_needs_a_device(project: Path):
    result = CliRunner().invoke(cli, ["run", "main.py"], env={"BELAY_DEVICE": ""})
    assert result.exit_code == 2 and "--device" in result.output


def test_cache_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from belay_packages.cache import Cache

    monkeypatch.setenv("BELAY_CACHE_DIR", str(tmp_path / "c"))
    assert "the cache is empty" in belay("cache", "list").output
    Cache().put("https://example.invalid/a.py", b"x" * 2048)
    listing = belay("cache", "list")
    assert "https://example.invalid/a.py" in listing.output and "2.0 KiB" in listing.output
    info = belay("cache", "info")
    assert str(tmp_path / "c") in info.output and "items:    1" in info.output
    refused = CliRunner().invoke(cli, ["cache", "clear"], input="n\n")
    assert refused.exit_code == 1 and len(Cache().entries()) == 1
    assert "removed 1 item\n" in belay("cache", "clear", "--yes").output
    assert Cache().entries() == []


def test_config_errors_are_one_clear_line(project: Path):
    path = project / "pyproject.toml"
    path.write_text(path.read_text().replace("[tool.belay.dependencies]", "[tool.belay.dependencies]\nbad-name = '*'"))
    result = CliRunner().invoke(cli, ["lock"])
    assert result.exit_code == 2
    assert "pyproject.toml: [tool.belay.dependencies]" in result.output and "bad-name" in result.output


def test_corrupt_lock_is_reported(project: Path):
    (project / "belay.lock").write_text("version = 1\n[[package]]\nname = 3\n")
    result = CliRunner().invoke(cli, ["install", "-d", "emu:unix"])
    assert result.exit_code == 2 and "not a valid lock file" in result.output


def test_install_on_a_flat_filesystem_says_why_it_cannot(project: Path):
    assert belay("add", "mylib", "../vendor/mylib.py").exit_code == 0
    result = CliRunner().invoke(cli, ["install", "-d", "emu:microbit"])
    assert result.exit_code == 2
    assert "filesystem is flat" in result.output and "/lib" in result.output


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize("path", [".", "./", "..", "../elsewhere", "sub/../..", "/tmp/deps", "C:/deps"])
def test_a_dependencies_path_that_is_or_holds_the_project_is_refused(project: Path, path: str):
    # belay clean once removed pyproject.toml, main.py and src/ with dependencies_path = "." and exited 0.
    (project / "main.py").write_text("print('mine')\n")
    config = project / "pyproject.toml"
    config.write_text(config.read_text().replace("[tool.belay]\n", f"[tool.belay]\ndependencies_path = {path!r}\n"))
    before = _files(project.parent)
    for command in (["clean"], ["add", "mylib", "../vendor/mylib.py"], ["lock"]):
        result = belay(*command)
        assert result.exit_code == 2, (command, result.output)
        assert "dependencies_path" in result.output and "inside the project" in result.output
    assert _files(project.parent) == before


def test_clean_and_update_delete_only_files_belay_wrote(project: Path):
    # With dependencies_path = "lib", the user's own files there (even in a group's folder) survive.
    config = project / "pyproject.toml"
    config.write_text(config.read_text().replace("[tool.belay]\n", "[tool.belay]\ndependencies_path = 'lib'\n"))
    (project / "lib" / "main" / "mylib").mkdir(parents=True)
    (project / "lib" / "mine.py").write_text("MINE = 1\n")
    (project / "lib" / "main" / "notes.txt").write_text("my notes\n")
    (project / "lib" / "main" / "mylib" / "extra.py").write_text("EXTRA = 1\n")
    (project / "lib" / "old").mkdir()
    (project / "lib" / "old" / "keep.py").write_text("KEEP = 1\n")
    assert belay("add", "mylib", "../vendor/mylib.py").exit_code == 0
    assert belay("add", "pkg", "../vendor/pkg", "--group", "dev").exit_code == 0
    assert (project / "lib" / "main" / "mylib" / "__init__.py").is_file()
    assert belay("update").exit_code == 0
    path = project / "pyproject.toml"
    text = path.read_text().replace('mylib = "../vendor/mylib.py"\n', "")
    path.write_text(text.split("[tool.belay.group.dev]")[0])
    result = belay("clean")
    assert result.exit_code == 0, result.output
    assert _files(project / "lib") == [
        "main/mylib/extra.py",
        "main/notes.txt",
        "mine.py",
        "old/keep.py",
    ]
    assert not (project / "lib" / "dev").exists()
    assert read_lock(project / "belay.lock").package == []


def test_cache_list_and_info_as_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import json

    from belay_packages.cache import Cache

    monkeypatch.setenv("BELAY_CACHE_DIR", str(tmp_path / "c"))
    assert json.loads(belay("cache", "list", "--json").stdout) == []
    Cache().put("https://example.invalid/a.py", b"x" * 2048)
    (row,) = json.loads(belay("cache", "list", "--json").stdout)
    assert row["source"] == "https://example.invalid/a.py" and row["size"] == 2048 and row["stored"] > 0
    info = json.loads(belay("cache", "info", "--json").stdout)
    assert info == {"location": str(tmp_path / "c"), "items": 1, "size": 2048}


def test_lock_check_as_json(project: Path):
    import json

    assert belay("add", "mylib", "../vendor/mylib.py").exit_code == 0
    agreed = CliRunner().invoke(cli, ["lock", "--check", "--json"])
    assert agreed.exit_code == 0
    assert json.loads(agreed.stdout) == {"matches": True, "problems": []}
    path = project / "pyproject.toml"
    path.write_text(path.read_text().replace('mylib = "../vendor/mylib.py"', 'mylib = "../vendor/pkg"'))
    differ = CliRunner().invoke(cli, ["lock", "--check", "--json"])
    assert differ.exit_code == 1
    found = json.loads(differ.stdout)
    assert found["matches"] is False and any("main.mylib" in p for p in found["problems"])
