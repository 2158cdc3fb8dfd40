"""How the C allocator treats the large tensors of CPU training.

glibc's malloc hands every allocation above its mmap threshold (at most 32 MiB) to the kernel as a fresh
mapping and unmaps it when freed. A spectrogram network's activations for one batch are hundreds of MiB,
so each batch maps them again and the kernel zero-fills every page on first touch: on 2 cores a third or
more of CPU training time went to those page faults (``benchmarks/cpu_training_memory.py``). Serving
every allocation from the heap and never trimming it lets the next batch reuse the same pages, at the cost
of holding the peak's memory for the rest of the process.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

#: mallopt parameters (glibc's malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
_NEVER_TRIM = 2**31 - 1


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to take every allocation from its heap (no mmap) and never give freed memory back
    to the system, for the rest of this process. Returns whether it took effect: False where the C library
    is not glibc (macOS, Windows, musl), where there is nothing to change."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return False
    if not hasattr(libc, "gnu_get_libc_version"):  # musl has a mallopt that ignores these parameters
        return False
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(libc.mallopt(M_MMAP_MAX, 0)) and bool(libc.mallopt(M_TRIM_THRESHOLD, _NEVER_TRIM))
