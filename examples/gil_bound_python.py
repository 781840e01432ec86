"""CPU-bound Python in threads: the textbook GIL case.

Four threads run a pure-Python loop; they take turns holding the GIL, so
most of each thread's time is spent waiting for it.
Expected verdict: gil-bound-python (use processes or a free-threaded build).
"""
from _common import parse, run


def cpu_bound_python(stop):
    while not stop.is_set():
        total = 0
        for i in range(200_000):
            total += i * i


if __name__ == "__main__":
    run(parse(__doc__), cpu_bound_python)
