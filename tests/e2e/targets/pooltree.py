"""A process tree the way programs make them: a shell that runs Python, which
runs a multiprocessing.Pool of workers, each busy in `spin`.

    sh -c 'python pooltree.py --ready-fd W --control-fd R ...; :'

Readiness: once every worker has started its task, one JSON line on the ready
pipe: {"parent": pid, "workers": [pid, ...], "method": ...} — the workers'
pids as each worker itself gave them (os.getpid() in the worker). Closing
the control pipe ends the workers and the program.
"""
import argparse
import json
import multiprocessing as mp
import os
import sys
import time

_stop = None
_started = None


def init(stop, started):
    global _stop, _started
    _stop, _started = stop, started


def spin(i):
    """Burn CPU in Python until told to stop (the function the test looks
    for on every worker's stack)."""
    _started.put(os.getpid())
    x = 0
    while not _stop.is_set():
        for _ in range(20000):
            x += i
    return x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ready-fd", type=int, required=True)
    ap.add_argument("--control-fd", type=int, required=True)
    ap.add_argument("--method", default="fork")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=120)
    a = ap.parse_args()
    ctx = mp.get_context(a.method)
    stop, started = ctx.Event(), ctx.Queue()
    with ctx.Pool(a.workers, initializer=init, initargs=(stop, started)) as pool:
        res = pool.map_async(spin, range(a.workers), chunksize=1)
        pids = sorted(started.get(timeout=60) for _ in range(a.workers))
        with os.fdopen(a.ready_fd, "w") as w:
            w.write(json.dumps({"parent": os.getpid(), "workers": pids,
                                "method": a.method}) + "\n")
        # until the control pipe closes (or the timeout passes)
        import select
        select.select([a.control_fd], [], [], a.timeout)
        stop.set()
        res.get(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
