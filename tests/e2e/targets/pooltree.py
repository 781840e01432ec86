"""A process tree the way programs make them: a shell that runs Python, which
runs a multiprocessing.Pool of workers, each busy in `spin`.

    sh -c 'python pooltree.py --ready-fd W --control-fd R ...; :'

Readiness: once every worker has started its task, one JSON line on the ready
pipe: {"parent": pid, "workers": [pid, ...], "method": ...} — the workers'
pids as each worker itself gave them (os.getpid() in the worker). Closing
the control pipe ends the workers and the program; a second line then gives
every worker pid that ever ran a task ({"all_workers": [...]}).

--replace: the pool replaces each worker after one task (maxtasksperchild=1)
and every task spins for --task-seconds, so new worker processes start all
along while the program runs.
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


def spin_for(seconds):
    """The same for a while (--replace): a worker's one task."""
    _started.put(os.getpid())
    end = time.monotonic() + seconds
    x = 0
    while time.monotonic() < end and not _stop.is_set():
        for _ in range(20000):
            x += 1
    return x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ready-fd", type=int, required=True)
    ap.add_argument("--control-fd", type=int, required=True)
    ap.add_argument("--method", default="fork")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--replace", action="store_true")
    ap.add_argument("--task-seconds", type=float, default=0.25)
    a = ap.parse_args()
    ctx = mp.get_context(a.method)
    stop, started = ctx.Event(), ctx.Queue()
    import select
    with ctx.Pool(a.workers, initializer=init, initargs=(stop, started),
                  maxtasksperchild=1 if a.replace else None) as pool:
        if a.replace:
            res = pool.map_async(spin_for, [a.task_seconds] * int(a.timeout / a.task_seconds),
                                 chunksize=1)
        else:
            res = pool.map_async(spin, range(a.workers), chunksize=1)
        pids = [started.get(timeout=60) for _ in range(a.workers)]
        w = os.fdopen(a.ready_fd, "w")
        w.write(json.dumps({"parent": os.getpid(), "workers": sorted(pids),
                            "method": a.method}) + "\n")
        w.flush()
        # until the control pipe closes (or the timeout passes)
        select.select([a.control_fd], [], [], a.timeout)
        stop.set()
        res.get(timeout=60)
        while True:
            try:
                pids.append(started.get(timeout=0.5))
            except Exception:
                break
        w.write(json.dumps({"all_workers": sorted(set(pids))}) + "\n")
        w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
