"""workloads.py - threads with known, measured behaviour for the accuracy
tests of `gilscope diagnose` (tests/e2e/test_diagnose.py).

usage: workloads.py SCENARIO --ready-fd N --report-fd M [--ext-dir D]

Each worker thread announces itself ({"role", "tid"} on the ready fd), the
program writes {"ready": true} once all of them run, and on EOF/any byte of
stdin (or after --timeout) stops them and writes, on the report fd, what
each one measured about itself: the fraction of its wall time spent inside
the C call or the blocking call, timed around that call alone
({"role", "tid", "inside": fraction}).
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
# zlib.compress lets go of the GIL only around deflate(); it holds it to set
# up the stream and to join the output into one bytes object. A two-letter
# random text keeps deflate busy (~75 ms a call) while its output stays small
# (~170 KB), so the part under the GIL stays a fraction of a percent. Random
# bytes (incompressible) gave 2-3% under the GIL, 6% on a loaded machine:
# more than the test's tolerance, and the thread's clock cannot tell it apart.
ZDATA = (os.urandom(1 << 20).translate(bytes(b"ab"[i & 1] for i in range(256)))
         if args.scenario == "zlib" else b"")
LIST = list(range(300_000)) if args.scenario in ("sorted", "one_site") else []
random.Random(7).shuffle(LIST)   # a real sort (a reversed list is one O(n) pass)


def measured(role, spec):
    """Run fn(*args) in a loop; time spent inside it vs wall time. A list
    of such specs is called in turn from one call site, each timed apart
    (reported in "each", in order).

    The timed window holds the call and nothing else a profiler could see:
    no attribute lookups, no Python function around the call. On a
    free-threaded build a lookup can stall for 100 ms when the machine is
    oversubscribed (a type-cache reader spinning on sched_yield while the
    writer waits for a CPU), and that stall is bytecode, not the call.
    """
    calls = []
    for fn, fargs, *skip in (spec if isinstance(spec, list) else [spec]):
        n = len(fargs)
        calls.append((fn, fargs[0] if n > 0 else None, fargs[1] if n > 1 else None,
                      n == 2, n == 1, skip[0] if skip else ()))
    clock = time.perf_counter

    def body():
        tid = threading.get_native_id()
        os.write(args.ready_fd, (json.dumps({"role": role, "tid": tid}) + "\n").encode())
        announced.wait()
        each = [0.0] * len(calls)
        r = None
        t0 = clock()
        while not stop.is_set():
            for k in range(len(calls)):
                fn, x, y, two, one, skip = calls[k]
                # drop the previous result outside the timed window:
                # freeing a big list is C code too, but it runs under the
                # next opcode (not inside the call), and gilscope rightly
                # files it there
                r = None
                a = clock()
                try:
                    r = fn(x, y) if two else fn(x) if one else fn()
                except skip:
                    pass
                t = clock() - a
                each[k] += t
        total = clock() - t0
        with lock:
            results.append({"role": role, "tid": tid,
                            "inside": sum(each) / total if total else 0,
                            "each": [e / total if total else 0 for e in each]})
    return body


KEEP = []


def pure_python():
    x = 0
    for i in range(20000):
        x += i * i


def blocking():
    pair = socket.socketpair()
    KEEP.append(pair)              # the peer stays open: recv() waits
    pair[0].settimeout(0.05)       # recv() waits 50 ms, then raises
    held = threading.Lock()
    held.acquire()                 # acquire(True, 0.05) waits 50 ms
    return {"sleep": (time.sleep, (0.05,)),
            "io": (pair[0].recv, (16,), socket.timeout),
            "lock": (held.acquire, (True, 0.05))}


def scenarios():
    # role -> (callable, its arguments[, exception it ends with]), or a
    # list of those; each role runs in its own thread
    s = {
        "pure4": {f"py{i}": (pure_python, ()) for i in range(4)},
        "pure1": {"py0": (pure_python, ())},
        "hashlib": {"h0": (hashlib.sha256, (BIG,)), "h1": (hashlib.sha256, (BIG,))},
        "zlib": {"z0": (zlib.compress, (ZDATA, 6))},
        "factorial": {"f0": (math.factorial, (20000,))},
        "sorted": {"s0": (sorted, (LIST,))},
        # two C callables in turn from one call site, in one thread
        "one_site": {"alt": [(math.factorial, (20000,)), (sorted, (LIST,))]},
    }
    if args.scenario == "blocking":
        s["blocking"] = blocking()
    if args.scenario in ("hold", "release"):
        s.update(ext_scenarios())
    return s


def ext_scenarios():
    import gilscope_testext as ext
    r, w = os.pipe()
    # hold_gil / spin_nogil for 0.2 s per call; the byte they write is drained
    threading.Thread(target=lambda: [os.read(r, 4096) for _ in iter(int, 1)], daemon=True).start()
    return {
        "hold": {"holder": (ext.hold_gil, (w, 0.2)), "waiter": (pure_python, ())},
        "release": {"r0": (ext.spin_nogil, (w, 0.2)), "r1": (ext.spin_nogil, (w, 0.2))},
    }


roles = scenarios()[args.scenario]
announced = threading.Barrier(len(roles) + 1)
threads = [threading.Thread(target=measured(role, spec), name=role, daemon=True)
           for role, spec in roles.items()]
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
