"""The HTTP client (retries, timeouts, errors), the download cache, and the test HTTP server, all for real."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from belay_core.errors import BelayError
from belay_packages.cache import Cache, cache_dir
from belay_packages.downloaders import DownloadContext
from belay_packages.testing import HttpServer, Request, Response
from belay_packages.web import DownloadError, HttpClient, HttpSettings, NotFoundError


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BELAY_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("BELAY_HTTP_BACKOFF", "0.01")
    monkeypatch.delenv("BELAY_HTTP_TIMEOUT", raising=False)
    monkeypatch.delenv("BELAY_HTTP_RETRIES", raising=False)


@pytest.fixture
def server() -> Iterator[HttpServer]:
    with HttpServer() as running:
        yield running


@pytest.fixture
def http() -> Iterator[HttpClient]:
    with HttpClient() as client:
        yield client


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------------------------------
# HttpClient
# --------------------------------------------------------------------------------------------------


def test_get_returns_the_body(server, http):
    server.files["/a.py"] = b"x = 1"
    assert http.get(server.url("/a.py")) == b"x = 1"
    assert server.requests[0].headers["user-agent"] == "belay"


def test_404_and_410_are_not_found_errors_naming_the_url(server, http):
    server.files["/gone.py"] = 410
    with pytest.raises(NotFoundError, match=r"GET http://127\.0\.0\.1:\d+/missing\.py: 404"):
        http.get(server.url("/missing.py"))
    with pytest.raises(NotFoundError, match="410"):
        http.get(server.url("/gone.py"))
    assert server.count("/missing.py") == 1  # not retried


def test_other_client_errors_are_not_retried(server, http):
    server.files["/secret.py"] = 403
    with pytest.raises(DownloadError, match="403") as info:
        http.get(server.url("/secret.py"))
    assert not isinstance(info.value, NotFoundError)
    assert server.count("/secret.py") == 1


def test_503_then_ok_is_retried(server, http):
    server.script("/flaky.py", [503, 503, b"y = 2"])
    assert http.get(server.url("/flaky.py")) == b"y = 2"
    assert server.count("/flaky.py") == 3


def test_persistent_5xx_gives_up_after_the_retries(server, monkeypatch):
    monkeypatch.setenv("BELAY_HTTP_RETRIES", "2")
    server.files["/down.py"] = 502
    with HttpClient() as http, pytest.raises(DownloadError, match=r"502 Bad Gateway \(tried 3 times\)"):
        http.get(server.url("/down.py"))
    assert server.count("/down.py") == 3


def test_zero_retries_tries_once(server, monkeypatch):
    monkeypatch.setenv("BELAY_HTTP_RETRIES", "0")
    server.script("/flaky.py", [500, b"ok"])
    with HttpClient() as http, pytest.raises(DownloadError, match="500") as info:
        http.get(server.url("/flaky.py"))
    assert "tried" not in str(info.value)
    assert server.count("/flaky.py") == 1


@pytest.mark.timeout(30)
def test_429_waits_as_retry_after_says_not_the_backoff(server, monkeypatch):
    # With a 300 s backoff, only honouring "Retry-After: 0" lets this finish within the timeout.
    monkeypatch.setenv("BELAY_HTTP_BACKOFF", "300")
    server.script("/limited.py", [Response(429, b"slow down", {"Retry-After": "0"}), b"z = 3"])
    with HttpClient() as http:
        assert http.get(server.url("/limited.py")) == b"z = 3"
    assert server.count("/limited.py") == 2


def test_timeout_is_retried_then_reported(server, monkeypatch):
    monkeypatch.setenv("BELAY_HTTP_TIMEOUT", "0.2")
    monkeypatch.setenv("BELAY_HTTP_RETRIES", "1")
    server.files["/slow.py"] = Response(body=b"late", delay=1.0)
    with HttpClient() as http, pytest.raises(DownloadError, match=r"no answer within 0\.2 s \(tried 2 times\)"):
        http.get(server.url("/slow.py"))
    assert server.count("/slow.py") == 2


def test_a_timeout_then_a_quick_answer_succeeds(server, monkeypatch):
    monkeypatch.setenv("BELAY_HTTP_TIMEOUT", "0.2")
    server.script("/slow.py", [Response(body=b"late", delay=1.0), b"on time"])
    with HttpClient() as http:
        assert http.get(server.url("/slow.py")) == b"on time"


def test_truncated_body_is_retried(server, http):
    server.script("/big.py", [Response(body=b"a" * 1000, truncate=100), b"b" * 1000])
    assert http.get(server.url("/big.py")) == b"b" * 1000
    assert server.count("/big.py") == 2


def test_always_truncated_body_is_an_error(server, monkeypatch):
    monkeypatch.setenv("BELAY_HTTP_RETRIES", "1")
    server.files["/big.py"] = Response(body=b"a" * 1000, truncate=100)
    with HttpClient() as http, pytest.raises(DownloadError, match=r"/big\.py: .*\(tried 2 times\)"):
        http.get(server.url("/big.py"))


def test_connection_refused_is_retried_and_reported(monkeypatch):
    monkeypatch.setenv("BELAY_HTTP_RETRIES", "1")
    url = f"http://127.0.0.1:{_free_port()}/x.py"
    with HttpClient() as http, pytest.raises(DownloadError, match=r"connection failed .*\(tried 2 times\)") as info:
        http.get(url)
    assert url in str(info.value)


def test_not_an_http_url_is_a_clear_error(http):
    with pytest.raises(DownloadError, match="not an http"):
        http.get("ftp://example.invalid/x.py")


def test_progress_reports_bytes(server, http):
    server.files["/data.bin"] = bytes(5000)
    seen = []
    http.get(server.url("/data.bin"), progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1] == (5000, 5000)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_extra_headers_are_sent(server, http):
    server.files["/a.py"] = b""
    http.get(server.url("/a.py"), headers={"Authorization": "token abc"})
    assert server.requests[-1].headers["authorization"] == "token abc"


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("BELAY_HTTP_TIMEOUT", "7.5")
    monkeypatch.setenv("BELAY_HTTP_RETRIES", "5")
    monkeypatch.setenv("BELAY_HTTP_BACKOFF", "0.25")
    assert HttpSettings() == HttpSettings(timeout=7.5, retries=5, backoff=0.25)
    monkeypatch.setenv("BELAY_HTTP_TIMEOUT", "soon")
    with pytest.raises(BelayError, match="BELAY_HTTP_TIMEOUT='soon': expected a number"):
        HttpSettings()


# --------------------------------------------------------------------------------------------------
# DownloadContext.get: cache and progress
# --------------------------------------------------------------------------------------------------


def test_context_get_caches_only_immutable_content(server, tmp_path):
    server.files["/file/ab/abcdef12"] = b"immutable"
    server.files["/latest.json"] = b"{}"
    with DownloadContext(project=tmp_path, package_indices=[]) as context:
        for _ in range(2):
            assert context.get(server.url("/file/ab/abcdef12"), immutable=True) == b"immutable"
            assert context.get(server.url("/latest.json")) == b"{}"
    assert server.count("/file/ab/abcdef12") == 1
    assert server.count("/latest.json") == 2
    assert context.cache.root == tmp_path / "cache"


def test_context_get_reports_progress_with_a_label(server, tmp_path):
    server.files["/pkg/mod.py"] = b"x" * 300
    seen = []
    with DownloadContext(project=tmp_path, progress=lambda *report: seen.append(report)) as context:
        context.get(server.url("/pkg/mod.py"))
    assert seen[-1] == ("mod.py", 300, 300)


# --------------------------------------------------------------------------------------------------
# Cache
# --------------------------------------------------------------------------------------------------


def test_cache_dir_follows_the_environment(tmp_path):
    assert cache_dir() == tmp_path / "cache"
    assert Cache().root == tmp_path / "cache"


def test_cache_dir_defaults_to_the_user_cache(monkeypatch):
    monkeypatch.delenv("BELAY_CACHE_DIR")
    assert cache_dir().name == "belay"


def test_cache_put_get_entries_size_clear(tmp_path):
    cache = Cache(tmp_path / "c")
    assert cache.get("https://example.com/a.py") is None
    assert cache.entries() == [] and cache.size() == 0
    cache.put("https://example.com/a.py", b"x = 1")
    cache.put("https://example.com/b.py", b"longer = 2")
    assert cache.get("https://example.com/a.py") == b"x = 1"
    assert [entry.key for entry in cache.entries()] == ["https://example.com/a.py", "https://example.com/b.py"]
    assert cache.size() == len(b"x = 1") + len(b"longer = 2")
    cache.put("https://example.com/a.py", b"replaced")
    assert cache.get("https://example.com/a.py") == b"replaced"
    assert cache.clear() == 2
    assert cache.get("https://example.com/a.py") is None and cache.entries() == []


def test_cache_writes_leave_no_temporary_files(tmp_path):
    cache = Cache(tmp_path / "c")
    for number in range(5):
        cache.put(f"key{number}", bytes(number))
    leftovers = [path for path in (tmp_path / "c").rglob("*") if path.name.startswith(".tmp-")]
    assert leftovers == []
    assert len(cache.entries()) == 5


def test_cache_ignores_damaged_metadata(tmp_path):
    cache = Cache(tmp_path / "c")
    cache.put("good", b"1")
    cache.put("bad", b"2")
    meta = next(entry.path for entry in cache.entries() if entry.key == "bad").with_suffix(".json")
    meta.write_text("{not json")
    assert [entry.key for entry in cache.entries()] == ["good"]
    assert cache.get("bad") == b"2"


# --------------------------------------------------------------------------------------------------
# The test server itself
# --------------------------------------------------------------------------------------------------


def _fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_server_serves_files_and_404s_the_rest(server):
    server.files["/a.py"] = b"a"
    assert _fetch(server.url("/a.py")) == (200, b"a")
    assert _fetch(server.url("b.py"))[0] == 404
    assert server.url("x") == server.base_url + "/x"


def test_server_scripts_answer_in_turn_then_fall_back_to_files(server):
    server.files["/s.py"] = b"file"
    server.script("/s.py", [500, b"scripted", Response(201, b"made")])
    assert [_fetch(server.url("/s.py")) for _ in range(4)] == [
        (500, b"error 500"),
        (200, b"scripted"),
        (201, b"made"),
        (200, b"file"),
    ]


def test_server_counts_requests_ignoring_the_query(server):
    server.files["/q.py"] = b""
    _fetch(server.url("/q.py?a=1"))
    _fetch(server.url("/q.py"))
    assert server.count("/q.py") == 2
    assert [request.path for request in server.requests] == ["/q.py?a=1", "/q.py"]


def test_server_callable_answers_see_the_request(server):
    def echo(request: Request) -> bytes:
        return f"{request.method} {request.path}".encode()

    server.files["/echo"] = echo
    assert _fetch(server.url("/echo?x=2")) == (200, b"GET /echo?x=2")


def test_server_response_headers_are_sent(server):
    server.files["/h"] = Response(headers={"X-Test": "yes"}, body=b"h")
    with urllib.request.urlopen(server.url("/h"), timeout=10) as answer:
        assert answer.headers["X-Test"] == "yes"
        assert answer.headers["Content-Length"] == "1"
