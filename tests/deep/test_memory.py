from __future__ import annotations

import platform
import subprocess
import sys
import textwrap

import pytest

# One process per case (the allocator's settings last for the rest of a process). glibc's mallinfo2
# says where a 512 MiB tensor's memory came from and what stayed with the process once it was freed.
WHERE_A_LARGE_TENSOR_LIVES = textwrap.dedent(
    """
    import ctypes, sys
    import torch
    from sonicprint.deep.memory import keep_freed_memory

    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
            "keepcost")]

    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo2
    applied = keep_freed_memory() if sys.argv[1] == "keep" else None
    tensor = torch.ones(128 * 2**20)
    mapped_alone = libc.mallinfo2().hblkhd  # bytes in blocks mapped on their own
    del tensor
    print(applied, mapped_alone, libc.mallinfo2().arena)  # arena: bytes the heap still holds
    """
)
MIB = 2**20


def _large_tensor(mode: str) -> tuple[str, int, int]:
    done = subprocess.run(
        [sys.executable, "-c", WHERE_A_LARGE_TENSOR_LIVES, mode], capture_output=True, text=True, check=True
    )
    applied, mapped_alone, heap = done.stdout.split()
    return applied, int(mapped_alone), int(heap)


@pytest.mark.skipif(
    platform.libc_ver()[0] != "glibc"
    or tuple(int(part) for part in platform.libc_ver()[1].split(".")[:2]) < (2, 33),
    reason="glibc's allocator (mallinfo2 is glibc 2.33+)",
)
def test_kept_memory_comes_from_the_heap_and_stays_there():
    applied, mapped_alone, heap = _large_tensor("keep")
    assert applied == "True"
    assert mapped_alone < 512 * MIB <= heap  # from the heap, and still held for the next batch once freed
    _, mapped_alone, heap = _large_tensor("default")
    assert mapped_alone >= 512 * MIB > heap  # glibc's default: mapped on its own, unmapped when freed
