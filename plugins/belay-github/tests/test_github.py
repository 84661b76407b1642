"""The github and gitlab downloaders against GitHub- and GitLab-like hosts on a real local server."""

from __future__ import annotations

import doctest
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from belay_github import download, hooks
from belay_github.download import Settings, Source, parse_source, unpack_folder
from belay_packages.downloaders import DownloadContext, Downloader, DownloadError
from belay_packages.testing import Response
from belay_testing.code_hosts import (
    FILES_MAIN,
    FILES_V1,
    SHA_BRANCH,
    SHA_MAIN,
    SHA_V1,
    make_tar_gz,
    repo_archive,
)

ROOT = Path(__file__).resolve().parents[3]
LIB_V1 = {"driver.py": b"VERSION = 1\n", "sub/helper.py": b"def helper():\n    return 1\n"}
ROOT_MAIN = {path: data for path, data in FILES_MAIN.items() if not path.startswith(".") and "/." not in path}
ROOT_V1 = {path: data for path, data in FILES_V1.items() if not path.startswith(".") and "/." not in path}
SHA_BAD = "9999999999999999999999999999999999999999"


def _files(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def _api_requests(code_hosts, prefix: str) -> list:
    return [request for request in code_hosts.server.requests if request.path.startswith(prefix)]


# --------------------------------------------------------------------------------------------------
# GitHub shorthands
# --------------------------------------------------------------------------------------------------


def test_shorthand_file_resolves_the_tag_to_its_commit(context, code_hosts, dst):
    fetched = context.download("github:owner/repo/lib/driver.py@v1.0", dst)
    assert fetched.files == ["driver.py"]
    assert fetched.single_file and not fetched.lib_root
    assert fetched.resolved == SHA_V1
    assert _files(dst) == {"driver.py": b"VERSION = 1\n"}
    [api] = _api_requests(code_hosts, "/ghapi/")
    assert api.path == "/ghapi/repos/owner/repo/commits/v1.0"
    assert api.headers["accept"] == "application/vnd.github.sha"
    assert "authorization" not in api.headers
    assert code_hosts.server.count(f"/ghraw/owner/repo/{SHA_V1}/lib/driver.py") == 1


def test_no_ref_means_the_default_branch(context, code_hosts, dst):
    fetched = context.download("github:owner/repo/lib/driver.py", dst)
    assert fetched.resolved == SHA_MAIN
    assert _files(dst) == {"driver.py": b"VERSION = 2\n"}
    assert code_hosts.server.count("/ghapi/repos/owner/repo/commits/HEAD") == 1


def test_a_branch_with_a_slash(context, code_hosts, dst):
    fetched = context.download("github:owner/repo/lib/driver.py@feature/x", dst)
    assert fetched.resolved == SHA_BRANCH
    assert code_hosts.server.count("/ghapi/repos/owner/repo/commits/feature%2Fx") == 1


def test_a_folder_comes_from_the_archive_at_the_commit(context, code_hosts, dst):
    fetched = context.download("github:owner/repo/lib@v1.0", dst)
    assert fetched.files == ["driver.py", "sub/helper.py"]  # lib/.gitkeep skipped
    assert fetched.resolved == SHA_V1 and not fetched.single_file
    assert _files(dst) == LIB_V1
    assert code_hosts.server.count(f"/codeload/owner/repo/tar.gz/{SHA_V1}") == 1


def test_a_trailing_slash_and_a_nested_folder(context, code_hosts, dst):
    fetched = context.download("github:owner/repo/lib/sub/@v1.0", dst)
    assert fetched.files == ["helper.py"]


def test_the_repository_root_skips_dot_files(context, code_hosts, dst):
    fetched = context.download("github:owner/repo", dst)
    assert fetched.resolved == SHA_MAIN
    assert sorted(fetched.files) == sorted(ROOT_MAIN)
    assert _files(dst) == ROOT_MAIN
    assert not (dst / ".github").exists() and not (dst / ".gitignore").exists()


def test_a_file_without_extension_comes_from_the_archive(context, code_hosts, dst):
    fetched = context.download("github:owner/repo/LICENSE@v1.0", dst)
    assert fetched.files == ["LICENSE"] and fetched.single_file
    assert _files(dst) == {"LICENSE": b"MIT\n"}


def test_a_pin_skips_the_api(context, code_hosts, dst):
    fetched = context.download("github:owner/repo/lib/driver.py@main", dst, pin=SHA_V1)
    assert fetched.resolved == SHA_V1
    assert _files(dst) == {"driver.py": b"VERSION = 1\n"}
    folder = dst.parent / "folder"
    assert context.download("github:owner/repo/lib", folder, pin=SHA_V1).files == ["driver.py", "sub/helper.py"]
    assert _api_requests(code_hosts, "/ghapi/") == []


def test_a_full_commit_hash_needs_no_api(context, code_hosts, dst):
    fetched = context.download(f"github:owner/repo/lib/driver.py@{SHA_BRANCH}", dst)
    assert fetched.resolved == SHA_BRANCH
    assert _files(dst) == {"driver.py": b"VERSION = 3\n"}
    assert _api_requests(code_hosts, "/ghapi/") == []


def test_an_invalid_pin_is_refused(context, code_hosts, dst):
    with pytest.raises(DownloadError, match="not a commit hash"):
        context.download("github:owner/repo/lib/driver.py", dst, pin="../../etc")


# --------------------------------------------------------------------------------------------------
# Web URLs
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "files", "resolved"),
    [
        ("/gh/owner/repo/blob/v1.0/lib/driver.py", {"driver.py": b"VERSION = 1\n"}, SHA_V1),
        ("/gh/owner/repo/raw/v1.0/lib/driver.py", {"driver.py": b"VERSION = 1\n"}, SHA_V1),
        ("/gh/owner/repo/blob/v1.0/lib/driver.py?plain=1#L2", {"driver.py": b"VERSION = 1\n"}, SHA_V1),
        ("/gh/owner/repo/tree/v1.0/lib", LIB_V1, SHA_V1),
        ("/gh/owner/repo/tree/v1.0/lib/sub", {"helper.py": LIB_V1["sub/helper.py"]}, SHA_V1),
        ("/gh/owner/repo/tree/main", ROOT_MAIN, SHA_MAIN),
        ("/gh/owner/repo", ROOT_MAIN, SHA_MAIN),
        ("/gh/owner/repo.git", ROOT_MAIN, SHA_MAIN),
        ("/ghraw/owner/repo/v1.0/lib/driver.py", {"driver.py": b"VERSION = 1\n"}, SHA_V1),
        ("/ghraw/owner/repo/refs/heads/main/lib/driver.py", {"driver.py": b"VERSION = 2\n"}, SHA_MAIN),
    ],
)
def test_github_web_urls(context, code_hosts, dst, path, files, resolved):
    uri = code_hosts.url(path)
    assert context.record_for(uri).name == "github"
    fetched = context.download(uri, dst)
    assert fetched.resolved == resolved
    assert _files(dst) == files


def test_other_urls_of_the_host_are_plain_downloads(context, code_hosts, dst):
    code_hosts.server.files["/gh/owner/repo/releases/download/v1/firmware.mpy"] = b"MPY"
    fetched = context.download(code_hosts.url("/gh/owner/repo/releases/download/v1/firmware.mpy"), dst)
    assert fetched.files == ["firmware.mpy"] and fetched.resolved is None
    assert _files(dst) == {"firmware.mpy": b"MPY"}
    with pytest.raises(DownloadError, match="names no file"):
        context.download(code_hosts.url("/gh/owner/repo/issues"), dst)


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("https://github.com/o/r", Source("github", "o/r")),
        ("https://github.com/o/r/tree/v1/lib", Source("github", "o/r", "lib", "v1", "folder")),
        ("https://github.com/o/r/blob/main/a/b.py", Source("github", "o/r", "a/b.py", "main", "file")),
        ("https://github.com/o/r/tree/feature/x/lib", Source("github", "o/r", "x/lib", "feature", "folder")),
        ("https://raw.githubusercontent.com/o/r/v2/x.py", Source("github", "o/r", "x.py", "v2", "file")),
        ("https://raw.githubusercontent.com/o/r/refs/tags/v2/x.py", Source("github", "o/r", "x.py", "v2", "file")),
        ("https://gitlab.com/g/r", Source("gitlab", "g/r")),
        ("https://gitlab.com/g/s/t/r.git", Source("gitlab", "g/s/t/r")),
        ("https://gitlab.com/g/s/r/-/tree/v1?ref_type=tags", Source("gitlab", "g/s/r", "", "v1", "folder")),
        ("https://gitlab.com/g/s/r/-/blob/main/a/b.py", Source("gitlab", "g/s/r", "a/b.py", "main", "file")),
        ("https://gitlab.com/g/r/-/raw/main/x.py", Source("gitlab", "g/r", "x.py", "main", "file")),
        ("GitHub:o/r/lib/@main", Source("github", "o/r", "lib", "main", "folder")),
        ("gitlab:o/r/x.py@a@b", Source("gitlab", "o/r", "x.py@a", "b")),
    ],
)
def test_parse_the_hosts_default_forms(uri, expected):
    assert parse_source(uri, Settings()) == expected


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("github:onlyowner", "expected github:OWNER/REPO"),
        ("github:owner/repo@", "the ref after '@' is empty"),
        ("github:../repo/x.py", "expected github:OWNER/REPO"),
        ("github:owner/repo/../../etc/passwd", "unsafe path"),
        ("github:owner/re po", "expected github:OWNER/REPO"),
        ("github:owner/repo@v1..v2", "not a valid branch, tag or commit"),
        ("gitlab:owner", "expected gitlab:OWNER/REPO"),
        ("https://github.com/owner", "not a valid source"),
        ("https://raw.githubusercontent.com/owner/repo/main", "not a valid source"),
    ],
)
def test_malformed_sources(uri, message):
    with pytest.raises(DownloadError, match=re.escape(message)):
        parse_source(uri, Settings())


def test_the_longest_scheme_wins(context):
    assert context.record_for("https://github.com/o/r").name == "github"
    assert context.record_for("https://raw.githubusercontent.com/o/r/main/x.py").name == "github"
    assert context.record_for("https://gitlab.com/g/r").name == "gitlab"
    assert context.record_for("gitlab:o/r").name == "gitlab"
    assert context.record_for("https://example.com/x.py").name == "http"


def test_a_malformed_shorthand_through_the_context(context, dst):
    with pytest.raises(DownloadError, match=r"'github:onlyowner' is not a valid source: expected github:OWNER/REPO"):
        context.download("github:onlyowner", dst)


# --------------------------------------------------------------------------------------------------
# GitLab
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "files", "resolved"),
    [
        ("gitlab:owner/repo/lib/driver.py@v1.0", {"driver.py": b"VERSION = 1\n"}, SHA_V1),
        ("gitlab:owner/repo/lib/driver.py", {"driver.py": b"VERSION = 2\n"}, SHA_MAIN),
        ("gitlab:owner/repo/lib@v1.0", LIB_V1, SHA_V1),
        ("gitlab:owner/repo@feature/x", {**ROOT_V1, "lib/driver.py": b"VERSION = 3\n"}, SHA_BRANCH),
        ("gitlab:owner/repo", ROOT_MAIN, SHA_MAIN),
        ("/gl/owner/repo", ROOT_MAIN, SHA_MAIN),
        ("/gl/owner/repo/-/blob/v1.0/lib/driver.py", {"driver.py": b"VERSION = 1\n"}, SHA_V1),
        ("/gl/owner/repo/-/raw/v1.0/lib/driver.py?inline=false", {"driver.py": b"VERSION = 1\n"}, SHA_V1),
        ("/gl/owner/repo/-/tree/v1.0/lib?ref_type=tags", LIB_V1, SHA_V1),
        ("/gl/group/sub/repo", ROOT_MAIN, SHA_MAIN),
        ("/gl/group/sub/repo/-/tree/v1.0/lib/sub", {"helper.py": LIB_V1["sub/helper.py"]}, SHA_V1),
        ("/gl/group/sub/repo/-/blob/main/lib/driver.py", {"driver.py": b"VERSION = 2\n"}, SHA_MAIN),
    ],
)
def test_gitlab_sources(context, code_hosts, dst, uri, files, resolved):
    uri = code_hosts.url(uri) if uri.startswith("/") else uri
    assert context.record_for(uri).name == "gitlab"
    fetched = context.download(uri, dst)
    assert fetched.resolved == resolved
    assert _files(dst) == files


def test_gitlab_resolves_the_default_branch_then_the_commit(context, code_hosts, dst):
    context.download(code_hosts.url("/gl/group/sub/repo"), dst)
    paths = [request.path for request in _api_requests(code_hosts, "/gl/api/")]
    assert paths == [
        "/gl/api/v4/projects/group%2Fsub%2Frepo",
        "/gl/api/v4/projects/group%2Fsub%2Frepo/repository/commits/main",
        f"/gl/api/v4/projects/group%2Fsub%2Frepo/repository/archive.tar.gz?sha={SHA_MAIN}",
    ]


def test_gitlab_pin_skips_the_api(context, code_hosts, dst):
    fetched = context.download("gitlab:owner/repo/lib/driver.py@main", dst, pin=SHA_V1)
    assert _files(dst) == {"driver.py": b"VERSION = 1\n"} and fetched.resolved == SHA_V1
    assert [request.path for request in code_hosts.server.requests] == [f"/gl/owner/repo/-/raw/{SHA_V1}/lib/driver.py"]


# --------------------------------------------------------------------------------------------------
# package.json
# --------------------------------------------------------------------------------------------------


SHA_PKG = "4444444444444444444444444444444444444444"
BASE64 = b"def b64encode(data):\n    return data\n"


def _pkg_files(index_dep: bool) -> dict[str, bytes]:
    manifest = {
        "version": "1.0",
        "urls": [
            ["mypkg/__init__.py", "mypkg/__init__.py"],
            ["mypkg/driver.py", "github:owner/repo/lib/driver.py@v1.0"],
        ],
        "deps": [["github:owner/pkg/other", "v2"]] + ([["base64", ""]] if index_dep else []),
    }
    return {
        "pkg/package.json": json.dumps(manifest).encode(),
        "pkg/mypkg/__init__.py": b"from .driver import VERSION\n",
        "other/package.json": json.dumps({"urls": [["other.py", "other.py"]]}).encode(),
        "other/other.py": b"OTHER = 1\n",
    }


def _serve_index(code_hosts) -> str:
    digest = hashlib.sha256(BASE64).hexdigest()[:8]
    for version in ("latest", "3.3.6"):
        manifest = {"version": "3.3.6", "hashes": [["base64.py", digest]]}
        code_hosts.server.files[f"/pi/package/py/base64/{version}.json"] = json.dumps(manifest).encode()
    code_hosts.server.files[f"/pi/file/{digest[:2]}/{digest}"] = BASE64
    return code_hosts.url("/pi")


def test_a_package_json_installs_its_files_at_the_same_commit(context, code_hosts, dst):
    code_hosts.github("owner/pkg", {SHA_PKG: _pkg_files(index_dep=False)}, {"v2": SHA_PKG, "main": SHA_PKG})
    fetched = context.download("github:owner/pkg/pkg/package.json@v2", dst)
    assert fetched.lib_root and not fetched.single_file
    assert fetched.resolved == SHA_PKG
    assert sorted(fetched.files) == ["mypkg/__init__.py", "mypkg/driver.py", "other.py"]
    assert _files(dst) == {
        "mypkg/__init__.py": b"from .driver import VERSION\n",
        "mypkg/driver.py": b"VERSION = 1\n",
        "other.py": b"OTHER = 1\n",
    }
    assert code_hosts.server.count(f"/ghraw/owner/pkg/{SHA_PKG}/pkg/package.json") == 1  # fetched once
    assert code_hosts.server.count(f"/ghraw/owner/pkg/{SHA_PKG}/pkg/mypkg/__init__.py") == 1  # relative: same commit
    assert code_hosts.server.count(f"/ghraw/owner/pkg/{SHA_PKG}/other/package.json") == 1


def test_a_package_json_with_index_packages_pins_both(context, code_hosts, dst, tmp_path):
    code_hosts.github("owner/pkg", {SHA_PKG: _pkg_files(index_dep=True)}, {"v2": SHA_PKG, "main": SHA_PKG})
    context.package_indices = [_serve_index(code_hosts)]
    fetched = context.download("github:owner/pkg/pkg/package.json", dst)
    assert fetched.resolved == f"{SHA_PKG} base64==3.3.6"
    assert _files(dst)["base64.py"] == BASE64
    again = tmp_path / "again"
    assert context.download("github:owner/pkg/pkg/package.json", again, pin=fetched.resolved).resolved == (
        fetched.resolved
    )
    assert code_hosts.server.count("/pi/package/py/base64/3.3.6.json") == 1
    assert code_hosts.server.count("/ghapi/repos/owner/pkg/commits/HEAD") == 1  # the pin skipped it


def test_a_package_json_in_a_nested_gitlab_group(context, code_hosts, dst):
    code_hosts.gitlab("group/sub/pkg", {SHA_PKG: _pkg_files(index_dep=False)}, {"v2": SHA_PKG, "main": SHA_PKG})
    code_hosts.github("owner/pkg", {SHA_PKG: _pkg_files(index_dep=False)}, {"v2": SHA_PKG, "main": SHA_PKG})
    fetched = context.download(code_hosts.url("/gl/group/sub/pkg/-/blob/v2/pkg/package.json"), dst)
    assert fetched.resolved == SHA_PKG and fetched.lib_root
    assert _files(dst)["mypkg/__init__.py"] == b"from .driver import VERSION\n"
    assert code_hosts.server.count(f"/gl/group/sub/pkg/-/raw/{SHA_PKG}/pkg/mypkg/__init__.py") == 1


# --------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        (
            "github:owner/nope@v1",
            "github:owner/nope@v1: no such repository or ref (a private repository needs GITHUB_TOKEN)",
        ),
        ("github:owner/repo/lib/driver.py@v9", "github:owner/repo@v9: no such repository or ref"),
        ("gitlab:owner/nope", "gitlab:owner/nope: no such repository or ref (a private repository needs GITLAB_TOKEN)"),
        ("gitlab:owner/repo/lib@v9", "gitlab:owner/repo@v9: no such repository or ref"),
        ("github:owner/repo/lib/nothere.py@v1.0", f"there is no file 'lib/nothere.py' at commit {SHA_V1}"),
        ("gitlab:owner/repo/lib/nothere.py@v1.0", f"there is no file 'lib/nothere.py' at commit {SHA_V1}"),
        ("github:owner/repo/nothere@v1.0", f"github:owner/repo/nothere@v1.0 (commit {SHA_V1}): there is no folder"),
        ("/gl/group/sub/repo/-/tree/v1.0/nothere", "gitlab:group/sub/repo/nothere@v1.0 (commit 2222"),
        ("gitlab:group/sub/repo/x.py", "gitlab:group/sub: no such repository or ref"),  # shorthands: OWNER/REPO
        (f"github:owner/repo/lib@{SHA_BAD}", f"no archive of commit {SHA_BAD}"),
    ],
)
def test_clear_messages_for_what_is_missing(context, code_hosts, dst, uri, message):
    uri = code_hosts.url(uri) if uri.startswith("/") else uri
    uri = code_hosts.url(uri) if uri.startswith("/") else uri
    with pytest.raises(DownloadError, match=re.escape(message)):
        context.download(uri, dst)
    assert _files(dst) == {}


def test_the_rate_limit_names_the_token(context, code_hosts, dst):
    code_hosts.server.files["/ghapi/repos/owner/repo/commits/v1.0"] = Response(
        403,
        b'{"message": "API rate limit exceeded"}',
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1700000000"},
    )
    with pytest.raises(DownloadError) as caught:
        context.download("github:owner/repo/lib/driver.py@v1.0", dst)
    message = str(caught.value)
    assert message.startswith("github:owner/repo@v1.0: GitHub's API rate limit is used up")
    assert "resets at 22:13 UTC" in message and "set GITHUB_TOKEN" in message


def test_a_refusal_that_is_no_rate_limit(context, code_hosts, dst):
    code_hosts.server.files["/ghapi/repos/owner/repo/commits/v1.0"] = Response(403, b"{}")
    with pytest.raises(DownloadError, match=r"access refused \(GET .* 403 Forbidden\): set GITHUB_TOKEN"):
        context.download("github:owner/repo/lib/driver.py@v1.0", dst)


def test_server_errors_are_retried(context, code_hosts, dst):
    path = "/ghapi/repos/owner/repo/commits/v1.0"
    code_hosts.server.script(path, [503, Response(429, headers={"retry-after": "0"})])
    assert context.download("github:owner/repo/lib/driver.py@v1.0", dst).resolved == SHA_V1
    assert code_hosts.server.count(path) == 3


def test_an_answer_that_is_no_commit(context, code_hosts, dst):
    code_hosts.server.files["/ghapi/repos/owner/repo/commits/v1.0"] = b"<html>sign in</html>"
    with pytest.raises(DownloadError, match="not a commit"):
        context.download("github:owner/repo/lib/driver.py@v1.0", dst)


# --------------------------------------------------------------------------------------------------
# Archives: safety
# --------------------------------------------------------------------------------------------------


def _serve_archive(code_hosts, data: bytes) -> str:
    code_hosts.server.files[f"/codeload/owner/bad/tar.gz/{SHA_BAD}"] = data
    return f"github:owner/bad@{SHA_BAD}"


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ([("top/", None), ("top/ok.py", b"ok"), ("../evil.py", b"evil")], "unsafe archive member"),
        ([("top/", None), ("top/ok.py", b"ok"), ("top/../../evil.py", b"evil")], "unsafe archive member"),
        ([("top/", None), ("top/ok.py", b"ok"), ("ABSOLUTE", b"evil")], "unsafe archive member"),
        ([("top/", None), ("top/ok.py", b"ok"), ("top/link.py", ("symlink", "/etc/passwd"))], "symbolic link"),
        ([("top/", None), ("top/up", ("symlink", "../..")), ("top/up/evil.py", b"evil")], "symbolic link"),
        ([("top/", None), ("top/ok.py", b"ok"), ("top/hard.py", ("hardlink", "top/ok.py"))], "hard link"),
        ([("evil.py", b"evil")], "does not have one top folder"),
        ([("top/", None), ("top/ok.py", b"ok"), ("other/evil.py", b"evil")], "does not have one top folder"),
    ],
)
def test_malicious_archives_are_refused_and_nothing_is_left(context, code_hosts, dst, tmp_path, members, message):
    box = dst.parent
    absolute = box / "absolute-evil.py"
    members = [(str(absolute) if name == "ABSOLUTE" else name, content) for name, content in members]
    uri = _serve_archive(code_hosts, make_tar_gz(members))
    with pytest.raises(DownloadError, match=message):
        context.download(uri, dst)
    assert list(box.rglob("*")) == [dst]  # nothing beside dst, and dst is empty again
    assert not (tmp_path / "evil.py").exists() and not absolute.exists()


def test_links_outside_the_folder_taken_are_ignored(context, code_hosts, dst):
    members = [("top/", None), ("top/lib/a.py", b"a"), ("top/docs/readme", ("symlink", "../../../etc/passwd"))]
    code_hosts.server.files[f"/codeload/owner/bad/tar.gz/{SHA_BAD}"] = make_tar_gz(members)
    fetched = context.download(f"github:owner/bad/lib@{SHA_BAD}", dst)
    assert fetched.files == ["a.py"] and _files(dst) == {"a.py": b"a"}


def test_a_tar_bomb_is_refused(context, code_hosts, dst, monkeypatch):
    monkeypatch.setattr(download, "MAX_UNPACKED", 100_000)
    uri = _serve_archive(code_hosts, make_tar_gz([("top/", None), ("top/zeros.py", bytes(1_000_000))]))
    assert len(code_hosts.server.files[f"/codeload/owner/bad/tar.gz/{SHA_BAD}"]) < 10_000
    with pytest.raises(DownloadError, match="unpacks to more than 0 MB; refused"):
        context.download(uri, dst)
    assert _files(dst) == {}


def test_a_damaged_archive(context, code_hosts, dst):
    uri = _serve_archive(code_hosts, b"this is not gzip")
    with pytest.raises(DownloadError, match="damaged"):
        context.download(uri, dst)
    uri = _serve_archive(code_hosts, repo_archive("top", {"a.py": b"a" * 5000})[:-200])
    with pytest.raises(DownloadError, match="damaged"):
        context.download(uri, dst)


def test_unpack_folder_directly(tmp_path):
    data = repo_archive("repo-abc", {"lib/a.py": b"a", "lib/.hidden/x.py": b"x", "lib/__pycache__/a.pyc": b"c"})
    assert unpack_folder(data, "lib", tmp_path, "test").files == ["a.py"]
    with pytest.raises(DownloadError, match="more than"):
        unpack_folder(data, "lib", tmp_path / "small", "test", limit=100)


# --------------------------------------------------------------------------------------------------
# Cache and tokens
# --------------------------------------------------------------------------------------------------


def test_the_second_download_comes_from_the_cache(context, code_hosts, tmp_path):
    context.download("github:owner/repo/lib/driver.py@v1.0", tmp_path / "a")
    context.download("gitlab:owner/repo/lib@v1.0", tmp_path / "b")
    with DownloadContext(project=tmp_path) as fresh:
        fresh.download("github:owner/repo/lib/driver.py@v1.0", tmp_path / "c")
        assert _files(tmp_path / "c") == {"driver.py": b"VERSION = 1\n"}
        assert fresh.download("gitlab:owner/repo/lib@v1.0", tmp_path / "d").files == ["driver.py", "sub/helper.py"]
        assert code_hosts.server.count(f"/ghraw/owner/repo/{SHA_V1}/lib/driver.py") == 1
        assert code_hosts.server.count("/gl/api/v4/projects/owner%2Frepo/repository/archive.tar.gz") == 1
        assert code_hosts.server.count("/ghapi/repos/owner/repo/commits/v1.0") == 2  # refs move: never cached
        before = len(code_hosts.server.requests)
        fresh.download("github:owner/repo/lib/driver.py@v1.0", tmp_path / "e", pin=SHA_V1)
        fresh.download("gitlab:owner/repo/lib@v1.0", tmp_path / "f", pin=SHA_V1)
        assert len(code_hosts.server.requests) == before  # pinned and cached: no network at all


def test_github_token_uses_the_api_for_everything(context, code_hosts, dst, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "secret")
    assert context.download("github:owner/repo/lib/driver.py@v1.0", dst).resolved == SHA_V1
    assert _files(dst) == {"driver.py": b"VERSION = 1\n"}
    assert context.download("github:owner/repo/lib@v1.0", dst.parent / "lib").files == ["driver.py", "sub/helper.py"]
    api = _api_requests(code_hosts, "/ghapi/")
    assert [request.path for request in api] == [
        "/ghapi/repos/owner/repo/commits/v1.0",
        f"/ghapi/repos/owner/repo/contents/lib/driver.py?ref={SHA_V1}",
        "/ghapi/repos/owner/repo/commits/v1.0",
        f"/ghapi/repos/owner/repo/tarball/{SHA_V1}",
    ]
    assert all(request.headers["authorization"] == "Bearer secret" for request in api)
    assert api[1].headers["accept"] == "application/vnd.github.raw"
    assert _api_requests(code_hosts, "/ghraw/") == []


def test_gitlab_token_uses_the_api_for_everything(context, code_hosts, dst, monkeypatch):
    monkeypatch.setenv("GITLAB_TOKEN", "glpat-secret")
    assert context.download("gitlab:owner/repo/lib/driver.py@v1.0", dst).resolved == SHA_V1
    assert _files(dst) == {"driver.py": b"VERSION = 1\n"}
    requests = code_hosts.server.requests
    assert [request.path for request in requests] == [
        "/gl/api/v4/projects/owner%2Frepo/repository/commits/v1.0",
        f"/gl/api/v4/projects/owner%2Frepo/repository/files/lib%2Fdriver.py/raw?ref={SHA_V1}",
    ]
    assert all(request.headers["private-token"] == "glpat-secret" for request in requests)


def test_a_refused_gitlab_token(context, code_hosts, dst, monkeypatch):
    monkeypatch.setenv("GITLAB_TOKEN", "expired")
    code_hosts.server.files["/gl/api/v4/projects/owner%2Frepo/repository/commits/v1.0"] = 401
    with pytest.raises(DownloadError, match=r"gitlab:owner/repo@v1.0: the host refused GITLAB_TOKEN .*check the token"):
        context.download("gitlab:owner/repo/lib@v1.0", dst)


# --------------------------------------------------------------------------------------------------
# Plugin, docs
# --------------------------------------------------------------------------------------------------


def test_the_hook_registers_both_downloaders(monkeypatch):
    assert hooks.belay_register_downloaders.__name__.startswith("belay_")
    monkeypatch.delenv("BELAY_GITHUB_URL", raising=False)
    monkeypatch.delenv("BELAY_GITHUB_RAW_URL", raising=False)
    monkeypatch.setenv("BELAY_GITLAB_URL", "https://git.example.com/")
    github, gitlab = hooks.belay_register_downloaders()
    assert github.name == "github" and gitlab.name == "gitlab"
    assert github.schemes == ("github:", "https://github.com/", "https://raw.githubusercontent.com/")
    assert gitlab.schemes == ("gitlab:", "https://gitlab.com/", "https://git.example.com/")
    for record in (github, gitlab):
        assert issubclass(record.load(), Downloader)
    assert doctest.testmod(hooks).failed == 0
    assert doctest.testmod(download).failed == 0


def test_belay_plugins_lists_the_downloaders():
    env = {**os.environ, "BELAY_STRICT_PLUGINS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "belay_core.cli", "plugins", "--json"], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr
    [github] = [plugin for plugin in json.loads(result.stdout) if plugin["name"] == "github"]
    assert github["distribution"] == "belay-github" and github["status"] == "ok"
    assert github["provides"] == {"downloaders": ["github", "gitlab"]}


def test_belay_help_imports_neither_httpx_nor_the_downloader():
    code = (
        "import sys\nfrom belay_core.cli import main\nmain(['--help'])\nprint('\\n' + ' '.join(sorted(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(result.stdout.strip().splitlines()[-1].split())
    assert "belay_github.hooks" in loaded  # the plugin is loaded ...
    assert not {"httpx", "belay_github.download", "tarfile"} & loaded  # ... but not its implementation


def test_every_form_in_the_docs_parses():
    text = (ROOT / "docs" / "github.md").read_text()
    table = text.split("## Sources", 1)[1].split("\n## ", 1)[0]
    forms = re.findall(r"^\| `([^`]+)` \|", table, re.M)
    assert len(forms) >= 10
    for form in forms:
        source = parse_source(form, Settings())
        assert source is not None, form
        assert source.project in ("owner/repo", "group/subgroup/repo"), form


def _old_gnu_sparse_tar_gz(name: str, real_size: int) -> bytes:
    """A tar.gz of one old-GNU sparse member: no data stored, ``real_size`` bytes once unpacked."""
    import gzip as gzip_module

    def octal(value: int, width: int) -> bytes:
        return f"{value:0{width - 1}o}".encode() + b"\0"

    header = bytearray(512)
    header[0 : len(name)] = name.encode()
    header[100:108] = octal(0o644, 8)
    header[108:116] = octal(0, 8)
    header[116:124] = octal(0, 8)
    header[124:136] = octal(0, 12)  # stored bytes
    header[136:148] = octal(0, 12)
    header[156:157] = b"S"  # GNUTYPE_SPARSE
    header[257:265] = b"ustar  \0"
    header[386:398] = octal(real_size, 12)  # one sparse chunk: at offset real_size, 0 bytes
    header[398:410] = octal(0, 12)
    header[483:495] = octal(real_size, 12)  # the real size
    header[148:156] = b" " * 8
    header[148:156] = f"{sum(header):06o}".encode() + b"\0 "
    return gzip_module.compress(bytes(header) + bytes(1024))


def test_a_sparse_member_is_refused_before_anything_is_written(context, code_hosts, dst):
    # A 193-byte tar.gz with one sparse member once unpacked to 300 MB and `belay add` exited 0.
    data = _old_gnu_sparse_tar_gz("top/lib/big.py", 300 * 2**20)
    assert len(data) < 300
    uri = _serve_archive(code_hosts, data)
    with pytest.raises(DownloadError, match="sparse file"):
        context.download(uri, dst)
    assert _files(dst) == {}
