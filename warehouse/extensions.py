"""Where the pip-packaged DuckDB extensions and CLI live, and how to load them offline.

`INSTALL ducklake` would fetch from the network, which this project may not have (SPEC §5),
so the extension files shipped in the duckdb-extension-* wheels are LOADed by path.
"""

import importlib
import os
import sys
from typing import Any
from pathlib import Path

import duckdb

from surgewatch.core.errors import WarehouseError

_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    # Fail at once instead of trying the network when something needs an extension
    # we did not load ourselves.
    "autoinstall_known_extensions": "false",
    "autoload_known_extensions": "false",
    # A night reads a window of a lake of GBs: DuckDB's defaults (80% of RAM as buffer
    # pool, file blocks cached in memory) would hold GBs the next statement never reads.
    "memory_limit": "512MB",
    "enable_external_file_cache": "false",
    # LOAD checks an extension's signature by hashing its file: 0.23 s a connection for
    # ducklake and sqlite_scanner (70 MB), a quarter of a small night's work. We LOAD only
    # the files pip installed beside duckdb's own library, which runs unchecked, so the
    # check adds no trust; a locked-down reader (connection.lock_down) loads nothing.
    "allow_unsigned_extensions": "true",
}


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Any:
    """The one value a one-row, one-column SELECT returns."""
    row = con.execute(sql, params).fetchone()
    if row is None:
        raise WarehouseError(f"no row from {sql.split()[0]} ...: the catalog is not what this version expects")
    return row[0]


def sql_literal(text: str) -> str:
    """Quote text as a SQL string literal.

    Only for statements that take no bound parameters (ATTACH, LOAD, SET), and only for
    settings and paths, never for values a user typed into a query.
    """
    return "'" + text.replace("'", "''") + "'"


def extension_path(name: str) -> Path:
    """The packaged extension file for this DuckDB version, e.g. name='ducklake'."""
    package = f"duckdb_extension_{name}"
    wheel = "duckdb-extension-" + name.replace("_", "-") + "==" + duckdb.__version__
    try:
        module = importlib.import_module(package)
    except ImportError:
        raise WarehouseError(f"DuckDB extension {name} is not installed: pip install {wheel}") from None
    path = Path(str(module.__file__)).parent / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if not path.is_file():
        raise WarehouseError(f"no {name} extension for DuckDB {duckdb.__version__} at {path}: pip install {wheel}")
    return path


def load_statements(names: tuple[str, ...]) -> list[str]:
    """The LOAD statements for the named extensions (also used for the CLI's init)."""
    return [f"LOAD {sql_literal(str(extension_path(name)))}" for name in names]


def connect(names: tuple[str, ...]) -> duckdb.DuckDBPyConnection:
    """A fresh in-memory DuckDB with the named extensions loaded and UTC as its time zone."""
    con = duckdb.connect(config=_CONFIG)
    for statement in load_statements(names):
        con.execute(statement)
    con.execute("SET TimeZone = 'UTC'")
    # A statement of more than 2 s would otherwise draw a bar over `--quiet` output.
    con.execute("SET enable_progress_bar = false")
    return con


def cli_binary() -> Path:
    """The duckdb executable shipped in the duckdb-cli wheel (its launcher would add an
    extension directory we do not use, so the binary is run directly)."""
    try:
        import duckdb_cli
    except ImportError:
        raise WarehouseError(
            f"the DuckDB shell is not installed: pip install duckdb-cli=={duckdb.__version__}"
        ) from None
    binary = Path(duckdb_cli.__file__).parent / ("duckdb.exe" if sys.platform == "win32" else "duckdb")
    if not binary.is_file():
        raise WarehouseError(f"the duckdb-cli package has no bundled binary at {binary}")
    return binary


def cli_argv(statements: list[str]) -> list[str]:
    """The argv that starts the DuckDB CLI after running `statements`, ready for os.execv.

    The statements may hold secrets (an S3 key, a catalog password), so they are not
    passed as -cmd arguments, which anyone on the machine can read in the process list,
    nor written to a file: they go through a pipe this process fills and the CLI reads
    as its -init file (/dev/fd/N, inherited across exec). Init-file lines never enter
    the shell's history, which only records what is typed.
    """
    # Their results (CREATE SECRET answers a "Success" table) are not the user's business.
    script = ".output /dev/null\n" + "".join(statement + ";\n" for statement in statements) + ".output\n"
    read_end, write_end = os.pipe()
    try:
        # A pipe holds 64 KiB before write() blocks; a few LOADs, a secret and an ATTACH
        # are far below that.
        os.write(write_end, script.encode())
    finally:
        os.close(write_end)
    os.set_inheritable(read_end, True)
    return [str(cli_binary()), "-init", f"/dev/fd/{read_end}"]
