"""The `surgewatch` command: a thin shell over the library functions.

Every expected failure is a SurgewatchError, printed as one line on stderr with a
non-zero exit; a traceback means a bug. The commands live beside this module, one
module per kind of work (studies, the nightly job, the warehouse).
"""

import atexit
import logging
import os
import re
import sys
from functools import cache
from typing import Annotated, NoReturn

import typer
from typer._click import exceptions as click_errors  # the pinned typer raises its vendored click's

from surgewatch.core.errors import SurgewatchError

app = typer.Typer(
    help="What usually happens after a month like this? Month-end surge signals and their forward returns.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

FormatOpt = Annotated[str, typer.Option("--format", "-f", help="table, csv or json.")]


def _print_version(asked: bool) -> None:
    """`--version`: this surgewatch's version and schema, and the warehouse's schema when one opens."""
    if not asked:
        return
    from surgewatch import __version__
    from surgewatch.core.settings import load_settings
    from surgewatch.warehouse import MIGRATIONS, Warehouse

    typer.echo(f"surgewatch {__version__} (schema version {MIGRATIONS[-1].version})")
    try:
        with Warehouse.open(load_settings(), read_only=True) as wh:
            typer.echo(f"warehouse: schema version {wh.schema_version()}")
    except SurgewatchError as exc:
        typer.echo(f"warehouse: {exc}")  # says "no warehouse at …" when there is none
    raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_print_version, help="Print the version and the warehouse's schema."
        ),
    ] = False,
) -> None:
    """Options before the command (only --version)."""


WideOpt = Annotated[
    bool, typer.Option("--wide", help="Every column on a terminal (default: the columns a reader needs first).")
]


_ARGUMENT = re.compile(r"`([a-z][a-z_]*)`")


@cache
def _flags() -> dict[str, str]:
    """Each option's parameter name → its long flag, over every command."""
    group = typer.main.get_command(app)
    commands = getattr(group, "commands", {}).values()
    return {
        param.name: max(param.opts, key=len)
        for command in commands
        for param in command.params
        if param.name and any(o.startswith("--") for o in param.opts)
    }


def in_flags(text: str) -> str:
    """A library message with the arguments it names (`as_of`) as this command's flags
    (--as-of); a name no command has stays as written."""
    return _ARGUMENT.sub(lambda m: _flags().get(m.group(1), m.group(0)), text)


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: one-line errors, documented exit codes."""
    try:
        result = app(args=argv, prog_name="surgewatch", standalone_mode=False)
    except SurgewatchError as exc:
        typer.echo(f"error: {in_flags(str(exc))}", err=True)
        return exc.exit_code
    except click_errors.NoArgsIsHelpError as exc:
        typer.echo(exc.format_message())
        return 0
    except click_errors.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "surgewatch"
        typer.echo(f"error: {exc.format_message()} (try `{command} --help`)", err=True)
        return exc.exit_code
    except click_errors.ClickException as exc:
        typer.echo(f"error: {exc.format_message()}", err=True)
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("aborted", err=True)
        return 130
    return result if isinstance(result, int) else 0


def run() -> NoReturn:
    """The `surgewatch` executable: main(), then out without the interpreter's teardown.

    Python's exit runs the atexit handlers (Prefect's log and event workers drain,
    temporary folders go) and then frees every module: with Prefect, pandera and scipy
    loaded that teardown alone took 0.65-0.9 s of a 3-ticker night (SPEC §4b: <= 5 s).
    The handler registered here runs after every handler registered later, that is
    after all but logging's (which it calls itself), and ends the process there with
    main's exit code (1 when main raised: Python's own code for a traceback).
    """
    code = 1

    def leave() -> None:
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # a closed pipe (`| head`) or stream
                pass
        os._exit(code)

    atexit.register(leave)
    code = main()
    sys.exit(code)
