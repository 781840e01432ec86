"""Functions for tests/e2e/test_speedup.py (`gilscope speedup
speedup_work:NAME`). Each takes no arguments and does a fixed amount of work.

  spin      pure Python arithmetic: serialised by the GIL, parallel on a
            free-threaded build with the GIL off (it touches no shared object)
  digest    hashlib.sha256 over 4 MB: OpenSSL releases the GIL for buffers
            over 2 KiB, so threads run it in parallel
  nap       time.sleep(0.05): nothing to compute, threads overlap the waits
  boom      raises ValueError
  NOT_CALLABLE  an int
"""
import hashlib
import time

SPIN_N = 150_000
DATA = b"\x5a" * (4 * 1024 * 1024)
NOT_CALLABLE = 42


def spin():
    total = 0
    for i in range(SPIN_N):
        total += i * i % 7  # @mark:spin_loop
    return total


def digest():
    return hashlib.sha256(DATA).digest()  # @mark:digest


def nap():
    time.sleep(0.05)  # @mark:nap


def boom():
    raise ValueError("boom on purpose")
