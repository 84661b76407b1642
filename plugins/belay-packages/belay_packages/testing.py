"""Test helpers for the package manager and its downloader plugins: a real HTTP server on 127.0.0.1.

```python
with HttpServer() as server:
    server.files["/pkg/a.py"] = b"x = 1"
    server.script("/flaky.py", [503, 503, b"y = 2"])   # two failures, then the file
    url = server.url("/pkg/a.py")
```
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Optional, Union

from attrs import define, field

Answer = Union[bytes, int, "Response", Callable[["Request"], Any]]
"""Bytes (200), a status code (empty body), a `Response`, or a callable returning one of those."""


@define
class Response:
    """A full answer: status, headers, body, and an optional pause before answering."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(factory=dict)
    delay: float = 0.0
    truncate: Optional[int] = None
    """Send only this many body bytes (with the full Content-Length), then close."""


@define(frozen=True)
class Request:
    """A request the server received."""

    method: str
    path: str
    headers: dict[str, str]


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client hanging up mid-answer is part of the tests


class HttpServer:
    """A threaded HTTP server on 127.0.0.1 serving `files` and scripted answers, logging `requests`."""

    def __init__(self) -> None:
        self.files: dict[str, Answer] = {}
        self.scripts: dict[str, list[Answer]] = defaultdict(list)
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms stalls

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                request = Request("GET", self.path, {k.lower(): v for k, v in self.headers.items()})
                with server._lock:
                    server.requests.append(request)
                    path = self.path.split("?", 1)[0]
                    script = server.scripts.get(path)
                    answer = script.pop(0) if script else server.files.get(path, 404)
                self._answer(server._resolve(answer, request))

            def _answer(self, response: Response) -> None:
                if response.delay:
                    time.sleep(response.delay)
                try:
                    self.send_response(response.status)
                    for key, value in response.headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(response.body)))
                    self.end_headers()
                    body = response.body if response.truncate is None else response.body[: response.truncate]
                    self.wfile.write(body)
                    if response.truncate is not None:
                        self.wfile.flush()
                        self.close_connection = True
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # A short poll interval: stop() waits up to one interval for the serving loop to notice.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @staticmethod
    def _resolve(answer: Answer, request: Request) -> Response:
        if callable(answer) and not isinstance(answer, Response):
            answer = answer(request)
        if isinstance(answer, Response):
            return answer
        if isinstance(answer, int):
            return Response(status=answer, body=b"" if answer < 400 else f"error {answer}".encode())
        return Response(body=bytes(answer))

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        """The full URL of ``path`` on this server."""
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def script(self, path: str, answers: list[Answer]) -> None:
        """Answer the next requests for ``path`` in turn with ``answers``, then fall back to `files`."""
        with self._lock:
            self.scripts[path].extend(answers)

    def count(self, path: str) -> int:
        """How many requests asked for ``path``."""
        with self._lock:
            return sum(1 for request in self.requests if request.path.split("?", 1)[0] == path)

    def start(self) -> HttpServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> HttpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def publish_index_package(
    server: HttpServer,
    name: str,
    version: str,
    files: dict[str, bytes],
    deps: Iterable[tuple[str, str]] = (),
    *,
    prefix: str = "/pi",
    mpy: str = "py",
    latest: bool = True,
) -> None:
    """Publish a package on a fake MicroPython index served by ``server`` under ``prefix``.

    Writes its files by short hash (``/file/ab/abcd1234``), its manifest
    (``/package/py/NAME/VERSION.json`` and, when ``latest``, ``latest.json``) and ``index.json``.
    """
    hashes = []
    for path, data in files.items():
        digest = hashlib.sha256(data).hexdigest()[:8]
        server.files[f"{prefix}/file/{digest[:2]}/{digest}"] = data
        hashes.append([path, digest])
    body = json.dumps({"v": 1, "version": version, "hashes": hashes, "deps": [list(dep) for dep in deps]}).encode()
    server.files[f"{prefix}/package/{mpy}/{name}/{version}.json"] = body
    if latest:
        server.files[f"{prefix}/package/{mpy}/{name}/latest.json"] = body
    listing: Any = server.files.get(f"{prefix}/index.json")
    listing = json.loads(listing) if listing else {"v": 2, "packages": []}
    entry = next((item for item in listing["packages"] if item["name"] == name), None)
    if entry is None:
        entry = {"name": name, "version": version, "versions": {}}
        listing["packages"].append(entry)
    entry["versions"].setdefault(mpy, []).append(version)
    if latest:
        entry["version"] = version
    server.files[f"{prefix}/index.json"] = json.dumps(listing).encode()


__all__ = ["Answer", "HttpServer", "Request", "Response", "publish_index_package"]
