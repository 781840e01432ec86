"""Shared helpers for the examples: argument parsing and readiness.

Each example runs its workload in threads for --seconds (default 60) and
prints "ready <pid>" on stdout (or writes it to --ready-fd) once every
thread is working, so gilscope can be pointed at it without guessing.
"""
import argparse
import os
import sys
import threading
import time


def parse(doc):
    p = argparse.ArgumentParser(description=doc)
    p.add_argument("--seconds", type=float, default=60.0, help="run this long, then exit")
    p.add_argument("--threads", type=int, default=4, help="worker threads")
    p.add_argument("--ready-fd", type=int, default=-1, help="write 'ready' to this fd")
    return p.parse_args()


def run(args, worker, nthreads=None):
    """Start nthreads threads running worker(stop_event), signal ready, wait."""
    stop = threading.Event()
    started = threading.Barrier((nthreads or args.threads) + 1)

    def body():
        started.wait()
        worker(stop)

    threads = [threading.Thread(target=body, name="worker-%d" % i, daemon=True)
               for i in range(nthreads or args.threads)]
    for t in threads:
        t.start()
    started.wait()
    msg = "ready %d\n" % os.getpid()
    if args.ready_fd >= 0:
        os.write(args.ready_fd, msg.encode())
    else:
        sys.stdout.write(msg)
        sys.stdout.flush()
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline and any(t.is_alive() for t in threads):
        stop.wait(min(0.5, max(0.0, deadline - time.monotonic())))
    stop.set()
