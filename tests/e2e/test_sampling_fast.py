"""End-to-end tests of the sampler's shortcuts (src/sample/sampler.c): a
thread that did not run since the last sample is not read again, the thread
list is taken on trust between walks, and a running thread's stack memory is
read ahead in one batch. Whatever the shortcuts save, the answers must be
those of full reads, at the highest rates:

  * a blocked thread has one stack and one state for the whole run (the
    reused answer is exactly the one read);
  * the busy threads' stacks are the program's (a torn read of a running
    thread now and then is allowed, as for any sampler that does not stop
    its target: at most 2%; from 3.11 on, where frames live in a data
    stack: before, frames are heap objects recycled at every call, and any
    reader that does not stop the target sees torn chains in a good part of
    its samples of this program, py-spy --nonblocking as much as gilscope
    with or without the shortcuts);
  * threads that start and end while sampling appear and disappear.

The target is bench/targets/workers.py (busy threads nesting calls a known
way, the calls of bench/targets/work.py; blocked threads waiting on an
Event, in a sleep, on a socket).
"""
import collections
import os
import re
import subprocess
import sys
import time

import pytest

import e2e_support as es

WORKERS = es.REPO / "bench" / "targets" / "workers.py"
WORK = es.REPO / "bench" / "targets" / "work.py"    # nest() and leaf(), which workers.py calls
RATE = os.environ.get("GILSCOPE_TEST_RATE_FAST", "20000")


def _line_of(text):
    for i, line in enumerate(WORK.read_text().splitlines(), 1):
        if line.strip() == text:
            return i
    raise AssertionError(f"{text!r} not in {WORK}")


CALLS_NEST = _line_of("return nest(d - 1)")
CALLS_LEAF = _line_of("return leaf()")


class Workers:
    def __init__(self, it, busy, blocked):
        self.proc = subprocess.Popen([it.path, str(WORKERS), str(busy), str(blocked)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     env=it.env(), text=True)
        line = self.proc.stdout.readline().split()
        assert line and line[0] == "ready", f"workers.py did not start: {line}"
        self.pid = int(line[1])
        self.proc.stdin.write("t\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline().split()
        assert line and line[0] == "tids", line
        self.blocked = [int(t) for t in line[1:]]

    def settle(self, timeout=30.0):
        """Wait until every blocked thread sleeps in the kernel, seen five
        times in a row (a lock may spin, yielding the CPU, before it parks:
        free-threaded builds do, for a good part of a second on a busy
        machine)."""
        deadline = time.monotonic() + timeout
        streak = 0
        while streak < 5:
            states = [_state(self.pid, t) for t in self.blocked]
            streak = streak + 1 if all(s in ("S", "D") for s in states) else 0
            if time.monotonic() > deadline:
                pytest.fail(f"blocked threads of workers.py did not settle: {states}")
            time.sleep(0.01)

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("q\n")
                self.proc.stdin.close()
                self.proc.wait(timeout=20)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def workers():
    started = []

    def start(it, busy, blocked):
        w = Workers(it, busy, blocked)
        started.append(w)
        return w
    yield start
    for w in started:
        w.stop()


def _state(pid, tid):
    try:
        with open(f"/proc/{pid}/task/{tid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "?"


def collapsed(gilscope, pid, tmp_path, seconds="2"):
    out = tmp_path / "stacks.txt"
    run = es.run_gilscope(gilscope, ["record", "--pid", str(pid), "-r", RATE, "-d", seconds,
                                     "-f", "collapsed", "-o", str(out), "--no-progress"])
    assert run.returncode == 0, run.describe()
    stacks = collections.Counter()
    for line in out.read_text().splitlines():
        stack, n = line.rsplit(" ", 1)
        stacks[stack] += int(n)
    return stacks, run


def by_thread(stacks):
    threads = collections.defaultdict(collections.Counter)
    for stack, n in stacks.items():
        threads[stack.split(";", 1)[0]][stack] += n
    return threads


def frames_of(stack):
    """(function, line) of the frames of workers.py and work.py, outermost
    first."""
    out = []
    for f in stack.split(";")[1:]:
        m = re.match(r"(\S+) \((.*):(\d+)\)$", f)
        if m and (m.group(2).endswith("/workers.py") or m.group(2).endswith("/work.py")):
            out.append((m.group(1), int(m.group(3))))
    return out


def consistent(frames):
    """Does a busy thread's stack follow the program: busy (or main), then
    nest calling nest (CALLS_NEST) and last leaf (CALLS_LEAF), at most 9
    deep?"""
    if not frames or frames[0][0] not in ("busy", "<module>"):
        return True     # not in the work loop (starting, or answering the harness)
    chain = frames[1:] if frames[0][0] == "busy" else frames[2:]
    nests = 0
    for i, (fn, line) in enumerate(chain):
        last = i == len(chain) - 1
        if fn == "nest":
            nests += 1
            if not last and (line, chain[i + 1][0]) not in ((CALLS_NEST, "nest"),
                                                            (CALLS_LEAF, "leaf")):
                return False
        elif fn == "leaf":
            if not last or i == 0 or chain[i - 1] != ("nest", CALLS_LEAF):
                return False
        elif not last:
            return False
    return nests <= 9


@pytest.mark.asan
def test_blocked_threads_one_stack_each(gilscope, interp, workers, tmp_path):
    w = workers(interp, 2, 9)
    w.settle()
    stacks, run = collapsed(gilscope, w.pid, tmp_path)
    threads = by_thread(stacks)
    want = {0: "[waiting for a lock]", 1: "[sleeping]", 2: "[blocked in I/O]"}
    seen = 0
    for name, st in threads.items():
        m = re.match(r"blocked-(\d+) ", name)
        if not m:
            continue
        seen += 1
        assert len(st) == 1, f"{name} has {len(st)} different stacks:\n" + \
            "\n".join(f"{n} {s}" for s, n in st.most_common()) + "\n" + run.describe()
        stack = next(iter(st))
        assert stack.endswith(want[int(m.group(1)) % 3]), (stack, run.describe())
        assert [f for f in frames_of(stack) if f[0] == "blocked_frame"], stack
    assert seen == 9, f"blocked threads seen: {seen}\n{sorted(threads)}"


def test_busy_threads_stacks_consistent(gilscope, interp, workers, tmp_path):
    if interp.version_info < (3, 11):
        pytest.skip("frames are recycled heap objects before 3.11: torn chains are common "
                    "for any reader that does not stop the target")
    w = workers(interp, 3, 3)
    stacks, run = collapsed(gilscope, w.pid, tmp_path)
    good = bad = 0
    worst = []
    for stack, n in stacks.items():
        name = stack.split(";", 1)[0]
        if not (name.startswith("busy-") or name.startswith("MainThread")):
            continue
        if consistent(frames_of(stack)):
            good += n
        else:
            bad += n
            worst.append((n, stack))
    assert good > 1000, run.describe()
    worst.sort(reverse=True)
    assert bad <= 0.02 * (good + bad), (
        f"{bad} of {good + bad} busy-thread samples do not follow the program:\n" +
        "\n".join(f"{n} {s}" for n, s in worst[:10]))


@pytest.mark.asan
def test_threads_come_and_go(gilscope, interp, tmp_path):
    """Threads started and ended while sampling at a high rate: each shows
    up with its own stack, and the run survives their thread states being
    freed and reused under the cached thread list."""
    code = (
        "import sys, threading, time\n"
        "def worker(i):\n"
        "    time.sleep(0.02 + (i % 5) * 0.01)\n"
        "def main():\n"
        "    sys.stdout.write('ready\\n'); sys.stdout.flush()\n"
        "    end = time.monotonic() + 2.5\n"
        "    i = 0\n"
        "    while time.monotonic() < end:\n"
        "        ts = [threading.Thread(target=worker, args=(i + k,), name=f'w{i + k}') for k in range(8)]\n"
        "        for t in ts: t.start()\n"
        "        for t in ts: t.join()\n"
        "        i += 8\n"
        "    time.sleep(30)\n"
        "main()\n")
    p = subprocess.Popen([interp.path, "-c", code], stdout=subprocess.PIPE, text=True,
                         env=interp.env())
    try:
        assert p.stdout.readline().strip() == "ready"
        stacks, run = collapsed(gilscope, p.pid, tmp_path)
    finally:
        p.kill()
        p.wait()
    threads = by_thread(stacks)
    workers_seen = [n for n in threads if re.match(r"w\d+ ", n)]
    assert len(workers_seen) >= 20, f"{len(workers_seen)} short-lived threads seen\n{run.describe()}"
    for name in workers_seen:
        for stack in threads[name]:
            fns = [f.split(" ", 1)[0] for f in stack.split(";")[1:]]
            # a worker is in worker() (sleeping) or starting/ending around it
            assert "main" not in fns, f"{name} shows another thread's stack: {stack}"
