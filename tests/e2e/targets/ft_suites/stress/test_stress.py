"""A race that shows only when the test body itself runs in several threads
at once (pytest-run-parallel's --parallel-threads): alone, one thread adds to
the counter and the total is right; with N threads and no GIL, updates are
lost (`box["n"] += 1` is a read, an add and a write); with the GIL, none is
(the interpreter hands the GIL over only at calls and backward jumps).

Needs pytest-run-parallel (its num_parallel_threads fixture: 1 alone)."""
import threading

_guard = threading.Lock()
_shared = {}


def test_shared_counter(num_parallel_threads):
    with _guard:
        if not _shared:
            _shared["barrier"] = threading.Barrier(num_parallel_threads)
            _shared["box"] = {"n": 0}
    box, barrier = _shared["box"], _shared["barrier"]
    barrier.wait()
    for _ in range(100000):
        box["n"] += 1
    barrier.wait()
    want = 100000 * num_parallel_threads
    assert box["n"] == want, f"lost {want - box['n']} updates"


def test_alone_is_fine():
    assert sum(range(10)) == 45
