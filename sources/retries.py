"""urllib3's Retry, made to say each retry while it waits and to stop asking a host that
cannot be reached.

Each retry is announced through surgewatch.core.progress before its wait ("yahoo: connection
failed for IWM, retrying in 8 s (attempt 2 of 6)"): the refresh shows it on its progress
bar on a terminal, and as one line otherwise.

A host whose name does not resolve, or that refuses the connection or cannot be routed to
(urllib3's NewConnectionError: no request reached it), and that has not answered once in
this session, gets UNREACHABLE_ATTEMPTS attempts (about 1.5 s of waiting with the default
backoff) and is then given up: the machine's network is rarely mended by waiting minutes,
and every later request to it fails at once with the same reason (see `Reachability`).
A host that answers, even with 429 or 5xx, or that times out, keeps the patient retries.
"""

import threading
import time
from collections import defaultdict
from contextvars import ContextVar
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from urllib3.connectionpool import ConnectionPool
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError, TimeoutError
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from surgewatch.core.progress import report_retry

UNREACHABLE_ATTEMPTS = 3

# The ticker a request is for, set by http.fetch around its request so that a retry can
# name it: urllib3 retries inside the calling thread, where this value is visible.
REQUEST_FOR: ContextVar[str] = ContextVar("surgewatch_request_for", default="")


@dataclass(frozen=True)
class Unreachable:
    """A host given up on: the connection error that decided it, after how many attempts."""

    host: str
    error: NewConnectionError
    attempts: int


class Reachability:
    """Which hosts answered in one session, and which were given up before they did.

    Shared by the threads of one run: the first give-up of a host is the one every later
    request is told about, and it wakes the requests waiting to retry that host.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._answered: set[str] = set()
        self._gone: dict[str, Unreachable] = {}
        self._given_up: defaultdict[str, threading.Event] = defaultdict(threading.Event)

    def answered(self, host: str) -> None:
        self._answered.add(host)

    def has_answered(self, host: str) -> bool:
        return host in self._answered

    def give_up(self, host: str, error: NewConnectionError, attempts: int) -> None:
        with self._lock:
            self._gone.setdefault(host, Unreachable(host, error, attempts))
            self._given_up[host].set()

    def wait(self, host: str, seconds: float) -> None:
        """Sleep `seconds`, or until the host is given up."""
        with self._lock:
            given_up = self._given_up[host]
        given_up.wait(seconds)

    def unreachable(self, host: str) -> Unreachable | None:
        """The host's give-up, unless it has answered since."""
        return None if host in self._answered else self._gone.get(host)


class AnnouncedRetry(Retry):
    """A Retry that announces each retry and gives up early on an unreachable host."""

    def __init__(self, *args: Any, provider: str = "", hosts: Reachability | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.provider = provider
        self.hosts = hosts if hosts is not None else Reachability()

    def new(self, **kw: Any) -> Self:
        # urllib3 passes these keywords on to the copy's constructor.
        return super().new(provider=self.provider, hosts=self.hosts, **kw)

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        if isinstance(error, NewConnectionError) and self._unanswered(error):
            host = error.conn.host
            attempts = 1 + sum(isinstance(h.error, NewConnectionError) for h in self.history)
            if self.hosts.unreachable(host) or attempts >= self._limit(error):
                self.hosts.give_up(host, error, attempts)
                raise MaxRetryError(_pool, url, error) from error  # type: ignore[arg-type]  # as urllib3 raises it
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        """Retry's own wait (Retry-After, else the backoff), announced first."""
        retry_after = self.get_retry_after(response) if self.respect_retry_after_header and response else None
        wait = retry_after or self.get_backoff_time()
        last = self.history[-1]
        ticker = REQUEST_FOR.get()
        when = f"in {wait:.0f} s" if wait >= 0.5 else "now"
        report_retry(
            f"{self.provider}: {_what_failed(last.error, last.status)}{f' for {ticker}' if ticker else ''}, "
            f"retrying {when} (attempt {len(self.history) + 1} of {self._limit(last.error)})"
        )
        if isinstance(last.error, NewConnectionError):
            self.hosts.wait(last.error.conn.host, wait)
        elif wait > 0:
            time.sleep(wait)

    def _unanswered(self, error: NewConnectionError) -> bool:
        return not self.hosts.has_answered(error.conn.host)

    def _limit(self, error: Exception | None) -> int:
        """How many attempts this request gets, fewer while its host never answered."""
        attempts = len(self.history) + int(self.total or 0) + 1  # make_session always sets total
        if isinstance(error, NewConnectionError) and self._unanswered(error):
            return min(attempts, UNREACHABLE_ATTEMPTS)
        return attempts


def _what_failed(error: Exception | None, status: int | None) -> str:
    if status is not None:
        return f"HTTP {status}"
    if isinstance(error, NewConnectionError):  # before TimeoutError: urllib3 derives it from that
        return "connection failed"
    if isinstance(error, TimeoutError):
        return "no answer"
    if isinstance(error, ProtocolError):
        return "connection broken"
    return "request failed"
