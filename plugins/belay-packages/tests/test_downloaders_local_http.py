"""The local and http downloaders, and how a source string picks its downloader."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from belay_core.records import DownloaderRecord
from belay_packages.downloaders import DownloadContext, DownloadError, Fetched, NotFoundError
from belay_packages.downloaders.http import HttpDownloader, url_file_name
from belay_packages.downloaders.local import LocalDownloader, local_path
from belay_packages.hooks import belay_register_downloaders
from belay_packages.testing import HttpServer


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BELAY_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("BELAY_HTTP_BACKOFF", "0.01")


@pytest.fixture
def server() -> Iterator[HttpServer]:
    with HttpServer() as running:
        yield running


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    return folder


@pytest.fixture
def context(project: Path, server: HttpServer) -> Iterator[DownloadContext]:
    with DownloadContext(project=project, package_indices=[server.url("/pi")], records=None) as ctx:
        yield ctx


def _tree(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


# --------------------------------------------------------------------------------------------------
# Local
# --------------------------------------------------------------------------------------------------


def test_local_file_relative_to_the_project(context, project, tmp_path):
    (project / "lib").mkdir()
    (project / "lib" / "util.py").write_text("x = 1\n")
    fetched = context.download("./lib/util.py", tmp_path / "out")
    assert fetched == Fetched(files=["util.py"], resolved=None, lib_root=False, single_file=True)
    assert _tree(tmp_path / "out") == {"util.py": b"x = 1\n"}
    assert isinstance(context.downloader_for("./lib/util.py"), LocalDownloader)


def test_local_absolute_path(context, tmp_path):
    source = tmp_path / "elsewhere.py"
    source.write_bytes(b"y = 2")
    fetched = context.download(str(source), tmp_path / "out")
    assert fetched.files == ["elsewhere.py"] and fetched.single_file
    assert (tmp_path / "out" / "elsewhere.py").read_bytes() == b"y = 2"


def test_local_folder_recursively_without_caches_and_dot_folders(context, project, tmp_path):
    package = project / "mypkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "deep.py").write_text("z = 3")
    (package / "data.txt").write_text("data")
    for skipped in ("__pycache__", ".git", ".venv", "sub/__pycache__"):
        (package / skipped).mkdir(parents=True)
        (package / skipped / "junk.pyc").write_bytes(b"\0")
    fetched = context.download("./mypkg", tmp_path / "out")
    assert fetched.files == ["__init__.py", "data.txt", "sub/deep.py"]
    assert not fetched.single_file and fetched.resolved is None and not fetched.lib_root
    assert _tree(tmp_path / "out") == {"__init__.py": b"", "data.txt": b"data", "sub/deep.py": b"z = 3"}


def test_local_file_prefixes(context, project, tmp_path):
    (project / "a b.py").write_text("a = 1")
    assert context.download("file:a b.py", tmp_path / "o1").files == ["a b.py"]
    url = "file://" + (project / "a%20b.py").as_posix()
    assert context.download(url, tmp_path / "o2").files == ["a b.py"]
    assert (tmp_path / "o2" / "a b.py").read_text() == "a = 1"


def test_local_path_forms(project):
    assert local_path("file:///abs/x.py", project) == Path("/abs/x.py")
    assert local_path("file://localhost/abs/x.py", project) == Path("/abs/x.py")
    assert local_path("file:lib/x.py", project) == project / "lib" / "x.py"
    assert local_path("lib/x.py", project) == project / "lib" / "x.py"
    assert local_path("~/x.py", project) == Path.home() / "x.py"
    drive = Path("C:/x.py")  # absolute on Windows only
    assert local_path("file:///C:/x.py", project) == (drive if drive.is_absolute() else project / drive)


def test_a_bare_name_is_a_package_even_with_a_local_folder_of_that_name(context, project, tmp_path):
    (project / "mypkg").mkdir()
    with pytest.raises(DownloadError, match=r"mypkg: not in the package index .*write './mypkg'"):
        context.download("mypkg", tmp_path / "out")


def test_local_missing_names_the_path_and_the_project(context, project, tmp_path):
    with pytest.raises(DownloadError) as info:
        context.download("lib/nothing.py", tmp_path / "out")
    message = str(info.value)
    assert "lib/nothing.py" in message and str(project) in message and "no such file or folder" in message


# --------------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------------


def test_http_file_is_named_by_the_url(context, server, tmp_path):
    server.files["/raw/sensor.py"] = b"def read(): return 1\n"
    fetched = context.download(server.url("/raw/sensor.py?token=abc"), tmp_path / "out")
    assert fetched == Fetched(files=["sensor.py"], resolved=None, lib_root=False, single_file=True)
    assert _tree(tmp_path / "out") == {"sensor.py": b"def read(): return 1\n"}
    assert isinstance(context.downloader_for(server.url("/raw/sensor.py")), HttpDownloader)


def test_http_file_is_not_cached(context, server, tmp_path):
    server.files["/m.py"] = b"one"
    context.download(server.url("/m.py"), tmp_path / "a")
    server.files["/m.py"] = b"two"
    context.download(server.url("/m.py"), tmp_path / "b")
    assert (tmp_path / "b" / "m.py").read_bytes() == b"two"
    assert server.count("/m.py") == 2


def test_http_404_is_a_clear_error(context, server, tmp_path):
    with pytest.raises(NotFoundError, match=r"GET http://127\.0\.0\.1:\d+/nope\.py: 404 Not Found"):
        context.download(server.url("/nope.py"), tmp_path / "out")


def test_http_503_then_ok(context, server, tmp_path):
    server.script("/flaky.py", [503, b"ok = True"])
    assert context.download(server.url("/flaky.py"), tmp_path / "out").files == ["flaky.py"]
    assert (tmp_path / "out" / "flaky.py").read_bytes() == b"ok = True"


@pytest.mark.parametrize("path", ["/dir/", "/", ""])
def test_http_url_without_a_file_name(context, server, tmp_path, path):
    with pytest.raises(DownloadError, match="the URL names no file"):
        context.download(server.base_url + path, tmp_path / "out")
    assert server.requests == []


def test_url_file_name():
    assert url_file_name("https://h/a/b%20c.py?x=1#f") == "b c.py"
    assert url_file_name("https://h/a/") == ""
    assert url_file_name("https://h") == ""


def test_http_json_url_is_installed_as_a_manifest(context, server, tmp_path):
    server.files["/repo/pkg/package.json"] = json.dumps(
        {"urls": [["pkg/__init__.py", "src/init.py"]], "version": "1.0"}
    ).encode()
    server.files["/repo/pkg/src/init.py"] = b"VERSION = 1"
    fetched = context.download(server.url("/repo/pkg/package.json"), tmp_path / "out")
    assert fetched == Fetched(files=["pkg/__init__.py"], resolved=None, lib_root=True, single_file=False)
    assert _tree(tmp_path / "out") == {"pkg/__init__.py": b"VERSION = 1"}


def test_fetch_file_of_a_json_url_inside_a_manifest_is_the_raw_file(context, server, tmp_path):
    # A data file that happens to be JSON, named by an absolute URL: copied, not installed as a manifest.
    server.files["/m/package.json"] = json.dumps({"urls": [["cfg/settings.json", server.url("/data/s.json")]]}).encode()
    server.files["/data/s.json"] = b'{"urls": "not a manifest"}'
    fetched = context.download(server.url("/m/package.json"), tmp_path / "out")
    assert _tree(tmp_path / "out") == {"cfg/settings.json": b'{"urls": "not a manifest"}'}
    assert fetched.files == ["cfg/settings.json"]


# --------------------------------------------------------------------------------------------------
# Choosing the downloader
# --------------------------------------------------------------------------------------------------


def _core_context(tmp_path: Path) -> DownloadContext:
    return DownloadContext(project=tmp_path, package_indices=[], records=belay_register_downloaders())


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("aiohttp", "index"),
        ("aiohttp@0.0.5", "index"),
        ("mip:aiohttp", "index"),
        ("MIP:aiohttp@1.0", "index"),
        ("./x.py", "local"),
        ("lib/x.py", "local"),
        ("x.py", "local"),
        ("/abs/x.py", "local"),
        ("C:\\x.py", "local"),
        ("c:/code/x.py", "local"),
        ("file:x.py", "local"),
        ("file:///abs/x.py", "local"),
        ("https://example.com/x.py", "http"),
        ("http://example.com/x.py", "http"),
        ("HTTPS://example.com/package.json", "http"),
    ],
)
def test_record_for_selects_by_form(tmp_path, source, expected):
    assert _core_context(tmp_path).record_for(source).name == expected


def test_unknown_scheme_lists_the_handled_schemes(tmp_path):
    with pytest.raises(DownloadError) as info:
        _core_context(tmp_path).record_for("ftp://example.com/x.py")
    message = str(info.value)
    assert "'ftp://example.com/x.py'" in message
    for scheme in ("file:", "http://", "https://", "mip:"):
        assert scheme in message


def test_github_without_its_plugin_gives_the_install_hint(tmp_path):
    with pytest.raises(DownloadError, match=r"pip install belay-github"):
        _core_context(tmp_path).record_for("github:user/repo/x.py@v1")


def test_a_registered_downloader_wins_for_its_scheme(tmp_path, server):
    class EchoDownloader(LocalDownloader):
        def download(self, uri, dst, pin=None):
            (dst / "echo.py").write_text(repr(uri))
            return Fetched(files=["echo.py"], resolved="v9", single_file=True)

    records = [*belay_register_downloaders(), DownloaderRecord("echo", EchoDownloader, schemes=("echo:",))]
    with DownloadContext(project=tmp_path, records=records) as context:
        fetched = context.download("echo:thing", tmp_path / "out")
        assert context.fetch_file("echo:other") == b"'echo:other'"
    assert fetched.resolved == "v9"
    assert (tmp_path / "out" / "echo.py").read_text() == "'echo:thing'"
