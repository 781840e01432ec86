"""A well-behaved extension in threads: hashlib releases the GIL while it
hashes a large buffer, so the threads run in parallel.

Expected verdict: native-released (threads scale; the GIL is not the problem).
"""
import hashlib

from _common import parse, run

DATA = b"x" * (8 << 20)


def hash_blocks(stop):
    while not stop.is_set():
        hashlib.sha256(DATA).digest()


if __name__ == "__main__":
    run(parse(__doc__), hash_blocks)
