"""The writer's folders: SURGEWATCH_HOME (the writer lock, the SQLite catalog) and a local
SURGEWATCH_DATA_PATH (the Parquet files) must be folders this process can write.

Checked before any work, by a real write (a probe file made and removed at once): a
read-only mount, an immutable folder or a path under /proc answer only to trying, and
permission bits say nothing to root.
"""

import tempfile
from pathlib import Path

from surgewatch.core.errors import WarehouseError
from surgewatch.core.settings import Settings
from surgewatch.warehouse.storage import is_object_store


def check_writable(settings: Settings) -> None:
    """Create SURGEWATCH_HOME (and a local DATA_PATH) if missing and make sure both can be
    written; WarehouseError naming the setting, the path and the reason otherwise."""
    _writable_folder("SURGEWATCH_HOME", Path(settings.home).expanduser().absolute())
    if not is_object_store(settings.lake_path):
        _writable_folder("SURGEWATCH_DATA_PATH", Path(settings.lake_path).expanduser().absolute())


def _writable_folder(setting: str, path: Path) -> None:
    try:
        if not path.exists():
            if not path.parent.exists():
                raise WarehouseError(
                    f"{setting} {path}: its parent folder {path.parent} does not exist (create it, or fix the path)"
                )
            if not path.parent.is_dir():
                raise WarehouseError(f"{setting} {path}: its parent {path.parent} is not a folder")
            path.mkdir()
        elif not path.is_dir():
            raise WarehouseError(f"{setting} {path} is not a folder")
        with tempfile.TemporaryFile(dir=path, prefix=".surgewatch-probe-"):
            pass
    except OSError as exc:
        raise WarehouseError(f"{setting} {path} is not a folder surgewatch can write: {exc.strerror or exc}") from None
