"""The package-index downloader and ``package.json`` manifests, against a fake index on a real HTTP server."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Optional

import pytest

from belay_core.records import DownloaderRecord
from belay_packages.downloaders import DownloadContext, Downloader, DownloadError, Fetched, IntegrityError
from belay_packages.downloaders.index import (
    IndexDownloader,
    format_pin,
    install_manifest,
    join_url,
    parse_manifest,
    parse_pin,
    raw_file_requested,
    split_ref,
    with_ref,
)
from belay_packages.hooks import belay_register_downloaders
from belay_packages.testing import HttpServer
from belay_packages.testing import publish_index_package as publish


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BELAY_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("BELAY_HTTP_BACKOFF", "0.01")
    monkeypatch.setenv("BELAY_HTTP_RETRIES", "1")


@pytest.fixture
def server() -> Iterator[HttpServer]:
    with HttpServer() as running:
        yield running


@pytest.fixture
def context(tmp_path: Path, server: HttpServer) -> Iterator[DownloadContext]:
    with DownloadContext(project=tmp_path, package_indices=[server.url("/pi")], records=None) as ctx:
        yield ctx


def _hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:8]


def _tree(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def _file_requests(server: HttpServer) -> int:
    return sum(1 for request in server.requests if "/file/" in request.path)


# --------------------------------------------------------------------------------------------------
# Index packages
# --------------------------------------------------------------------------------------------------


def test_latest_version(context, server, tmp_path):
    publish(server, "aiohttp", "0.0.4", {"aiohttp/__init__.py": b"old"})
    publish(server, "aiohttp", "0.0.5", {"aiohttp/__init__.py": b"new", "aiohttp/ws.py": b"ws"})
    fetched = context.download("aiohttp", tmp_path / "out")
    assert fetched == Fetched(
        files=["aiohttp/__init__.py", "aiohttp/ws.py"], resolved="aiohttp==0.0.5", lib_root=True, single_file=False
    )
    assert _tree(tmp_path / "out") == {"aiohttp/__init__.py": b"new", "aiohttp/ws.py": b"ws"}
    assert isinstance(context.downloader_for("aiohttp"), IndexDownloader)


def test_exact_version(context, server, tmp_path):
    publish(server, "aiohttp", "0.0.4", {"aiohttp/__init__.py": b"old"})
    publish(server, "aiohttp", "0.0.5", {"aiohttp/__init__.py": b"new"})
    fetched = context.download("aiohttp@0.0.4", tmp_path / "out")
    assert fetched.resolved == "aiohttp==0.0.4"
    assert _tree(tmp_path / "out") == {"aiohttp/__init__.py": b"old"}
    assert server.count("/pi/package/py/aiohttp/0.0.4.json") == 1


def test_mip_prefix(context, server, tmp_path):
    publish(server, "aiohttp", "0.0.4", {"aiohttp/__init__.py": b"old"})
    publish(server, "aiohttp", "0.0.5", {"aiohttp/__init__.py": b"new"})
    assert context.download("mip:aiohttp", tmp_path / "a").resolved == "aiohttp==0.0.5"
    assert context.download("mip:aiohttp@0.0.4", tmp_path / "b").resolved == "aiohttp==0.0.4"
    assert (tmp_path / "b" / "aiohttp" / "__init__.py").read_bytes() == b"old"


def test_names_with_dots_work_through_mip(context, server, tmp_path):
    publish(server, "urllib.urequest", "0.7.0", {"urllib/urequest.py": b"u"})
    assert context.download("mip:urllib.urequest", tmp_path / "out").resolved == "urllib.urequest==0.7.0"


def test_mpy_version_goes_in_the_url(tmp_path, server):
    publish(server, "fast", "1.0", {"fast.mpy": b"M\x06"}, mpy="6")
    with DownloadContext(project=tmp_path, package_indices=[server.url("/pi")], mpy_version="6") as context:
        assert context.download("fast", tmp_path / "out").files == ["fast.mpy"]
    assert server.count("/pi/package/6/fast/latest.json") == 1


def test_unknown_package_suggests_similar_names(context, server, tmp_path):
    publish(server, "aiohttp", "0.0.5", {"aiohttp/__init__.py": b""})
    with pytest.raises(DownloadError) as info:
        context.download("aiohtp", tmp_path / "out")
    url = server.url("/pi/package/py/aiohtp/latest.json")
    assert str(info.value) == f"aiohtp: not in the package index (tried {url}); similar names: aiohttp"


def test_unknown_version_lists_the_available_versions(context, server, tmp_path):
    publish(server, "aiohttp", "0.0.4", {"aiohttp/__init__.py": b"old"})
    publish(server, "aiohttp", "0.0.5", {"aiohttp/__init__.py": b"new"})
    with pytest.raises(DownloadError) as info:
        context.download("aiohttp@9.9", tmp_path / "out")
    url = server.url("/pi/package/py/aiohttp/9.9.json")
    assert str(info.value) == (f"aiohttp@9.9: not in the package index (tried {url}); available versions: 0.0.4, 0.0.5")


def test_not_found_without_index_json_is_still_clear(context, server, tmp_path):
    with pytest.raises(DownloadError, match=r"^nothing: not in the package index \(tried http://[^)]*\)$"):
        context.download("nothing", tmp_path / "out")


def test_second_index_is_used_when_the_first_has_not_got_it(tmp_path, server):
    publish(server, "other", "1.0", {"other.py": b"o"}, prefix="/first")
    publish(server, "pkg", "2.0", {"pkg.py": b"from second"}, prefix="/second")
    indices = [server.url("/first"), server.url("/second/")]
    with DownloadContext(project=tmp_path, package_indices=indices) as context:
        fetched = context.download("pkg", tmp_path / "out")
        with pytest.raises(DownloadError) as info:
            context.download("missing@1", tmp_path / "none")
    assert fetched.resolved == "pkg==2.0"
    assert _tree(tmp_path / "out") == {"pkg.py": b"from second"}
    assert server.count("/first/package/py/pkg/latest.json") == 1
    assert server.url("/first/package/py/missing/1.json") in str(info.value)
    assert server.url("/second/package/py/missing/1.json") in str(info.value)


def test_a_failing_index_is_an_error_not_a_reason_to_try_the_next(tmp_path, server):
    server.files["/first/package/py/pkg/latest.json"] = 500
    publish(server, "pkg", "2.0", {"pkg.py": b"p"}, prefix="/second")
    indices = [server.url("/first"), server.url("/second")]
    context = DownloadContext(project=tmp_path, package_indices=indices)
    with context, pytest.raises(DownloadError, match="500"):
        context.download("pkg", tmp_path / "out")
    assert server.count("/second/package/py/pkg/latest.json") == 0


def test_recursive_dependencies_each_installed_once(context, server, tmp_path):
    publish(server, "base", "1.0", {"base.py": b"base"})
    publish(server, "left", "1.0", {"left.py": b"left"}, deps=[("base", "1.0")])
    publish(server, "right", "2.0", {"right.py": b"right"}, deps=[("base", "latest"), ("left", "")])
    publish(server, "top", "3.0", {"top/__init__.py": b"top"}, deps=[("left", "1.0"), ("right", "")])
    fetched = context.download("top", tmp_path / "out")
    assert fetched.resolved == "top==3.0 left==1.0 base==1.0 right==2.0"
    assert fetched.files == ["top/__init__.py", "left.py", "base.py", "right.py"]
    assert server.count("/pi/package/py/base/1.0.json") == 1
    assert server.count("/pi/package/py/base/latest.json") == 0


def test_dependency_cycle_is_an_error(context, server, tmp_path):
    publish(server, "a", "1.0", {"a.py": b"a"}, deps=[("b", "")])
    publish(server, "b", "1.0", {"b.py": b"b"}, deps=[("c", "")])
    publish(server, "c", "1.0", {"c.py": b"c"}, deps=[("b", "")])
    with pytest.raises(DownloadError, match=r"^dependency cycle: b -> c -> b$"):
        context.download("a", tmp_path / "out")
    publish(server, "self", "1.0", {"self.py": b""}, deps=[("self", "")])
    with pytest.raises(DownloadError, match=r"^dependency cycle: self -> self$"):
        context.download("self", tmp_path / "out2")


def test_two_versions_of_one_package_is_an_error_naming_both(context, server, tmp_path):
    publish(server, "b", "1.0", {"b.py": b"1"}, latest=False)
    publish(server, "b", "2.0", {"b.py": b"2"})
    publish(server, "x", "1.0", {"x.py": b"x"}, deps=[("b", "1.0")])
    publish(server, "y", "1.0", {"y.py": b"y"}, deps=[("b", "2.0")])
    publish(server, "top", "1.0", {"top.py": b"t"}, deps=[("x", ""), ("y", "")])
    with pytest.raises(DownloadError) as info:
        context.download("top", tmp_path / "out")
    assert str(info.value) == "version conflict: b is needed at 1.0 (by x==1.0) and at 2.0 (by y==1.0)"


def test_two_packages_writing_one_path_differently_is_an_error(context, server, tmp_path):
    publish(server, "p", "1.0", {"shared/util.py": b"p's"})
    publish(server, "q", "1.0", {"shared/util.py": b"q's"})
    publish(server, "same", "1.0", {"shared/util.py": b"p's"})
    publish(server, "top", "1.0", {"top.py": b""}, deps=[("p", ""), ("same", "")])
    assert context.download("top", tmp_path / "ok").files == ["top.py", "shared/util.py"]
    publish(server, "top", "2.0", {"top.py": b""}, deps=[("p", ""), ("q", "")])
    with pytest.raises(DownloadError, match=r"shared/util\.py: p==1\.0 and q==1\.0 both install it"):
        context.download("top", tmp_path / "bad")


def test_hash_mismatch_is_an_integrity_error_and_is_not_cached(context, server, tmp_path):
    publish(server, "pkg", "1.0", {"pkg.py": b"good"})
    digest = _hash(b"good")
    path = f"/pi/file/{digest[:2]}/{digest}"
    server.files[path] = b"tampered"
    with pytest.raises(IntegrityError) as info:
        context.download("pkg", tmp_path / "out")
    message = str(info.value)
    assert "pkg.py" in message and server.url(path) in message
    assert f"expected {digest}" in message and f"got {_hash(b'tampered')}" in message
    server.files[path] = b"good"
    context.download("pkg", tmp_path / "again")
    assert _tree(tmp_path / "again") == {"pkg.py": b"good"}


def test_index_files_come_from_the_cache_the_second_time(tmp_path, server):
    publish(server, "pkg", "1.0", {"pkg/__init__.py": b"i", "pkg/core.py": b"c"})
    for attempt in ("one", "two"):
        with DownloadContext(project=tmp_path, package_indices=[server.url("/pi")]) as context:
            assert context.download("pkg", tmp_path / attempt).resolved == "pkg==1.0"
            context.download("pkg@1.0", tmp_path / f"{attempt}-exact")
    assert _tree(tmp_path / "two") == {"pkg/__init__.py": b"i", "pkg/core.py": b"c"}
    assert _file_requests(server) == 2  # each file once, for all four downloads
    assert server.count("/pi/package/py/pkg/latest.json") == 2  # "latest" moves: asked every time
    assert server.count("/pi/package/py/pkg/1.0.json") == 1  # an exact version does not


def test_a_damaged_cache_entry_is_fetched_again(context, server, tmp_path):
    publish(server, "pkg", "1.0", {"pkg.py": b"good"})
    digest = _hash(b"good")
    context.cache.put(server.url(f"/pi/file/{digest[:2]}/{digest}"), b"garbage")
    context.download("pkg", tmp_path / "out")
    assert (tmp_path / "out" / "pkg.py").read_bytes() == b"good"
    assert context.cache.get(server.url(f"/pi/file/{digest[:2]}/{digest}")) == b"good"


def test_pin_reproduces_the_locked_versions_after_latest_moved(context, server, tmp_path):
    publish(server, "dep", "1.0", {"dep.py": b"dep 1"})
    publish(server, "app", "1.0", {"app.py": b"app 1"}, deps=[("dep", "")])
    first = context.download("app", tmp_path / "first")
    assert first.resolved == "app==1.0 dep==1.0"
    publish(server, "dep", "2.0", {"dep.py": b"dep 2"})
    publish(server, "app", "2.0", {"app.py": b"app 2"}, deps=[("dep", "2.0")])
    pinned = context.download("app", tmp_path / "pinned", pin=first.resolved)
    assert pinned.resolved == first.resolved
    assert _tree(tmp_path / "pinned") == {"app.py": b"app 1", "dep.py": b"dep 1"}
    fresh = context.download("app", tmp_path / "fresh")
    assert fresh.resolved == "app==2.0 dep==2.0"
    assert _tree(tmp_path / "fresh") == {"app.py": b"app 2", "dep.py": b"dep 2"}


def test_invalid_pin_is_an_error(context, tmp_path):
    with pytest.raises(DownloadError, match=r"invalid pin 'app=1\.0'"):
        context.download("app", tmp_path / "out", pin="app=1.0")


def test_progress_is_reported_while_downloading(tmp_path, server):
    publish(server, "pkg", "1.0", {"pkg.py": b"x" * 2000})
    seen = []
    indices = [server.url("/pi")]
    with DownloadContext(project=tmp_path, package_indices=indices, progress=lambda *report: seen.append(report)) as c:
        c.download("pkg", tmp_path / "out")
    assert "latest.json" in {label for label, _, _ in seen}
    assert (_hash(b"x" * 2000), 2000, 2000) in seen


# --------------------------------------------------------------------------------------------------
# Manifests
# --------------------------------------------------------------------------------------------------


def test_package_json_over_http_with_relative_and_absolute_urls_and_deps(context, server, tmp_path):
    publish(server, "base64", "3.3.6", {"base64.py": b"b64"})
    publish(server, "hashed", "1.0", {"unused.py": b""})
    server.files["/repo/pkg/package.json"] = json.dumps(
        {
            "version": "0.1",
            "hashes": [["from_index.py", _hash(b"b64")]],
            "urls": [
                ["mylib/__init__.py", "src/init.py"],
                ["mylib/up.py", "../shared/up.py"],
                ["mylib/abs.py", server.url("/elsewhere/abs.py")],
            ],
            "deps": [
                ["base64", "3.3.6"],
                [server.url("/repo/other/"), ""],
                [server.url("/single/one.py"), ""],
            ],
        }
    ).encode()
    server.files["/repo/pkg/src/init.py"] = b"init"
    server.files["/repo/shared/up.py"] = b"up"
    server.files["/elsewhere/abs.py"] = b"abs"
    server.files["/repo/other/package.json"] = json.dumps({"urls": [["other.py", "other.py"]]}).encode()
    server.files["/repo/other/other.py"] = b"other"
    server.files["/single/one.py"] = b"one"
    fetched = install_manifest(context, server.url("/repo/pkg/package.json"), tmp_path / "out")
    assert fetched == Fetched(
        files=[
            "from_index.py",
            "mylib/__init__.py",
            "mylib/up.py",
            "mylib/abs.py",
            "base64.py",
            "other.py",
            "one.py",
        ],
        resolved="base64==3.3.6",
        lib_root=True,
        single_file=False,
    )
    assert _tree(tmp_path / "out")["mylib/up.py"] == b"up"
    assert _tree(tmp_path / "out")["from_index.py"] == b"b64"


def test_package_json_without_index_deps_is_not_pinned(context, server, tmp_path):
    server.files["/p/package.json"] = json.dumps({"urls": [["x.py", "x.py"]]}).encode()
    server.files["/p/x.py"] = b"x"
    assert context.download(server.url("/p/package.json"), tmp_path / "out").resolved is None


def test_package_json_pin_applies_to_its_index_deps(context, server, tmp_path):
    publish(server, "dep", "1.0", {"dep.py": b"1"})
    publish(server, "dep", "2.0", {"dep.py": b"2"})
    server.files["/p/package.json"] = json.dumps({"deps": [["dep", "latest"]]}).encode()
    assert context.download(server.url("/p/package.json"), tmp_path / "a").resolved == "dep==2.0"
    assert context.download(server.url("/p/package.json"), tmp_path / "b", pin="dep==1.0").resolved == "dep==1.0"
    assert (tmp_path / "b" / "dep.py").read_bytes() == b"1"


@pytest.mark.parametrize("field", ["hashes", "urls"])
def test_manifest_paths_escaping_the_folder_are_rejected(context, server, tmp_path, field):
    publish(server, "evil", "1.0", {"x.py": b"x"})
    source = _hash(b"x") if field == "hashes" else "x.py"
    server.files["/e/x.py"] = b"x"
    server.files["/e/package.json"] = json.dumps({field: [["../escaped.py", source]]}).encode()
    with pytest.raises(DownloadError, match=r"unsafe install path '\.\./escaped\.py'"):
        context.download(server.url("/e/package.json"), tmp_path / "out" / "lib")
    assert not (tmp_path / "out" / "escaped.py").exists()
    server.files["/e/package.json"] = json.dumps({field: [["/etc/cron.py", source]]}).encode()
    with pytest.raises(DownloadError, match="unsafe install path"):
        context.download(server.url("/e/package.json"), tmp_path / "out2")


def test_a_manifest_may_not_name_local_files(context, server, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    server.files["/e/package.json"] = json.dumps({"urls": [["s.py", secret.as_uri()]]}).encode()
    with pytest.raises(DownloadError, match="a manifest may not name local files"):
        context.download(server.url("/e/package.json"), tmp_path / "out")
    server.files["/e/package.json"] = json.dumps({"deps": [[secret.as_uri(), ""]]}).encode()
    with pytest.raises(DownloadError, match="a manifest may not name local files"):
        context.download(server.url("/e/package.json"), tmp_path / "out2")


def test_invalid_manifests_name_the_url_and_the_problem(context, server, tmp_path):
    url = server.url("/bad/package.json")
    server.files["/bad/package.json"] = b"{not json"
    with pytest.raises(DownloadError, match=rf"^{url}: not a valid package manifest: invalid JSON \("):
        context.download(url, tmp_path / "a")
    server.files["/bad/package.json"] = b'{"urls": "x.py", "deps": [["a", "b", "c"]]}'
    with pytest.raises(DownloadError, match=rf"^{url}: not a valid package manifest: urls: .*; deps\.0: "):
        context.download(url, tmp_path / "b")
    server.files["/bad/package.json"] = b"[1, 2]"
    with pytest.raises(DownloadError, match="manifest: Input should be a valid dictionary"):
        context.download(url, tmp_path / "c")
    server.files["/pi/package/py/broken/latest.json"] = b"<html>"
    with pytest.raises(DownloadError, match=r"/pi/package/py/broken/latest\.json: not a valid package manifest"):
        context.download("broken", tmp_path / "d")


def test_manifest_with_a_bad_hash_or_dep_name(context, server, tmp_path):
    server.files["/b/package.json"] = json.dumps({"hashes": [["x.py", "../../etc"]]}).encode()
    with pytest.raises(DownloadError, match=r"invalid hash '\.\./\.\./etc'"):
        context.download(server.url("/b/package.json"), tmp_path / "a")
    server.files["/b/package.json"] = json.dumps({"deps": [["../up", ""]]}).encode()
    with pytest.raises(DownloadError, match="not a valid package name"):
        context.download(server.url("/b/package.json"), tmp_path / "b")


def test_manifest_deps_tolerate_a_missing_version(context, server, tmp_path):
    publish(server, "dep", "1.0", {"dep.py": b"d"})
    manifest = parse_manifest(b'{"deps": ["dep", ["dep"], ["dep", null], ["dep", "1.0"]]}', "u")
    assert manifest.deps == [("dep", ""), ("dep", ""), ("dep", ""), ("dep", "1.0")]


def test_a_url_manifest_reached_twice_is_installed_once(context, server, tmp_path):
    shared, middle = server.url("/shared/package.json"), server.url("/middle/package.json")
    server.files["/top/package.json"] = json.dumps({"deps": [[shared, ""], [middle, ""]]}).encode()
    server.files["/middle/package.json"] = json.dumps({"deps": [[shared, ""]]}).encode()
    server.files["/shared/package.json"] = json.dumps({"urls": [["s.py", "s.py"]]}).encode()
    server.files["/shared/s.py"] = b"s"
    assert context.download(server.url("/top/package.json"), tmp_path / "out").files == ["s.py"]
    assert server.count("/shared/package.json") == 1


def test_url_manifest_cycle_is_an_error(context, server, tmp_path):
    a, b = server.url("/a/package.json"), server.url("/b/package.json")
    server.files["/a/package.json"] = json.dumps({"deps": [[b, ""]]}).encode()
    server.files["/b/package.json"] = json.dumps({"deps": [[a, ""]]}).encode()
    with pytest.raises(DownloadError) as info:
        context.download(a, tmp_path / "out")
    assert str(info.value) == f"dependency cycle: {a} -> {b} -> {a}"


# --------------------------------------------------------------------------------------------------
# Manifests behind another downloader (a GitHub-like shorthand served by the test server)
# --------------------------------------------------------------------------------------------------


def _fake_github(server: HttpServer, check_raw: bool = True) -> type[Downloader]:
    """``github:org/repo/path@ref`` served from ``/gh/org/repo/ref/path``; package.json installs a manifest."""

    class FakeGitHub(Downloader):
        seen: list[str] = []

        def download(self, uri: str, dst: Path, pin: Optional[str] = None) -> Fetched:
            FakeGitHub.seen.append(uri)
            path, ref = split_ref(uri[len("github:") :])
            org, repo, rest = path.split("/", 2)
            name = rest.rsplit("/", 1)[-1]
            if name.endswith(".json") and not (check_raw and raw_file_requested(uri)):
                fetched = install_manifest(self.context, uri, dst, pin)
                fetched.resolved = ref or "HEAD"
                return fetched
            (dst / name).write_bytes(self.context.get(server.url(f"/gh/{org}/{repo}/{ref or 'HEAD'}/{rest}")))
            return Fetched(files=[name], single_file=True)

    return FakeGitHub


def _with_github(tmp_path: Path, server: HttpServer, downloader: type[Downloader]) -> DownloadContext:
    records = [*belay_register_downloaders(), DownloaderRecord("fakegithub", downloader, schemes=("github:",))]
    return DownloadContext(project=tmp_path, package_indices=[server.url("/pi")], records=records)


def test_shorthand_manifest_joins_relative_urls_and_keeps_the_ref(tmp_path, server):
    publish(server, "dep", "1.0", {"dep.py": b"d"})
    server.files["/gh/org/repo/v1/dir/package.json"] = json.dumps(
        {
            "urls": [["pkg/mod.py", "mod.py"], ["pkg/top.py", "../top.py"], ["pkg/abs.py", "github:org/lib/abs.py@v9"]],
            "deps": [["github:org/other", "v2"], ["github:org/single/one.py", "v3"], ["dep", ""]],
        }
    ).encode()
    server.files["/gh/org/repo/v1/dir/mod.py"] = b"mod"
    server.files["/gh/org/repo/v1/top.py"] = b"top"
    server.files["/gh/org/lib/v9/abs.py"] = b"abs"
    server.files["/gh/org/other/v2/package.json"] = json.dumps({"urls": [["other.py", "other.py"]]}).encode()
    server.files["/gh/org/other/v2/other.py"] = b"other"
    server.files["/gh/org/single/v3/one.py"] = b"one"
    downloader = _fake_github(server)
    with _with_github(tmp_path, server, downloader) as context:
        fetched = context.download("github:org/repo/dir/package.json@v1", tmp_path / "out")
    assert fetched.resolved == "v1" and fetched.lib_root
    assert _tree(tmp_path / "out") == {
        "pkg/mod.py": b"mod",
        "pkg/top.py": b"top",
        "pkg/abs.py": b"abs",
        "other.py": b"other",
        "one.py": b"one",
        "dep.py": b"d",
    }
    assert "github:org/repo/dir/mod.py@v1" in downloader.seen
    assert "github:org/repo/top.py@v1" in downloader.seen
    assert "github:org/other/package.json@v2" in downloader.seen


def test_a_downloader_that_ignores_raw_file_requested_gets_a_clear_error(tmp_path, server):
    server.files["/gh/org/repo/v1/package.json"] = json.dumps({"urls": [["m.py", "m.py"]]}).encode()
    context = _with_github(tmp_path, server, _fake_github(server, check_raw=False))
    with context, pytest.raises(DownloadError, match="raw_file_requested"):
        context.download("github:org/repo/package.json@v1", tmp_path / "out")


def test_http_urls_claimed_by_a_plugin_go_through_it(tmp_path, server):
    class Forge(Downloader):
        def download(self, uri: str, dst: Path, pin: Optional[str] = None) -> Fetched:
            name = uri.rsplit("/", 1)[-1]
            (dst / name).write_bytes(self.context.get(uri.replace("/forge/blob/", "/forge/raw/")))
            return Fetched(files=[name], single_file=True)

    forge = server.url("/forge/")
    records = [*belay_register_downloaders(), DownloaderRecord("forge", Forge, schemes=(forge,))]
    server.files["/p/package.json"] = json.dumps({"urls": [["f.py", forge + "blob/f.py"]]}).encode()
    server.files["/forge/raw/f.py"] = b"raw"
    server.files["/forge/blob/f.py"] = b"<html>"
    with DownloadContext(project=tmp_path, package_indices=[], records=records) as context:
        context.download(server.url("/p/package.json"), tmp_path / "out")
    assert (tmp_path / "out" / "f.py").read_bytes() == b"raw"


def test_install_manifest_with_the_bytes_given(context, server, tmp_path):
    server.files["/given/x.py"] = b"x"
    manifest = json.dumps({"urls": [["x.py", "x.py"]]}).encode()
    fetched = install_manifest(context, server.url("/given/package.json"), tmp_path / "out", data=manifest)
    assert fetched.files == ["x.py"]
    assert server.count("/given/package.json") == 0


def test_mip_prefix_accepts_a_url_as_mip_does(tmp_path, server):
    server.files["/gh/org/tool/HEAD/package.json"] = json.dumps({"urls": [["tool.py", "tool.py"]]}).encode()
    server.files["/gh/org/tool/HEAD/tool.py"] = b"tool"
    with _with_github(tmp_path, server, _fake_github(server)) as context:
        fetched = context.download("mip:github:org/tool", tmp_path / "out")
    assert fetched.files == ["tool.py"] and fetched.resolved is None


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------


def test_join_url():
    assert join_url("github:org/repo/dir/package.json@ref", "mod.py") == "github:org/repo/dir/mod.py@ref"
    assert join_url("github:org/repo/dir/package.json", "sub/m.py") == "github:org/repo/dir/sub/m.py"
    assert join_url("github:org/repo/dir/package.json@v1", "../m.py") == "github:org/repo/m.py@v1"
    assert join_url("https://h/a/package.json?x=1", "m.py") == "https://h/a/m.py"
    assert join_url("https://h/a/b/package.json", "../m.py") == "https://h/a/m.py"


def test_split_and_add_refs():
    assert split_ref("github:o/r/p/package.json@v1") == ("github:o/r/p/package.json", "v1")
    assert split_ref("github:o/r@x/p.py") == ("github:o/r@x/p.py", "")
    assert split_ref("https://h/p@1/x.py@2") == ("https://h/p@1/x.py@2", "")
    assert with_ref("github:o/r/package.json", "v2") == "github:o/r/package.json@v2"
    assert with_ref("github:o/r/package.json@v1", "v2") == "github:o/r/package.json@v1"
    assert with_ref("github:o/r/package.json", "latest") == "github:o/r/package.json"
    assert with_ref("https://h/package.json", "v2") == "https://h/package.json"


def test_pins_round_trip():
    assert parse_pin("aiohttp==0.0.5  base64==3.3.6") == {"aiohttp": "0.0.5", "base64": "3.3.6"}
    assert format_pin({"aiohttp": "0.0.5", "base64": "3.3.6"}) == "aiohttp==0.0.5 base64==3.3.6"
    assert parse_pin(None) == {} and parse_pin("") == {}
    with pytest.raises(DownloadError):
        parse_pin("a==1 b")
