"""workloads.py - threads with known, measured behaviour for the accuracy
tests of `gilscope diagnose` (tests/e2e/test_diagnose.py).

usage: workloads.py SCENARIO --ready-fd N --report-fd M [--ext-dir D]

Each worker thread announces itself ({"role", "tid"} on the ready fd), the
program writes {"ready": true} once all of them run, and on EOF/any byte of
stdin (or after --timeout) stops them and writes, on the report fd, what
each one measured about itself: the fraction of its wall time spent inside
the C call or the blocking call ({"role", "tid", "inside": fraction}).
"""
import argparse
import hashlib
import json
import math
import os
import random
import socket
import sys
import threading
import time
import zlib

p = argparse.ArgumentParser()
p.add_argument("scenario")
p.add_argument("--ready-fd", type=int, required=True)
p.add_argument("--report-fd", type=int, required=True)
p.add_argument("--ext-dir")
p.add_argument("--timeout", type=float, default=120)
args = p.parse_args()
if args.ext_dir:
    sys.path.insert(0, args.ext_dir)

stop = threading.Event()
lock = threading.Lock()
results = []
BIG = b"x" * (4 << 20) if args.scenario == "hashlib" else b""
ZDATA = os.urandom(1 << 20) * 4 if args.scenario == "zlib" else b""
LIST = list(range(300_000)) if args.scenario == "sorted" else []
random.Random(7).shuffle(LIST)   # a real sort (a reversed list is one O(n) pass)


def measured(role, call):
    """Run call() in a loop; time spent inside it vs wall time."""
    def body():
        tid = threading.get_native_id()
        os.write(args.ready_fd, (json.dumps({"role": role, "tid": tid}) + "\n").encode())
        announced.wait()
        inside = 0.0
        r = None
        t0 = time.perf_counter()
        while not stop.is_set():
            # drop the previous result outside the timed window: freeing a
            # big list is C code too, but it runs under the next opcode
            # (not inside the call), and gilscope rightly files it there
            r = None
            a = time.perf_counter()
            r = call()
            inside += time.perf_counter() - a
        total = time.perf_counter() - t0
        with lock:
            results.append({"role": role, "tid": tid, "inside": inside / total if total else 0})
    return body


def pure_python():
    x = 0
    for i in range(20000):
        x += i * i


def sleep_call():
    time.sleep(0.05)


def socket_call(pair=[]):
    if not pair:
        pair.extend(socket.socketpair())
        pair[1].settimeout(None)
    pair[0].settimeout(0.05)
    try:
        pair[0].recv(16)
    except socket.timeout:
        pass


def lock_call(held=threading.Lock()):
    if not held.locked():
        held.acquire()
    held.acquire(timeout=0.05)


SCENARIOS = {
    # role -> callable (each runs in its own thread)
    "pure4": {f"py{i}": pure_python for i in range(4)},
    "pure1": {"py0": pure_python},
    "hashlib": {"h0": lambda: hashlib.sha256(BIG).digest(),
                "h1": lambda: hashlib.sha256(BIG).digest()},
    "zlib": {"z0": lambda: zlib.compress(ZDATA, 6)},
    "factorial": {"f0": lambda: math.factorial(20000)},
    "sorted": {"s0": lambda: sorted(LIST)},
    "blocking": {"sleep": sleep_call, "io": socket_call, "lock": lock_call},
}


def ext_scenarios():
    import gilscope_testext as ext
    r, w = os.pipe()
    # hold_gil / spin_nogil for 0.2 s per call; the byte they write is drained
    threading.Thread(target=lambda: [os.read(r, 4096) for _ in iter(int, 1)], daemon=True).start()
    return {
        "hold": {"holder": lambda: ext.hold_gil(w, 0.2), "waiter": pure_python},
        "release": {"r0": lambda: ext.spin_nogil(w, 0.2), "r1": lambda: ext.spin_nogil(w, 0.2)},
    }


if args.scenario in ("hold", "release"):
    SCENARIOS.update(ext_scenarios())
roles = SCENARIOS[args.scenario]
announced = threading.Barrier(len(roles) + 1)
threads = [threading.Thread(target=measured(role, fn), name=role, daemon=True)
           for role, fn in roles.items()]
for t in threads:
    t.start()
announced.wait()    # every worker has said who it is
os.write(args.ready_fd, b'{"ready": true}\n')


def watchdog():
    time.sleep(args.timeout)
    os._exit(3)


threading.Thread(target=watchdog, daemon=True).start()
sys.stdin.buffer.read(1)
stop.set()
for t in threads:
    t.join()
os.write(args.report_fd, (json.dumps(results) + "\n").encode())
