"""One busy thread running Python; nobody else wants the GIL.

Expected verdict: cpu-single (the GIL is not contended).
"""
from _common import parse, run


def compute(stop):
    while not stop.is_set():
        total = 0
        for i in range(200_000):
            total += i % 7


if __name__ == "__main__":
    run(parse(__doc__), compute, nthreads=1)
