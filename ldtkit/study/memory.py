"""Process memory: fewer glibc heaps for the runner's threads, freed heap pages given back.

On Linux, glibc gives every thread that allocates while another holds the main heap a heap of its
own (an "arena", up to eight per core), and each keeps the memory freed in it for later. A run's
scenario threads and the numba kernels' threads thus hold memory that no thread uses any more
(Ghent, baseline and three scenarios: about 60 MB at the peak of a run). A dashboard kernel builds
and drops much while it starts and then lives long. Elsewhere (another C library, another system)
these functions do nothing.

Examples
--------
>>> fewer_malloc_arenas()
>>> give_memory_back()
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import sys

__all__ = ["MALLOC_ARENAS", "fewer_malloc_arenas", "give_memory_back"]

#: Heaps glibc may make for the process's threads (glibc's own default: 8 per core).
MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # mallopt parameter, <malloc.h>


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (e.g. musl)
        return None


def fewer_malloc_arenas(arenas: int = MALLOC_ARENAS) -> None:
    """Let glibc make at most ``arenas`` heaps for threads created from now on, unless the
    ``MALLOC_ARENA_MAX`` environment variable already sets the number."""
    libc = _libc()
    if libc is not None and "MALLOC_ARENA_MAX" not in os.environ:
        with contextlib.suppress(AttributeError):
            libc.mallopt(_M_ARENA_MAX, int(arenas))


def give_memory_back() -> None:
    """Collect garbage, then return the heap pages that are free to the system (``malloc_trim``)."""
    gc.collect()
    libc = _libc()
    if libc is not None:
        with contextlib.suppress(AttributeError):
            libc.malloc_trim(0)
