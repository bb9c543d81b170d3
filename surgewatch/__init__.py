"""surgewatch: what usually happens after a month like this?"""

from surgewatch.core.allocator import limit_malloc_arenas

__version__ = "0.1.0"

# Before any thread (polars', numpy's, the study's) first allocates: glibc fixes a
# thread's arena then, and a limit set later leaves the arenas already made.
limit_malloc_arenas()
