"""A program for gilscope's launch-mode tests (tests/e2e/test_launch.py):
gilscope starts it (`gilscope diagnose -- python launched.py SCENARIO ...`)
and must end it, and everything it started, once sampling is over.

    python launched.py SCENARIO --ready-fd W [--timeout S] [--exit-fd R]

Scenarios (each spins in Python on its main thread, so there is something
to sample, until it is ended):
    spin       nothing else: a SIGINT ends it (KeyboardInterrupt)
    noint      ignores SIGINT
    noterm     ignores SIGINT and SIGTERM: only SIGKILL ends it
    count      reports every SIGINT; on the first it cleans up for 0.3 s
               and exits with status 3
    exec       execs this interpreter on "launched.py spin" (same pid, a
               new program), after a moment of spinning
    exec-wait  execs this interpreter on "launched.py wait" (same pid)
    wait       sleeps until --exit-fd has a byte, then exits with status 5
               (without --exit-fd: until SIGINT)
    fork       forks a worker that ignores SIGINT and sleeps
    orphan     forks a child that forks a grandchild in a new session
               (out of gilscope's process group) and exits: the grandchild
               is an orphan; it ignores SIGINT and SIGTERM and sleeps

Messages, one JSON line each on --ready-fd:
    {"event": "proc", "pid": P, "start": T, "role": R}  for every process
        it makes (start: field 22 of /proc/P/stat, so that a test can tell
        the process from a later one with the same pid);
    {"event": "ready", "pid": P} once the main process spins;
    {"event": "sigint", "pid": P, "n": N} (count).
SIGALRM ends every process after --timeout seconds whatever happens (the
timer survives exec).
"""
import argparse
import json
import os
import signal
import sys
import time

FD = {}


def send(msg):
    data = (json.dumps(msg, sort_keys=True) + "\n").encode("ascii")
    try:
        os.write(FD["ready"], data)
    except OSError:
        pass  # the test stopped listening


def start_time(pid):
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    return int(stat[stat.rfind(")") + 2:].split()[19])


def announce(role):
    send({"event": "proc", "pid": os.getpid(), "start": start_time(os.getpid()), "role": role})


def spin_forever():
    send({"event": "ready", "pid": os.getpid()})
    n = 0
    while True:
        n += 1


def spin_for(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def sleeper(role, ignore, timeout, told):
    """A process that sleeps until ended; says so on `told` once set up."""
    signal.alarm(timeout)  # a fork does not inherit the parent's
    for sig in ignore:
        signal.signal(sig, signal.SIG_IGN)
    announce(role)
    os.write(told, b"x")
    while True:
        time.sleep(1)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("scenario", choices=("spin", "noint", "noterm", "count", "exec", "exec-wait",
                                        "wait", "fork", "orphan"))
    p.add_argument("--ready-fd", type=int, required=True)
    p.add_argument("--exit-fd", type=int)
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--execd", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    FD["ready"] = args.ready_fd
    timeout = int(max(1.0, min(args.timeout, 300.0)))
    if not args.execd:
        signal.alarm(timeout)
    announce("execd" if args.execd else "main")
    sc = args.scenario

    if sc == "noint":
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    elif sc == "noterm":
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    elif sc == "count":
        seen = []

        def on_sigint(signum, frame):
            seen.append(signum)
            send({"event": "sigint", "pid": os.getpid(), "n": len(seen)})
            if len(seen) == 1:
                spin_for(0.3)  # a cleanup that takes a while
                sys.exit(3)
        signal.signal(signal.SIGINT, on_sigint)
    elif sc in ("exec", "exec-wait"):
        spin_for(0.3)  # sampled a little first
        rest = ["--ready-fd", str(args.ready_fd), "--timeout", str(args.timeout), "--execd"]
        if args.exit_fd is not None:
            rest += ["--exit-fd", str(args.exit_fd)]
        os.execv(sys.executable, [sys.executable, os.path.abspath(__file__),
                                  "spin" if sc == "exec" else "wait"] + rest)
    elif sc == "wait":
        send({"event": "ready", "pid": os.getpid()})
        if args.exit_fd is None:
            while True:
                time.sleep(1)
        os.read(args.exit_fd, 1)
        sys.exit(5)
    elif sc == "fork":
        r, w = os.pipe()
        if os.fork() == 0:
            sleeper("worker", (signal.SIGINT,), timeout, w)
        os.read(r, 1)  # the worker is set up
    elif sc == "orphan":
        r, w = os.pipe()
        child = os.fork()
        if child == 0:
            os.setsid()
            if os.fork() == 0:
                sleeper("orphan", (signal.SIGINT, signal.SIGTERM), timeout, w)
            os._exit(0)  # its child is now an orphan
        os.waitpid(child, 0)
        os.read(r, 1)  # the orphan is set up
    spin_forever()


if __name__ == "__main__":
    main()
