"""`surgewatch`: the app (cli.app) and its commands, registered by importing their modules
in the order `surgewatch --help` lists them."""

from surgewatch.cli import studies  # noqa: F401, I001  (each module registers its commands)
from surgewatch.cli import relative  # noqa: F401
from surgewatch.cli import nightly  # noqa: F401
from surgewatch.cli import queries  # noqa: F401
from surgewatch.cli import alerting  # noqa: F401
from surgewatch.cli import context  # noqa: F401
from surgewatch.cli import scan  # noqa: F401
from surgewatch.cli.app import app, main, run

__all__ = ["app", "main", "run"]
