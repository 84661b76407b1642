"""HTTP downloads with httpx: timeouts, and retries with backoff on connection errors, 429 and 5xx.

``BELAY_HTTP_TIMEOUT`` (seconds, default 30), ``BELAY_HTTP_RETRIES`` (default 3) and
``BELAY_HTTP_BACKOFF`` (first pause in seconds, doubled each retry, default 0.5) tune it.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Callable, Optional

from attrs import define, field

from belay_core.errors import BelayError
from belay_packages.errors import DownloadError, IntegrityError, NotFoundError

if TYPE_CHECKING:
    import httpx

BytesProgress = Callable[[int, Optional[int]], None]
"""``progress(done_bytes, total_bytes_or_None)``."""

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 60.0


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        raise BelayError(f"{name}={value!r}: expected a number") from None


@define
class HttpSettings:
    """How patient HTTP downloads are.

    Parameters
    ----------
    timeout
        Seconds to wait for a connection or for the next bytes of an answer.
    retries
        Further attempts after a connection error, a timeout, 429 or 5xx.
    backoff
        Pause before the first retry, doubled for each next one (a ``Retry-After`` header wins).
    """

    timeout: float = field(factory=lambda: _env_float("BELAY_HTTP_TIMEOUT", 30.0))
    retries: int = field(factory=lambda: int(_env_float("BELAY_HTTP_RETRIES", 3)))
    backoff: float = field(factory=lambda: _env_float("BELAY_HTTP_BACKOFF", 0.5))


def _retry_after(response: httpx.Response) -> Optional[float]:
    value = response.headers.get("retry-after", "")
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        return None


class _Retry(Exception):
    def __init__(self, problem: str, wait: Optional[float] = None, status: Optional[int] = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.wait = wait
        self.status = status


class HttpClient:
    """GET with retries; one connection pool for a whole install.

    Examples
    --------
    >>> with HttpClient() as http:
    ...     data = http.get("https://micropython.org/pi/v2/index.json")
    """

    def __init__(self, settings: Optional[HttpSettings] = None, headers: Optional[dict[str, str]] = None) -> None:
        self.settings = settings or HttpSettings()
        self.headers = {"User-Agent": "belay", **(headers or {})}
        self._client: Optional[httpx.Client] = None

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            import httpx

            self._client = httpx.Client(
                timeout=httpx.Timeout(self.settings.timeout),
                follow_redirects=True,
                headers=self.headers,
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(
        self, url: str, *, headers: Optional[dict[str, str]] = None, progress: Optional[BytesProgress] = None
    ) -> bytes:
        """The body of ``url``.

        Raises
        ------
        NotFoundError
            On 404 or 410.
        DownloadError
            On any other failure, after the retries; the message names the URL and the last problem.
        """
        import httpx

        attempts = max(0, self.settings.retries) + 1
        problem = ""
        status: Optional[int] = None
        for attempt in range(attempts):
            try:
                return self._get_once(url, headers, progress)
            except _Retry as retry:
                problem, wait, status = retry.problem, retry.wait, retry.status
            except httpx.TimeoutException:
                problem, wait = f"no answer within {self.settings.timeout:g} s", None
            except httpx.TransportError as exc:
                problem, wait = f"connection failed ({exc or type(exc).__name__})", None
            if attempt + 1 < attempts:
                time.sleep(wait if wait is not None else self.settings.backoff * 2**attempt)
        tries = f" (tried {attempts} times)" if attempts > 1 else ""
        raise DownloadError(f"GET {url}: {problem}{tries}", status=status)

    def _get_once(self, url: str, headers: Optional[dict[str, str]], progress: Optional[BytesProgress]) -> bytes:
        import httpx

        try:
            request = self.client.build_request("GET", url, headers=headers)
        except httpx.InvalidURL as exc:
            raise DownloadError(f"{url!r} is not a valid URL: {exc}") from None
        try:
            response = self.client.send(request, stream=True)
        except httpx.UnsupportedProtocol:
            raise DownloadError(f"{url!r} is not an http(s) URL") from None
        try:
            status = response.status_code
            if status in RETRY_STATUS:
                raise _Retry(f"{status} {response.reason_phrase}", _retry_after(response), status)
            answer = {key.lower(): value for key, value in response.headers.items()}
            if status in (404, 410):
                raise NotFoundError(f"GET {url}: {status} {response.reason_phrase}", status, answer)
            if status >= 400:
                raise DownloadError(f"GET {url}: {status} {response.reason_phrase}", status, answer)
            length = response.headers.get("content-length", "")
            total = int(length) if length.isdigit() else None
            chunks: list[bytes] = []
            done = 0
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
            if total is not None and done < total:
                raise _Retry(f"connection closed after {done} of {total} bytes")
            return b"".join(chunks)
        finally:
            response.close()


__all__ = ["BytesProgress", "DownloadError", "HttpClient", "HttpSettings", "IntegrityError", "NotFoundError"]
