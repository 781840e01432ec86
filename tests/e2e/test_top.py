"""End-to-end tests of `gilscope top --pid PID`, driven in tmux.

tmux runs top in a detached session of a fixed size (80x24 unless a test
says otherwise) on a private server; the tests read the screen with
capture-pane and type with send-keys. top runs under a small shell wrapper
that reports, once top has ended, its exit status and whether the terminal
modes (stty -g) are what they were before: the terminal must be given back
on q, SIGINT and SIGTERM. Every wait polls the screen with a deadline.
"""
import os
import re
import shlex
import shutil
import subprocess
import time
from pathlib import Path
from typing import Dict, Optional

import pytest

import e2e_support as es

SCREEN_TIMEOUT = 30.0
STATE_WORDS = "python|native_gil|native|gil_wait|io|sleep|lock_wait|other|\\(gone\\)"

WRAPPER = """#!/bin/sh
# run the command, then say how it ended and whether the terminal is as it was
before=$(stty -g)
"$@"
status=$?
after=$(stty -g)
if [ "$before" = "$after" ]; then echo TTY-RESTORED; else echo TTY-CHANGED; fi
echo EXIT-STATUS=$status
exec sleep 300
"""


class Tmux:
    """A private tmux server with one session running `argv` under WRAPPER."""

    _n = 0

    def __init__(self, workdir: Path, argv, cols: int = 80, rows: int = 24):
        tmux = shutil.which("tmux")
        if tmux is None:
            pytest.skip("tmux is not installed (apt-get install tmux)")
        Tmux._n += 1
        self.socket = f"gilscope-test-{os.getpid()}-{Tmux._n}"
        self.base = [tmux, "-L", self.socket, "-f", "/dev/null"]
        wrapper = workdir / "wrap.sh"
        wrapper.write_text(WRAPPER)
        wrapper.chmod(0o755)
        self.env = dict(os.environ, LC_ALL="C.UTF-8", LANG="C.UTF-8")
        self.env.setdefault("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1")
        cmd = shlex.join([str(wrapper)] + list(argv))
        self.tmux("new-session", "-d", "-s", "top", "-x", str(cols), "-y", str(rows),
                  "-e", "LC_ALL=C.UTF-8", "-e", "TERM=screen", cmd)
        self.pane_pid = int(self.tmux("display-message", "-p", "-t", "top", "#{pane_pid}").strip())

    def tmux(self, *args) -> str:
        res = subprocess.run(self.base + list(args), capture_output=True, timeout=20, env=self.env)
        if res.returncode != 0:
            raise AssertionError(f"tmux {shlex.join(args)} failed: {res.stderr.decode(errors='replace')}")
        return res.stdout.decode("utf-8", "replace")

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "top")

    def keys(self, *keys):
        self.tmux("send-keys", "-t", "top", *keys)

    def child_pid(self) -> Optional[int]:
        """The command the wrapper runs (gilscope), while it runs."""
        try:
            with open(f"/proc/{self.pane_pid}/task/{self.pane_pid}/children") as f:
                kids = f.read().split()
        except OSError:
            return None
        return int(kids[0]) if kids else None

    def wait_for(self, what: str, check, timeout: float = SCREEN_TIMEOUT, also=None):
        """Poll the screen until check(screen) is true; also(screen) runs on
        every poll (to watch the target meanwhile)."""
        deadline = time.monotonic() + timeout
        screen = ""
        while True:
            screen = self.screen()
            if also:
                also(screen)
            if check(screen):
                return screen
            if time.monotonic() > deadline:
                pytest.fail(f"the screen never showed {what} within {timeout:.0f}s; last screen:\n"
                            f"{screen}", pytrace=False)
            time.sleep(0.05)  # poll interval of the screen, not a guess at timing

    def ended(self, timeout: float = SCREEN_TIMEOUT) -> str:
        return self.wait_for("the wrapper's EXIT-STATUS line", lambda s: "EXIT-STATUS=" in s, timeout)

    def quit(self) -> str:
        """q: top ends with status 0 and gives the terminal back."""
        self.keys("q")
        out = self.ended()
        assert "EXIT-STATUS=0" in out and "TTY-RESTORED" in out, out
        return out

    def close(self):
        subprocess.run(self.base + ["kill-server"], capture_output=True, timeout=20)


def parse_row(line: str) -> Optional[dict]:
    """A thread row: {"tid", "name", "now", "gil", "line"}, or None."""
    m = re.match(rf"^\s*(\d+) (.*?)\s+({STATE_WORDS})\s+(G?)\s", line + " ")
    if not m:
        return None
    return {"tid": int(m.group(1)), "name": m.group(2).strip(), "now": m.group(3),
            "gil": m.group(4) == "G", "line": line}


def parse_rows(screen: str, tids) -> Dict[int, dict]:
    """{tid: {"name", "now", "gil"}} for each thread row found on the screen."""
    rows = {}
    for line in screen.splitlines():
        row = parse_row(line)
        if row and row["tid"] in tids:
            rows[row["tid"]] = row
    return rows


def never_stopped(target: es.Target):
    """Fail if any thread of the target is stopped (gilscope must never stop it)."""
    def check(_screen):
        for tid in os.listdir(f"/proc/{target.pid}/task"):
            ks = es.read_kstate(target.pid, int(tid))
            if ks.state in ("T", "t"):
                pytest.fail(f"thread {tid} of the target is stopped ({ks.short()})", pytrace=False)
    return check


@pytest.mark.asan
def test_top_shows_threads(interp, gilscope, target, tmp_path):
    """top shows every thread of a known target with its name and the state
    the kernel confirms, quits on q giving the terminal back, and the
    target runs on, its threads where they were."""
    t = target(interp, "mixed")
    tids = {th.tid: role for role, th in t.threads.items()}
    tm = Tmux(tmp_path, [gilscope, "top", "--pid", str(t.pid)])
    try:
        def all_shown(screen):
            rows = parse_rows(screen, tids)
            return len(rows) == len(tids) and all(
                rows[tid]["now"] == t.expected[role] and
                # G marks the GIL holder: a thread running Python with the GIL on
                rows[tid]["gil"] == (interp.gil_enabled and rows[tid]["now"] == "python")
                for tid, role in tids.items())

        screen = tm.wait_for("every thread in its expected state", all_shown, also=never_stopped(t))
        rows = parse_rows(screen, tids)
        for tid, role in tids.items():
            name = t.threads[role].name
            shown = rows[tid]["name"]
            assert shown == name or (len(shown) >= 12 and name.startswith(shown)), \
                f"{role}: name {shown!r}, expected {name!r}\n{screen}"
        head = screen.splitlines()[0]
        assert f"pid {t.pid}" in head and f"Python {interp.version}" in head, screen
        assert "Verdict:" in screen and "q quit" in screen, screen
        for line in screen.splitlines():
            assert len(line) <= 80, f"line longer than the terminal: {line!r}"

        tm.keys("q")
        out = tm.ended()
        assert "EXIT-STATUS=0" in out, out
        assert "TTY-RESTORED" in out, out
        assert "gilscope top" not in out, f"the screen was not given back:\n{out}"
    finally:
        tm.close()
    assert t.proc.poll() is None, "the target did not survive gilscope top"
    t.settle()  # every thread still where it was (fails if not)
    assert {th.tid for th in t.threads.values()} == set(tids)


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_top_signal_restores_terminal(sig, gilscope, target, tmp_path):
    it = es.discover()[0][0] if es.discover()[0] else None
    if it is None:
        pytest.skip("no supported interpreter")
    t = target(it, "idle")
    tm = Tmux(tmp_path, [gilscope, "top", "--pid", str(t.pid)])
    try:
        tm.wait_for("the top screen", lambda s: "gilscope top" in s and "sleeper" in s)
        pid = tm.child_pid()
        assert pid is not None, "cannot find gilscope under the wrapper"
        os.kill(pid, getattr(__import__("signal"), sig))
        out = tm.ended()
        assert "EXIT-STATUS=0" in out and "TTY-RESTORED" in out, out
    finally:
        tm.close()
    assert t.proc.poll() is None


def test_top_small_terminal(gilscope, target, tmp_path):
    """A terminal too small for everything: cut, not garbled, and q still works."""
    it = es.discover()[0][0] if es.discover()[0] else None
    if it is None:
        pytest.skip("no supported interpreter")
    t = target(it, "idle")
    tm = Tmux(tmp_path, [gilscope, "top", "--pid", str(t.pid)], cols=40, rows=8)
    try:
        screen = tm.wait_for("a thread row", lambda s: "MainThread" in s)
        assert all(len(line) <= 40 for line in screen.splitlines()), screen
        assert len(screen.rstrip("\n").splitlines()) <= 8, screen
        tm.quit()
    finally:
        tm.close()


def test_top_exits_with_target(gilscope, target, tmp_path):
    """The target ends: top says so, gives the terminal back, exits 7."""
    it = es.discover()[0][0] if es.discover()[0] else None
    if it is None:
        pytest.skip("no supported interpreter")
    t = target(it, "idle")
    tm = Tmux(tmp_path, [gilscope, "top", "--pid", str(t.pid)])
    try:
        tm.wait_for("the top screen", lambda s: "MainThread" in s)
        t.release()
        t.proc.wait(timeout=30)
        tm.wait_for("the exit message", lambda s: f"process {t.pid} exited" in s)
        tm.keys("x")
        out = tm.ended()
        assert "EXIT-STATUS=7" in out and "TTY-RESTORED" in out, out
    finally:
        tm.close()


def test_top_needs_a_terminal(gilscope):
    r = es.run_gilscope(gilscope, ["top", "--pid", str(os.getpid())])
    assert r.returncode == 2, r.describe()
    assert "not a terminal" in r.stderr and "diagnose" in r.stderr, r.describe()
