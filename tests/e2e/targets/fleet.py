"""fleet.py - a member of a fleet for `gilscope serve`'s tests
(tests/e2e/test_serve.py).

usage: fleet.py {gil,io} --ready-fd N [--timeout S] [--marker WORD]
                [--then-exec PROGRAM ARG...]

gil: two threads of pure Python, contending for the GIL (where there is one).
io:  two threads blocked reading a pipe nobody writes to.
Each worker writes {"role", "tid"} on the ready fd once it runs (an io worker
just before its read), then {"ready": true}; the program ends on EOF or any
byte on stdin, or after --timeout. The --marker word is only there for
`serve --match` to find the process by its command line. With --then-exec,
a byte on stdin makes the process exec PROGRAM ARG... (the same pid, its
open inheritable fds kept) instead of ending; EOF still ends it.
"""
import argparse
import json
import os
import sys
import threading
import time

p = argparse.ArgumentParser()
p.add_argument("mode", choices=("gil", "io"))
p.add_argument("--ready-fd", type=int, required=True)
p.add_argument("--timeout", type=float, default=120)
p.add_argument("--marker")
p.add_argument("--then-exec", nargs=argparse.REMAINDER)
args = p.parse_args()

announce = threading.Lock()
started = threading.Barrier(3)
pipe_r, pipe_w = os.pipe()   # pipe_w stays open: the readers wait forever


def say(msg):
    with announce:
        os.write(args.ready_fd, (json.dumps(msg) + "\n").encode())


def spin(role):
    say({"role": role, "tid": threading.get_native_id()})
    started.wait()
    x = 0
    while True:
        for i in range(10000):
            x += i * i


def block(role):
    say({"role": role, "tid": threading.get_native_id()})
    started.wait()
    os.read(pipe_r, 1)


work = spin if args.mode == "gil" else block
for i in range(2):
    threading.Thread(target=work, args=(f"{args.mode}{i}",), name=f"{args.mode}{i}",
                     daemon=True).start()
started.wait()
say({"ready": True})
threading.Thread(target=lambda: (time.sleep(args.timeout), os._exit(3)), daemon=True).start()
if sys.stdin.buffer.read(1) and args.then_exec:
    os.execv(args.then_exec[0], args.then_exec)
