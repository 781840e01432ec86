"""A real data race: threads increment one dict entry without a lock.

With the GIL, `box["n"] += 1` is never interrupted half-way (the interpreter
hands the GIL over only at calls and backward jumps), so no update is lost.
Without it, two threads read the same value and one write is lost: the total
comes up short in most runs, not in all (how many updates are lost depends
on how the threads happen to overlap)."""
import threading


def test_safe():
    assert "n" in {"n": 0}


def test_unsynchronised_counter():
    box = {"n": 0}
    start = threading.Barrier(4)

    def work():
        start.wait()
        for _ in range(200000):
            box["n"] += 1

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert box["n"] == 800000, f"lost {800000 - box['n']} updates"
