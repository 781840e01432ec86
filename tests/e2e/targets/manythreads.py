"""manythreads.py - the target of tests/e2e/test_many_threads.py: thousands
of threads that block, beside a few that spin in Python.

usage: manythreads.py --ready-fd W --control-fd R [--blocked N] [--spinners K]

Half of the N blocked threads wait on a threading.Lock the main thread
holds (lock_wait), the other half in a read of a pipe nobody writes to
(io); K threads spin in Python and count their rounds of work. Every
thread is started before readiness is signalled: one JSON line on
--ready-fd, {"pid", "main", "lock": [tids], "pipe": [tids], "spinners":
{name: tid}}, once every blocked thread is about to block (the test then
watches /proc until each one is in its system call). "start\\n" on the
control pipe opens the measured window and "stop\\n" closes it; the answer,
on --ready-fd: {"wall_s", "work": {name: rounds}, "cpu_s": {name: CPU
seconds}} of the window, from each spinner's own clocks (with the GIL on,
only its holder works: a spinner's share of the rounds is its share of the
GIL). "late\n" starts one more thread, blocked, with a name longer than
the OS keeps, and answers {"late": tid}. EOF on the control pipe ends it;
SIGALRM after 300 s in any case.
"""
import argparse
import json
import os
import signal
import threading
import time

stop = threading.Event()
marks = {}
lock = threading.Lock()


def spin(name, ready):
    marks[name] = [(time.monotonic(), time.thread_time(), 0)]
    ready.release()
    x = n = 0
    while not stop.is_set():
        for _ in range(20000):
            x += 1
        n += 1
        marks[name].append((time.monotonic(), time.thread_time(), n))
        if len(marks[name]) > 200000:
            del marks[name][:100000]


def wait_lock(arrived, tids):
    tids.append(threading.get_native_id())
    arrived.release()
    lock.acquire()
    lock.release()


def wait_pipe(fd, arrived, tids):
    tids.append(threading.get_native_id())
    arrived.release()
    os.read(fd, 1)


def between(name, t0, t1, k):
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
    p.add_argument("--blocked", type=int, default=2000)
    p.add_argument("--spinners", type=int, default=4)
    args = p.parse_args()
    signal.alarm(300)
    threading.stack_size(256 * 1024)    # thousands of threads: small stacks
    lock.acquire()
    rfd, wfd = os.pipe()
    arrived = threading.Semaphore(0)
    ready = threading.Semaphore(0)
    lock_tids, pipe_tids = [], []
    blocked = []
    for i in range(args.blocked):
        if i % 2:
            blocked.append(threading.Thread(target=wait_pipe, args=(rfd, arrived, pipe_tids),
                                            name=f"pipe-{i}", daemon=True))
        else:
            blocked.append(threading.Thread(target=wait_lock, args=(arrived, lock_tids),
                                            name=f"lock-{i}", daemon=True))
    spinners = [threading.Thread(target=spin, args=(f"spin-{i}", ready), name=f"spin-{i}",
                                 daemon=True) for i in range(args.spinners)]
    for t in blocked + spinners:
        t.start()
    for _ in blocked:
        arrived.acquire()
    for _ in spinners:
        ready.acquire()
    out = os.fdopen(args.ready_fd, "w", buffering=1)
    out.write(json.dumps({"pid": os.getpid(), "main": threading.get_native_id(),
                          "lock": lock_tids, "pipe": pipe_tids,
                          "spinners": {t.name: t.native_id for t in spinners}}) + "\n")
    ctl = os.fdopen(args.control_fd, "r")
    t0 = None
    for line in ctl:
        if line.strip() == "start":
            t0 = time.monotonic()
        elif line.strip() == "late":
            # a thread that starts while gilscope samples, with a name
            # longer than the OS keeps (15 bytes)
            late_ready = threading.Event()
            late = threading.Thread(target=lambda: (late_ready.set(), stop.wait()),
                                    name="a-late-joiner-with-a-long-name", daemon=True)
            late.start()
            late_ready.wait()
            out.write(json.dumps({"late": late.native_id}) + "\n")
        elif line.split()[:1] == ["stop"] and t0 is not None:
            t1 = time.monotonic()
            # "stop FIRST LAST": the window gilscope sampled (its first
            # and last sample, CLOCK_MONOTONIC ns, as time.monotonic())
            # is the one to measure: the control pipe's "start" and
            # "stop" wait for the GIL, behind the spinners
            win = line.split()[1:]
            if len(win) == 2 and 0 < int(win[0]) < int(win[1]):
                t0, t1 = int(win[0]) / 1e9, int(win[1]) / 1e9
            names = [t.name for t in spinners]
            # until every spinner has a mark after t1 (each round ends
            # with one; a spinner kept from the GIL or a CPU may take a
            # while), 10 s at most
            end = t1 + 10
            while time.monotonic() < end and not all(marks[n][-1][0] >= t1 for n in names):
                time.sleep(0.01)
            out.write(json.dumps({"wall_s": t1 - t0,
                                  "work": {n: between(n, t0, t1, 2) for n in names},
                                  "cpu_s": {n: between(n, t0, t1, 1) for n in names}}) + "\n")
    stop.set()
    os._exit(0)


if __name__ == "__main__":
    main()
