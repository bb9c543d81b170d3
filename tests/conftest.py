"""Fixtures every test folder may use.

Real data lives in ../shared beside the repo; tests that need it skip cleanly on a bare
clone where it is absent.
"""

import os
import socket
from pathlib import Path

import pytest

from tests.fake_providers import fake_providers  # noqa: F401  (fixtures for every test folder)
from tests.receiver import receiver  # noqa: F401

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
PRICES_DIR = SHARED / "data" / "prices"
REFERENCE_DIR = SHARED / "data" / "reference"

# Prefect and friends must never phone home from a test run.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# Helper scripts the tests start as subprocesses import `tests.*`; the installed package
# maps only `surgewatch`, so the repository root goes on their path here (tests only).
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))


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


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
