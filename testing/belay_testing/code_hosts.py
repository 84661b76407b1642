"""A GitHub-like and a GitLab-like host on one real local HTTP server, and tar.gz archives made in memory.

Path prefixes stand for the hosts: ``/gh`` (web), ``/ghapi`` (REST API), ``/ghraw`` (raw files),
``/codeload`` (archives) and ``/gl`` (GitLab web and ``/gl/api/v4``). The ``BELAY_*`` variables point
the plugin at them; nothing reaches the internet.
"""

from __future__ import annotations

import io
import json
import tarfile
from typing import Callable, Optional, Union
from urllib.parse import parse_qs, quote, urlsplit

from belay_packages.testing import HttpServer, Request, Response

Member = tuple[str, Union[bytes, tuple[str, str], None]]
"""``(name, bytes)`` a file, ``(name, None)`` a folder, ``(name, ("symlink"|"hardlink", target))`` a link."""


def make_tar_gz(members: list[Member], comment: Optional[str] = None) -> bytes:
    """A tar.gz of ``members`` in order; ``comment`` becomes a pax global header, as GitHub writes one."""
    buffer = io.BytesIO()
    pax = {"comment": comment} if comment else {}
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT, pax_headers=pax) as tar:
        for name, content in members:
            info = tarfile.TarInfo(name)
            info.mtime = 1_700_000_000
            if content is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            elif isinstance(content, tuple):
                info.type = tarfile.SYMTYPE if content[0] == "symlink" else tarfile.LNKTYPE
                info.linkname = content[1]
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def repo_archive(top: str, files: dict[str, bytes], comment: Optional[str] = None) -> bytes:
    """A host's archive of ``files``: everything under ``top/``, with folder entries like ``git archive``."""
    members: list[Member] = [(f"{top}/", None)]
    folders: set[str] = set()
    for path in sorted(files):
        parts = path.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            folder = "/".join(parts[:depth])
            if folder not in folders:
                folders.add(folder)
                members.append((f"{top}/{folder}/", None))
        members.append((f"{top}/{path}", files[path]))
    return make_tar_gz(members, comment)


def _query(request: Request) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(request.path).query).items()}


class FakeHosts:
    """Repositories served the way GitHub and GitLab serve them."""

    def __init__(self, server: HttpServer) -> None:
        self.server = server
        self.contents: dict[str, dict[str, dict[str, bytes]]] = {}  # API path prefix -> sha -> files

    def url(self, path: str) -> str:
        return self.server.url(path)

    # -- GitHub ------------------------------------------------------------------------------------

    def github(
        self, project: str, commits: dict[str, dict[str, bytes]], refs: dict[str, str], default: str = "main"
    ) -> None:
        """Serve ``project`` with ``commits`` (sha -> files) and ``refs`` (branch or tag -> sha)."""
        server = self.server
        repo = project.split("/")[1]

        def commit_answer(sha: str) -> Callable[[Request], Response]:
            def answer(request: Request) -> Response:
                if request.headers.get("accept") == "application/vnd.github.sha":
                    return Response(body=sha.encode())
                return Response(body=json.dumps({"sha": sha, "commit": {}}).encode())

            return answer

        for ref, sha in {**refs, "HEAD": refs[default]}.items():
            server.files[f"/ghapi/repos/{project}/commits/{quote(ref, safe='')}"] = commit_answer(sha)
        for sha, files in commits.items():
            server.files[f"/ghapi/repos/{project}/commits/{sha}"] = commit_answer(sha)
            archive = repo_archive(f"{repo}-{sha}", files, comment=sha)
            server.files[f"/codeload/{project}/tar.gz/{sha}"] = archive
            server.files[f"/ghapi/repos/{project}/tarball/{sha}"] = self._authorized(
                "authorization", Response(302, headers={"Location": self.url(f"/codeload/{project}/tar.gz/{sha}")})
            )
            for path, data in files.items():
                server.files[f"/ghraw/{project}/{sha}/{quote(path)}"] = data
                server.files[f"/ghapi/repos/{project}/contents/{quote(path)}"] = self._by_ref(
                    "authorization", project, path, commits
                )

    # -- GitLab ------------------------------------------------------------------------------------

    def gitlab(
        self, project: str, commits: dict[str, dict[str, bytes]], refs: dict[str, str], default: str = "main"
    ) -> None:
        """Serve ``project`` (``group[/subgroup...]/repo``) like GitLab does."""
        server = self.server
        api = f"/gl/api/v4/projects/{quote(project, safe='')}"
        repo = project.rsplit("/", 1)[1]
        server.files[api] = json.dumps({"id": 42, "path_with_namespace": project, "default_branch": default}).encode()
        for ref, sha in {**refs, **{sha: sha for sha in commits}}.items():
            body = json.dumps({"id": sha, "short_id": sha[:8], "title": "a commit"}).encode()
            server.files[f"{api}/repository/commits/{quote(ref, safe='')}"] = body
        archives = {sha: repo_archive(f"{repo}-{sha}-{sha}", files) for sha, files in commits.items()}

        def archive(request: Request) -> Response:
            sha = _query(request).get("sha", "")
            return Response(body=archives[sha]) if sha in archives else Response(404, b'{"message":"404 Not Found"}')

        server.files[f"{api}/repository/archive.tar.gz"] = archive
        for sha, files in commits.items():
            for path, data in files.items():
                server.files[f"/gl/{project}/-/raw/{sha}/{quote(path)}"] = data
                server.files[f"{api}/repository/files/{quote(path, safe='')}/raw"] = self._by_ref(
                    "private-token", project, path, commits
                )

    # -- helpers -----------------------------------------------------------------------------------

    @staticmethod
    def _authorized(header: str, response: Response) -> Callable[[Request], Response]:
        def answer(request: Request) -> Response:
            return response if header in request.headers else Response(404, b"not found")

        return answer

    @staticmethod
    def _by_ref(
        header: str, project: str, path: str, commits: dict[str, dict[str, bytes]]
    ) -> Callable[[Request], Response]:
        def answer(request: Request) -> Response:
            files = commits.get(_query(request).get("ref", ""), {})
            if header not in request.headers or path not in files:
                return Response(404, b"not found")
            return Response(body=files[path])

        return answer


SHA_MAIN = "1111111111111111111111111111111111111111"
SHA_V1 = "2222222222222222222222222222222222222222"
SHA_BRANCH = "3333333333333333333333333333333333333333"

FILES_V1 = {
    "README.md": b"# demo\n",
    ".gitignore": b"*.pyc\n",
    ".github/workflows/ci.yml": b"on: push\n",
    "LICENSE": b"MIT\n",
    "lib/driver.py": b"VERSION = 1\n",
    "lib/sub/helper.py": b"def helper():\n    return 1\n",
    "lib/.gitkeep": b"",
    "tools/build.py": b"print('build')\n",
}
FILES_MAIN = {**FILES_V1, "lib/driver.py": b"VERSION = 2\n", "lib/new.py": b"NEW = True\n"}
FILES_BRANCH = {**FILES_V1, "lib/driver.py": b"VERSION = 3\n"}
COMMITS = {SHA_MAIN: FILES_MAIN, SHA_V1: FILES_V1, SHA_BRANCH: FILES_BRANCH}
REFS = {"main": SHA_MAIN, "v1.0": SHA_V1, "feature/x": SHA_BRANCH}
