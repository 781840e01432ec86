"""snapshot_target.py - a Python program whose threads all sit still in
known places, for recording memory snapshots (make-snapshots.sh).

Every thread blocks (sleep, socket read, lock, event) so a snapshot is
stable; it writes "ready" to the fd given as argv[1] when all are parked.
"""
import os
import socket
import sys
import threading
import time

ready_fd = int(sys.argv[1])
parked = threading.Semaphore(0)
hold = threading.Lock()
hold.acquire()
forever = threading.Event()


def recurse(n):
    if n == 0:
        parked.release()
        forever.wait()
    return recurse(n - 1)


class Worker:
    def run_io(self):
        a, b = socket.socketpair()
        self.keep = (a, b)
        parked.release()
        a.recv(16)


def gen_sleeper():
    parked.release()
    yield time.sleep(3600)


def lock_waiter():
    parked.release()
    hold.acquire()


def ünïcode_fünction():
    parked.release()
    time.sleep(3600)


exec_src = "def from_exec():\n    parked.release()\n    forever.wait()\n"
exec(exec_src, globals())

targets = [
    (lambda: recurse(40), "deep"),
    (Worker().run_io, "io"),
    (lambda: list(gen_sleeper()), "generator"),
    (lock_waiter, "locked"),
    (ünïcode_fünction, "nœud-λ"),
    (from_exec, "exec"),
]
for fn, name in targets:
    threading.Thread(target=fn, name=name, daemon=True).start()
for _ in targets:
    parked.acquire()
# give every thread the moment to enter its blocking call; the recorder
# re-checks the kernel state before it records
os.write(ready_fd, b"ready\n")
time.sleep(3600)
