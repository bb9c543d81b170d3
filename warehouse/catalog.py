"""The DuckLake catalog named by SURGEWATCH_CATALOG: how to connect to it (with the object
store's secret for an s3:// DATA_PATH), attach it, and name it in messages without leaking
a password."""

import dataclasses
import os
import shutil
import sqlite3
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb

from surgewatch.core.errors import WarehouseError, one_line, redact
from surgewatch.core.settings import Settings
from surgewatch.warehouse.extensions import connect, load_statements, sql_literal
from surgewatch.warehouse.storage import ObjectStore

ALIAS = "lake"


def _absolute_location(location: str) -> str:
    """Local data paths are made absolute because DuckLake stores the path it was created
    with; URLs (s3://…) are kept as given. Either way it ends with a slash."""
    if "://" not in location:
        location = str(Path(location).expanduser().resolve())
    return location if location.endswith("/") else location + "/"


@dataclass(frozen=True)
class Catalog:
    """Where the DuckLake metadata lives (kind + path or libpq conninfo) and its data files
    (a local folder, or object storage reached through `store`)."""

    kind: Literal["sqlite", "postgres"]
    target: str
    data_path: str
    store: ObjectStore | None = None
    # Where a private copy (see readable) was taken from: the catalog messages name.
    original: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> "Catalog":
        """Parse Settings.catalog_uri; file catalogs get absolute paths."""
        kind, _, target = settings.catalog_uri.partition(":")
        if kind not in ("sqlite", "postgres") or not target:
            raise WarehouseError(
                f"SURGEWATCH_CATALOG must be sqlite:<path> or postgres:<conninfo>, not {redact(settings.catalog_uri)!r}"
            )
        if kind != "postgres":
            target = str(Path(target).expanduser().resolve())
        store = ObjectStore.from_settings(settings)
        return cls(kind, target, _absolute_location(settings.lake_path), store)  # type: ignore[arg-type]  # kind checked just above

    @property
    def extensions(self) -> tuple[str, ...]:
        """The DuckDB extensions attaching this catalog needs."""
        scanner = {"sqlite": ("sqlite_scanner",), "postgres": ("postgres_scanner",)}
        return ("ducklake", *scanner[self.kind], *(("httpfs",) if self.store else ()))

    def setup_statements(self) -> list[str]:
        """What a fresh DuckDB runs before attaching: LOAD the extensions and, for object
        storage, create the S3 secret (so the list holds a secret: execute it, never show it)."""
        return [*load_statements(self.extensions), *([self.store.secret_sql()] if self.store else [])]

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A fresh in-memory DuckDB ready to attach this catalog."""
        con = connect(self.extensions)
        if self.store:
            try:
                con.execute(self.store.secret_sql())
            except duckdb.Error as exc:
                con.close()
                raise WarehouseError(
                    f"bad object storage settings (SURGEWATCH_S3_*): {self.redact(one_line(exc))}"
                ) from None
        return con

    @property
    def display(self) -> str:
        """The catalog for messages: the path, or the conninfo with its password masked."""
        return f"{self.kind}:{redact(self.original or self.target)}"

    def redact(self, text: str) -> str:
        """Mask the catalog's password and the object store's secret in an error text
        (DuckDB echoes the conninfo)."""
        text = redact(text.replace(self.target, redact(self.target)))
        return self.store.redact(text) if self.store else text

    def is_missing_file(self) -> bool:
        """True when a file catalog does not exist (a server catalog cannot tell without
        connecting, so it is never 'missing' here)."""
        return self.kind != "postgres" and not Path(self.target).is_file()

    def holds_data(self) -> bool:
        """True when DATA_PATH is a local folder holding a lake's files (DuckLake keeps
        the schema `main` in a folder of that name): the settings then say where the
        data is, even if the catalog recorded another place (a moved or copied home)."""
        return "://" not in self.data_path and Path(self.data_path, "main").is_dir()

    def attach_sql(self, *, read_only: bool, snapshot: int | None = None) -> str:
        """ATTACH takes no bound parameters, so the settings are quoted as literals.

        DuckLake keeps the data path it was created with and refuses a different one.
        When DATA_PATH holds the lake's files, it is passed with OVERRIDE_DATA_PATH (for
        this connection only; the catalog keeps its record), so a warehouse copied or
        moved with its home opens from its new place, and a copy reads its own files.
        Otherwise a reader uses the recorded path and a writer passes DATA_PATH, which
        creates a new lake there or is refused as a mismatch.
        """
        options = ["READ_ONLY"] if read_only else []
        if self.holds_data():
            options.append(f"DATA_PATH {sql_literal(self.data_path)}, OVERRIDE_DATA_PATH true")
        elif not read_only:
            options.append(f"DATA_PATH {sql_literal(self.data_path)}")
        if snapshot is not None:
            options.append(f"SNAPSHOT_VERSION {int(snapshot)}")
        source = sql_literal(f"ducklake:{self.kind}:{self.target}")
        return f"ATTACH {source} AS {ALIAS} ({', '.join(options)})"

    def readable(self, resources: ExitStack) -> "Catalog":
        """This catalog, or a private copy when it is a SQLite file in a folder this
        process cannot write (a read-only mount, an immutable or another user's folder).

        SQLite in WAL mode creates a -shm file beside the catalog even to read, so such a
        folder cannot be read in place ("attempt to write a readonly database"). The copy
        (with any -wal file, which SQLite then replays) lives until `resources` close; it
        shows the version current when it was taken.
        """
        folder = Path(self.target).parent
        if self.kind != "sqlite" or os.access(folder, os.W_OK):
            return self
        copies = Path(tempfile.mkdtemp(prefix="surgewatch-catalog-"))
        resources.callback(shutil.rmtree, copies, ignore_errors=True)
        copy = copies / Path(self.target).name
        try:
            for suffix in ("", "-wal"):
                if Path(self.target + suffix).exists():
                    shutil.copyfile(self.target + suffix, str(copy) + suffix)
        except OSError as exc:
            raise WarehouseError(f"cannot read the catalog {self.display}: {exc.strerror or one_line(exc)}") from None
        return dataclasses.replace(self, target=str(copy), original=self.target)

    def prepare_for_writer(self) -> None:
        """Create what a writer needs before attaching: parent folders, and for SQLite the
        WAL journal.

        SQLite's default rollback journal makes readers wait (and, past the 5 s busy
        timeout of DuckDB's sqlite scanner, fail with "database is locked") whenever a
        DuckLake commit holds the file lock; in WAL mode readers keep reading the last
        committed state while a writer commits. The mode is stored in the file, so setting
        it once per writable open also upgrades catalogs created before this existed.
        """
        if "://" not in self.data_path:
            Path(self.data_path).mkdir(parents=True, exist_ok=True)
        if self.kind == "postgres":
            return
        Path(self.target).parent.mkdir(parents=True, exist_ok=True)
        if self.kind == "sqlite":
            con = sqlite3.connect(self.target, timeout=10)
            try:
                con.execute("PRAGMA journal_mode=WAL")
            except sqlite3.OperationalError:
                # A reader holds the file: WAL is switched on by the next writer instead;
                # until then readers rely on Warehouse's retry on "database is locked".
                pass
            finally:
                con.close()
