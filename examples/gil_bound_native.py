"""A C call that keeps the GIL: math.factorial on a large number and sorted()
on a large list run entirely in C without releasing the GIL, so the other
threads wait for it.

Expected verdict: gil-bound-native (switch the extension, or move the call
to a subprocess).
"""
import math
import random

from _common import parse, run

BIG = list(range(2_000_000))
random.Random(1).shuffle(BIG)


def factorials(stop):
    while not stop.is_set():
        math.factorial(60_000)


def sorting(stop):
    while not stop.is_set():
        sorted(BIG)


def worker(stop, _n=[0]):
    _n[0] += 1
    (factorials if _n[0] % 2 else sorting)(stop)


if __name__ == "__main__":
    run(parse(__doc__), worker)
