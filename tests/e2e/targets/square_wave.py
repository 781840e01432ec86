"""A thread whose work keeps time with the clock: busy in bytecode for the
first half of every 10 ms of CLOCK_MONOTONIC, asleep for the second half.
A sampler whose samples fall exactly 10 ms apart would find it in the same
half every time.

Ground truth: the thread logs each busy stretch (its own clock); on "stop
FIRST LAST" (nanoseconds, CLOCK_MONOTONIC: the window gilscope sampled) it
answers the fraction of that window it was busy, and how many stretches.
"""
import argparse
import json
import os
import threading
import time

CYCLE = 10_000_000
BUSY = CYCLE // 2

stop = threading.Event()
stretches = []


def square():
    while not stop.is_set():
        now = time.monotonic_ns()
        start = now - now % CYCLE
        if now - start < BUSY:
            x = 0
            while time.monotonic_ns() < start + BUSY:
                x += 1
            stretches.append((now, time.monotonic_ns()))
            if len(stretches) > 100000:
                del stretches[:50000]
        else:
            time.sleep((start + CYCLE - now) / 1e9)


def busy_in(t0, t1):
    return sum(max(0, min(b, t1) - max(a, t0)) for a, b in list(stretches))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ready-fd", type=int, required=True)
    p.add_argument("--control-fd", type=int, required=True)
    args = p.parse_args()
    th = threading.Thread(target=square, name="square", daemon=True)
    th.start()
    while not stretches:
        time.sleep(0.01)
    out = os.fdopen(args.ready_fd, "w", buffering=1)
    out.write(json.dumps({"pid": os.getpid(), "tid": th.native_id}) + "\n")
    for line in os.fdopen(args.control_fd, "r"):
        w = line.split()
        if w[:1] == ["stop"] and len(w) == 3:
            t0, t1 = int(w[1]), int(w[2])
            # until the thread has finished a stretch past the window
            end = time.monotonic() + 5
            while time.monotonic() < end and (not stretches or stretches[-1][1] < t1):
                time.sleep(0.005)
            out.write(json.dumps({"busy": busy_in(t0, t1) / max(1, t1 - t0),
                                  "stretches": sum(1 for a, b in list(stretches)
                                                   if t0 <= a < t1)}) + "\n")
            break
    stop.set()


if __name__ == "__main__":
    main()
