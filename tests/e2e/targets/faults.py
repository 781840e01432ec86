"""A target for gilscope's fault tests (tests/e2e/test_faults.py).

    python faults.py SCENARIO --ready-fd W --control-fd R [--timeout S]

Scenarios:
    work     two threads running Python, one sleeping; the main thread waits
             for a command on --control-fd
    fork     as work, and a thread that forks children all the time (each
             runs a little Python and exits; they are reaped)
    churn    a sleeping thread, and one that starts and joins hundreds of
             short threads a second (no spinning threads: they would slow
             the churn down to tens a second on a busy machine)

Commands (one byte on --control-fd, read by the main thread):
    q   exit at once (os._exit(0)): the process ends under gilscope
    e   exec /bin/sleep TIMEOUT: the same pid becomes another program
    p   exec this interpreter again on "faults.py work" (same program, new
        address space)

Readiness: one JSON line {"event": "ready", "pid": ..., "threads": N} on
--ready-fd once every thread runs; the fork and churn scenarios add
{"event": "forks"/"threads_started", "n": ..., "t": ...} lines as they go (at
most one a second; n counts from the start, t is time.monotonic()). SIGALRM ends the process after --timeout seconds whatever happens.
"""
import argparse
import json
import os
import signal
import sys
import threading
import time

READY = {}


def send(msg):
    fd = READY.get("fd")
    if fd is None:
        return
    data = (json.dumps(msg, sort_keys=True) + "\n").encode("ascii")
    try:
        os.write(fd, data)
    except OSError:
        pass  # the test stopped listening


GO = threading.Event()


def spin():
    # Spin only once every thread has started: on 3.9 and 3.10 two
    # spinners can keep the main thread from the GIL for seconds, and it
    # needs the GIL to start the next thread and say it is ready.
    GO.wait()
    n = 0
    while True:
        n += 1


def nap(seconds):
    time.sleep(seconds)


def forker():
    n = 0
    last = time.monotonic()
    while True:
        pid = os.fork()
        if pid == 0:
            # the child: a copy of this interpreter, a little Python, gone
            sum(i * i for i in range(2000))
            os._exit(0)
        os.waitpid(pid, 0)
        n += 1
        if time.monotonic() - last >= 1:
            send({"event": "forks", "n": n, "t": time.monotonic()})
            last = time.monotonic()
        time.sleep(0.01)


def short_work(k):
    return sum(range(k))


def churner():
    n = 0
    last = time.monotonic()
    while True:
        batch = [threading.Thread(target=short_work, args=(100 + i,)) for i in range(20)]
        for t in batch:
            t.start()
        for t in batch:
            t.join()
        n += len(batch)
        if time.monotonic() - last >= 1:
            send({"event": "threads_started", "n": n, "t": time.monotonic()})
            last = time.monotonic()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("scenario", choices=("work", "fork", "churn"))
    p.add_argument("--ready-fd", type=int)
    p.add_argument("--control-fd", type=int)
    p.add_argument("--timeout", type=float, default=120.0)
    args = p.parse_args()
    args.timeout = max(1.0, min(args.timeout, 300.0))
    signal.alarm(int(args.timeout) + 1)
    READY["fd"] = args.ready_fd

    threads = [threading.Thread(target=nap, name="sleeper", args=(args.timeout,), daemon=True)]
    if args.scenario != "churn":
        threads += [threading.Thread(target=spin, name="spin-1", daemon=True),
                    threading.Thread(target=spin, name="spin-2", daemon=True)]
    if args.scenario == "fork":
        threads.append(threading.Thread(target=forker, name="forker", daemon=True))
    elif args.scenario == "churn":
        threads.append(threading.Thread(target=churner, name="churner", daemon=True))
    for t in threads:
        t.start()
    GO.set()
    send({"event": "ready", "pid": os.getpid(), "threads": len(threads) + 1,
          "version": sys.version.split()[0]})
    if args.control_fd is None:
        time.sleep(args.timeout)
        os._exit(0)
    while True:
        cmd = os.read(args.control_fd, 1)
        if cmd in (b"q", b""):
            os._exit(0)
        if cmd == b"e":
            os.execv("/bin/sleep", ["sleep", str(int(args.timeout))])
        if cmd == b"p":
            os.execv(sys.executable, [sys.executable, os.path.abspath(__file__), "work",
                                      "--timeout", str(args.timeout)])


if __name__ == "__main__":
    main()
