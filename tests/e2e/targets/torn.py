"""torn.py - one thread whose Python stack changes as fast as Python can
change it, for the torn-read tests of gilscope (tests/e2e/test_stacks_complete.py).

usage: torn.py SCENARIO --ready-fd N [--on-main] [--timeout S]

Scenarios (each runs forever in its driver, run_SCENARIO):
    gen       a tight generator loop: for v in fib_gen(200)
    asyncgen  async for over an async generator, inside asyncio.run()
    coro      an asyncio loop with two tasks of nested awaits, each level
              yielding to the loop (asyncio.sleep(0))
    deepgen   generators delegating with `yield from` to a depth that grows
              and shrinks (1..40..1)
    recurse   busy recursion to a depth that grows and shrinks (1..40..1)

A reader that does not stop the program catches these stacks mid-change:
a generator that yields unlinks its frame from its caller's, recursion
frees and reuses frames. Every stack gilscope calls complete must still
reach the thread's entry frame: threading's _bootstrap for the driver
thread, or with --on-main the main thread's <module>.

Readiness: one JSON line on --ready-fd, {"tid", "pid", "file", "driver"},
written by the driver just before its loop. The process ends when stdin
reaches EOF (or says anything), or after --timeout seconds in any case.
"""
import argparse
import asyncio
import json
import os
import signal
import sys
import threading

DEPTHS = list(range(1, 41)) + list(range(39, 1, -1))


def announce(fd, driver):
    msg = {"tid": threading.get_native_id(), "pid": os.getpid(),
           "file": announce.__code__.co_filename, "driver": driver}
    os.write(fd, (json.dumps(msg) + "\n").encode("ascii"))


def fib_gen(n):
    a, b = 0, 1
    for _ in range(n):
        yield a
        a, b = b, a + b


def run_gen(fd):
    announce(fd, "run_gen")
    while True:
        for v in fib_gen(200):
            pass


async def agen(n):
    for i in range(n):
        yield i


async def consume_agen(fd):
    announce(fd, "run_asyncgen")
    while True:
        async for v in agen(200):
            pass


def run_asyncgen(fd):
    asyncio.run(consume_agen(fd))


async def leaf(i):
    await asyncio.sleep(0)
    return i


async def middle(i):
    return await leaf(i) + await leaf(i + 1)


async def outer():
    n = 0
    while True:
        n += await middle(n & 7)


async def coro_main(fd):
    announce(fd, "run_coro")
    await asyncio.gather(outer(), outer())


def run_coro(fd):
    asyncio.run(coro_main(fd))


def chain(depth):
    if depth:
        yield from chain(depth - 1)
    else:
        yield 0
        yield 1


def run_deepgen(fd):
    announce(fd, "run_deepgen")
    while True:
        for d in DEPTHS:
            for v in chain(d):
                pass


def dive(n):
    if n:
        return dive(n - 1) + 1
    return 0


def run_recurse(fd):
    announce(fd, "run_recurse")
    while True:
        for d in DEPTHS:
            dive(d)


SCENARIOS = {"gen": run_gen, "asyncgen": run_asyncgen, "coro": run_coro,
             "deepgen": run_deepgen, "recurse": run_recurse}


def wait_for_eof():
    sys.stdin.buffer.read(1)
    os._exit(0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("scenario", choices=sorted(SCENARIOS))
    p.add_argument("--ready-fd", type=int, required=True)
    p.add_argument("--on-main", action="store_true")
    p.add_argument("--timeout", type=float, default=120)
    args = p.parse_args()
    # SIGALRM's default action ends the process whatever its threads do
    signal.alarm(int(max(1, min(args.timeout, 600))) + 1)
    run = SCENARIOS[args.scenario]
    if args.on_main:
        threading.Thread(target=wait_for_eof, daemon=True).start()
        run(args.ready_fd)
    else:
        threading.Thread(target=run, args=(args.ready_fd,), name="driver", daemon=True).start()
        wait_for_eof()


if __name__ == "__main__":
    main()
