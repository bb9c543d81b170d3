"""Fixtures every test folder may use.

Real data lives in ../shared beside the repo; tests that need it skip cleanly on a bare
clone where it is absent.
"""

import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from _pytest.nodeid import NodeId

from tests.fake_providers import fake_providers  # noqa: F401  (fixtures for every test folder)
from tests.receiver import receiver  # noqa: F401

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
PRICES_DIR = SHARED / "data" / "prices"
REFERENCE_DIR = SHARED / "data" / "reference"

# Tables fit COLUMNS when it is set (surgewatch.present.output.terminal_width); pytest-xdist's
# workers set it to 80, a developer's shell may too. Tests that need a width set their own.
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)
# Prefect and friends must never phone home from a test run.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# A Prefect home per test process (each xdist worker): the temporary servers that
# `surgewatch refresh` subprocesses start create and migrate its SQLite database on first
# use, and two creating one database at once fail (the server exits with code 3), as on
# a fresh CI machine where ~/.prefect does not exist yet.
_PREFECT_HOME = tempfile.mkdtemp(prefix="surgewatch-tests-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
atexit.register(shutil.rmtree, _PREFECT_HOME, ignore_errors=True)
# Helper scripts the tests start as subprocesses import `tests.*`; the installed package
# maps only `surgewatch`, so the repository root goes on their path here (tests only).
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))


# Tests that start real servers, workers or a browser, run the flow in process against a
# real Prefect server, or refresh a warehouse through the CLI first: `make test` runs them, `make
# test-fast` (-m "not slow") leaves them out.
_SLOW_FIXTURES = {
    "prefect_server",
    "prefect_api",
    "warehouse_home",
    "chromium",
    "postgres_server",
    "postgres_settings",
    "s3_server",
}


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist turns xdist_group marks into node ids
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if used & _SLOW_FIXTURES:
            item.add_marker(pytest.mark.slow)
        if _shares_a_module_fixture(item) or item.get_closest_marker("timing"):
            # One worker runs the module's tests (with -n and --dist loadgroup): its module
            # fixture (a crash lab, a fault campaign, a warehouse: 5-35 s) is built once,
            # not once per worker, and the timing tests never overlap one another.
            _group(item, item.nodeid.split("::")[0])


def _group(item: pytest.Item, name: str) -> None:
    """Mark item xdist_group(name), and name it so for --dist loadgroup: pytest-xdist 3.8
    appends "@name" to `item._nodeid`, which pytest 9.2 no longer reads (a node's id is its
    `_id`), so without this its tests would spread over the workers as ungrouped."""
    item.add_marker(pytest.mark.xdist_group(name))
    if getattr(item.config.option, "loadgroup", False):
        item._id = NodeId.parse(f"{item.nodeid}@{name}")


def _shares_a_module_fixture(item: pytest.Item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    defs = info.name2fixturedefs.values() if info else ()
    return any(chain and chain[-1].scope == "module" for chain in defs)


@pytest.fixture(scope="session")
def prices_dir() -> Path:
    """../shared/data/prices, or skip when the shared data is absent."""
    if not (PRICES_DIR / "IWM.csv").is_file():
        pytest.skip("../shared/data/prices is absent (bare clone)")
    return PRICES_DIR


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """../shared/data/reference, or skip when the shared data is absent."""
    if not (REFERENCE_DIR / "published_table.csv").is_file():
        pytest.skip("../shared/data/reference is absent (bare clone)")
    return REFERENCE_DIR


@contextmanager
def read_only_folder(folder: Path) -> Iterator[Path]:
    """Make `folder` truly unwritable while inside: immutable (chattr +i) for root, whom
    permission bits do not stop; mode 0555 for anyone else. Skips where neither holds."""
    if os.geteuid() == 0:
        if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
            pytest.skip("chattr +i is not supported here: no way to make a folder read-only for root")
        undo = ["chattr", "-i", str(folder)]
    else:
        mode = folder.stat().st_mode
        folder.chmod(0o555)
        undo = None
    try:
        yield folder
    finally:
        if undo:
            subprocess.run(undo, check=True)
        else:
            folder.chmod(mode)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory):
    """A real `prefect server` on a free loopback port, for tests that run the CLI or a
    worker in other processes; yields (api_url, environment for those processes)."""
    tmp_path = tmp_path_factory.mktemp("prefect-server")
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("SURGEWATCH_", "PREFECT_"))}
    env = {
        **inherited,
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(f"{api}/health", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "prefect server did not start"
            time.sleep(0.5)
        yield api, env
    finally:
        server.terminate()
        server.wait(timeout=30)
