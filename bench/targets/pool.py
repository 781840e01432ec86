"""pool.py - a process-tree target for bench/run.py: a multiprocessing.Pool of
WORKERS processes, each running one task of CPU-bound Python (the same work
unit as workers.py) until told to stop, with the same command channel as
workers.py so the harness can read the work rate of the whole tree.

usage: pool.py WORKERS

Each worker counts its own work units in its slot of a shared array (no
lock: one writer per slot); the parent (whose main thread waits on stdin)
adds them up when asked. The start method is fork, so the tree is the
parent and its WORKERS children, whatever the interpreter's default.

  stdout, once every worker runs its task:  "ready PID WPID...\n"
  stdin "m\n"  ->  stdout "mark T N\n": CLOCK_MONOTONIC seconds and the
                   work units done so far by all workers together
  stdin "q\n" or EOF  ->  exit (the workers are terminated)
"""
import multiprocessing as mp
import os
import sys
import time

from work import DEPTH, nest   # the work unit, shared with the other target


def init(counts_, started_, stop_):
    global counts, started, stop
    counts, started, stop = counts_, started_, stop_


def spin(slot):
    with started.get_lock():
        started.value += 1
    n = 0
    while not stop.value:
        for _ in range(64):
            nest(DEPTH)
        n += 64
        counts[slot] = n
    return os.getpid()


def main():
    workers = int(sys.argv[1])
    ctx = mp.get_context("fork")
    counts_ = ctx.Array("q", workers, lock=False)
    started_ = ctx.Value("i", 0)
    stop_ = ctx.Value("i", 0, lock=False)
    pool = ctx.Pool(workers, initializer=init, initargs=(counts_, started_, stop_))
    # one task per worker: chunksize 1, and a worker busy with its task
    # takes no other, so each of the WORKERS tasks lands on its own worker
    res = pool.map_async(spin, range(workers), chunksize=1)
    while started_.value < workers:
        time.sleep(0.001)
    pids = " ".join(str(p.pid) for p in pool._pool)
    sys.stdout.write(f"ready {os.getpid()} {pids}\n")
    sys.stdout.flush()
    for line in sys.stdin:
        line = line.strip()
        if line == "m":
            sys.stdout.write(f"mark {time.monotonic():.6f} {sum(counts_)}\n")
            sys.stdout.flush()
        elif line == "q":
            break
    stop_.value = 1
    try:
        res.get(timeout=10)
    except Exception:  # noqa: BLE001 - exiting anyway
        pass
    pool.terminate()
    pool.join()


if __name__ == "__main__":
    main()
