"""nsworkers.py - the target of tests/e2e/test_containers.py, run inside its
own PID and mount namespaces: threads that spin in Python (serialised by the
GIL, or not where it is off), one that sleeps, and the main thread waiting
on the control pipe. It measures itself: each thread's CPU time and the wall
time of the window gilscope samples.

usage: nsworkers.py --ready-fd W --control-fd R [--spinners N]

Readiness: one JSON line on --ready-fd once every thread runs:
{"pid", "tids": {name: native id}} (ids as this namespace knows them).
Then "start\\n" on the control pipe opens the measured window and "stop\\n"
closes it; the answer, on --ready-fd: {"wall_s", "cpu_s": {name: CPU
seconds of the window}, "work": {name: rounds of work in it}}. With the GIL
on, only its holder works: a spinner's share of the rounds is its share of
the GIL. EOF on the control pipe ends it; SIGALRM after
120 s in any case.
"""
import argparse
import json
import os
import signal
import threading
import time

stop = threading.Event()
marks = {}


def spin(name, ready):
    marks[name] = [(time.monotonic(), time.thread_time(), 0)]
    ready.release()
    x = n = 0
    while not stop.is_set():
        for _ in range(100000):
            x += 1
        n += 1
        # the thread's own clock and work done, read in the thread
        marks[name].append((time.monotonic(), time.thread_time(), n))
        if len(marks[name]) > 200000:
            del marks[name][:100000]


def nap(name, ready):
    marks[name] = [(time.monotonic(), time.thread_time(), 0)]
    ready.release()
    while not stop.is_set():
        marks[name].append((time.monotonic(), time.thread_time(), 0))
        time.sleep(0.05)


def between(name, t0, t1, k):
    """What the thread's marks say happened between t0 and t1: CPU seconds
    (k=1) or rounds of work (k=2)."""
    ms = marks[name]
    before = [m[k] for m in ms if m[0] <= t0]
    after = [m[k] for m in ms if m[0] >= t1]
    if not before or not after:
        return None
    return after[0] - before[-1]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ready-fd", type=int, required=True)
    p.add_argument("--control-fd", type=int, required=True)
    p.add_argument("--spinners", type=int, default=3)
    args = p.parse_args()
    signal.alarm(120)
    ready = threading.Semaphore(0)
    tids = {}
    threads = []
    for i in range(args.spinners):
        name = f"spin-{i}"
        threads.append(threading.Thread(target=spin, args=(name, ready), name=name))
    threads.append(threading.Thread(target=nap, args=("napper", ready), name="napper"))
    for t in threads:
        t.start()
    for _ in threads:
        ready.acquire()
    for t in threads:
        tids[t.name] = t.native_id
    tids["MainThread"] = threading.get_native_id()
    out = os.fdopen(args.ready_fd, "w", buffering=1)
    out.write(json.dumps({"pid": os.getpid(), "tids": tids}) + "\n")
    ctl = os.fdopen(args.control_fd, "r")
    t0 = None
    for line in ctl:
        if line.strip() == "start":
            t0 = time.monotonic()
        elif line.strip() == "stop" and t0 is not None:
            t1 = time.monotonic()
            # a mark after t1 in every thread (on a loaded machine a
            # spinner can wait long for its next round)
            deadline = t1 + 60
            while (any(marks[t.name][-1][0] < t1 for t in threads)
                   and time.monotonic() < deadline):
                time.sleep(0.01)
            cpu = {t.name: between(t.name, t0, t1, 1) for t in threads}
            work = {t.name: between(t.name, t0, t1, 2) for t in threads}
            out.write(json.dumps({"wall_s": t1 - t0, "cpu_s": cpu, "work": work}) + "\n")
    stop.set()


if __name__ == "__main__":
    main()
