"""Launch mode (`gilscope diagnose|record ... -- python prog.py`): what becomes
of the program once sampling is over.

When the duration is over, or gilscope is interrupted (Ctrl-C, SIGTERM), and
the program still runs, gilscope ends the program and everything it started
(SIGINT, SIGTERM after the grace period, SIGKILL after another), says in one
line how it ended, writes the report (which says it too) and returns 0;
--keep-running leaves it running. A program that ends by itself passes its exit status
through.

The program is tests/e2e/targets/launched.py. Every process it makes
announces its pid and start time over a pipe that gilscope passes on; the
ground truth for "nothing left behind" is /proc: none of them may still be
there when gilscope has returned (a zombie counts: gilscope reaps what it
ends). Every run is bounded in time: a gilscope that waits for the program
fails the test instead of hanging it.
"""
import fcntl
import json
import os
import re
import select
import signal
import subprocess
import termios
import time
from pathlib import Path
from typing import List, Optional

import pytest

import e2e_support as es

# Launch mode is the OS side of gilscope, not the interpreter model: the
# oldest, the newest and the newest free-threaded interpreter (conftest.py).
INTERPRETERS = "representative"
LAUNCHED_PY = es.TARGETS_DIR / "launched.py"
DURATION = 1.0
EXEC_DURATION = 3.0
GRACE = 1.0  # --grace in most tests: each grace period waited costs this
# Interpreter start-up, attach, the report and a loaded 2-CPU machine: what
# a run may take beyond its duration and grace periods. A gilscope that waits
# for a program that never ends exceeds any margin.
MARGIN = 10.0
TARGET_LIFETIME = 90  # launched.py ends itself after this (SIGALRM), whatever happens

# scenario: (signals gilscope must send it, how it dies, grace periods waited)
SCENARIOS = {
    "spin": (["SIGINT"], "SIGINT", 0),
    "noint": (["SIGINT", "SIGTERM"], "SIGTERM", 1),
    "noterm": (["SIGINT", "SIGTERM", "SIGKILL"], "SIGKILL", 2),
    "exec": (["SIGINT"], "SIGINT", 0),        # the exec'd program, same pid
    "fork": (["SIGINT"], "SIGINT", 1),        # its worker ignores SIGINT
    "orphan": (["SIGINT"], "SIGINT", 2),      # the orphan ignores SIGINT and SIGTERM
}
SIGNUM = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM, "SIGKILL": signal.SIGKILL}


# --- the processes the program made ------------------------------------------------

def _stat(pid: int) -> Optional[List[str]]:
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return None
    return s[s.rfind(")") + 2:].split()


def still_there(proc: dict) -> Optional[str]:
    """None if the process is gone; else its state letter (Z: a zombie)."""
    fields = _stat(proc["pid"])
    if fields is None or int(fields[19]) != proc["start"]:
        return None  # gone (the pid may have been reused since)
    return fields[0]


class Events:
    """The JSON lines launched.py writes on its --ready-fd pipe."""

    def __init__(self):
        self.r, self.w = os.pipe()
        fl = fcntl.fcntl(self.r, fcntl.F_GETFL)
        fcntl.fcntl(self.r, fcntl.F_SETFL, fl | os.O_NONBLOCK)
        self.buf = b""
        self.events: List[dict] = []

    def poll(self, timeout: float = 0.0) -> List[dict]:
        select.select([self.r], [], [], timeout)
        while True:
            try:
                chunk = os.read(self.r, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            self.buf += chunk
        *lines, self.buf = self.buf.split(b"\n")
        new = [json.loads(x) for x in lines if x.strip()]
        self.events += new
        return new

    def wait_for(self, event: str, timeout: float, run=None) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for e in self.events:
                if e["event"] == event:
                    return e
            if run is not None and run.proc.poll() is not None:
                pytest.fail(f"gilscope ended before the program sent {event!r}:\n{run.describe()}",
                            pytrace=False)
            if time.monotonic() > deadline:
                pytest.fail(f"the program sent no {event!r} within {timeout:.0f}s: {self.events}"
                            + (f"\n{run.describe()}" if run else ""), pytrace=False)
            self.poll(0.1)

    def procs(self) -> List[dict]:
        seen = {}
        for e in self.events:
            if e["event"] == "proc":
                seen[(e["pid"], e["start"])] = e
        return list(seen.values())

    def close(self):
        for fd in (self.r, self.w):
            try:
                os.close(fd)
            except OSError:
                pass


def kill_leftovers(events: Events):
    """Test clean-up: SIGKILL whatever the program made that is still there."""
    events.poll()
    for p in events.procs():
        if still_there(p) not in (None, "Z"):
            try:
                os.kill(p["pid"], signal.SIGKILL)
            except OSError:
                pass


def left_behind(events: Events) -> List[str]:
    events.poll()
    return [f"pid {p['pid']} ({p['role']}): state {st}" for p in events.procs()
            if (st := still_there(p)) is not None]


# --- running gilscope on it -----------------------------------------------------------

class Launch:
    """gilscope launching launched.py SCENARIO, in the background."""

    def __init__(self, gilscope, interp, args, scenario, tmp_path: Path, *, extra=(),
                 pass_fds=(), tty: bool = False):
        self.events = Events()
        self.argv = ([gilscope] + list(args) + ["--", interp.path, str(LAUNCHED_PY), scenario,
                     "--ready-fd", str(self.events.w), "--timeout", str(TARGET_LIFETIME)] + list(extra))
        env = interp.env()
        env.setdefault("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        self.stdout_path = tmp_path / "gilscope.stdout"
        self._out = open(self.stdout_path, "wb")
        self.master = None
        self.stderr = b""
        if tty:
            # gilscope in a terminal of its own, as a user runs it: session
            # leader with the pty as its controlling terminal, so that ^C
            # typed there is the kernel's SIGINT to its process group
            self.master, slave = os.openpty()

            def in_terminal():
                os.setsid()
                fcntl.ioctl(0, termios.TIOCSCTTY, 0)
            self.proc = subprocess.Popen(self.argv, stdin=slave, stdout=self._out, stderr=slave,
                                         env=env, pass_fds=(self.events.w,) + tuple(pass_fds),
                                         preexec_fn=in_terminal)
            os.close(slave)
        else:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=self._out,
                                         stderr=subprocess.PIPE, env=env,
                                         pass_fds=(self.events.w,) + tuple(pass_fds))
        os.close(self.events.w)
        self.events.w = -1
        self.t0 = time.monotonic()
        self.took = None

    def _err_fd(self):
        return self.master if self.master is not None else self.proc.stderr.fileno()

    def _read_err(self, timeout):
        fd = self._err_fd()
        r, _, _ = select.select([fd], [], [], timeout)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the pty's other side is closed
                return None
            self.stderr += chunk
            return chunk or None
        return None

    def finish(self, timeout: float) -> int:
        """Wait for gilscope, at most `timeout` seconds from its start."""
        deadline = self.t0 + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._read_err(0.05)
            self.events.poll()
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
            self.took = time.monotonic() - self.t0
            self._drain()
            kill_leftovers(self.events)
            pytest.fail(f"gilscope did not return within {timeout:.1f}s:\n{self.describe()}",
                        pytrace=False)
        self.took = time.monotonic() - self.t0
        self._drain()
        self.events.poll()
        return self.proc.returncode

    def _drain(self):
        while self._read_err(0.05):
            pass
        self._out.close()

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    @property
    def err(self) -> str:
        return self.stderr.decode(errors="replace").replace("\r\n", "\n")

    def describe(self) -> str:
        took = f"{self.took:.2f}s" if self.took is not None else "?"
        return (f"$ {' '.join(self.argv)}\nexit status: {self.proc.returncode} after {took}\n"
                f"--- stdout ---\n{self.stdout[:3000]}\n--- stderr ---\n{self.err[-3000:]}\n"
                f"--- program's messages ---\n{self.events.events}\n--- end ---")

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        kill_leftovers(self.events)
        self.events.close()
        if self.master is not None:
            os.close(self.master)
        if not self._out.closed:
            self._out.close()
        if self.proc.stderr:
            self.proc.stderr.close()


@pytest.fixture
def launch():
    started = []

    def start(*a, **kw) -> Launch:
        run = Launch(*a, **kw)
        started.append(run)
        return run
    yield start
    for run in started:
        run.close()


def check_diag_json(text: str, run: Launch) -> dict:
    try:
        doc = json.loads(text)
    except ValueError as e:
        pytest.fail(f"the report is not one JSON document ({e}):\n{run.describe()}", pytrace=False)
    errors = es.diag_schema_errors(doc)
    assert not errors, f"diagnose --json does not match its schema: {errors[:3]}\n{run.describe()}"
    return doc


def check_speedscope(path: Path, run: Launch):
    assert path.is_file(), f"no {path}:\n{run.describe()}"
    doc = json.loads(path.read_text())
    assert "speedscope" in doc.get("$schema", ""), f"{path} is not a speedscope file"
    assert doc["profiles"] and any(p["samples"] for p in doc["profiles"]), \
        f"{path} has no samples:\n{run.describe()}"


def assert_nothing_left(run: Launch):
    procs = run.events.procs()
    assert procs, f"the program announced no process:\n{run.describe()}"
    left = left_behind(run.events)
    assert not left, f"left behind after gilscope returned: {left}\n{run.describe()}"


def ended_line(run: Launch) -> str:
    lines = [ln for ln in run.err.splitlines() if "gilscope: ended " in ln
             or " had already ended " in ln]
    assert len(lines) == 1, f"expected one line saying how the program ended:\n{run.describe()}"
    return lines[0]


# --- the duration is over -----------------------------------------------------------------

@pytest.mark.asan
@pytest.mark.parametrize("command", ["diagnose", "record"])
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_duration_ends_program(gilscope, interp, tmp_path, launch, command, scenario):
    """-d 1 on a program that never ends (spins; ignores SIGINT; ignores
    SIGINT and SIGTERM; exec()s another program; has a worker that ignores
    SIGINT; has an orphan in a session of its own that ignores both):
    gilscope returns within the duration and the grace periods the
    program made it wait, with the report written, the program's end told,
    and nothing of it left."""
    sent, died_of, graces = SCENARIOS[scenario]
    # the exec must come within the duration, after 0.3 s of spinning and
    # an interpreter start-up that can take a while on a busy machine
    duration = EXEC_DURATION if scenario == "exec" else DURATION
    out = tmp_path / ("report.json" if command == "diagnose" else "profile.speedscope.json")
    args = [command, "-d", str(duration), "--grace", str(GRACE), "--no-progress", "-o", str(out)]
    args += ["--json"] if command == "diagnose" else ["-f", "speedscope"]
    run = launch(gilscope, interp, args, scenario, tmp_path)
    bound = duration + graces * GRACE + MARGIN
    status = run.finish(timeout=bound)
    assert status == 0, run.describe()
    # the grace periods were given, not skipped
    assert run.took >= duration + graces * GRACE * 0.9, run.describe()
    assert_nothing_left(run)
    line = ended_line(run)
    assert f"after the {duration:g} s duration" in line, line
    assert f"({died_of})" in line and f"exit status {128 + SIGNUM[died_of]}" in line, line
    if scenario in ("fork", "orphan"):
        assert "also ended 1 process it started" in line, line
    if scenario == "exec":
        assert "exec'd another program: sampling stopped" in run.err, run.describe()
    if command == "diagnose":
        doc = check_diag_json(out.read_text(), run)
        assert doc["samples"] > 0, run.describe()
        assert doc["launch"] == {
            "command": interp.path, "end": "ended", "reason": "duration", "signals_sent": sent,
            "exit_status": 128 + SIGNUM[died_of], "signal": died_of,
            "other_processes_ended": 1 if scenario in ("fork", "orphan") else 0,
        }, run.describe()
        assert doc["sampling"]["target_execd"] is (scenario == "exec"), run.describe()
        assert doc["sampling"]["target_exited"] is False, run.describe()
    else:
        check_speedscope(out, run)
        assert f"gilscope: wrote {out}" in run.err, run.describe()


@pytest.mark.parametrize("scenario", ["spin", "noint"])
def test_duration_default_grace(gilscope, interp, tmp_path, launch, scenario):
    """py-spy's own integration test, `record -d 2 -o p.json -f speedscope --
    python spin.py`, with the default grace period (2 s) for a program that
    ignores SIGINT."""
    out = tmp_path / "p.json"
    run = launch(gilscope, interp, ["record", "-d", "2", "-o", str(out), "-f", "speedscope"],
                 scenario, tmp_path)
    graces = 1 if scenario == "noint" else 0
    status = run.finish(timeout=2 + graces * 2 + MARGIN)
    assert status == 0, run.describe()
    assert run.took >= 2 + graces * 2 * 0.9, run.describe()
    check_speedscope(out, run)
    assert_nothing_left(run)
    line = ended_line(run)
    if scenario == "noint":
        assert "terminated (SIGTERM)" in line and "did not end it within 2 s" in line, line


@pytest.mark.asan
def test_keep_running(gilscope, interp, tmp_path, launch):
    """--keep-running: the report, a line naming the pid, gilscope returns at
    the end of the duration, and the program still runs."""
    run = launch(gilscope, interp, ["diagnose", "-d", str(DURATION), "--keep-running", "--json",
                                    "--no-progress"], "spin", tmp_path)
    status = run.finish(timeout=DURATION + MARGIN)
    assert status == 0, run.describe()
    main = [p for p in run.events.procs() if p["role"] == "main"]
    assert main, run.describe()
    try:
        assert f"left python" in run.err and f"running (pid {main[0]['pid']})" in run.err, \
            run.describe()
        doc = check_diag_json(run.stdout, run)
        assert doc["launch"]["end"] == "left_running", doc["launch"]
        assert doc["launch"]["exit_status"] is None, doc["launch"]
        state = still_there(main[0])
        assert state is not None and state != "Z", f"the program is gone ({state}):\n{run.describe()}"
        # and it still runs Python: its CPU time grows
        cpu = int(_stat(main[0]["pid"])[11])
        deadline = time.monotonic() + 10
        while int((_stat(main[0]["pid"]) or ["0"] * 20)[11]) == cpu:
            assert time.monotonic() < deadline, "the program kept running does not run"
            time.sleep(0.05)
    finally:
        kill_leftovers(run.events)


# --- gilscope is interrupted -------------------------------------------------------------

@pytest.mark.asan
@pytest.mark.parametrize("scenario", ["count", "noint"])
def test_ctrl_c_in_terminal(gilscope, interp, tmp_path, launch, scenario):
    """Ctrl-C typed in gilscope's terminal (no -d): the kernel sends SIGINT
    to the whole foreground group, so the program already has it. gilscope
    must not send a second one (it would break the program's own clean-up),
    must end a program that ignores it, and return 0."""
    run = launch(gilscope, interp, ["diagnose", "--grace", str(GRACE), "--no-progress", "--json"],
                 scenario, tmp_path, tty=True)
    run.events.wait_for("ready", es.READY_TIMEOUT, run)
    # a few samples first: gilscope's loop must be running
    time.sleep(0.3)
    t0 = time.monotonic()
    os.write(run.master, b"\x03")
    status = run.finish(timeout=(time.monotonic() - run.t0) + GRACE + MARGIN)
    assert status == 0, run.describe()
    assert_nothing_left(run)
    line = ended_line(run)
    assert "on Ctrl-C" in line, line
    doc = check_diag_json(run.stdout, run)
    assert doc["sampling"]["interrupted"] is True, run.describe()
    if scenario == "count":
        sigints = [e for e in run.events.events if e["event"] == "sigint"]
        assert len(sigints) == 1, f"the program got {len(sigints)} SIGINTs:\n{run.describe()}"
        assert "exited with status 3 after SIGINT" in line, line
        assert doc["launch"]["exit_status"] == 3, doc["launch"]
    else:
        assert time.monotonic() - t0 >= GRACE * 0.9, run.describe()
        assert "terminated (SIGTERM)" in line, line
        assert doc["launch"]["signals_sent"] == ["SIGINT", "SIGTERM"], doc["launch"]


@pytest.mark.asan
def test_sigterm_to_gilscope(gilscope, interp, tmp_path, launch):
    """SIGTERM to gilscope (a service manager stopping it, no -d): it writes
    the report and ends the program with SIGINT first, so that a Python
    program gets its KeyboardInterrupt."""
    run = launch(gilscope, interp, ["diagnose", "--grace", str(GRACE), "--no-progress"],
                 "count", tmp_path)
    run.events.wait_for("ready", es.READY_TIMEOUT, run)
    time.sleep(0.3)
    run.proc.send_signal(signal.SIGTERM)
    status = run.finish(timeout=(time.monotonic() - run.t0) + MARGIN)
    assert status == 0, run.describe()
    assert_nothing_left(run)
    assert "on SIGTERM: exited with status 3 after SIGINT" in ended_line(run), run.describe()
    assert len([e for e in run.events.events if e["event"] == "sigint"]) == 1, run.describe()
    assert "Verdict:" in run.stdout and "note: sampling was interrupted" in run.stdout, \
        run.describe()


# --- a program that exec()s, without a duration -----------------------------------------

@pytest.mark.asan
@pytest.mark.parametrize("how", ["exits", "sigterm"])
def test_exec_without_duration(gilscope, interp, tmp_path, launch, how):
    """No -d, and the program exec()s another one (same pid): sampling
    stops there, and gilscope waits for the new program as it would have
    for the first: its exit status passes through; or, on SIGTERM to
    gilscope, it is ended like any other."""
    extra, fds = (), ()
    if how == "exits":
        exit_r, exit_w = os.pipe()
        extra, fds = ("--exit-fd", str(exit_r)), (exit_r,)
    try:
        run = launch(gilscope, interp, ["diagnose", "--json", "--grace", str(GRACE),
                                        "--no-progress"], "exec-wait", tmp_path, extra=extra,
                     pass_fds=fds)
    finally:
        if fds:
            os.close(exit_r)
    try:
        run.events.wait_for("ready", es.READY_TIMEOUT, run)  # the exec'd program
        # gilscope says it waits, and it does
        deadline = time.monotonic() + es.READY_TIMEOUT
        while b"waiting for it to exit" not in run.stderr:
            assert run.proc.poll() is None, f"gilscope did not wait:\n{run.describe()}"
            assert time.monotonic() < deadline, f"gilscope did not say it waits:\n{run.describe()}"
            run._read_err(0.1)
        if how == "exits":
            os.write(exit_w, b"x")
        else:
            run.proc.send_signal(signal.SIGTERM)
        status = run.finish(timeout=(time.monotonic() - run.t0) + MARGIN)
    finally:
        if fds:
            os.close(exit_w)
    doc = check_diag_json(run.stdout, run)
    assert doc["sampling"]["target_execd"] is True, run.describe()
    assert_nothing_left(run)
    if how == "exits":
        assert status == 5, run.describe()
        assert doc["launch"]["end"] == "exited" and doc["launch"]["exit_status"] == 5, doc["launch"]
    else:
        assert status == 0, run.describe()
        assert "on SIGTERM: interrupted (SIGINT)" in ended_line(run), run.describe()
        assert doc["launch"]["end"] == "ended", doc["launch"]


# --- a program that ends by itself --------------------------------------------------------

@pytest.mark.asan
def test_ends_by_itself_within_duration(gilscope, interp, tmp_path):
    """A program that exits before the duration is over: its status passes
    through, gilscope does not wait for the rest of the duration, and says
    nothing about ending it."""
    script = tmp_path / "short.py"
    # past its first second (RUN_FAILED_AT_ONCE_S), by its own clock: a
    # program that fails sooner gets no report (test_fails_at_once)
    # (the clock read once per 20,000 additions: the time is bytecode's)
    script.write_text("import sys, time\nt = time.monotonic() + 1.5\nx = 0\n"
                      "while time.monotonic() < t:\n    for i in range(20000):\n"
                      "        x += i\nsys.exit(7)\n")
    t0 = time.monotonic()
    run = es.run_gilscope(gilscope, ["diagnose", "-d", "60", "--json", "--no-progress", "--",
                                     interp.path, str(script)], save_dir=tmp_path,
                          timeout=MARGIN + 20)
    assert run.returncode == 7, run.describe()
    assert time.monotonic() - t0 < 30, run.describe()
    assert "gilscope: ended" not in run.stderr, run.describe()
    doc = json.loads(run.stdout)
    assert doc["launch"]["end"] == "exited" and doc["launch"]["exit_status"] == 7, doc["launch"]


@pytest.mark.asan
@pytest.mark.parametrize("command", ["diagnose", "record"])
@pytest.mark.parametrize("case", ["missing", "import"])
def test_fails_at_once(gilscope, interp, tmp_path, command, case):
    """A program that fails at once (a script that is not there, an import
    that fails): no verdict drawn from the interpreter's start-up, no report
    written; one line says how it ended and what it printed last, its stderr
    reaches the user whole, and its exit status passes through."""
    if case == "missing":
        argv, status, last = [str(tmp_path / "missing.py")], 2, "can't open file"
    else:
        argv, status, last = ["-c", "import gilscope_no_such_module"], 1, \
            "No module named 'gilscope_no_such_module'"
    out = tmp_path / "profile.json"
    opts = ["-o", str(out), "-f", "speedscope"] if command == "record" else ["--json"]
    run = es.run_gilscope(gilscope, [command, "--no-progress"] + opts + ["--", interp.path] + argv,
                          save_dir=tmp_path, timeout=MARGIN + 20)
    assert run.returncode == status, run.describe()
    assert run.stdout == "" and not out.exists(), run.describe()
    lines = [ln for ln in run.stderr.splitlines() if ln.startswith("gilscope: ")]
    assert len(lines) == 1, run.describe()
    assert f"exited with status {status} after " in lines[0], run.describe()
    assert "no report; it printed: " in lines[0] and last in lines[0], run.describe()
    if case == "import":   # the program's own stderr, passed on as it came
        assert "Traceback (most recent call last):" in run.stderr, run.describe()


# --- errors -------------------------------------------------------------------------------

def test_not_python_with_duration(gilscope, tmp_path):
    """A launched program gilscope cannot sample, with -d: the error (exit 5)
    once gilscope has given up looking for a Python runtime (10 s), and the
    program is ended then, not waited for."""
    sleeper = tmp_path / "not-python-sleep"  # a name to find it by in /proc
    sleeper.write_bytes(Path("/bin/sleep").read_bytes())
    sleeper.chmod(0o755)
    t0 = time.monotonic()
    run = es.run_gilscope(gilscope, ["diagnose", "-d", "1", "--grace", "1", "--no-progress", "--",
                                     str(sleeper), "120"],
                          save_dir=tmp_path, timeout=10 + 1 + MARGIN + 10)
    took = time.monotonic() - t0
    left = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if os.readlink(f"/proc/{d}/exe") == str(sleeper):
                    left.append(int(d))
            except OSError:
                pass
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"left running: {left}\n{run.describe()}"
    assert run.returncode == 5, run.describe()
    assert took < 10 + 1 + MARGIN, run.describe()
    assert "as it cannot be sampled: interrupted (SIGINT)" in run.stderr, run.describe()


@pytest.mark.parametrize("args", [["--keep-running"], ["--grace", "1"]])
def test_end_options_need_a_command(gilscope, args):
    """--keep-running and --grace are about a program gilscope launched: with
    --pid (whose process gilscope never ends) they are a usage error."""
    run = es.run_gilscope(gilscope, ["diagnose", "--pid", str(os.getpid())] + args, timeout=30)
    assert run.returncode == 2, run.describe()
    assert len(run.stderr.strip().splitlines()) == 1, run.describe()
    assert "launches" in run.stderr, run.describe()
