"""Containers from inside: gilscope run in the target's PID namespace, as
`docker exec` runs it (util-linux's nsenter into the target's PID and mount
namespaces), as a sidecar or a Kubernetes ephemeral container runs it (the
target's PID namespace, a mount namespace and a /proc of its own, where the
interpreter's path does not exist), and from a namespace one level above
the target's (a container holding containers). The namespaces are real,
made by unshare (tests/e2e/test_containers.py's NsTarget).

Ground truth: the target's own ids and its clocks and counters
(targets/nsworkers.py), the host's /proc (each task's NSpid line: its id in
every namespace from the host's down), and the capabilities the kernel
shows for the process gilscope runs as.

Then the refusals met from inside, each one line on stderr, a documented
exit status, and what to add: no CAP_SYS_PTRACE, a host pid given in a
container, a /proc of another PID namespace, and a seccomp filter refusing
process_vm_readv (not a refusal: gilscope reads through /proc/PID/mem and
says so in a note).
"""
import json
import os
import re
import shutil
import subprocess

import pytest

import e2e_support as es
from test_containers import NsTarget, RATE, WINDOW_S, blocked_in_read, check_diagnosis

DENY_VM_READV = es.REPO / "build" / "deny-vm-readv"
CAP_SYS_PTRACE = 19
# gilscope as root, without CAP_SYS_PTRACE (nor a way to get it back)
NO_PTRACE = ["setpriv", "--inh-caps=-all", "--ambient-caps=-all",
             "--bounding-set=-sys_ptrace", "--"]


def need_tools(*names):
    for name in names:
        if not shutil.which(name):
            pytest.fail(f"{name} (util-linux) is not installed", pytrace=False)


def exec_into(pid: int) -> list:
    """`docker exec`: the PID and mount namespaces of process `pid`."""
    return ["nsenter", f"--target={pid}", "--pid", "--mount", "--"]


def sidecar_of(pid: int) -> list:
    """A sidecar: the PID namespace of process `pid`, a mount namespace of
    its own (the host's files, not the target's) with a /proc mounted for
    that PID namespace."""
    return ["nsenter", f"--target={pid}", "--pid", "--", "unshare", "--mount",
            "--mount-proc", "--propagation", "private", "--"]


def nspid(pid: int, tid: int) -> list:
    """A task's ids, from the host's namespace down to its own."""
    with open(f"/proc/{pid}/task/{tid}/status") as f:
        for line in f:
            if line.startswith("NSpid:"):
                return [int(x) for x in line.split()[1:]]
    raise AssertionError(f"no NSpid line for {pid}/{tid}")


def all_nspids(pid: int) -> dict:
    """{id in its own namespace: [ids from the host's down]} for each task."""
    out = {}
    for name in os.listdir(f"/proc/{pid}/task"):
        try:
            ids = nspid(pid, int(name))
        except OSError:
            continue
        out[ids[-1]] = ids
    return out


def one_line(run: es.Run) -> str:
    lines = run.stderr.rstrip("\n").split("\n")
    assert len(lines) == 1 and lines[0], f"expected one line on stderr\n{run.describe()}"
    return lines[0]


def scope_note() -> str:
    try:
        with open("/proc/sys/kernel/yama/ptrace_scope") as f:
            return f"; kernel.yama.ptrace_scope is {int(f.read())} here"
    except FileNotFoundError:
        return ""


@pytest.fixture
def ns_target(interp):
    need_tools("unshare", "nsenter")
    t = NsTarget(interp)
    yield t
    t.close()


# --- reading from inside ----------------------------------------------------------------

def test_diagnose_from_inside(gilscope, interp, ns_target):
    """docker exec: the target is pid 1, its threads have the ids this
    namespace knows, and the host's ids appear nowhere."""
    t = ns_target
    t.ctl.write("start\n")
    run = es.run_gilscope(gilscope, ["diagnose", "--pid", "1", "-d", str(WINDOW_S),
                                     "-r", str(RATE), "--json"], prefix=exec_into(t.pid))
    t.ctl.write("stop\n")
    truth = t.read_msg(30, "its measurements")
    assert run.returncode == 0, run.describe()
    assert not run.stderr, run.describe()
    doc = json.loads(run.stdout)
    assert doc["pid"] == 1
    # the ids as the target knows them, no second id: gilscope shares its
    # namespace (the host's ids differ: the check has teeth)
    host = all_nspids(t.pid)
    assert all(host[ns][0] != ns for ns in t.ns_tids.values()), host
    check_diagnosis(interp, doc, truth, {name: (ns, None) for name, ns in t.ns_tids.items()})
    assert {th["tid"] for th in doc["threads"]} == set(t.ns_tids.values()), doc["threads"]


@pytest.mark.asan
def test_dump_from_sidecar(gilscope, interp, tmp_path):
    """A sidecar: the same PID namespace, but a mount namespace of its own
    where the target's interpreter is not (it is mounted only in the
    target's): the runtime is found through the target's view of its files,
    the threads by the ids the namespace knows, each blocked thread by its
    system call."""
    need_tools("unshare", "nsenter")
    inside = tmp_path / "mnt"
    inside.mkdir()
    t = NsTarget(interp, inside=str(inside))
    try:
        exe = os.readlink(f"/proc/{t.pid}/exe")
        assert exe.startswith(str(inside)) and not os.path.exists(exe), exe
        host = all_nspids(t.pid)
        blocked_in_read(t.pid, host[t.ns_tids["MainThread"]][0])
        run = es.run_gilscope(gilscope, ["dump", "--pid", "1", "--json"],
                              prefix=sidecar_of(t.pid))
        assert run.returncode == 0, run.describe()
        assert not run.stderr, run.describe()
        doc = json.loads(run.stdout)
        assert not es.schema_errors(doc), es.schema_errors(doc)[:5]
        assert doc["pid"] == 1
        assert doc["python"]["executable"] == exe, doc["python"]
        by_tid = es.threads_by_tid(doc)
        assert set(by_tid) == set(t.ns_tids.values()), (sorted(by_tid), t.ns_tids)
        for name, ns in t.ns_tids.items():
            th = by_tid[ns]
            assert "ns_tid" not in th, (name, th)
            assert th["name"] == name, es.describe_thread(th)
            assert th["kernel_state"] != "?", es.describe_thread(th)
            if name.startswith("spin-"):
                assert any(f["function"] == "spin" for f in th["frames"]), \
                    es.describe_thread(th)
        # blocked on its control pipe: only its system call, read under
        # the right id, says so
        main = by_tid[t.ns_tids["MainThread"]]
        assert main["state"] == "io", es.describe_thread(main)
        text = es.run_gilscope(gilscope, ["dump", "--pid", "1"], prefix=sidecar_of(t.pid))
        assert text.returncode == 0, text.describe()
        main_ns = t.ns_tids["MainThread"]
        assert f'Thread {main_ns} "MainThread"' in text.stdout, text.stdout
        assert "in its namespace" not in text.stdout, text.stdout
    finally:
        t.close()


def test_dump_from_parent_namespace(gilscope, interp):
    """gilscope in a PID namespace of its own with the target one level
    below: the ids are its namespace's and the target's, not the host's."""
    need_tools("unshare", "nsenter")
    t = NsTarget(interp, nested=True)
    try:
        host = all_nspids(t.pid)
        levels = {len(ids) for ids in host.values()}
        assert levels == {3}, host            # host, the outer, the target's own
        main = host[t.ns_tids["MainThread"]]
        blocked_in_read(t.pid, main[0])
        outer_pid = nspid(t.pid, t.pid)[1]    # the target in the outer namespace
        # the outer namespace: chain[1] (the inner unshare) is its init;
        # its /proc is in the mount namespace of chain[0] (the outer
        # unshare), the inner unshare having made one of its own
        prefix = ["nsenter", f"--target={t.chain[1]}", "--pid",
                  f"--mount=/proc/{t.chain[0]}/ns/mnt", "--"]
        run = es.run_gilscope(gilscope, ["dump", "--pid", str(outer_pid), "--json"],
                              prefix=prefix)
        assert run.returncode == 0, run.describe()
        assert not run.stderr, run.describe()
        doc = json.loads(run.stdout)
        assert not es.schema_errors(doc), es.schema_errors(doc)[:5]
        assert doc["pid"] == outer_pid
        by_tid = es.threads_by_tid(doc)
        assert set(by_tid) == {host[ns][1] for ns in t.ns_tids.values()}, (by_tid, host)
        for name, ns in t.ns_tids.items():
            th = by_tid[host[ns][1]]
            assert th.get("ns_tid") == ns, (name, th)
            assert th["name"] == name, es.describe_thread(th)
        assert by_tid[main[1]]["state"] == "io", es.describe_thread(by_tid[main[1]])
    finally:
        t.close()


# --- refusals from inside ---------------------------------------------------------------

def _one_interp():
    """A representative: the newest interpreter with the GIL."""
    supported = es.discover()[0]
    default = [it for it in supported if not it.ft]
    it = (default or supported or [None])[-1]
    if it is None:
        pytest.skip("no supported interpreter found")
    return it


@pytest.fixture
def one_target():
    need_tools("unshare", "nsenter", "setpriv")
    t = NsTarget(_one_interp())
    yield t
    t.close()


def test_no_ptrace_capability_inside(gilscope, one_target):
    """docker exec into a container without SYS_PTRACE: exit 4, and the one
    line names what to add, for docker and for Kubernetes."""
    t = one_target
    # the premise: the kernel shows gilscope's process without the capability
    caps = subprocess.run(exec_into(t.pid) + NO_PTRACE + ["cat", "/proc/self/status"],
                          capture_output=True, text=True, check=True).stdout
    eff = int(re.search(r"^CapEff:\s*([0-9a-f]+)$", caps, re.M).group(1), 16)
    assert not eff >> CAP_SYS_PTRACE & 1, caps
    run = es.run_gilscope(gilscope, ["dump", "--pid", "1"], prefix=exec_into(t.pid) + NO_PTRACE)
    assert run.returncode == 4, run.describe()
    assert not run.stdout, run.describe()
    assert one_line(run) == (
        "gilscope: not allowed to read process 1: gilscope runs without CAP_SYS_PTRACE in "
        "its container: add it (docker run --cap-add SYS_PTRACE, or docker exec --privileged; "
        "Kubernetes: securityContext.capabilities.add: [SYS_PTRACE])" + scope_note()), run.describe()
    assert t.proc.poll() is None, "the target died"


def test_no_ptrace_capability_on_host(gilscope, one_target):
    """The same refusal on the host, as root: sudo does not help, the
    capability does."""
    t = one_target
    run = es.run_gilscope(gilscope, ["dump", "--pid", str(t.pid)], prefix=NO_PTRACE)
    assert run.returncode == 4, run.describe()
    assert one_line(run) == (
        f"gilscope: not allowed to read process {t.pid}: gilscope runs as root but without "
        "CAP_SYS_PTRACE (a capability bounding set or a container took it): run it with the "
        "capability (sudo gilscope ... from a full root shell; in a container: docker run "
        "--cap-add SYS_PTRACE, or docker exec --privileged; Kubernetes: "
        "securityContext.capabilities.add: [SYS_PTRACE])" + scope_note()), run.describe()


def test_host_pid_inside(gilscope, one_target):
    """The pid the host sees, given to gilscope in the container: exit 3,
    and the line says the pids differ there and how to share the target's
    PID namespace."""
    t = one_target
    # the premise: the container has no process by that number
    probe = subprocess.run(exec_into(t.pid) + ["test", "-e", f"/proc/{t.pid}"])
    assert probe.returncode == 1, "the host pid exists in the namespace too"
    run = es.run_gilscope(gilscope, ["dump", "--pid", str(t.pid)], prefix=exec_into(t.pid))
    assert run.returncode == 3, run.describe()
    assert not run.stdout, run.describe()
    assert one_line(run) == (
        f"gilscope: no process with pid {t.pid} in gilscope's PID namespace: gilscope runs in "
        "a container, whose pids are not the host's: give the pid this container sees (ps -ef "
        "here), and if the process is not there, share its PID namespace (docker run "
        "--pid=container:NAME; Kubernetes: shareProcessNamespace: true, or kubectl debug "
        "--target=CONTAINER)"), run.describe()


@pytest.mark.parametrize("how", ["host-proc", "target-proc"])
def test_proc_of_another_namespace(gilscope, one_target, how):
    """gilscope in a PID namespace whose /proc is another's: the host's
    (unshare --pid --fork without --mount-proc), or the target's seen from
    the host's namespace. The pids of that /proc would name other processes
    than those process_vm_readv reads: exit 1, one line."""
    t = one_target
    if how == "host-proc":
        prefix = ["unshare", "--pid", "--fork", "--"]
        pid, known = t.pid, r"pid \d+"
    else:
        # the mount namespace of the outer unshare holds the target's /proc;
        # the outer unshare itself is in the host's PID namespace
        prefix = ["nsenter", f"--target={t.chain[0]}", "--mount", "--"]
        pid, known = 1, "nothing"
    run = es.run_gilscope(gilscope, ["dump", "--pid", str(pid)], prefix=prefix)
    assert run.returncode == 1, run.describe()
    assert not run.stdout, run.describe()
    assert re.fullmatch(
        rf"gilscope: /proc here belongs to another PID namespace than gilscope's \(its "
        rf"/proc/self is {known}, gilscope is pid \d+ to itself\), so its pids would name "
        rf"other processes: mount a /proc of gilscope's own PID namespace \(unshare --pid "
        rf"--fork --mount-proc; a container has one\), or run gilscope outside this namespace",
        one_line(run)), run.describe()


@pytest.mark.parametrize("errno_name", ["ENOSYS", "EPERM"])
def test_seccomp_refuses_vm_readv(gilscope, one_target, errno_name):
    """A container whose seccomp profile refuses process_vm_readv (ENOSYS
    for a call the profile does not know, EPERM for one it denies): gilscope
    reads through /proc/PID/mem, gets every thread right, and says so in one
    note."""
    if not DENY_VM_READV.exists():
        pytest.fail(f"{DENY_VM_READV} not found: build it with `make build/deny-vm-readv`",
                    pytrace=False)
    t = one_target
    host = all_nspids(t.pid)
    blocked_in_read(t.pid, host[t.ns_tids["MainThread"]][0])
    # the premise: under the filter, the call fails with that errno
    probe = subprocess.run([str(DENY_VM_READV), errno_name, "python3", "-c",
                            "import ctypes, os; libc = ctypes.CDLL(None, use_errno=True); "
                            "r = libc.process_vm_readv(os.getpid(), None, 0, None, 0, 0); "
                            "print(r, ctypes.get_errno())"], capture_output=True, text=True)
    assert probe.stdout.split() == ["-1", str(getattr(__import__("errno"), errno_name))], probe
    run = es.run_gilscope(gilscope, ["dump", "--pid", "1", "--json"],
                          prefix=exec_into(t.pid) + [str(DENY_VM_READV), errno_name])
    assert run.returncode == 0, run.describe()
    what = ("not available here (ENOSYS: a seccomp profile blocks it, or the kernel was built "
            "without it)" if errno_name == "ENOSYS" else
            "refused here (EPERM: a seccomp profile blocks it)")
    assert one_line(run) == (
        f"gilscope: note: process_vm_readv is {what}; gilscope reads through /proc/PID/mem "
        "instead, at a higher cost per sample. To allow it: docker run --security-opt "
        "seccomp=unconfined, or a seccomp profile that allows process_vm_readv (docker's "
        "default does once --cap-add SYS_PTRACE is given)"), run.describe()
    doc = json.loads(run.stdout)
    by_tid = es.threads_by_tid(doc)
    assert set(by_tid) == set(t.ns_tids.values()), (sorted(by_tid), t.ns_tids)
    for name, ns in t.ns_tids.items():
        if name.startswith("spin-"):
            assert any(f["function"] == "spin" for f in by_tid[ns]["frames"]), \
                es.describe_thread(by_tid[ns])
    assert by_tid[t.ns_tids["MainThread"]]["state"] == "io"
