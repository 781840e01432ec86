"""Containers: a Python process in its own PID and mount namespaces (made
with util-linux's unshare, as `docker run` makes them: a private /proc, the
process is pid 1 of its namespace), diagnosed and dumped from the host by
the pid the host sees. The interpreter keeps the namespace's thread ids;
the host's /proc knows the threads by others: gilscope must read each
thread's kernel facts under the host's id and show both.

Ground truth: the target's own clocks and counters over the window
gilscope samples (each thread's CPU time, time.thread_time() read in the
thread, and its rounds of work: with the GIL on, a spinner's share of the
rounds is its share of the GIL), and the host's /proc (each task's NSpid
line pairs its two ids). Every interpreter,
both GIL modes of the free-threaded ones.
"""
import json
import os
import select
import shutil
import subprocess
import time

import pytest

import e2e_support as es

TARGET = es.REPO / "tests" / "e2e" / "targets" / "nsworkers.py"
# 1,500 samples a thread: a spinner's share of the GIL (about a third)
# is then known to within about 0.02 (samples 2 ms apart see the same
# 5 ms hold), well inside the 0.1 asked of it
WINDOW_S = 3
RATE = 500
SPINNERS = 3


def host_ids(pid: int) -> dict:
    """namespace tid -> host tid, from the host's /proc."""
    out = {}
    for name in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{name}/status") as f:
                for line in f:
                    if line.startswith("NSpid:"):
                        ids = [int(x) for x in line.split()[1:]]
                        out[ids[-1]] = ids[0]
        except OSError:
            pass
    return out


# Mounts an interpreter's prefix on a tmpfs of the new mount namespace, so
# that it is found at a path the host does not have, then runs the rest.
INSIDE = """set -e
mount -t tmpfs gilscope-test "$1"
mkdir "$1/py"
mount --bind "$2" "$1/py"
shift 2
exec "$@"
"""


class NsTarget:
    """nsworkers.py as pid 1 of a PID namespace of its own (with a mount
    namespace and a /proc of its own), started by util-linux's unshare.

    inside: the interpreter at that path only, in the target's mount
    namespace. nested: that namespace inside another one (made by an outer
    unshare whose child, the inner unshare, is its init). After start:
    .pid the target's host pid, .chain the host pids from the outer unshare
    down to the target, .ns_tids {thread name: id in its own namespace}."""

    def __init__(self, it: es.Interp, inside: str = "", nested: bool = False):
        if not shutil.which("unshare"):
            pytest.fail("unshare (util-linux) is not installed", pytrace=False)
        if os.geteuid() != 0:
            pytest.skip("making PID and mount namespaces needs root here")
        r_ready, w_ready = os.pipe()
        r_ctl, w_ctl = os.pipe()
        python = it.path
        pre = ["unshare", "--pid", "--fork", "--mount-proc", "--propagation", "private"]
        if nested:
            pre += pre
        if inside:
            # the interpreter's prefix (bin/python3.X under it) at `inside`,
            # a directory that stays empty on the host
            prefix = os.path.dirname(os.path.dirname(it.realpath))
            python = os.path.join(inside, "py", os.path.relpath(it.realpath, prefix))
            pre += ["sh", "-c", INSIDE, "inside", inside, prefix]
        argv = pre + [python, str(TARGET), "--ready-fd", str(w_ready), "--control-fd",
                      str(r_ctl), "--spinners", str(SPINNERS)]
        self.proc = subprocess.Popen(argv, pass_fds=(w_ready, r_ctl), env=it.env(),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        os.close(w_ready)
        os.close(r_ctl)
        self.rd = os.fdopen(r_ready, "r")
        self.ctl = os.fdopen(w_ctl, "w", buffering=1)
        hello = self.read_msg(60, "its readiness")
        self.ns_tids = hello["tids"]
        assert hello["pid"] == 1, f"not pid 1 of a namespace of its own: {hello}"
        # each unshare forks once; sh and setpriv exec: down the line of
        # single children to the target, which has none
        self.chain = [self.proc.pid]
        while True:
            with open(f"/proc/{self.chain[-1]}/task/{self.chain[-1]}/children") as f:
                kids = [int(x) for x in f.read().split()]
            if not kids:
                break
            assert len(kids) == 1, (self.chain, kids)
            self.chain.append(kids[0])
        assert len(self.chain) == (3 if nested else 2), self.chain
        self.pid = self.chain[-1]

    def read_msg(self, timeout: float, what: str) -> dict:
        ready, _, _ = select.select([self.rd], [], [], timeout)
        if not ready:
            self.close()
            pytest.fail(f"the namespaced target did not send {what} within {timeout:.0f} s: "
                        f"{self.proc.stderr.read().decode(errors='replace')[-2000:]}",
                        pytrace=False)
        line = self.rd.readline()
        assert line, f"the namespaced target ended before {what}"
        return json.loads(line)

    def close(self):
        try:
            self.ctl.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def ns_target(interp):
    t = NsTarget(interp)
    yield t
    t.close()


def test_diagnose_in_pid_namespace(gilscope, interp, ns_target):
    t = ns_target
    ids = host_ids(t.pid)
    assert all(ns in ids for ns in t.ns_tids.values()), (t.ns_tids, ids)
    assert any(ids[ns] != ns for ns in t.ns_tids.values()), "the ids do not differ: no namespace?"
    t.ctl.write("start\n")
    run = es.run_gilscope(gilscope, ["diagnose", "--pid", str(t.pid), "-d", str(WINDOW_S),
                                     "-r", str(RATE), "--json"])
    t.ctl.write("stop\n")
    truth = t.read_msg(30, "its measurements")
    assert run.returncode == 0, run.describe()
    doc = json.loads(run.stdout)
    assert doc["pid"] == t.pid
    check_diagnosis(interp, doc, truth, {name: (ids[ns], ns if ns != ids[ns] else None)
                                         for name, ns in t.ns_tids.items()})


def check_diagnosis(interp, doc: dict, truth: dict, expect: dict) -> None:
    """diagnose --json of nsworkers.py against what the target measured
    (truth) and the ids each thread must be shown by: expect is {thread
    name: (tid, ns_tid or None)}."""
    assert not es.diag_schema_errors(doc), es.diag_schema_errors(doc)[:5]
    by_tid = es.threads_by_tid(doc)
    wall = truth["wall_s"]
    for name, (tid, ns_tid) in expect.items():
        th = by_tid.get(tid)
        assert th is not None, f"{name}: tid {tid} missing: {sorted(by_tid)}"
        assert th.get("ns_tid") == ns_tid, (name, th)
        assert th.get("name") == name, (name, th)
        st = th["states"]
        # every kernel fact was read: a thread read under the wrong id
        # would be `other`
        assert st.get("other", 0) < 0.05, (name, st)
        if name.startswith("spin-"):
            cpu = truth["cpu_s"][name]
            assert cpu is not None, truth
            measured = cpu / wall
            on_cpu = st.get("python", 0) + st.get("native", 0) + st.get("native_gil", 0)
            if interp.gil_enabled:
                # only the GIL's holder works: a spinner's share of all
                # the spinners' rounds is its share of the GIL, and it
                # waits for the GIL the rest of the time
                work = truth["work"]
                total = sum(work[n] for n in work if n.startswith("spin-"))
                share = work[name] / total
                assert abs(th["gil_held"] - share) < 0.1, (name, th["gil_held"], share, work)
                assert abs(st.get("gil_wait", 0) - (1 - share)) < 0.15, (name, st, share)
            else:
                # runnable and running look alike in the kernel's state:
                # busy for at least the CPU it got, never waiting on a GIL
                assert on_cpu > measured - 0.12 and on_cpu > 0.5, (name, st, measured)
                assert st.get("gil_wait", 0) < 0.02, (name, st)
        else:
            assert st.get("python", 0) + st.get("native_gil", 0) < 0.1, (name, st)
    kind = doc["verdict"]["kind"]
    if interp.gil_enabled:
        assert kind == "gil-bound-python", doc["verdict"]
    else:
        assert kind not in ("idle", "gil-bound-python", "gil-bound-native"), doc["verdict"]


def blocked_in_read(pid: int, tid: int, timeout: float = 30) -> None:
    """Wait until the host's /proc says the thread blocks in read(2) (the
    main thread on its control pipe, once it got past its start)."""
    if es.SYSCALLS is None:
        pytest.skip(f"no system call table for {os.uname().machine} in e2e_support.py")
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(f"/proc/{pid}/task/{tid}/syscall") as f:
                nr = f.read().split()[0]
        except (OSError, IndexError):
            nr = ""
        if nr.lstrip("-").isdigit() and int(nr) in es.SYSCALLS["read"]:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"thread {tid} never blocked in read (last: {nr!r})", pytrace=False)
        time.sleep(0.01)


@pytest.mark.asan
def test_dump_in_pid_namespace(gilscope, interp, ns_target):
    t = ns_target
    ids = host_ids(t.pid)
    blocked_in_read(t.pid, ids[t.ns_tids["MainThread"]])
    run = es.run_gilscope(gilscope, ["dump", "--pid", str(t.pid), "--json"])
    assert run.returncode == 0, run.describe()
    doc = json.loads(run.stdout)
    assert not es.schema_errors(doc), es.schema_errors(doc)[:5]
    by_tid = es.threads_by_tid(doc)
    for name, ns in t.ns_tids.items():
        th = by_tid.get(ids[ns])
        assert th is not None, (name, ns, ids[ns], sorted(by_tid))
        assert th.get("ns_tid") == (ns if ns != ids[ns] else None), (name, th)
        assert th["kernel_state"] != "?", (name, th)
    # the main thread blocks reading the control pipe: a state only the
    # kernel's facts (its system call) can give, read under the host's id
    main = by_tid[ids[t.ns_tids["MainThread"]]]
    assert main["state"] == "io", es.describe_thread(main)
    text = es.run_gilscope(gilscope, ["dump", "--pid", str(t.pid)])
    assert text.returncode == 0, text.describe()
    main_ns = t.ns_tids["MainThread"]
    assert f"Thread {ids[main_ns]} ({main_ns} in its namespace)" in text.stdout, text.stdout


def test_interpreter_only_inside(gilscope, interp, tmp_path):
    """The interpreter (and, built shared, its libpython) at a path that
    exists only in the target's mount namespace: gilscope finds the runtime
    through the target's own view of its files."""
    inside = tmp_path / "mnt"
    inside.mkdir()
    t = NsTarget(interp, inside=str(inside))
    try:
        exe = os.readlink(f"/proc/{t.pid}/exe")
        assert exe.startswith(str(inside)) and not os.path.exists(exe), exe
        ids = host_ids(t.pid)
        run = es.run_gilscope(gilscope, ["dump", "--pid", str(t.pid), "--json"])
        assert run.returncode == 0, run.describe()
        doc = json.loads(run.stdout)
        by_tid = es.threads_by_tid(doc)
        for name, ns in t.ns_tids.items():
            th = by_tid.get(ids[ns])
            assert th is not None, (name, sorted(by_tid))
            if name.startswith("spin-"):
                assert any(f["function"] == "spin" for f in th["frames"]), \
                    es.describe_thread(th)
    finally:
        t.close()
