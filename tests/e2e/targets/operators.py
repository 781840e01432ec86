"""operators.py - threads that spend measured time in C code reached without
a call instruction (operators, a C iterator, a C property) or in a C type's
constructor, for tests/e2e/test_operators.py.

usage: operators.py SCENARIO --ready-fd N --report-fd M [--ext-dir D] [--site D]

Same protocol as workloads.py: each worker thread announces {"role", "tid"}
on the ready fd, then {"ready": true} once all run; on a byte (or EOF) on
stdin they stop, and the report fd gets, per thread, what it measured of
itself: "inside", the fraction of the window the test sampled in (given
with the stop: "x T0 T1", perf_counter seconds) spent inside the operation
(timed around the operation alone, or for the test extension's C code
measured by that code: last_spin()), and "cpu", its own CPU time over its wall
time (read once at each end: time.thread_time is a system call, and in the
loop it would be a place where the thread is preempted).

What the wall clock around an operation also holds: on 3.9, whose eval loop
may hand the GIL over before any instruction, the GIL wait right after an
operation that kept it (the test counts it); from 3.10 on the GIL changes
hands only at jumps and calls, after the closing clock() has been read.
C code that let go of the GIL takes it back before the operation ends: the
mixture that runs NumPy's a @ b has one thread, so nothing keeps the GIL
from it.

The C code that keeps the GIL runs 60 ms or more at a time: gilscope tells
it from bytecode only once a waiter has asked for the GIL and the holder
still has it at a later sample (README, "C code that is not a call").

Scenarios (two threads each, so that they compete for the GIL, but mixmm):
  matmul     a @ b on 800x800 NumPy arrays (OpenBLAS held to one thread):
             C that lets go of the GIL
  inplace    x *= f on 24M-element NumPy arrays (~12 ms): the same, element-wise
  bigmul     x * y on ints of ~420,000 digits: C that keeps the GIL
  contains   -1 in a list of 10M ints: C that keeps the GIL
  iterator   for v in Slow(s): the C iterator's __next__ keeps the GIL
  property   Slow(s).held: a C property that keeps the GIL
  construct  Slow(s): a C type's constructor that keeps the GIL
  mixmm      one thread: bytecode, then a @ b (about 40% of the time in C)
  mixbig     bytecode, then x * y (a third to a half of the time in C)
"""
import argparse
import json
import os
import sys
import threading
import time

p = argparse.ArgumentParser()
p.add_argument("scenario")
p.add_argument("--ready-fd", type=int, required=True)
p.add_argument("--report-fd", type=int, required=True)
p.add_argument("--ext-dir")
p.add_argument("--site", help="a directory with NumPy installed")
p.add_argument("--timeout", type=float, default=120)
args = p.parse_args()
for d in (args.ext_dir, args.site):
    if d:
        sys.path.insert(0, d)

stop = threading.Event()
lock = threading.Lock()
results = []
clock = time.perf_counter
SC = args.scenario
NEEDS_NUMPY = SC in ("matmul", "inplace", "mixmm")
NEEDS_EXT = SC in ("iterator", "property", "construct")
if NEEDS_NUMPY:
    import numpy as np
if NEEDS_EXT:
    import gilscope_testext as ext

BIG = 7 ** 500000 if SC in ("bigmul", "mixbig") else 0
# 10M references to one int (80 MB): each `-1 in LIST` compares them all,
# ~60-100 ms holding the GIL
LIST = [0] * 10_000_000 if SC == "contains" else []


def python_work(n):
    x = 0
    for i in range(n):
        x += i * i
    return x


def calibrate(op, ratio):
    """Iterations of python_work that take `ratio` times one op alone."""
    a = clock()
    op()
    t_op = clock() - a
    a = clock()
    python_work(20000)
    t_py = (clock() - a) / 20000
    return max(1000, int(ratio * t_op / t_py))


def worker(role):
    def body():
        tid = threading.get_native_id()
        os.write(args.ready_fd, (json.dumps({"role": role, "tid": tid}) + "\n").encode())
        # the operands are made before the clock starts
        if SC in ("matmul", "mixmm"):
            a = np.random.rand(800, 800)
            b = np.random.rand(800, 800)
        elif SC == "inplace":
            x = np.random.rand(24_000_000)
            f = 1.0000001
        elif SC in ("bigmul", "mixbig"):
            x, y = BIG, BIG + 1
        elif SC == "contains":
            big, k = LIST, -1
        elif SC in ("iterator", "property"):
            s = ext.Slow(0.08)
        elif SC == "construct":
            Slow = ext.Slow
        n = 0   # iterations of bytecode before each operation (mixtures)
        if SC == "mixmm":
            n = calibrate(lambda: a @ b, 1.5)
        elif SC == "mixbig":
            n = calibrate(lambda: x * y, 1.0)
        announced.wait()
        inside = 0.0
        ivs = []
        spun0 = ext.spun() if NEEDS_EXT else 0.0
        r = None
        c0 = time.thread_time()
        t0 = clock()
        # Each loop times its operation alone, written out as the operator
        # itself: no call around it, so the innermost frame sits on it.
        if SC in ("matmul", "mixmm"):
            while not stop.is_set():
                if n:
                    python_work(n)
                r = None
                t = clock()
                r = a @ b
                e = clock()
                inside += e - t
                ivs.append((t, e))
        elif SC == "inplace":
            while not stop.is_set():
                t = clock()
                x *= f
                e = clock()
                inside += e - t
                ivs.append((t, e))
        elif SC in ("bigmul", "mixbig"):
            while not stop.is_set():
                if n:
                    python_work(n)
                r = None
                t = clock()
                r = x * y
                e = clock()
                inside += e - t
                ivs.append((t, e))
        elif SC == "contains":
            while not stop.is_set():
                t = clock()
                r = k in big
                e = clock()
                inside += e - t
                ivs.append((t, e))
        elif SC == "iterator":
            for v in s:
                ivs.append(ext.last_spin())
                if stop.is_set():
                    break
        elif SC == "property":
            while not stop.is_set():
                r = s.held
                ivs.append(ext.last_spin())
        elif SC == "construct":
            last_spin = ext.last_spin
            while not stop.is_set():
                r = None
                r = Slow(0.08)
                # no deeper stack than the constructor's own call: before
                # 3.14 gilscope names a call by the topmost callable on the
                # frame's value stack, and a stale one above would do
                sp = last_spin()
                ivs.append(sp)
        total = clock() - t0
        cpu = time.thread_time() - c0
        if NEEDS_EXT:
            # measured inside the C code: a clock around Slow(s) in Python
            # would also count the GIL wait at the end of the call
            inside = ext.spun() - spun0
        with lock:
            rec = {"role": role, "tid": tid, "inside": inside / total if total else 0,
                   "cpu": cpu / total if total else 0}
            if window:
                # the share of the window the test sampled in: the
                # operations' intervals cut to it
                w0, w1 = window
                got = sum(max(0.0, min(b, w1) - max(a, w0)) for a, b in ivs)
                rec["inside_run"] = rec["inside"]
                rec["inside"] = got / (w1 - w0)
            results.append(rec)
    return body


ROLES = {"matmul": "m", "inplace": "e", "bigmul": "b", "contains": "c", "iterator": "i",
         "property": "p", "construct": "k", "mixmm": "x", "mixbig": "y"}
roles = [ROLES[SC] + str(i) for i in range(1 if SC == "mixmm" else 2)]
announced = threading.Barrier(len(roles) + 1)
threads = [threading.Thread(target=worker(role), name=role, daemon=True) for role in roles]
for t in threads:
    t.start()
announced.wait()    # every worker has said who it is and made its operands
os.write(args.ready_fd, b'{"ready": true}\n')


def watchdog():
    time.sleep(args.timeout)
    os._exit(3)


threading.Thread(target=watchdog, daemon=True).start()
# "x" alone, or "x T0 T1": the window (time.perf_counter, the same
# CLOCK_MONOTONIC as the test's) the test sampled in, for "inside"
line = sys.stdin.buffer.readline().split()
window = (float(line[1]), float(line[2])) if len(line) == 3 else None
stop.set()
for t in threads:
    t.join()
os.write(args.report_fd, (json.dumps(results) + "\n").encode())
