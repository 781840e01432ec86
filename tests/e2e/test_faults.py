"""Faults: what happens to gilscope, and to the target, when things go wrong.

The target exits, exec()s another program, forks, or churns threads while
gilscope samples it; gilscope gets SIGINT, SIGTERM or SIGKILL; the pid is not
Python; permission is denied; the output cannot be written. In every case
gilscope ends with the documented status and a clear message, a report is
either whole or absent (never a partial file in place of one), and the target
is never stopped, killed or changed.

Targets are tests/e2e/targets/faults.py (and states.py for valgrind). Each
test runs against a few interpreters that cover the layouts (the oldest, the
newest default build, a free-threaded build with the GIL off), not all of
them: the faults are in gilscope's handling of the process, not in a
version's layout.
"""
import json
import os
import re
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import e2e_support as es

FAULTS_PY = es.TARGETS_DIR / "faults.py"
NOBODY = 65534
READY_TIMEOUT = 30.0
# How long gilscope may take to notice the target is gone and write its report.
END_TIMEOUT = 15.0
LONG = "60"  # a duration the tests never wait out


# --- interpreters -----------------------------------------------------------------

def _pick():
    supported = es.discover()[0]
    default = [it for it in supported if not it.ft]
    ft = [it for it in supported if it.ft and it.gil == 0]
    picked = []
    for it in (default[:1] + default[-1:] + ft[-1:]):
        if it not in picked:
            picked.append(it)
    return picked


PICKED = _pick()
IDS = es.interp_ids(PICKED) if PICKED else []


def pytest_generate_tests(metafunc):
    if "fault_interp" in metafunc.fixturenames:
        if PICKED:
            metafunc.parametrize("fault_interp", PICKED, ids=IDS)
        else:
            metafunc.parametrize("fault_interp", [None], ids=["no-python"])


# --- the target -----------------------------------------------------------------------

class FaultTarget:
    """A running faults.py scenario: readiness and events over a pipe,
    commands over another."""

    def __init__(self, it: es.Interp, scenario: str, workdir: Path):
        self.interp = it
        ready_r, ready_w = os.pipe()
        control_r, self._control_w = os.pipe()
        self.log_path = workdir / f"faults-{scenario}-{os.getpid()}-{id(self):x}.log"
        self._log = open(self.log_path, "wb")
        cmd = [it.path, str(FAULTS_PY), scenario, "--ready-fd", str(ready_w),
               "--control-fd", str(control_r), "--timeout", "120"]
        try:
            self.proc = subprocess.Popen(cmd, pass_fds=[ready_w, control_r], stdin=subprocess.DEVNULL,
                                         stdout=self._log, stderr=subprocess.STDOUT, env=it.env(),
                                         cwd=str(workdir))
        finally:
            os.close(ready_w)
            os.close(control_r)
        self._ready_r = ready_r
        self.pid = self.proc.pid
        self.events = []
        self._buf = b""
        deadline = time.monotonic() + READY_TIMEOUT
        while not any(e.get("event") == "ready" for e in self.events):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                pytest.fail(f"faults.py {scenario} did not get ready:\n{self.log()}", pytrace=False)
            self.poll_events(0.2)

    def poll_events(self, timeout=0.0):
        r, _, _ = select.select([self._ready_r], [], [], timeout)
        if r:
            chunk = os.read(self._ready_r, 65536)
            self._buf += chunk
            while b"\n" in self._buf:
                line, self._buf = self._buf.split(b"\n", 1)
                self.events.append(json.loads(line))
        return self.events

    def command(self, c: bytes):
        os.write(self._control_w, c)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.proc.poll() is None

    def thread_states(self):
        """{tid: state letter} from /proc."""
        out = {}
        for tid in os.listdir(f"/proc/{self.pid}/task"):
            try:
                with open(f"/proc/{self.pid}/task/{tid}/stat") as f:
                    s = f.read()
                out[int(tid)] = s[s.rfind(")") + 2:].split()[0]
            except OSError:
                pass
        return out

    def tracer(self) -> int:
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("TracerPid:"):
                    return int(line.split()[1])
        return -1

    def exe(self) -> str:
        return os.readlink(f"/proc/{self.pid}/exe")

    def cpu_ticks(self) -> int:
        with open(f"/proc/{self.pid}/stat") as f:
            s = f.read()
        fields = s[s.rfind(")") + 2:].split()
        return int(fields[11]) + int(fields[12])

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for fd in (self._ready_r, self._control_w):
            try:
                os.close(fd)
            except OSError:
                pass
        self._log.close()


@pytest.fixture
def fault_target(tmp_path):
    started = []

    def start(it, scenario="work"):
        if it is None:
            pytest.skip("no supported interpreter found")
        t = FaultTarget(it, scenario, tmp_path)
        started.append(t)
        return t

    yield start
    for t in started:
        t.close()


def assert_untouched(t: FaultTarget, what: str):
    """The target runs on: not stopped (T/t), not traced, not gone."""
    assert t.alive(), f"{what}: the target died:\n{t.log()}"
    states = t.thread_states()
    stopped = {tid: s for tid, s in states.items() if s in "Tt"}
    assert not stopped, f"{what}: target threads left stopped: {stopped}"
    assert t.tracer() == 0, f"{what}: the target is being traced by pid {t.tracer()}"


# --- gilscope, running in the background -----------------------------------------

class Running:
    """gilscope started in the background with --progress, so that the test
    knows when it has samples."""

    def __init__(self, gilscope, args, stdout_path: Path, prefix=()):
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        self.argv = list(prefix) + [gilscope] + list(args)
        self.stdout_path = stdout_path
        self._out = open(stdout_path, "wb")
        self.proc = subprocess.Popen(self.argv, stdout=self._out, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, env=env)
        self.stderr = b""

    def _read_err(self, timeout):
        r, _, _ = select.select([self.proc.stderr], [], [], timeout)
        if r:
            chunk = os.read(self.proc.stderr.fileno(), 65536)
            self.stderr += chunk
            return chunk
        return None

    def samples(self) -> int:
        found = re.findall(rb"(\d+) samples", self.stderr)
        return int(found[-1]) if found else 0

    def wait_samples(self, n=5, timeout=30.0):
        deadline = time.monotonic() + timeout
        while self.samples() < n:
            if self.proc.poll() is not None:
                self._drain()
                pytest.fail(f"gilscope ended before it had {n} samples:\n{self.describe()}",
                            pytrace=False)
            if time.monotonic() > deadline:
                self.proc.kill()
                self.finish()
                pytest.fail(f"gilscope had no {n} samples within {timeout:.0f}s:\n{self.describe()}",
                            pytrace=False)
            self._read_err(0.1)

    def _drain(self):
        while self._read_err(0.05):
            pass

    def finish(self, timeout=END_TIMEOUT):
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._read_err(0.1)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
            self._drain()
            self._out.close()
            pytest.fail(f"gilscope did not end within {timeout:.0f}s:\n{self.describe()}", pytrace=False)
        self._drain()
        self._out.close()
        return self.proc.returncode

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def describe(self) -> str:
        try:
            out = self.stdout[:4000]
        except OSError:
            out = "(none)"
        return (f"$ {' '.join(self.argv)}\nexit status: {self.proc.returncode}\n--- stdout ---\n{out}\n"
                f"--- stderr ---\n{self.stderr.decode(errors='replace')[-4000:]}\n--- end ---")


def check_diag_json(run: Running):
    doc = json.loads(run.stdout)
    errors = es.diag_schema_errors(doc)
    assert not errors, f"diagnose --json does not match its schema: {errors[:3]}\n{run.describe()}"
    return doc


def check_svg(path: Path, run: Running):
    assert path.is_file(), f"no {path}:\n{run.describe()}"
    root = ET.parse(path).getroot()  # well-formed, whole
    assert root.tag.endswith("svg"), f"{path} is not an SVG"


def leftovers(directory: Path, name: str):
    """Temporary files cmd_write_output left next to `name`."""
    return [p.name for p in directory.iterdir() if p.name.startswith(name + ".tmp.")]


# --- the target ends or changes while gilscope samples ----------------------------------

@pytest.mark.asan
@pytest.mark.parametrize("mode", ["diagnose-text", "diagnose-json", "record"])
def test_target_exits_mid_sample(gilscope, fault_interp, fault_target, tmp_path, mode):
    """The target exits while gilscope samples: a report of what was seen,
    exit 0, and a note saying the process exited."""
    t = fault_target(fault_interp)
    svg = tmp_path / "out.svg"
    if mode == "record":
        args = ["record", "--pid", str(t.pid), "-d", LONG, "-o", str(svg), "--progress"]
    else:
        args = ["diagnose", "--pid", str(t.pid), "-d", LONG, "--progress"]
        if mode == "diagnose-json":
            args.append("--json")
    run = Running(gilscope, args, tmp_path / "stdout")
    run.wait_samples(10)
    t.command(b"q")
    t0 = time.monotonic()
    status = run.finish()
    took = time.monotonic() - t0
    assert status == 0, run.describe()
    assert took < END_TIMEOUT, f"gilscope took {took:.1f}s to notice:\n{run.describe()}"
    if mode == "record":
        check_svg(svg, run)
        assert "the process exited" in run.stderr.decode(), run.describe()
    elif mode == "diagnose-json":
        doc = check_diag_json(run)
        assert doc["sampling"]["target_exited"] is True, run.describe()
        assert doc["sampling"]["taken"] >= 10, run.describe()
        assert doc["samples"] >= 10, run.describe()
    else:
        assert "note: the process exited during sampling" in run.stdout, run.describe()
        assert "Verdict:" in run.stdout, run.describe()


@pytest.mark.asan
@pytest.mark.parametrize("what", ["exec-sleep", "exec-python"])
def test_target_execs(gilscope, fault_interp, fault_target, tmp_path, what):
    """The target exec()s another program (the same pid): gilscope stops
    sampling, reports what it saw of the Python program with a note, exits
    0, and the new program runs on undisturbed."""
    t = fault_target(fault_interp)
    before = t.exe()
    run = Running(gilscope, ["diagnose", "--pid", str(t.pid), "-d", LONG, "--json", "--progress"],
                  tmp_path / "stdout")
    run.wait_samples(10)
    t.command(b"e" if what == "exec-sleep" else b"p")
    status = run.finish()
    assert status == 0, run.describe()
    doc = check_diag_json(run)
    assert doc["sampling"].get("target_execd") is True, run.describe()
    assert doc["sampling"]["target_exited"] is False, run.describe()
    assert doc["samples"] >= 10, run.describe()
    assert_untouched(t, "after the exec")
    if what == "exec-sleep":
        assert t.exe() != before and t.exe().endswith("sleep"), t.exe()


@pytest.mark.asan
def test_target_execs_text_note(gilscope, fault_interp, fault_target, tmp_path):
    t = fault_target(fault_interp)
    run = Running(gilscope, ["diagnose", "--pid", str(t.pid), "-d", LONG, "--progress"],
                  tmp_path / "stdout")
    run.wait_samples(5)
    t.command(b"e")
    assert run.finish() == 0, run.describe()
    assert "replaced itself with another program (exec)" in run.stdout, run.describe()


@pytest.mark.asan
def test_target_forks(gilscope, fault_interp, fault_target, tmp_path):
    """A target that forks children all the time (copies of the interpreter,
    same addresses): gilscope keeps reading the parent, the children come
    and go untouched."""
    t = fault_target(fault_interp, "fork")
    run = Running(gilscope, ["diagnose", "--pid", str(t.pid), "-d", "3", "--json", "--progress"],
                  tmp_path / "stdout")
    assert run.finish(timeout=60) == 0, run.describe()
    doc = check_diag_json(run)
    assert doc["samples"] >= 20, run.describe()
    tids = {th["tid"] for th in doc["threads"]}
    assert set(t.thread_states()) <= tids, f"threads missing from the report:\n{run.describe()}"
    forks = [e["n"] for e in t.poll_events(0.5) if e.get("event") == "forks"]
    assert forks and forks[-1] >= 20, f"the target did not fork as intended: {forks}\n{t.log()}"
    assert_untouched(t, "after forks")


@pytest.mark.asan
@pytest.mark.parametrize("command", ["diagnose", "record"])
def test_thread_churn(gilscope, fault_interp, fault_target, tmp_path, command):
    """Hundreds of threads started and joined a second: thread states are
    freed and reused under gilscope's feet. Torn reads cost samples, never
    the run."""
    t = fault_target(fault_interp, "churn")
    svg = tmp_path / "churn.svg"
    args = ([command, "--pid", str(t.pid), "-d", "3", "-r", "200", "--progress"] +
            (["--json"] if command == "diagnose" else ["-o", str(svg)]))
    run = Running(gilscope, args, tmp_path / "stdout")
    assert run.finish(timeout=60) == 0, run.describe()
    if command == "diagnose":
        doc = check_diag_json(run)
        assert doc["sampling"]["taken"] >= 50, run.describe()
    else:
        check_svg(svg, run)
    ev = [e for e in t.poll_events(0.5) if e.get("event") == "threads_started"]
    rates = [(b["n"] - a["n"]) / (b["t"] - a["t"]) for a, b in zip(ev, ev[1:])]
    assert rates and max(rates) >= 200, f"the target did not churn threads: {ev}\n{t.log()}"
    assert_untouched(t, "after thread churn")


# --- gilscope is interrupted or killed ------------------------------------------------------

@pytest.mark.asan
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("command", ["diagnose", "record"])
def test_interrupted(gilscope, fault_interp, fault_target, tmp_path, sig, command):
    """SIGINT or SIGTERM stops sampling early: the report of what was seen
    is written whole, exit 0, and the target runs on untouched."""
    t = fault_target(fault_interp)
    svg = tmp_path / "out.svg"
    args = [command, "--pid", str(t.pid), "-d", LONG, "--progress"] + (
        ["-o", str(svg)] if command == "record" else [])
    run = Running(gilscope, args, tmp_path / "stdout")
    run.wait_samples(10)
    run.proc.send_signal(sig)
    assert run.finish() == 0, run.describe()
    if command == "record":
        check_svg(svg, run)
        assert not leftovers(tmp_path, "out.svg")
    else:
        assert "note: sampling was interrupted" in run.stdout, run.describe()
        assert "Verdict:" in run.stdout, run.describe()
    assert_untouched(t, f"after {sig.name}")
    ticks = t.cpu_ticks()
    deadline = time.monotonic() + 10
    while t.cpu_ticks() == ticks:
        assert time.monotonic() < deadline, "the target's threads no longer run"
        time.sleep(0.05)


@pytest.mark.asan
@pytest.mark.parametrize("command", ["diagnose", "record"])
def test_sigkill(gilscope, fault_interp, fault_target, tmp_path, command):
    """SIGKILL gives gilscope no chance to clean up: the target must not
    care (gilscope never stops or traces it), and no output file appears."""
    t = fault_target(fault_interp)
    svg = tmp_path / "out.svg"
    args = [command, "--pid", str(t.pid), "-d", LONG, "--progress"] + (
        ["-o", str(svg)] if command == "record" else [])
    run = Running(gilscope, args, tmp_path / "stdout")
    run.wait_samples(10)
    # while it samples, a few times: the target never shows as stopped
    for _ in range(20):
        assert_untouched(t, "while gilscope samples")
        time.sleep(0.01)
    run.proc.kill()
    run.proc.wait(timeout=10)
    run.finish()
    assert run.proc.returncode == -signal.SIGKILL
    assert_untouched(t, "after SIGKILL")
    assert not svg.exists() and not leftovers(tmp_path, "out.svg")
    ticks = t.cpu_ticks()
    deadline = time.monotonic() + 10
    while t.cpu_ticks() == ticks:
        assert time.monotonic() < deadline, "the target's threads no longer run"
        time.sleep(0.05)


# --- not Python, not allowed -------------------------------------------------------------

def _one_line_error(run: es.Run, status: int, mentions=()):
    problems = []
    if run.returncode != status:
        problems.append(f"exit status {run.returncode}, expected {status}")
    lines = [x for x in run.stderr.strip().split("\n") if x]
    if len(lines) != 1:
        problems.append(f"stderr has {len(lines)} lines, expected one")
    for m in mentions:
        if m.lower() not in run.stderr.lower():
            problems.append(f"stderr does not mention {m!r}")
    if run.stdout:
        problems.append("something was written to stdout")
    if problems:
        pytest.fail("\n".join(problems) + "\n" + run.describe(), pytrace=False)


@pytest.mark.asan
@pytest.mark.parametrize("command", ["diagnose", "record"])
def test_not_python(gilscope, tmp_path, command):
    sleeper = subprocess.Popen(["sleep", "60"], stdin=subprocess.DEVNULL)
    try:
        out = tmp_path / "out.svg"
        args = [command, "--pid", str(sleeper.pid), "-d", "1", "--no-progress"] + (
            ["-o", str(out)] if command == "record" else [])
        run = es.run_gilscope(gilscope, args)
        _one_line_error(run, 5, mentions=[str(sleeper.pid), "not a Python process"])
        assert not out.exists()
        assert sleeper.poll() is None, "gilscope ended the process it looked at"
        with open(f"/proc/{sleeper.pid}/stat") as f:
            assert f.read().rsplit(")", 1)[1].split()[0] not in "Tt"
    finally:
        sleeper.kill()
        sleeper.wait()


@pytest.mark.parametrize("command", ["diagnose", "record"])
def test_permission_denied(nobody_gilscope, fault_interp, fault_target, command):
    """A root-owned target sampled by user nobody: exit 4, the message says
    what to do (ptrace), no output file, the target untouched."""
    if os.geteuid() != 0:
        pytest.skip("needs root, to run gilscope as another user against a root-owned target")
    setpriv = shutil.which("setpriv")
    if not setpriv:
        pytest.skip("setpriv not found (util-linux)")
    t = fault_target(fault_interp)
    outdir = tempfile.mkdtemp(prefix="gilscope-faults-out-")
    try:
        os.chmod(outdir, 0o777)
        out = Path(outdir) / "out.svg"
        args = [command, "--pid", str(t.pid), "-d", "1", "--no-progress"] + (
            ["-o", str(out)] if command == "record" else [])
        prefix = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]
        run = es.run_gilscope(nobody_gilscope, args, prefix=prefix)
        _one_line_error(run, 4, mentions=["ptrace"])
        assert not out.exists() and not os.listdir(outdir)
    finally:
        shutil.rmtree(outdir, ignore_errors=True)
    assert_untouched(t, "after a denied attach")


# --- the output cannot be written ------------------------------------------------------------

def _record(gilscope, pid, out, extra=()):
    return es.run_gilscope(gilscope, ["record", "--pid", str(pid), "-d", "0.5", "-o", str(out),
                                      "--no-progress"] + list(extra))


@pytest.fixture
def tiny_fs(tmp_path):
    """mount(tmpfs, size) -> a mounted directory; unmounted at teardown.
    Skips where we cannot mount (not root, no CAP_SYS_ADMIN)."""
    mounted = []

    def mount(size="64k", readonly=False):
        d = tmp_path / f"mnt{len(mounted)}"
        d.mkdir()
        opts = f"size={size},mode=0777" + (",ro" if readonly else "")
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "gilscope-test", str(d)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
        mounted.append(d)
        return d

    yield mount
    for d in mounted:
        subprocess.run(["umount", str(d)], capture_output=True)


def test_output_disk_full(gilscope, fault_interp, fault_target, tiny_fs):
    """The disk fills while the report is written: exit 8, a clear message,
    no partial or temporary file, and the file that was there is intact."""
    t = fault_target(fault_interp)
    d = tiny_fs("64k")
    out = d / "out.svg"
    out.write_bytes(b"the previous report\n")
    # leave less room than a flame graph needs
    filler = d / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        while True:
            os.write(fd, b"x" * 4096)
    except OSError:
        pass
    os.close(fd)
    os.truncate(filler, os.path.getsize(filler) - 8192)
    run = _record(gilscope, t.pid, out)
    assert run.returncode == 8, run.describe()
    assert "out.svg" in run.stderr and ("No space left" in run.stderr or "space" in run.stderr), run.describe()
    assert out.read_bytes() == b"the previous report\n", "the existing report was damaged"
    assert not leftovers(d, "out.svg"), f"temporary files left: {leftovers(d, 'out.svg')}"
    assert_untouched(t, "after a failed write")


def test_output_read_only(gilscope, fault_interp, fault_target, tiny_fs):
    t = fault_target(fault_interp)
    d = tiny_fs("64k", readonly=True)
    out = d / "out.svg"
    run = _record(gilscope, t.pid, out)
    assert run.returncode == 8, run.describe()
    assert str(out) in run.stderr and "Read-only" in run.stderr, run.describe()
    assert not os.listdir(d)


@pytest.mark.asan
@pytest.mark.parametrize("where", ["missing-dir", "directory", "dev-full"])
def test_output_unwritable(gilscope, fault_interp, fault_target, tmp_path, where):
    t = fault_target(fault_interp)
    out = {"missing-dir": tmp_path / "no" / "such" / "dir" / "out.svg",
           "directory": tmp_path,
           "dev-full": Path("/dev/full")}[where]
    before = sorted(os.listdir(tmp_path))
    for command in ("record", "diagnose"):
        if command == "record":
            run = _record(gilscope, t.pid, out)
        else:
            run = es.run_gilscope(gilscope, ["diagnose", "--pid", str(t.pid), "-d", "0.5", "-o",
                                             str(out), "--no-progress"])
        assert run.returncode == 8, run.describe()
        lines = run.stderr.strip().split("\n")
        assert len(lines) == 1 and str(out) in lines[0], run.describe()
        assert sorted(os.listdir(tmp_path)) == before, "files were left behind"
    assert_untouched(t, "after failed writes")


@pytest.mark.asan
def test_output_special_files(gilscope, fault_interp, fault_target, tmp_path):
    """Output to a device node, a FIFO or through a symlink: written through,
    never replaced (as root, renaming over /dev/null would replace the device
    itself)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to create a device node")
    t = fault_target(fault_interp)
    dev = tmp_path / "null"
    os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    run = _record(gilscope, t.pid, dev)
    assert run.returncode == 0, run.describe()
    assert stat.S_ISCHR(os.lstat(dev).st_mode), "the device node was replaced by a file"

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got = tmp_path / "from-fifo.svg"
    reader = subprocess.Popen(["sh", "-c", f"cat '{fifo}' > '{got}'"])
    run = _record(gilscope, t.pid, fifo)
    reader.wait(timeout=30)
    assert run.returncode == 0, run.describe()
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    ET.parse(got)

    real = tmp_path / "real.svg"
    real.write_text("old")
    os.chmod(real, 0o640)
    link = tmp_path / "link.svg"
    link.symlink_to(real.name)
    run = _record(gilscope, t.pid, link)
    assert run.returncode == 0, run.describe()
    assert link.is_symlink(), "the symlink was replaced"
    ET.parse(real)
    assert stat.S_IMODE(os.stat(real).st_mode) == 0o640, "the file's mode was not kept"
    assert not leftovers(tmp_path, "real.svg") and not leftovers(tmp_path, "link.svg")


@pytest.mark.asan
def test_snapshot_output(gilscope, fault_interp, fault_target, tmp_path):
    """snapshot writes through a temporary file too, and refuses a device."""
    t = fault_target(fault_interp)
    out = tmp_path / "t.snap"
    run = es.run_gilscope(gilscope, ["snapshot", "--pid", str(t.pid), "-o", str(out)])
    assert run.returncode == 0, run.describe()
    assert out.read_bytes()[:8] == b"GSSNAP01"
    assert not leftovers(tmp_path, "t.snap")
    # pieces of the target's memory: for its owner alone, whatever the
    # umask; the .stacks text beside it is a report (the umask's mode)
    assert out.stat().st_mode & 0o777 == 0o600, oct(out.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    stacks = tmp_path / "t.snap.stacks"
    assert stacks.stat().st_mode & 0o777 == 0o666 & ~umask, oct(stacks.stat().st_mode)
    run = es.run_gilscope(gilscope, ["snapshot", "--pid", str(t.pid), "-o", "/dev/full"])
    assert run.returncode == 8, run.describe()
    run = es.run_gilscope(gilscope, ["snapshot", "--pid", str(t.pid), "-o",
                                     str(tmp_path / "missing" / "t.snap")])
    assert run.returncode == 8, run.describe()
    assert_untouched(t, "after snapshots")


# --- sanitizers and valgrind -------------------------------------------------------------------

def _is_asan_build(path: str) -> bool:
    with open(path, "rb") as f:
        return b"__asan_init" in f.read()


@pytest.mark.asan
def test_leak_sanitizer_is_on(gilscope, tmp_path):
    """Under the ASan build, a leak fails the run: proven with a library
    that leaks on purpose, preloaded after the ASan runtime."""
    if not _is_asan_build(gilscope):
        pytest.skip("not an ASan build (run with GILSCOPE=./gilscope-asan)")
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        pytest.skip("no C compiler")
    src = tmp_path / "leak.c"
    src.write_text("#include <stdlib.h>\nvoid *volatile keep;\n"
                   "__attribute__((constructor)) static void leak(void)"
                   " { keep = malloc(4242); keep = 0; }\n")
    lib = tmp_path / "leak.so"
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(lib), str(src)], check=True)
    ldd = subprocess.run(["ldd", gilscope], capture_output=True, text=True).stdout
    m = re.search(r"(\S*libasan\.so\S*) => (\S+)", ldd)
    preload = ([m.group(2)] if m else []) + [str(lib)]
    env = dict(os.environ, LD_PRELOAD=":".join(preload), ASAN_OPTIONS="detect_leaks=1")
    r = subprocess.run([gilscope, "dump", "--help"], capture_output=True, text=True, env=env)
    assert "LeakSanitizer: detected memory leaks" in r.stderr and "4242 byte" in r.stderr, (
        f"LeakSanitizer did not report the planted leak (status {r.returncode}):\n{r.stderr[-3000:]}")
    assert r.returncode != 0
    # and without the planted leak, a real command leaks nothing
    r = subprocess.run([gilscope, "dump", "--help"], capture_output=True, text=True,
                       env=dict(os.environ, ASAN_OPTIONS="detect_leaks=1"))
    assert r.returncode == 0 and "LeakSanitizer" not in r.stderr, r.stderr


VALGRIND = ["valgrind", "--error-exitcode=99", "--leak-check=full", "--errors-for-leak-kinds=all",
            "--track-fds=no", "-q"]


@pytest.mark.parametrize("command", ["diagnose", "record"])
def test_valgrind_clean(gilscope, target, tmp_path, command):
    """memcheck finds nothing (invalid accesses, uninitialised values, leaks
    of any kind) in a whole diagnose -d 2 or record -f flamegraph against
    the richest target (every thread state, deep and non-ASCII stacks, a C
    extension)."""
    if not shutil.which("valgrind"):
        pytest.skip("valgrind is not installed")
    if _is_asan_build(gilscope):
        pytest.skip("valgrind runs the normal build, not the ASan one")
    supported = es.discover()[0]
    default = [it for it in supported if not it.ft]
    if not default:
        pytest.skip("no default-build interpreter")
    t = target(default[-1], "mixed")
    if command == "diagnose":
        args = ["diagnose", "-d", "2", "--pid", str(t.pid), "--no-progress"]
    else:
        args = ["record", "-f", "flamegraph", "-d", "2", "--pid", str(t.pid), "-o",
                str(tmp_path / "vg.svg"), "--no-progress"]
    run = es.run_gilscope(gilscope, args, prefix=VALGRIND, timeout=300)
    assert run.returncode == 0, run.describe()
    assert "==" not in run.stderr, f"valgrind reported something:\n{run.describe()}"
    if command == "record":
        ET.parse(tmp_path / "vg.svg")
    else:
        assert "Verdict:" in run.stdout
