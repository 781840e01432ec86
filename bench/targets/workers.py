"""workers.py - a target for bench/run.py: BUSY threads of CPU-bound Python
and BLOCKED threads that wait (a third each on an Event, in a sleep, and on a
socket read), with a command channel so the harness can read the work rate.

usage: workers.py BUSY BLOCKED

The main thread is one of the BUSY threads: it does the same work and, every
few hundred work units, polls stdin (select with a zero timeout) for a
command. So the process has exactly BUSY + BLOCKED threads.

  stdout, once all threads run (the blocked ones blocked):   "ready PID\n"
  stdin "m\n"  ->  stdout "mark T N\n": CLOCK_MONOTONIC seconds and the
                   work units done so far by all busy threads together
  stdin "t\n" -> stdout "tids TID...\n": the native ids of the blocked threads
  stdin "q\n" or EOF  ->  exit

A work unit is a short loop a few Python calls deep (so stacks are not
trivially shallow); one unit is a few microseconds.
"""
import os
import select
import socket
import sys
import threading
import time

from work import DEPTH, nest   # the work unit, shared with the other target

BUSY = int(sys.argv[1])
BLOCKED = int(sys.argv[2])

counts = [0] * BUSY
started = threading.Barrier(BUSY + BLOCKED)
arrived = [0]                   # blocked threads about to block
blocked_tids = []
arrived_lock = threading.Lock()
stop = threading.Event()
never = threading.Event()
sockets = []


def busy(slot):
    started.wait()
    n = 0
    while not stop.is_set():
        for _ in range(64):
            nest(DEPTH)
        n += 64
        counts[slot] = n


def wait_event():
    started.wait()
    about_to_block()
    never.wait()


def wait_sleep():
    started.wait()
    about_to_block()
    while not stop.is_set():
        time.sleep(3600)


def wait_socket():
    a, b = socket.socketpair()
    sockets.append((a, b))
    started.wait()
    about_to_block()
    try:
        a.recv(1)
    except OSError:
        pass


def about_to_block():
    with arrived_lock:
        arrived[0] += 1
        blocked_tids.append(threading.get_native_id())


def blocked_frame(kind, d):
    # a few frames of stack under each blocked thread too
    if d:
        return blocked_frame(kind, d - 1)
    return kind()


def main():
    kinds = (wait_event, wait_sleep, wait_socket)
    threads = []
    for i in range(1, BUSY):
        threads.append(threading.Thread(target=busy, args=(i,), name=f"busy-{i}", daemon=True))
    for i in range(BLOCKED):
        k = kinds[i % 3]
        threads.append(threading.Thread(target=blocked_frame, args=(k, 3),
                                        name=f"blocked-{i}", daemon=True))
    for t in threads:
        t.start()
    started.wait()
    while arrived[0] < BLOCKED:     # every blocked thread is (about to be) blocked
        time.sleep(0.001)
    sys.stdout.write(f"ready {os.getpid()}\n")
    sys.stdout.flush()
    stdin = sys.stdin.fileno()
    n = 0
    buf = b""
    while True:
        for _ in range(64):
            nest(DEPTH)
        n += 64
        counts[0] = n
        if n % 256:
            continue
        r, _, _ = select.select([stdin], [], [], 0)
        if not r:
            continue
        data = os.read(stdin, 256)
        if not data:
            break
        buf += data
        quit_ = False
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if line == b"m":
                sys.stdout.write(f"mark {time.monotonic():.6f} {sum(counts)}\n")
                sys.stdout.flush()
            elif line == b"t":
                sys.stdout.write("tids " + " ".join(map(str, blocked_tids)) + "\n")
                sys.stdout.flush()
            elif line == b"q":
                quit_ = True
        if quit_:
            break
    stop.set()
    never.set()
    os._exit(0)


main()
