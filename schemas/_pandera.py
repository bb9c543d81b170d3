"""pandera's polars API, imported without pandas or hypothesis.

pandera's package `__init__` imports pandas whenever it can, and so does its first check
(looking for pandas-like frame types): 0.3 s of a one-ticker study, though its polars
backend needs none. Its built-in checks import its data-synthesis strategies, which import
hypothesis wherever the test extras are installed (0.18 s more); surgewatch synthesises
nothing with them. When pandas or hypothesis is not loaded yet, it is hidden from that
import and from that look-up (whose answer pandera caches), so pandera takes the path an
install without them takes. A process that loaded pandas already (a report, the calendar's
first build) imports pandera with it. Both stay importable afterwards.
"""

import importlib.abc
import sys
from types import ModuleType


class _Hidden(importlib.abc.MetaPathFinder):
    def __init__(self, names: set[str]) -> None:
        self.names = names

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name.partition(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def polars_api() -> ModuleType:
    """`pandera.polars`, imported (once) without pulling pandas or hypothesis in."""
    hidden = {name for name in ("pandas", "hypothesis") if name not in sys.modules}
    if "pandera" in sys.modules or not hidden:
        import pandera.polars

        return pandera.polars
    finder = _Hidden(hidden)
    sys.meta_path.insert(0, finder)
    try:
        import pandera.polars
        import pandera.backends.polars.builtin_checks  # noqa: F401  (else the first check imports it, and hypothesis)
        from pandera.backends import register_checks

        # pandera 0.35 caches this look-up (lru_cache): None here means polars frames
        # never send a check through the pandas types again.
        getattr(register_checks, "_load_get_backend_types_from_mro", lambda: None)()
    finally:
        sys.meta_path.remove(finder)
    return pandera.polars


polars_api()  # on import: the package imports this module before its models
