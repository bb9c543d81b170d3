"""A local stand-in for FRED's public graph CSV (`/graph/fredgraph.csv?id=ID`) on
127.0.0.1: the series it holds answer as FRED serves them (`observation_date,ID`, a
month per line, `.` for a missing value, every line ended), an unknown id gets FRED's
404 web page, and per-id scripted faults answer the next requests the way a provider
fails: "429" (Retry-After: 0), "503", "stall" (no answer for 5 s), "truncated" (the
body cut mid-line), "html" (a web page with status 200)."""

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest


class FakeFred:
    def __init__(self) -> None:
        self.series: dict[str, str] = {}
        self.faults: dict[str, list[str]] = {}
        self.hits: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(fake: FakeFred) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            ident = parse_qs(parts.query).get("id", [""])[0]
            fake.hits.append(ident)
            fault = fake.faults.get(ident, []).pop(0) if fake.faults.get(ident) else None
            body = fake.series.get(ident)
            if parts.path != "/graph/fredgraph.csv" or (body is None and fault is None):
                return self._send(
                    404, b"<!DOCTYPE html><html><body>Error - series does not exist</body></html>", "text/html"
                )
            if fault == "429":
                return self._send(429, b"Too Many Requests", "text/plain", {"Retry-After": "0"})
            if fault == "503":
                return self._send(503, b"Service Unavailable", "text/plain")
            if fault == "stall":
                time.sleep(5)
                return self._send(200, (body or "").encode(), "text/csv")
            if fault == "html":
                return self._send(
                    200, b"<html><head><title>FRED</title></head><body>maintenance</body></html>", "text/html"
                )
            data = (body or "").encode()
            if fault == "truncated":
                data = data[: len(data) // 2 + 3]
            self._send(200, data, "text/csv")

        def _send(self, status: int, body: bytes, kind: str, headers: dict[str, str] | None = None) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler


@pytest.fixture
def fake_fred() -> Iterator[FakeFred]:
    fake = FakeFred()
    try:
        yield fake
    finally:
        fake.stop()
