"""The package manager with a MicroPython package index on a real local HTTP server: add, lock, update, install."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from belay_core import Device
from belay_core.cli import cli
from belay_packages.lock import read_lock
from belay_packages.testing import HttpServer, publish_index_package


@pytest.fixture
def server() -> Iterator[HttpServer]:
    with HttpServer() as running:
        publish_index_package(running, "base64", "3.3.6", {"base64.py": b"def b64(x):\n    return 'b64'\n"})
        publish_index_package(
            running,
            "aiohttp",
            "0.0.5",
            {"aiohttp/__init__.py": b"VERSION = '0.0.5'\n", "aiohttp/ws.py": b"WS = 1\n"},
            deps=[("base64", "latest")],
        )
        yield running


@pytest.fixture
def project(tmp_path: Path, server: HttpServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BELAY_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("BELAY_HTTP_BACKOFF", "0.01")
    monkeypatch.chdir(tmp_path)
    assert belay("new", "app").exit_code == 0
    pyproject = tmp_path / "app" / "pyproject.toml"
    text = pyproject.read_text().replace(
        'name = "app"\n\n[tool.belay', f'name = "app"\npackage_indices = ["{server.url("/pi")}"]\n\n[tool.belay', 1
    )
    pyproject.write_text(text)
    monkeypatch.chdir(tmp_path / "app")
    return tmp_path / "app"


def belay(*args: str):
    return CliRunner().invoke(cli, list(args))


def _board(project: Path) -> str:
    folder = project.parent / "board"
    folder.mkdir(exist_ok=True)
    return f"emu:unix?fs={folder}"


def test_add_from_the_index_pins_the_whole_tree(project: Path):
    result = belay("add", "aiohttp")
    assert result.exit_code == 0, result.output
    assert 'aiohttp = "*"' in (project / "pyproject.toml").read_text()
    [package] = read_lock(project / "belay.lock").package
    assert package.source[0].resolved == "aiohttp==0.0.5 base64==3.3.6"
    assert sorted(package.files) == ["aiohttp/__init__.py", "aiohttp/ws.py", "base64.py"]
    folder = project / ".belay/dependencies/main"
    assert (folder / "base64.py").is_file() and (folder / "aiohttp/ws.py").is_file()


def test_add_an_exact_version_and_a_missing_one(project: Path, server: HttpServer):
    publish_index_package(server, "aiohttp", "0.0.6", {"aiohttp/__init__.py": b"VERSION = '0.0.6'\n"})
    assert belay("add", "aiohttp@0.0.5").exit_code == 0
    assert 'aiohttp = "0.0.5"' in (project / "pyproject.toml").read_text()
    text = (project / "pyproject.toml").read_text()
    missing = belay("add", "base64@9.9", "--group", "dev")
    assert missing.exit_code == 2
    assert "9.9" in missing.output and "3.3.6" in missing.output  # the versions the index has
    unknown = belay("add", "nosuchpackage")
    assert unknown.exit_code == 2 and "nosuchpackage" in unknown.output
    assert (project / "pyproject.toml").read_text() == text


def test_install_follows_the_lock_until_update(project: Path, server: HttpServer):
    assert belay("add", "aiohttp").exit_code == 0
    (project / "check.py").write_text("import aiohttp, base64\nprint('version', aiohttp.VERSION, base64.b64(1))\n")
    publish_index_package(
        server, "aiohttp", "0.0.6", {"aiohttp/__init__.py": b"VERSION = '0.0.6'\n"}, deps=[("base64", "latest")]
    )
    import shutil

    shutil.rmtree(project / ".belay")  # a fresh clone: only pyproject.toml and belay.lock
    first = belay("install", "-d", _board(project), "--run", "check.py")
    assert first.exit_code == 0, first.output
    assert "version 0.0.5 b64" in first.output  # the locked version, not the index's latest
    assert belay("lock", "--check").exit_code == 0

    update = belay("update")
    assert update.exit_code == 0, update.output
    assert "aiohttp==0.0.6" in update.output
    assert read_lock(project / "belay.lock").package[0].source[0].resolved == "aiohttp==0.0.6 base64==3.3.6"
    second = belay("install", "-d", _board(project), "--run", "check.py")
    assert second.exit_code == 0, second.output
    assert "version 0.0.6 b64" in second.output
    assert "1 deleted" in second.output  # aiohttp/ws.py left with 0.0.5
    with Device(_board(project)) as device:
        assert not device.exists("/lib/aiohttp/ws.py")


def test_reinstall_in_another_clone_comes_from_the_cache(project: Path, server: HttpServer):
    assert belay("add", "aiohttp").exit_code == 0
    import shutil

    before = sum(1 for request in server.requests if "/file/" in request.path)
    shutil.rmtree(project / ".belay")
    assert belay("install", "-d", _board(project)).exit_code == 0
    after = sum(1 for request in server.requests if "/file/" in request.path)
    assert after == before  # index files are immutable: served from the cache
    listing = belay("cache", "list")
    assert "/file/" in listing.output


def test_index_outage_is_retried_then_reported(project: Path, server: HttpServer, monkeypatch):
    monkeypatch.setenv("BELAY_HTTP_RETRIES", "2")
    server.script("/pi/package/py/aiohttp/latest.json", [503, 503, 503])
    result = belay("add", "aiohttp")
    assert result.exit_code == 2
    assert "503" in result.output and "tried 3 times" in result.output
    server.script("/pi/package/py/aiohttp/latest.json", [503])
    assert belay("add", "aiohttp").exit_code == 0  # one failure, then the retry succeeds
