"""churn.py - stacks that grow and shrink all the time, code from eval(),
and threads that come and go, for the peer-suite cases of test_peer_cases.py.
Writes "ready" to the fd in argv[1]; runs until stdin closes (or 120 s)."""
import os
import sys
import threading
import time

stop = threading.Event()


def down(n):
    if n == 0:
        return 0
    return down(n - 1) + 1


def churn():
    while not stop.is_set():
        for depth in (5, 50, 300, 120, 1):
            down(depth)


EVAL_FN = eval("lambda n: sum(i * i for i in range(n))")


def evaluator():
    while not stop.is_set():
        EVAL_FN(5000)


def short_lived():
    while not stop.is_set():
        ts = [threading.Thread(target=lambda: sum(range(2000)), name="ephemeral")
              for _ in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()


for fn in (churn, evaluator, short_lived):
    threading.Thread(target=fn, name=fn.__name__, daemon=True).start()
threading.Thread(target=lambda: (time.sleep(120), os._exit(3)), daemon=True).start()
os.write(int(sys.argv[1]), b"ready\n")
sys.stdin.buffer.read(1)
stop.set()
