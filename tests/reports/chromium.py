"""Headless Chromium driven over the DevTools protocol, for the report's browser test.

Needs nothing from the internet: Debian's `chromium` (.ci/install-system-deps.sh) and the
`websockets` client Prefect already depends on. The browser runs with no network beyond
loopback (every host name resolves to nothing), a throw-away profile, and every request,
console message and uncaught exception it reports is recorded.
"""

import base64
import json
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

from surgewatch.flows.server import stop_process

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")


def chromium_binary() -> str | None:
    """The Chromium executable on PATH (Debian names it `chromium`), or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


class ChromiumError(RuntimeError):
    """The browser did not start or did not answer in time."""


class Chromium:
    """One headless browser with one page; use as a context manager.

    `events` holds every DevTools event received (console, log, network, exceptions).
    """

    def __init__(self, binary: str, profile: Path, *, width: int = 1400, height: int = 1000, timeout: float = 20.0):
        self._binary, self._profile, self._timeout = binary, profile, timeout
        self._size = (width, height)
        self._process: subprocess.Popen | None = None
        self._socket = None
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def __enter__(self) -> "Chromium":
        self._profile.mkdir(parents=True, exist_ok=True)
        log = (self._profile / "chromium.log").open("wb")
        self._process = subprocess.Popen(
            [
                self._binary,
                *FLAGS,
                f"--user-data-dir={self._profile}",
                f"--window-size={self._size[0]},{self._size[1]}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        try:
            self._socket = connect(self._page_socket_url(), max_size=None, open_timeout=self._timeout)
            for domain in ("Page", "Runtime", "Log", "Network"):
                self.call(f"{domain}.enable")
            self.call(
                "Emulation.setDeviceMetricsOverride",
                width=self._size[0],
                height=self._size[1],
                deviceScaleFactor=1,
                mobile=False,
            )
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._socket is not None:
            self._socket.close()
        if self._process is not None:
            stop_process(self._process, seconds=10)

    def _page_socket_url(self) -> str:
        # With port 0 Chromium picks a free port and writes it to DevToolsActivePort.
        port_file = self._profile / "DevToolsActivePort"
        deadline = time.monotonic() + self._timeout
        while not port_file.is_file() or not port_file.read_text().strip():
            if self._process.poll() is not None:
                raise ChromiumError(
                    f"chromium exited with {self._process.returncode}; see {self._profile / 'chromium.log'}"
                )
            if time.monotonic() > deadline:
                raise ChromiumError("chromium did not open its DevTools port in time")
            time.sleep(0.05)
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=self._timeout) as answer:
            targets = json.load(answer)
        return next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")

    def _receive(self, deadline: float) -> dict[str, Any]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ChromiumError("chromium did not answer in time")
        try:
            message = json.loads(self._socket.recv(timeout=remaining))
        except TimeoutError:
            raise ChromiumError("chromium did not answer in time") from None
        if "method" in message:
            self.events.append(message)
        return message

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one DevTools command and return its result (events meanwhile are kept)."""
        self._next_id += 1
        self._socket.send(json.dumps({"id": self._next_id, "method": method, "params": params}))
        deadline = time.monotonic() + self._timeout
        while True:
            message = self._receive(deadline)
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise ChromiumError(f"{method}: {message['error']}")
                return message.get("result", {})

    def open(self, path: Path) -> None:
        """Navigate to a local file and wait for its load event."""
        seen = len(self.events)
        self.call("Page.navigate", url=path.resolve().as_uri())
        deadline = time.monotonic() + self._timeout
        while not any(e["method"] == "Page.loadEventFired" for e in self.events[seen:]):
            self._receive(deadline)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise ChromiumError(f"script failed: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def wait_until(self, expression: str, timeout: float | None = None) -> Any:
        """Poll a JavaScript expression until it is truthy; return its last value either way."""
        deadline = time.monotonic() + (timeout or self._timeout)
        while True:
            value = self.evaluate(expression)
            if value or time.monotonic() > deadline:
                return value
            time.sleep(0.1)

    def screenshot(self, path: Path) -> None:
        """Save a PNG of the whole page, not only the viewport."""
        metrics = self.call("Page.getLayoutMetrics")
        size = metrics["cssContentSize"]
        data = self.call(
            "Page.captureScreenshot",
            format="png",
            captureBeyondViewport=True,
            clip={"x": 0, "y": 0, "width": self._size[0], "height": size["height"], "scale": 1},
        )["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))

    def errors(self) -> list[str]:
        """Console errors, failed assertions, uncaught exceptions and error log entries."""
        found = []
        for event in self.events:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append("console: " + " ".join(str(a.get("value", a.get("description"))) for a in params["args"]))
            elif method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                found.append("exception: " + details.get("exception", {}).get("description", details.get("text", "")))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                found.append(f"log: {params['entry']['text']} {params['entry'].get('url', '')}".strip())
        return found

    def requested_urls(self) -> list[str]:
        """Every URL the page asked for, in order."""
        return [e["params"]["request"]["url"] for e in self.events if e["method"] == "Network.requestWillBeSent"]
