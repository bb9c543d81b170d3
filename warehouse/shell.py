"""`surgewatch shell`: the DuckDB CLI on the warehouse."""

from surgewatch.warehouse.catalog import ALIAS, Catalog
from surgewatch.warehouse.extensions import cli_binary, load_statements


def shell_command(catalog: Catalog) -> list[str]:
    """The argv that starts the DuckDB CLI (from the duckdb-cli wheel) with the
    extensions loaded from their wheels and the warehouse attached as `lake` (USE'd).

    The lake is attached READ_ONLY: snapshots are the audit trail of the runs, and a
    shell write would bypass the writer lock. The statements are passed as
    -cmd arguments, so no init file has to be written or cleaned up; for a PostgreSQL
    catalog that means the conninfo is visible in the process list, so keep its
    password in ~/.pgpass or PGPASSWORD rather than in SURGEWATCH_CATALOG.
    """
    statements = [*load_statements(catalog.extensions), catalog.attach_sql(read_only=True), f"USE {ALIAS}"]
    argv = [str(cli_binary())]
    for statement in statements:
        argv += ["-cmd", statement]
    return argv
