"""`surgewatch shell`: the DuckDB CLI on the warehouse."""

from surgewatch.warehouse.catalog import ALIAS, Catalog
from surgewatch.warehouse.extensions import cli_argv


def shell_command(catalog: Catalog) -> list[str]:
    """The argv that starts the DuckDB CLI (from the duckdb-cli wheel) with the
    extensions loaded from their wheels and the warehouse attached as `lake` (USE'd).

    The lake is attached READ_ONLY: snapshots are the audit trail of the runs, and a
    shell write would bypass the writer lock. The statements (which may hold the S3
    secret and the catalog's password) reach the CLI through a pipe, never the command
    line or a file: see extensions.cli_argv.
    """
    return cli_argv([*catalog.setup_statements(), catalog.attach_sql(read_only=True), f"USE {ALIAS}"])
