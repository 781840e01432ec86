"""A unittest suite (no pytest): one clean test, one with a data race
(threads incrementing one dict entry without a lock: updates are lost only
without the GIL), one that always fails."""
import threading
import unittest


def in_threads(work, n=4):
    """Run work() in n threads started together; wait for them."""
    start = threading.Barrier(n)

    def run():
        start.wait()
        work()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


class Counters(unittest.TestCase):
    def test_locked(self):
        box, lock = {"n": 0}, threading.Lock()

        def work():
            for _ in range(20000):
                with lock:
                    box["n"] += 1

        in_threads(work)
        self.assertEqual(box["n"], 80000)

    def test_unsynchronised(self):
        box = {"n": 0}

        def work():
            for _ in range(200000):
                box["n"] += 1

        in_threads(work)
        self.assertEqual(box["n"], 800000, f"lost {800000 - box['n']} updates")


class Broken(unittest.TestCase):
    def test_wrong_everywhere(self):
        self.assertEqual(sum(range(4)), 7)
