"""The one HTTP client every provider module uses: retries, timeouts, politeness.

`make_session` builds a `requests.Session` whose adapter retries idempotent GETs on
connection failures, read timeouts and 429/5xx answers (exponential backoff with
jitter, honouring Retry-After), puts `settings.http_timeout` on every request and
keeps at least `settings.http_min_interval` seconds between requests to one host. Each
retry is announced, and a host that cannot be reached is given up after a few attempts
(sources.retries). `fetch` turns whatever still goes wrong into one `SourceError` line.

That pacing is per process. Workers on several machines share one request budget per
provider through Prefect: when a Prefect server is configured (PREFECT_API_URL) and has a
global concurrency limit named `surgewatch-<provider>` with a slot decay, every request
first takes a slot of it (`prefect.concurrency.sync.rate_limit`), so all workers together
stay within `slot_decay_per_second` requests a second.
"""

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import BaseAdapter, HTTPAdapter

from surgewatch import __version__
from surgewatch.core.errors import SourceError, UnreachableSource, one_line, redact
from surgewatch.sources.base import DETAIL_CHARS
from surgewatch.sources.retries import REQUEST_FOR, AnnouncedRetry, Unreachable

log = logging.getLogger(__name__)

USER_AGENT = f"surgewatch/{__version__} (+https://github.com/surgewatch)"

# Waits double per consecutive failure (the first retry is immediate), so the default
# 5 retries spend about 0 + 1 + 2 + 4 + 8 s plus jitter: enough to ride out a
# provider's brief outage without stalling the nightly run for long.
DEFAULT_BACKOFF = 0.5
# A provider asking for a longer pause than this is throttling us for the day; waiting
# longer would only delay the other tickers.
RETRY_AFTER_MAX = 60
RETRY_STATUSES = (429, 500, 502, 503, 504)


class _HostThrottle:
    """Hands out per-host time slots at least `interval` seconds apart (thread-safe)."""

    def __init__(self, interval: float):
        self._interval = interval
        self._lock = threading.Lock()
        self._next_slot: dict[str, float] = {}

    def wait(self, host: str) -> None:
        if self._interval <= 0:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_slot.get(host, now))
            self._next_slot[host] = slot + self._interval
        # Sleep outside the lock so threads bound for other hosts are not held up.
        time.sleep(slot - now)


def budget_name(provider: str) -> str:
    """The Prefect global concurrency limit that paces one provider across workers."""
    return f"surgewatch-{provider}"


def shared_budget(provider: str) -> str | None:
    """The provider's shared rate limit when the Prefect server in use has one (with a
    slot decay, which rate_limit requires), else None: per-process pacing only."""
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        return None  # no shared server: a one-off run on this machine alone
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    try:
        with get_client(sync_client=True) as client:
            limit = client.read_global_concurrency_limit_by_name(budget_name(provider))
    except ObjectNotFound:
        return None
    except Exception as exc:  # noqa: BLE001  (an unreachable server: the flow will say so itself)
        log.warning("no shared request budget for %s: %s", provider, exc)
        return None
    return limit.name if limit.slot_decay_per_second else None


class _PoliteAdapter(HTTPAdapter):
    def __init__(self, *, retry: AnnouncedRetry, timeout: float, throttle: _HostThrottle, budget: str | None = None):
        self.timeout = timeout
        self._throttle = throttle
        self._budget = budget
        self._hosts = retry.hosts
        super().__init__(max_retries=retry)

    def unreachable(self, url: str) -> Unreachable | None:
        """Why requests to url's host are no longer made, if they are not."""
        return self._hosts.unreachable(urlsplit(url).hostname or "")

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]  # passes requests' own keyword arguments through unchanged
        # requests has no session-wide timeout; without one a silent server hangs us forever.
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        url = str(request.url)
        self._refuse_if_unreachable(url)
        if self._budget is not None:
            from prefect.concurrency.sync import rate_limit

            try:
                rate_limit(self._budget, strict=True)
            except Exception as exc:  # noqa: BLE001  (Prefect's errors vary; each means no slot)
                raise requests.ConnectionError(f"no slot of the request budget {self._budget}: {exc}") from exc
        self._throttle.wait(urlsplit(url).netloc)
        self._refuse_if_unreachable(url)  # given up while this request waited its turn
        response = super().send(request, **kwargs)
        self._hosts.answered(urlsplit(url).hostname or "")
        return response

    def _refuse_if_unreachable(self, url: str) -> None:
        gone = self.unreachable(url)
        if gone is not None:
            raise requests.ConnectionError(f"{gone.host} given up after {gone.attempts} attempt(s): {gone.error}")


class HttpSettings(Protocol):
    """What a session needs of the configuration (surgewatch.core.settings.Settings has it)."""

    @property
    def http_timeout(self) -> float: ...
    @property
    def http_retries(self) -> int: ...
    @property
    def http_min_interval(self) -> float: ...
    @property
    def source(self) -> str: ...


def make_session(settings: HttpSettings, *, backoff_factor: float = DEFAULT_BACKOFF) -> requests.Session:
    """A Session with retries, a default timeout, a per-host pace (and the provider's
    shared budget, see shared_budget) and surgewatch's User-Agent.

    `backoff_factor` scales the waits between retries (tests pass a tiny one); the
    jitter added to each wait is up to one more `backoff_factor`, so parallel runs
    that failed together do not retry in lockstep.
    """
    retry = AnnouncedRetry(
        total=settings.http_retries,
        backoff_factor=backoff_factor,
        backoff_jitter=backoff_factor,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET"}),
        respect_retry_after_header=True,
        retry_after_max=RETRY_AFTER_MAX,
        raise_on_status=False,
        provider=settings.source,
    )
    adapter = _PoliteAdapter(
        retry=retry,
        timeout=settings.http_timeout,
        throttle=_HostThrottle(settings.http_min_interval),
        budget=shared_budget(settings.source),
    )
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def fetch(
    session: requests.Session,
    url: str,
    *,
    ticker: str,
    provider: str,
    params: Mapping[str, str | int] | None = None,
    headers: Mapping[str, str] | None = None,
    detail_path: tuple[str, ...] = (),
    secret: str | None = None,
) -> requests.Response:
    """GET url and return the successful response, or raise SourceError(ticker, <one line>).

    The line says what happened and how many attempts were made, e.g. ``unknown
    symbol (yahoo HTTP 404: No data found, symbol may be delisted)`` or ``timed out
    (yahoo: no answer within 20 s, 6 attempts)``. `detail_path` is where the provider's
    JSON error body keeps its explanation; `secret` is blanked out of the message.
    A host given up as unreachable raises UnreachableSource, the same line for every
    ticker: ``connection failed (yahoo: cannot reach query1.finance.yahoo.com: Name or
    service not known; gave up after 3 attempts)``.
    """
    asking_for = REQUEST_FOR.set(ticker)
    try:
        response = session.get(url, params=params, headers=headers)
    except requests.RequestException as exc:
        adapter = session.get_adapter(url)
        gone = adapter.unreachable(url) if isinstance(adapter, _PoliteAdapter) else None
        if gone is not None:
            raise UnreachableSource(ticker, redact(_describe_unreachable(gone, provider), secret)) from exc
        message = _describe_failure(exc, provider, adapter)
        raise SourceError(ticker, redact(message, secret), transient=True) from exc
    finally:
        REQUEST_FOR.reset(asking_for)
    if response.ok:
        return response
    message = _describe_status(response, provider, detail_path)
    raise SourceError(ticker, redact(message, secret), transient=response.status_code in RETRY_STATUSES)


def _describe_unreachable(gone: Unreachable, provider: str) -> str:
    tries = f"{gone.attempts} attempt{'s' if gone.attempts > 1 else ''}"
    return f"connection failed ({provider}: cannot reach {gone.host}: {_reason(gone.error)}; gave up after {tries})"


def _describe_failure(exc: requests.RequestException, provider: str, adapter: BaseAdapter) -> str:
    root = _root_cause(exc)
    total = getattr(getattr(adapter, "max_retries", None), "total", 0)
    attempts = (total if isinstance(total, int) else 0) + 1
    tries = f", {attempts} attempts" if attempts > 1 else ""
    if isinstance(exc, requests.Timeout) or isinstance(root, (TimeoutError, urllib3.exceptions.TimeoutError)):
        timeout = getattr(adapter, "timeout", None)
        within = f" within {timeout:g} s" if isinstance(timeout, (int, float)) else ""
        return f"timed out ({provider}: no answer{within}{tries})"
    reason = _reason(exc)
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return f"answer cut off ({provider}: {one_line(reason, DETAIL_CHARS)})"
    return f"connection failed ({provider}: {one_line(reason, DETAIL_CHARS)}{tries})"


def _reason(exc: BaseException) -> str:
    """What went wrong in the error's own words: the OS's, when the cause is an OSError."""
    root = _root_cause(exc)
    return root.strerror if isinstance(root, OSError) and root.strerror else str(root)


def _root_cause(exc: BaseException) -> BaseException:
    """The innermost error behind requests' and urllib3's wrappers (MaxRetryError etc.)."""
    seen = {id(exc)}
    while True:
        inner = getattr(exc, "reason", None)
        if not isinstance(inner, BaseException):
            inner = next((a for a in exc.args if isinstance(a, BaseException)), None) or exc.__cause__
        if inner is None or id(inner) in seen:
            return exc
        seen.add(id(inner))
        exc = inner


def _describe_status(response: requests.Response, provider: str, detail_path: tuple[str, ...]) -> str:
    code = response.status_code
    what = {404: "unknown symbol", 401: "not authorised", 403: "not authorised", 429: "rate limited"}.get(
        code, "request failed"
    )
    history = getattr(getattr(response.raw, "retries", None), "history", ())
    tries = f", {len(history) + 1} attempts" if history else ""
    detail = _error_detail(response, detail_path) or response.reason or "no explanation"
    return f"{what} ({provider} HTTP {code}: {one_line(detail, DETAIL_CHARS)}{tries})"


def _error_detail(response: requests.Response, path: tuple[str, ...]) -> str | None:
    if path:
        try:
            node: Any = response.json()
            for key in path:
                node = node[key]
            return str(node) if node else None
        except (ValueError, KeyError, IndexError, TypeError):
            pass
    text = response.text.strip()
    # An HTML error page says nothing useful in one line; the status reason does.
    return None if not text or text.startswith("<") else text
