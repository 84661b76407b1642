"""Fixtures: the fake GitHub and GitLab hosts of ``fake_hosts.py`` on a real local server, a context, a folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from belay_core.plugins import reset_plugins
from belay_core.testing import import_beside
from belay_packages.downloaders import DownloadContext
from belay_packages.testing import HttpServer


def _load_helpers() -> Any:
    return import_beside(__file__, "fake_hosts.py", "belay_github_fake_hosts")


fake_hosts = _load_helpers()


@pytest.fixture
def hosts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The fake hosts with ``owner/repo`` on GitHub and ``owner/repo`` and ``group/sub/repo`` on GitLab."""
    with HttpServer() as server:
        fake = fake_hosts.FakeHosts(server)
        monkeypatch.setenv("BELAY_GITHUB_URL", server.url("/gh"))
        monkeypatch.setenv("BELAY_GITHUB_API_URL", server.url("/ghapi"))
        monkeypatch.setenv("BELAY_GITHUB_RAW_URL", server.url("/ghraw"))
        monkeypatch.setenv("BELAY_GITHUB_ARCHIVE_URL", server.url("/codeload"))
        monkeypatch.setenv("BELAY_GITLAB_URL", server.url("/gl"))
        monkeypatch.setenv("BELAY_CACHE_DIR", str(tmp_path / "cache"))
        monkeypatch.setenv("BELAY_HTTP_BACKOFF", "0.01")
        monkeypatch.delenv("GITHUB_TOKEN", raising=False)
        monkeypatch.delenv("GITLAB_TOKEN", raising=False)
        fake.github("owner/repo", fake_hosts.COMMITS, fake_hosts.REFS)
        fake.gitlab("owner/repo", fake_hosts.COMMITS, fake_hosts.REFS)
        fake.gitlab("group/sub/repo", fake_hosts.COMMITS, fake_hosts.REFS)
        reset_plugins()  # the hook reads the configured web URLs when plugins load
        try:
            yield fake
        finally:
            reset_plugins()


@pytest.fixture
def context(hosts: Any, tmp_path: Path) -> Iterator[DownloadContext]:
    """A download context with the installed plugins' downloaders, talking to the fake hosts."""
    with DownloadContext(project=tmp_path) as context:
        yield context


@pytest.fixture
def dst(tmp_path: Path) -> Path:
    """An empty destination folder inside ``tmp_path/box`` (so writes beside it can be checked)."""
    folder = tmp_path / "box" / "dst"
    folder.mkdir(parents=True)
    return folder
