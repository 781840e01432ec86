"""Nothing busy: threads sleeping and waiting on an event.

Expected verdict: idle (nothing to fix here).
"""
import time

from _common import parse, run


def nap(stop):
    while not stop.is_set():
        time.sleep(0.2)


if __name__ == "__main__":
    run(parse(__doc__), nap)
