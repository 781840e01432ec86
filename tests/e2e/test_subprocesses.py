"""Process trees (--subprocesses): a shell runs Python, which runs a
multiprocessing.Pool with each start method (fork, spawn, forkserver).
`gilscope dump --subprocesses --pid <the shell>` must find every Python
process below the shell (the parent, each worker, the helper processes the
start method makes), read each one's threads, and list the shell as a
process of the tree that is not Python.

`record --subprocesses` must put each process (pid: command line) at the
root of its threads' stacks in every format.

Ground truth: the workers' pids as the workers themselves report them
(os.getpid() in the worker), and the kernel's process table (/proc) for the
parent of each process. Representative interpreters (an integration test:
the interpreter model is covered by the other tests on every build).
"""
import json
import os
import re
import select
import subprocess
import time
from collections import defaultdict

import pytest

import e2e_support as es

INTERPRETERS = "representative"
TARGET = es.REPO / "tests" / "e2e" / "targets" / "pooltree.py"
WORKERS = 2


def ppid_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


class PoolTree:
    def __init__(self, it: es.Interp, method: str, replace: bool = False):
        r_ready, w_ready = os.pipe()
        r_ctl, w_ctl = os.pipe()
        cmd = (f"{it.path} {TARGET} --ready-fd {w_ready} --control-fd {r_ctl} "
               f"--method {method} --workers {WORKERS}{' --replace' if replace else ''}; :")
        self.proc = subprocess.Popen(["sh", "-c", cmd], pass_fds=(w_ready, r_ctl), env=it.env(),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        os.close(w_ready)
        os.close(r_ctl)
        self.ctl = w_ctl
        self.rd = os.fdopen(r_ready)
        ready, _, _ = select.select([self.rd], [], [], 90)
        line = self.rd.readline() if ready else ""
        if not line:
            self.close()
            pytest.fail(f"the pool did not get ready: {self.proc.stderr.read().decode()[-3000:]}",
                        pytrace=False)
        self.hello = json.loads(line)
        self.sh = self.proc.pid
        self.all_workers = None

    def close(self):
        try:
            os.close(self.ctl)
        except OSError:
            pass
        ready, _, _ = select.select([self.rd], [], [], 60)
        line = self.rd.readline() if ready else ""
        if line:
            self.all_workers = json.loads(line)["all_workers"]
        self.rd.close()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def descendants(root: int) -> set:
    out, todo = set(), [root]
    while todo:
        p = todo.pop()
        for name in os.listdir(f"/proc/{p}/task"):
            try:
                with open(f"/proc/{p}/task/{name}/children") as f:
                    kids = [int(x) for x in f.read().split()]
            except OSError:
                continue
            for k in kids:
                if k not in out:
                    out.add(k)
                    todo.append(k)
    return out


@pytest.mark.asan
@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_dump_tree(gilscope, interp, method, tmp_path):
    t = PoolTree(interp, method)
    try:
        before = descendants(t.sh)
        run = es.run_gilscope(gilscope, ["dump", "--subprocesses", "--pid", str(t.sh), "--json"],
                              save_dir=tmp_path)
        after = descendants(t.sh)
        text = es.run_gilscope(gilscope, ["dump", "--subprocesses", "--pid", str(t.sh)])
    finally:
        t.close()
    assert run.returncode == 0, run.describe()
    doc = json.loads(run.stdout)
    assert doc["pid"] == t.sh, run.describe()
    procs = {p["pid"]: p for p in doc["processes"]}
    others = {o["pid"]: o for o in doc["others"]}
    # every process object is a dump of its own
    for p in doc["processes"]:
        assert not es.schema_errors(p), (es.schema_errors(p), run.describe())
    # the shell: in the tree, not Python
    assert t.sh not in procs and others.get(t.sh, {}).get("why") == "not Python", run.describe()
    # the Python parent, a child of the shell, with the pool's threads
    parent = procs.get(t.hello["parent"])
    assert parent is not None, run.describe()
    assert parent["ppid"] == t.sh, run.describe()
    names = {th["name"] for th in parent["threads"]}
    assert "MainThread" in names, names
    # every worker, by the pid it gave itself, busy in spin()
    for pid in t.hello["workers"]:
        w = procs.get(pid)
        assert w is not None, f"worker {pid} missing\n{run.describe()}"
        assert w["ppid"] == ppid_of_or(pid, w["ppid"]), w
        funcs = [f["name"] for th in w["threads"] for f in th["frames"]]
        assert "spin" in funcs, f"worker {pid}: {funcs}\n{run.describe()}"
    # nothing found that is not in the tree, and every process of the tree
    # that stayed all along was found (Python or not)
    found = set(procs) | set(others)
    assert found <= (before | after | {t.sh}), (found, before, after)
    assert (before & after) <= found, (before & after) - found
    # the helper processes of the start method are Python and read
    for pid in (before & after) - {t.hello["parent"], *t.hello["workers"]}:
        assert pid in procs, f"{pid} ({others.get(pid)}) not read\n{run.describe()}"
    # the text form names each process and its parent
    assert text.returncode == 0, text.describe()
    for pid in t.hello["workers"]:
        assert f"Process {pid} (child of " in text.stdout, text.describe()
    assert "Other processes of the tree, not read:" in text.stdout, text.describe()


def ppid_of_or(pid: int, default: int) -> int:
    """The parent the kernel gives pid now (the worker still runs: the
    test reads it before the pool ends), or default if it is gone."""
    try:
        return ppid_of(pid)
    except OSError:
        return default


def test_tree_without_python(gilscope, tmp_path):
    """A tree with no Python in it: one line, exit status 5 (not Python)."""
    proc = subprocess.Popen(["sh", "-c", "echo ready; exec sleep 60"],
                            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        assert proc.stdout.readline() == b"ready\n"
        run = es.run_gilscope(gilscope, ["dump", "--subprocesses", "--pid", str(proc.pid)])
    finally:
        proc.kill()
        proc.wait()
    assert run.returncode == 5, run.describe()
    assert run.stdout == "", run.describe()
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and f"no Python process in the tree of process {proc.pid}" in lines[0], \
        run.describe()


def tree_schema_errors(doc) -> list:
    import jsonschema
    with open(es.REPO / "tests" / "schema" / "diagnose-tree.schema.json") as f:
        v = jsonschema.Draft202012Validator(json.load(f))
    return [f"{'/'.join(map(str, e.path))}: {e.message}" for e in v.iter_errors(doc)]


def cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def expected_program(procs: list) -> str:
    """The program's verdict as analyze/program.c draws it from the
    processes' own (which the other assertions check against the kernel)."""
    kinds = [p["diagnosis"]["verdict"]["kind"] for p in procs
             if p["diagnosis"]["verdict"]["busy_threads"]]
    working = [k for k in kinds if k not in ("idle", "io-bound")]
    busy = working or kinds
    if not busy:
        return "idle"
    if len(busy) == 1:
        return busy[0]
    gil = [k for k in busy if k.startswith("gil-bound")]
    if gil:
        return None  # the busiest GIL-bound one's: checked apart
    if all(k == "cpu-single" for k in busy):
        return "parallel"
    return busy[0] if len(set(busy)) == 1 else "mixed"


@pytest.mark.asan
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_diagnose_tree(gilscope, interp, method, tmp_path):
    """Each worker spins in Python on one thread: each one's report says one
    busy thread in spin(), its CPU time (the kernel's) moved during the
    window, and the program's verdict is drawn from the processes'."""
    check_diagnose_tree(gilscope, interp, method, tmp_path)


def test_diagnose_tree_with_records(gilscope, interp, tmp_path):
    """The same with the context-switch records read for the whole tree
    (one drain a deadline, each process's sampler picking its own)."""
    doc = check_diagnose_tree(gilscope, interp, "fork", tmp_path, ["--switch-records", "always"])
    for p in doc["processes"]:
        smp = p["diagnosis"]["sampling"]
        assert smp["switch_records"], smp
    # the workers' main threads block in their pool's queue between
    # tasks, their helper threads all along: found quiet by the records
    assert sum(p["diagnosis"]["sampling"]["quiet_by_records"] for p in doc["processes"]) > 0


def check_diagnose_tree(gilscope, interp, method, tmp_path, extra=()):
    t = PoolTree(interp, method)
    try:
        before = {pid: cpu_ticks(pid) for pid in t.hello["workers"]}
        run = es.run_gilscope(gilscope, ["diagnose", "--subprocesses", "--pid", str(t.sh),
                                         "-d", "2", "--json", *extra], save_dir=tmp_path)
        after = {pid: cpu_ticks(pid) for pid in t.hello["workers"]}
    finally:
        t.close()
    assert run.returncode == 0, run.describe()
    doc = json.loads(run.stdout)
    assert doc["pid"] == t.sh and doc["subprocesses"] is True
    assert not tree_schema_errors(doc), tree_schema_errors(doc)
    procs = {p["pid"]: p for p in doc["processes"]}
    for p in doc["processes"]:
        errs = es.diag_schema_errors(p["diagnosis"])
        assert not errs, errs
    assert doc["others"] and doc["others"][0]["pid"] == t.sh, doc["others"]
    assert procs[t.hello["parent"]]["ppid"] == t.sh
    for pid in t.hello["workers"]:
        assert after[pid] > before[pid], f"worker {pid} did not run: the test proves nothing"
        p = procs.get(pid)
        assert p is not None, run.describe()
        d = p["diagnosis"]
        assert d["samples"] > 0
        busy = [th for th in d["threads"] if th["busy"] >= 0.5]
        assert len(busy) == 1, d["threads"]
        hot = [f["function"] for fs in d["verdict"]["hot"].values() for f in fs]
        assert any(f.endswith("spin") for f in hot), hot
        assert d["verdict"]["kind"] in ("cpu-single", "parallel", "mixed"), d["verdict"]
    want = expected_program(doc["processes"])
    got = doc["program"]
    if want is not None:
        assert got["kind"] == want, (got, [(p["pid"], p["diagnosis"]["verdict"]["kind"])
                                          for p in doc["processes"]])
    assert got["where"] in procs, got
    return doc


def test_diagnose_tree_replaced_workers(gilscope, interp, tmp_path):
    """maxtasksperchild=1: worker processes start and end all along; those
    that start while gilscope samples are found and sampled too."""
    t = PoolTree(interp, "fork", replace=True)
    try:
        run = es.run_gilscope(gilscope, ["diagnose", "--subprocesses", "--pid", str(t.sh),
                                         "-d", "2", "--json"], save_dir=tmp_path)
    finally:
        t.close()
    assert run.returncode == 0, run.describe()
    assert t.all_workers, "the target did not report its workers"
    doc = json.loads(run.stdout)
    procs = {p["pid"]: p for p in doc["processes"]}
    sampled_workers = [pid for pid in procs if pid in set(t.all_workers)]
    late = [pid for pid in sampled_workers if pid not in t.hello["workers"]]
    # WORKERS were running when gilscope started; in 2 s of 0.25 s tasks
    # the pool made several more, and those are sampled too
    assert len(late) >= 2, (late, sorted(procs), t.all_workers)
    ended = [pid for pid in sampled_workers if procs[pid]["ended"]]
    assert ended, "no worker seen to end while sampled"
    # every process gilscope reports is the parent, a worker, or a helper
    # of the pool (a Python child of the parent)
    for pid, p in procs.items():
        assert pid == t.hello["parent"] or pid in t.all_workers or \
            p["ppid"] == t.hello["parent"], (pid, p["command"])


def launch_pool_then_interrupt(gilscope, interp, args, tree_of=None):
    """gilscope ARGS -- sh -c '<pooltree>': once the pool is ready and each
    worker has spun for half a second of CPU time by the kernel's count
    (polled, with a deadline), gilscope is interrupted (SIGINT), so the
    pool's start-up never races a duration. The control pipe stays open:
    gilscope must end the program. Returns (hello, returncode, stdout,
    stderr, the tree as seen once ready)."""
    import signal
    r_ready, w_ready = os.pipe()
    r_ctl, w_ctl = os.pipe()
    cmd = (f"{interp.path} {TARGET} --ready-fd {w_ready} --control-fd {r_ctl} "
           f"--method fork --workers {WORKERS} --timeout 60; :")
    env = dict(os.environ, **interp.env())
    proc = subprocess.Popen([gilscope] + args + ["--", "sh", "-c", cmd], pass_fds=(w_ready, r_ctl),
                            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    os.close(w_ready)
    os.close(r_ctl)
    hello, out, err, tree = None, b"", b"", set()
    try:
        with os.fdopen(r_ready) as rd:
            ready, _, _ = select.select([rd], [], [], 90)
            line = rd.readline() if ready else ""
        if line:
            hello = json.loads(line)
            tree = descendants(proc.pid)
            start = {pid: cpu_ticks(pid) for pid in hello["workers"]}
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and \
                    any(cpu_ticks(pid) < start[pid] + 50 for pid in hello["workers"]):
                time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(w_ctl)
    assert hello, err.decode()[-3000:]
    return hello, proc.returncode, out, err, tree


def test_diagnose_tree_launched(gilscope, interp, tmp_path):
    """Launch mode: gilscope starts the shell and samples the tree until it
    is interrupted, then ends the program and every process it started."""
    hello, returncode, out, err, _ = launch_pool_then_interrupt(
        gilscope, interp, ["diagnose", "--subprocesses", "--json"])
    assert returncode == 0, err.decode()[-3000:]
    doc = json.loads(out)
    assert not tree_schema_errors(doc), tree_schema_errors(doc)
    assert doc["launch"]["end"] == "ended" and doc["launch"]["command"] == "sh", doc["launch"]
    assert b"ended sh (pid" in err, err
    procs = {p["pid"]: p for p in doc["processes"]}
    for pid in hello["workers"]:
        assert pid in procs, (pid, sorted(procs))
        # it spun for half a second of CPU while sampled
        assert procs[pid]["diagnosis"]["samples"] >= 10, procs[pid]["diagnosis"]["samples"]
        # ended with the program
        assert not os.path.exists(f"/proc/{pid}") or \
            open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] == "Z"
    assert hello["parent"] in procs


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, timeout: float = 5.0) -> int:
    """One request; the pid of the worker that answered it."""
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=timeout) as r:
        return int(r.read().decode().strip())


def test_diagnose_gunicorn(gilscope, interp, tmp_path):
    """A real pre-forking server: gunicorn (from PyPI) with two sync workers
    answering requests on loopback while gilscope diagnoses its master with
    --subprocesses. Each worker that served requests during the window is
    found, with the application's `handle` among its hot frames."""
    import threading
    venv = es.install_package(interp, "gunicorn", "gunicorn")
    port = free_port()
    env = dict(os.environ, **interp.env())
    env["PYTHONPATH"] = str(es.TARGETS_DIR)
    server = subprocess.Popen([str(venv / "bin" / "python"), "-m", "gunicorn", "-w", "2",
                               "-b", f"127.0.0.1:{port}", "--access-logfile", "-",
                               "wsgiapp:app"], env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    served: dict = {}
    stop = threading.Event()
    try:
        # ready: it answers (a real request, polled until a deadline)
        deadline = time.monotonic() + 60
        while True:
            try:
                get(port, timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("gunicorn did not answer: " +
                                server.stderr.read1(4000).decode(errors="replace"),
                                pytrace=False)
                time.sleep(0.05)

        def client():
            while not stop.is_set():
                try:
                    pid = get(port)
                except OSError:
                    continue
                if not stop.is_set():
                    served[pid] = served.get(pid, 0) + 1

        clients = [threading.Thread(target=client) for _ in range(3)]
        for c in clients:
            c.start()
        run = es.run_gilscope(gilscope, ["diagnose", "--subprocesses", "--pid", str(server.pid),
                                         "-d", "2", "--json"], save_dir=tmp_path)
        stop.set()
        for c in clients:
            c.join()
    finally:
        stop.set()
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    assert run.returncode == 0, run.describe()
    doc = json.loads(run.stdout)
    procs = {p["pid"]: p for p in doc["processes"]}
    assert server.pid in procs, sorted(procs)
    workers = [pid for pid, p in procs.items() if p["ppid"] == server.pid]
    assert len(workers) == 2, (workers, sorted(procs))
    assert sum(served.values()) >= 10, served
    for pid, n in served.items():
        assert pid in procs, (pid, sorted(procs))
        if n < 10:
            continue
        d = procs[pid]["diagnosis"]
        frames = [f["function"] for fs in d["verdict"]["hot"].values() for f in fs]
        assert any(f.endswith("handle") for f in frames), (pid, n, frames)
    want = expected_program(doc["processes"])
    if want is not None:
        assert doc["program"]["kind"] == want, doc["program"]


# --- record --subprocesses ------------------------------------------------------------

def worker_spins_collapsed(path, workers, tree):
    """Collapsed stacks: each worker (by the pid it gave itself) is the root
    of stacks that run spin() on its main thread (tid == its pid); every
    process root is a process of the tree."""
    from test_formats import read_collapsed
    stacks = read_collapsed(path)
    roots = {}
    for stack in stacks:
        m = re.match(r"pid (\d+): ", stack)
        assert m, f"a stack without its process at the root: {stack[:300]}"
        roots.setdefault(int(m.group(1)), []).append(stack.split(";"))
    assert set(roots) <= tree, (sorted(roots), sorted(tree))
    for pid in workers:
        assert pid in roots, f"worker {pid} not a process root: {sorted(roots)}"
        spun = [s for s in roots[pid]
                if s[1] == f"MainThread (tid {pid})" and any(f.startswith("spin (") for f in s)]
        assert spun, f"worker {pid}: no spin() under its main thread: {roots[pid][:5]}"


def worker_spins_speedscope(path, workers):
    from test_formats import check_speedscope
    doc = check_speedscope(path)
    frames = [f["name"] for f in doc["shared"]["frames"]]
    for pid in workers:
        profs = [p for p in doc["profiles"] if p["name"].startswith(f"pid {pid}: ")]
        assert profs, f"worker {pid}: no profile named after it: {[p['name'] for p in doc['profiles']]}"
        main = [p for p in profs if p["name"].endswith(f"/ MainThread (tid {pid})")]
        assert main, [p["name"] for p in profs]
        assert any(frames[i] == "spin" for s in main[0]["samples"] for i in s), \
            f"worker {pid}: spin not in its main thread's profile"


def worker_spins_chrome(path, workers, tree):
    doc = json.loads(path.read_text(encoding="utf-8"))
    events = doc["traceEvents"]
    named = {e["pid"] for e in events if e["ph"] == "M" and e["name"] == "process_name"}
    assert {e["pid"] for e in events} <= named, "events of a process without process_name"
    assert named <= tree, (sorted(named), sorted(tree))
    spans = defaultdict(list)
    for e in events:
        if e["ph"] == "X":
            spans[(e["pid"], e["tid"])].append(e)
    for (pid, tid), ss in spans.items():
        ss.sort(key=lambda e: e["ts"])
        for a, b in zip(ss, ss[1:]):
            assert a["ts"] + a["dur"] <= b["ts"] + 1e-3, f"spans overlap on {pid}/{tid}"
    for pid in workers:
        assert pid in named, (pid, sorted(named))
        funcs = {e["args"].get("function") for e in spans.get((pid, pid), ()) if e["cat"] == "state"}
        assert "spin" in funcs, f"worker {pid}: no span in spin() on its main thread: {funcs}"


def worker_spins_json(path, workers, hello, sh):
    doc = json.loads(path.read_text(encoding="utf-8"))
    diag = doc["diagnosis"]
    assert diag["pid"] == sh and diag["subprocesses"] is True, diag.keys()
    procs = {p["pid"]: p for p in diag["processes"]}
    assert hello["parent"] in procs
    for p in diag["processes"]:
        errs = es.diag_schema_errors(p["diagnosis"])
        assert not errs, errs
    for pid in workers:
        assert pid in procs, (pid, sorted(procs))
        mine = [s for s in doc["stacks"] if s["pid"] == pid]
        assert mine and all(s["process"] == procs[pid]["command"] for s in mine), mine[:2]
        assert any(s["tid"] == pid and any(f["function"] == "spin" for f in s["frames"])
                   for s in mine), f"worker {pid}: no stack in spin(): {mine[:3]}"
    assert all(s["pid"] in procs for s in doc["stacks"]), sorted({s["pid"] for s in doc["stacks"]})


def worker_spins_svg(path, workers):
    from test_formats import check_svg
    frames = check_svg(path)
    for pid in workers:
        proc = [f for f in frames if f["label"].startswith(f"pid {pid}: ")]
        assert len(proc) == 1, (pid, [f["label"] for f in frames][:20])
        p = proc[0]
        assert any(f["label"].startswith("spin (") and p["x"] <= f["x"] and
                   f["x"] + f["w"] <= p["x"] + p["w"] and f["ry"] < p["ry"] for f in frames), \
            f"worker {pid}: no spin() frame above its process"


def worker_spins_pprof(path, workers, tree):
    """pprof: every sample carries its process (pid, command line) besides
    its thread; each worker's main thread (tid == pid) has stacks in spin()."""
    from test_pprof import Raw, TREE_LABEL_KEYS, pprof
    raw = Raw(pprof(path, "-raw"))
    assert raw.samples, raw.text[:3000]
    commands = defaultdict(set)
    for s in raw.samples:
        labels = s["labels"]
        assert set(labels) == TREE_LABEL_KEYS, labels
        commands[int(labels["pid"])].add(labels["process"])
    assert set(commands) <= tree, (sorted(commands), sorted(tree))
    assert all(len(c) == 1 and next(iter(c)) for c in commands.values()), dict(commands)
    for pid in workers:
        spun = [s for s in raw.samples if s["labels"]["pid"] == str(pid)
                and s["labels"]["thread"] == str(pid)
                and any(raw.locations.get(i, ("",))[0] == "spin" for i in s["locs"])]
        assert spun, f"worker {pid}: no sample in spin() on its main thread\n{raw.text[:3000]}"
    focus = Raw(pprof(path, "-raw", f"-tagfocus=pid={workers[0]}"))
    assert focus.samples and set(focus.by("pid")) == {str(workers[0])}, focus.by("pid")


@pytest.mark.asan
@pytest.mark.parametrize("fmt", ["collapsed", "speedscope", "chrometrace", "json", "flamegraph",
                                 "pprof"])
def test_record_tree(gilscope, interp, fmt, tmp_path):
    """record --subprocesses: every worker, by the pid it gave itself, is a
    process at the root of its stacks, with spin() under its main thread."""
    t = PoolTree(interp, "fork")
    out = tmp_path / f"profile.{fmt}"
    try:
        before = descendants(t.sh)
        run = es.run_gilscope(gilscope, ["record", "--subprocesses", "--pid", str(t.sh),
                                         "-d", "2", "-f", fmt, "-o", str(out)])
        after = descendants(t.sh)
    finally:
        t.close()
    assert run.returncode == 0, run.describe()
    assert re.search(r"wrote .* \(\d+ samples of \d+ Python process", run.stderr), run.describe()
    tree = before | after
    if fmt == "collapsed":
        worker_spins_collapsed(out, t.hello["workers"], tree)
    elif fmt == "speedscope":
        worker_spins_speedscope(out, t.hello["workers"])
    elif fmt == "chrometrace":
        worker_spins_chrome(out, t.hello["workers"], tree)
    elif fmt == "json":
        worker_spins_json(out, t.hello["workers"], t.hello, t.sh)
    elif fmt == "pprof":
        worker_spins_pprof(out, t.hello["workers"], tree)
    else:
        worker_spins_svg(out, t.hello["workers"])


def test_record_tree_launched(gilscope, interp, tmp_path):
    """Launch mode: gilscope starts the shell and records the tree until it is
    interrupted, then ends the program; the workers are the roots of their
    stacks."""
    out = tmp_path / "profile.txt"
    hello, returncode, _, err, tree = launch_pool_then_interrupt(
        gilscope, interp, ["record", "--subprocesses", "-f", "collapsed", "-o", str(out)])
    assert returncode == 0, err.decode()[-3000:]
    assert b"ended sh (pid" in err, err
    worker_spins_collapsed(out, hello["workers"], tree | {hello["parent"]})


# --- top --subprocesses ---------------------------------------------------------------

PROC_LINE = re.compile(r"^pid (\d+) ppid (\d+) (\S+)\s+GIL (?:held (\d+)% contended (\d+)%|off|\?)"
                       r"\s+busy (\d+)/(\d+)")


def top_sections(screen: str) -> dict:
    """A `top --subprocesses` screen by process: {pid: {"ppid", "kind",
    "held" (None with the GIL off), "busy", "nthreads", "threads": {tid: row}}},
    each thread row the one under its process's line."""
    from test_top import parse_row
    procs, cur = {}, None
    for line in screen.splitlines():
        m = PROC_LINE.match(line)
        if m:
            cur = {"ppid": int(m.group(2)), "kind": m.group(3),
                   "held": int(m.group(4)) if m.group(4) else None,
                   "busy": int(m.group(6)), "nthreads": int(m.group(7)), "threads": {},
                   "line": line}
            procs[int(m.group(1))] = cur
            continue
        row = parse_row(line)
        if row and cur is not None:
            cur["threads"][row["tid"]] = row
        elif not row:
            cur = None  # a line that is neither ends the process list
    return procs


def bar_share(row: dict, letter: str) -> float:
    """The share of a thread's state bar in one state (by its letter)."""
    m = re.search(r"\s([PCNWIsl? ]{8,}) +\d+%$", row["line"])
    assert m, f"no state bar in {row['line']!r}"
    cells = m.group(1).strip()
    return cells.count(letter) / len(cells) if cells else 0.0


@pytest.mark.asan
def test_top_tree(gilscope, interp, tmp_path):
    """top --subprocesses on a shell running a Pool: every worker, by the pid
    it gave itself, is a process on the screen, child of the pool's parent
    (as the kernel says), with its own threads under it (its main thread's
    tid is its pid; every tid shown is one of its tasks in /proc), and the
    figures diagnose's test checks: one busy thread running spin() in Python,
    a verdict of a CPU-bound process, while the kernel counts its CPU time."""
    from test_top import Tmux
    t = PoolTree(interp, "fork")
    tm = Tmux(tmp_path, [gilscope, "top", "--subprocesses", "--pid", str(t.sh)], cols=160, rows=50)
    try:
        workers, parent = t.hello["workers"], t.hello["parent"]
        before = {pid: cpu_ticks(pid) for pid in workers}

        def all_there(screen):
            procs = top_sections(screen)
            return "last 2.0 s" in screen.splitlines()[0] and \
                all(pid in procs for pid in workers + [parent])

        screen = tm.wait_for("every worker and the pool's parent", all_there)
        after = {pid: cpu_ticks(pid) for pid in workers}
        tasks = {pid: {int(x) for x in os.listdir(f"/proc/{pid}/task")} for pid in workers + [parent]}
        kernel_ppid = {pid: ppid_of(pid) for pid in workers + [parent]}
        procs = top_sections(screen)
        tm.quit()
    finally:
        tm.close()
        t.close()
    lines = screen.splitlines()
    assert f"tree of pid {t.sh}: " in lines[0], screen
    assert re.search(r"not Python [1-9]", lines[1]), screen  # the shell
    assert t.sh not in procs, screen
    assert "Verdict: " in screen, screen
    p = procs[parent]
    assert p["ppid"] == t.sh == kernel_ppid[parent], screen
    assert parent in p["threads"] and set(p["threads"]) <= tasks[parent], (p, tasks[parent])
    for pid in workers:
        assert after[pid] > before[pid], f"worker {pid} did not run: the test proves nothing"
        w = procs[pid]
        assert w["ppid"] == parent == kernel_ppid[pid], w["line"]
        # its threads, grouped under it: its own tasks, the main one among them
        assert pid in w["threads"], (pid, w)
        assert set(w["threads"]) <= tasks[pid], (pid, sorted(w["threads"]), sorted(tasks[pid]))
        assert len(w["threads"]) == w["nthreads"], w
        # what diagnose's test checks of each worker
        assert w["busy"] == 1, w["line"]
        assert w["kind"] in ("cpu-single", "parallel", "mixed"), w["line"]
        main = w["threads"][pid]
        assert bar_share(main, "P") >= 0.5, main["line"]
        if interp.gil_enabled:
            assert w["held"] is not None and w["held"] >= 50, w["line"]
        else:
            assert w["held"] is None, w["line"]
    assert "spin (pooltree.py:" in screen, screen  # the busiest process's hottest functions


@pytest.mark.asan
def test_top_tree_replaced_workers(gilscope, interp, tmp_path):
    """maxtasksperchild=1: workers end and new ones start all along. top
    shows those that start while it runs, marks those that end as exited
    (their threads gone), then drops them."""
    from test_top import Tmux
    t = PoolTree(interp, "fork", replace=True)
    tm = Tmux(tmp_path, [gilscope, "top", "-s", "--pid", str(t.sh)], cols=160, rows=200)
    seen, exited, dropped, bad = set(), set(), set(), []

    def watch(screen):
        procs = top_sections(screen)
        for pid, p in procs.items():
            seen.add(pid)
            if p["kind"] == "exited":
                exited.add(pid)
                if any(r["now"] != "(gone)" for r in p["threads"].values()):
                    bad.append(p)
        dropped.update(exited - set(procs))

    try:
        tm.wait_for("a worker started during the run, one exited and one dropped",
                    lambda s: len(seen - set(t.hello["workers"])) >= 3 and exited and dropped,
                    also=watch)
        tm.quit()
    finally:
        tm.close()
        t.close()
    assert t.all_workers, "the target did not report its workers"
    assert not bad, f"an exited process with threads not gone: {bad[:2]}"
    workers = set(t.all_workers)
    late = (seen & workers) - set(t.hello["workers"])
    assert late, (sorted(seen), t.all_workers)
    assert exited & workers and dropped & workers, (sorted(exited), sorted(dropped), t.all_workers)
    # every process shown is the shell's Python child, or a worker, or a
    # helper of the pool (its parent's children are all workers with fork)
    assert seen <= workers | {t.hello["parent"]}, (sorted(seen - workers), t.hello)
