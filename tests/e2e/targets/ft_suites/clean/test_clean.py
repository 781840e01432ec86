"""A suite with nothing wrong: it passes with and without the GIL."""
import threading


def test_arithmetic():
    assert sum(range(1000)) == 499500


def test_locked_counter():
    # the same read-modify-write as the race suite, under a lock
    lock = threading.Lock()
    box = {"n": 0}

    def work():
        for _ in range(20000):
            with lock:
                box["n"] += 1

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert box["n"] == 80000
