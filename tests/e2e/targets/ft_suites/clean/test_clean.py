"""A suite with nothing wrong: it passes with and without the GIL."""
import threading
from concurrent.futures import ThreadPoolExecutor


def test_arithmetic():
    assert sum(range(1000)) == 499500


def test_locked_counter():
    # the same read-modify-write as the race suite, under a lock
    lock = threading.Lock()
    box = {"n": 0}

    def add(count):
        for _ in range(count):
            with lock:
                box["n"] += 1

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(add, [20000] * 4))
    assert box["n"] == 80000
