"""Fixtures for the warehouse tests: throwaway warehouses, the shared factories as `build`,
and a real PostgreSQL server on loopback for the shared-catalog tests."""

import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from surgewatch.core.settings import Settings
from tests.conftest import free_port
from tests.warehouse.s3_server import s3_server  # noqa: F401  (a fixture, shared by the S3 tests)
from tests.factories import SESSIONS, STUDY, make_prices, make_results, make_run, publish, settings_for


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_for(tmp_path / "home")


class Builders:
    """tests.factories, handed to tests as the `build` fixture."""

    settings = staticmethod(settings_for)
    run = staticmethod(make_run)
    prices = staticmethod(make_prices)
    results = staticmethod(make_results)
    publish = staticmethod(publish)
    study = STUDY
    sessions = SESSIONS


@pytest.fixture(scope="session")
def build() -> type[Builders]:
    return Builders


# -- PostgreSQL --------------------------------------------------------------------------


@dataclass(frozen=True)
class PostgresServer:
    bin_dir: Path
    port: int

    def create_database(self, name: str) -> str:
        """Create a database and return its libpq conninfo."""
        subprocess.run(
            [str(self.bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name],
            check=True,
            capture_output=True,
        )
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={name}"


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _postgres_bin_dir() -> Path | None:
    """Debian's versioned bin dirs (newest first), then whatever pg_ctl is on PATH."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for directory in candidates:
        if all((directory / tool).is_file() for tool in ("initdb", "pg_ctl", "createdb")):
            return directory
    return None


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL cluster on 127.0.0.1 (trust auth, fsync off).

    Skips only when no PostgreSQL binaries exist and CI is not set; in CI a missing
    server is a failure (.ci/install-system-deps.sh installs it).
    """
    bin_dir = _postgres_bin_dir()
    if bin_dir is None:
        if _ci():
            pytest.fail("PostgreSQL binaries (initdb, pg_ctl) not found and CI is set: run .ci/install-system-deps.sh")
        pytest.skip("no PostgreSQL binaries (initdb, pg_ctl); CI=true turns this into a failure")
    root = Path(tempfile.mkdtemp(prefix="surgewatch-pg-"))
    as_user: dict = {}
    if os.geteuid() == 0:
        # initdb refuses to run as root: run the server as the packaged postgres user,
        # in a directory it owns (pytest's tmp_path is root-only, hence mkdtemp).
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            pytest.fail("running as root but there is no 'postgres' user to run PostgreSQL as")
        os.chown(root, account.pw_uid, account.pw_gid)
        as_user = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    data, port = root / "data", free_port()
    server_options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={root} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    try:
        subprocess.run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ],
            check=True,
            capture_output=True,
            **as_user,
        )
        subprocess.run(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(root / "server.log"),
                "-w",
                "-t",
                "30",
                "-o",
                server_options,
                "start",
            ],
            check=True,
            capture_output=True,
            **as_user,
        )
    except subprocess.CalledProcessError as exc:
        log = (root / "server.log").read_text() if (root / "server.log").exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"could not start PostgreSQL: {exc.stderr.decode(errors='replace')}{log}")
    try:
        yield PostgresServer(bin_dir, port)
    finally:
        subprocess.run(
            [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], capture_output=True, **as_user
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_settings(postgres_server: PostgresServer, tmp_path: Path, request) -> Settings:
    """Settings whose catalog is a fresh database on the test server."""
    name = "sw_" + "".join(c if c.isalnum() else "_" for c in request.node.name.lower())[:50]
    conninfo = postgres_server.create_database(name)
    return settings_for(tmp_path / "home", catalog=f"postgres:{conninfo}")
