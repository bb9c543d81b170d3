"""pandera's polars API, imported without pandas.

pandera's package `__init__` imports pandas whenever it can, and so does its first check
(looking for pandas-like frame types): 0.3 s of a one-ticker study, though its polars
backend needs none. When pandas is not loaded yet, it is hidden from that import and from
that look-up (whose answer pandera caches), so pandera takes its own polars-only path, the
one a polars-only install takes. A process that loaded pandas already (a report, the
calendar's first build) imports pandera as usual. pandas itself stays importable afterwards.
"""

import importlib.abc
import sys
from types import ModuleType


class _NoPandas(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError("No module named 'pandas'", name=name)
        return None


def polars_api() -> ModuleType:
    """`pandera.polars`, imported (once) without pulling pandas in."""
    if "pandera" in sys.modules or "pandas" in sys.modules:
        import pandera.polars

        return pandera.polars
    finder = _NoPandas()
    sys.meta_path.insert(0, finder)
    try:
        import pandera.polars
        from pandera.backends import register_checks

        # pandera 0.35 caches this look-up (lru_cache): None here means polars frames
        # never send a check through the pandas types again.
        getattr(register_checks, "_load_get_backend_types_from_mro", lambda: None)()
    finally:
        sys.meta_path.remove(finder)
    return pandera.polars


polars_api()  # on import: the package imports this module before its models
