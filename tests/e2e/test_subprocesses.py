"""Process trees (--subprocesses): a shell runs Python, which runs a
multiprocessing.Pool with each start method (fork, spawn, forkserver).
`gilscope dump --subprocesses --pid <the shell>` must find every Python
process below the shell (the parent, each worker, the helper processes the
start method makes), read each one's threads, and list the shell as a
process of the tree that is not Python.

Ground truth: the workers' pids as the workers themselves report them
(os.getpid() in the worker), and the kernel's process table (/proc) for the
parent of each process. Representative interpreters (an integration test:
the interpreter model is covered by the other tests on every build).
"""
import json
import os
import select
import subprocess

import pytest

import e2e_support as es

INTERPRETERS = "representative"
TARGET = es.REPO / "tests" / "e2e" / "targets" / "pooltree.py"
WORKERS = 2


def ppid_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


class PoolTree:
    def __init__(self, it: es.Interp, method: str):
        r_ready, w_ready = os.pipe()
        r_ctl, w_ctl = os.pipe()
        cmd = (f"{it.path} {TARGET} --ready-fd {w_ready} --control-fd {r_ctl} "
               f"--method {method} --workers {WORKERS}; :")
        self.proc = subprocess.Popen(["sh", "-c", cmd], pass_fds=(w_ready, r_ctl), env=it.env(),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        os.close(w_ready)
        os.close(r_ctl)
        self.ctl = w_ctl
        with os.fdopen(r_ready) as rd:
            ready, _, _ = select.select([rd], [], [], 90)
            line = rd.readline() if ready else ""
        if not line:
            self.close()
            pytest.fail(f"the pool did not get ready: {self.proc.stderr.read().decode()[-3000:]}",
                        pytrace=False)
        self.hello = json.loads(line)
        self.sh = self.proc.pid

    def close(self):
        try:
            os.close(self.ctl)
        except OSError:
            pass
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
