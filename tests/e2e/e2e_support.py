"""Helpers for gilscope's end-to-end tests (imported by conftest.py and the tests).

What lives here:
  * interpreter discovery (pyenv, Debian's /usr/bin, GILSCOPE_TEST_PYTHONS);
  * building tests/e2e/testext per interpreter;
  * Target: a running tests/e2e/targets/states.py scenario, its readiness
    protocol, and the kernel's ground truth about its threads (/proc);
  * running gilscope and describing its output in assertion messages;
  * the oracle: which state each role of a scenario must be reported in.

Nothing here sleeps to "let things settle": waits poll a ground truth (a pipe,
/proc) with a deadline, and a missed deadline fails the test.
"""
import dataclasses
import glob
import hashlib
import json
import os
import platform
import re
import select
import shlex
import shutil
import subprocess
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest

E2E_DIR = Path(__file__).resolve().parent
REPO = E2E_DIR.parent.parent
TARGETS_DIR = E2E_DIR / "targets"
STATES_PY = TARGETS_DIR / "states.py"
TESTEXT_SRC = E2E_DIR / "testext" / "gilscope_testext.c"
GILEXT_SRC = E2E_DIR / "testext" / "gilscope_gilext.c"
EXT_ROOT = E2E_DIR / ".ext"
SCHEMA_PATH = REPO / "tests" / "schema" / "dump.schema.json"

STATES = ("python", "native_gil", "native", "gil_wait", "io", "sleep", "lock_wait", "other")
RUNNING_STATES = {"python", "native_gil", "native"}

# Deadlines. Missing one FAILS the test: a target that does not get ready is
# a broken target or a broken machine, not a missing capability.
READY_TIMEOUT = 30.0
SETTLE_TIMEOUT = 30.0
GILSCOPE_TIMEOUT = float(os.environ.get("GILSCOPE_TEST_TIMEOUT", "60"))
TARGET_LIFETIME = 120  # states.py --timeout: the target ends itself after this
RUN_CPU_NS = 30_000_000  # CPU a running thread must burn after announcing itself
# A thread waiting for the GIL wakes up every switch interval to ask for it,
# and on a busy 2-CPU machine it then sits runnable (R) for a while: with the
# default 5 ms it is caught awake by a fair share of dumps. The gilheld
# scenario therefore runs with a long interval, so that the waiter is almost
# always asleep on the GIL; the retries of run_until_consistent cover the rest.
GILHELD_SWITCH_INTERVAL = 1.0
DUMP_ATTEMPTS = 5  # see run_until_consistent()

# --- system call numbers (what /proc/PID/task/TID/syscall shows) ----------

_SYSCALLS = {
    "x86_64": {
        "io": {0, 1, 7, 17, 19, 23, 42, 43, 44, 45, 47, 232, 270, 271, 281, 288, 441},
        # time.sleep(): select(2) before 3.11, clock_nanosleep(2) since
        "sleep": {35, 230, 23, 270},
        "futex": {202, 449},
        "read": {0},
    },
    "aarch64": {
        "io": {22, 63, 64, 65, 67, 72, 73, 202, 203, 206, 207, 212, 242, 441},
        "sleep": {101, 115, 72},
        "futex": {98, 449},
        "read": {63},
    },
}
SYSCALLS = _SYSCALLS.get(platform.machine())

# The oracle: the state gilscope must report for each role of states.py.
# ("waiter" is "io" until the test pokes it, then "gil_wait".)
ROLE_STATES = {
    "main": "io",
    "busy": "python",
    "sleeper": "sleep",
    "io": "io",
    "lock": "lock_wait",
    "native": "native",
    "deep": "lock_wait",
    "nonascii": "lock_wait",
    "generator": "lock_wait",
    "coroutine": "lock_wait",
    "exec": "lock_wait",
    "holder": "native_gil",
    "waiter": "io",
}


# --- markers ----------------------------------------------------------------

_MARK_RE = re.compile(r"#\s*@mark:([A-Za-z0-9_-]+)\s*$")


def scan_markers(path) -> Dict[str, int]:
    """{marker: 1-based line number} for lines ending in '# @mark:NAME'."""
    found: Dict[str, int] = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            m = _MARK_RE.search(line)
            if m:
                name = m.group(1)
                if name in found:
                    raise AssertionError(f"{path}: marker {name} on lines {found[name]} and {lineno}")
                found[name] = lineno
    return found


# --- interpreters -------------------------------------------------------------

_PROBE = r"""
import json, platform, sys, sysconfig
paths = sysconfig.get_paths()
print(json.dumps({
    "impl": sys.implementation.name,
    "version": platform.python_version(),
    "version_info": list(sys.version_info[:3]),
    "ft": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
    "include": paths.get("include"),
    "platinclude": paths.get("platinclude"),
    "ext_suffix": sysconfig.get_config_var("EXT_SUFFIX"),
}))
"""

_PY_NAME_RE = re.compile(r"^python3\.\d+t?$")


@dataclasses.dataclass(frozen=True)
class Interp:
    """One interpreter, and for a free-threaded one, one GIL setting.

    gil is None on a default build (PYTHON_GIL is removed from the
    environment), 0 or 1 on a free-threaded build (PYTHON_GIL=0 / =1)."""

    path: str
    realpath: str
    version: str
    version_info: Tuple[int, int, int]
    ft: bool
    include: Tuple[str, ...]
    ext_suffix: str
    gil: Optional[int] = None

    @property
    def id(self) -> str:
        base = f"py{self.version}{'t' if self.ft else ''}"
        return base if self.gil is None else f"{base}-gil{self.gil}"

    @property
    def gil_enabled(self) -> bool:
        return self.gil != 0

    @property
    def qualnames(self) -> bool:
        """Frames carry co_qualname (3.11+) rather than co_name."""
        return tuple(self.version_info[:2]) >= (3, 11)

    def fn(self, plain: str, qualified: Optional[str] = None) -> str:
        """The function name gilscope must report for this interpreter."""
        return (qualified or plain) if self.qualnames else plain

    def env(self) -> Dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        if self.gil is not None:
            env["PYTHON_GIL"] = str(self.gil)
        return env


def _pyenv_roots() -> List[str]:
    roots = []
    exe = shutil.which("pyenv")
    if exe:
        try:
            out = subprocess.run([exe, "root"], capture_output=True, text=True, timeout=20)
            if out.returncode == 0 and out.stdout.strip():
                roots.append(out.stdout.strip())
        except (OSError, subprocess.TimeoutExpired):
            pass
    if os.environ.get("PYENV_ROOT"):
        roots.append(os.environ["PYENV_ROOT"])
    roots.append(os.path.expanduser("~/.pyenv"))
    roots.append("/root/.pyenv")
    return roots


def candidate_paths() -> List[Tuple[str, bool]]:
    """(path, explicitly_requested) in discovery order."""
    found: List[Tuple[str, bool]] = []
    for root in _pyenv_roots():
        for p in sorted(glob.glob(os.path.join(root, "versions", "*", "bin", "python3.*"))):
            if _PY_NAME_RE.match(os.path.basename(p)):
                found.append((p, False))
    # Debian's interpreters (libpython linked statically into the executable)
    for p in sorted(glob.glob("/usr/bin/python3.*")):
        if _PY_NAME_RE.match(os.path.basename(p)):
            found.append((p, False))
    extra = os.environ.get("GILSCOPE_TEST_PYTHONS", "")
    for chunk in extra.split(os.pathsep):
        for p in chunk.split():
            found.append((p, True))
    return found


_DISCOVERED = None


def discover() -> Tuple[List[Interp], List[Interp], List[str]]:
    """(supported runs, unsupported CPython 3 interpreters, notes), cached.
    The same executable found twice (symlink, hard link) counts once."""
    global _DISCOVERED
    if _DISCOVERED is not None:
        return _DISCOVERED
    seen = set()
    supported: List[Interp] = []
    old: List[Interp] = []
    notes: List[str] = []
    for path, explicit in candidate_paths():
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            if explicit:
                raise pytest.UsageError(f"GILSCOPE_TEST_PYTHONS names {path!r}, which is not an executable")
            continue
        real = os.path.realpath(path)
        st = os.stat(real)
        ident = (st.st_dev, st.st_ino)  # hard links too (python3.13 / python3.13t)
        if real in seen or ident in seen:
            continue
        seen.update((real, ident))
        try:
            env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
            out = subprocess.run([path, "-c", _PROBE], capture_output=True, text=True, timeout=30, env=env)
            info = json.loads(out.stdout)
        except (OSError, ValueError, subprocess.TimeoutExpired) as e:
            msg = f"{path}: could not query it ({e})"
            if explicit:
                raise pytest.UsageError(msg)
            notes.append(msg)
            continue
        if info["impl"] != "cpython":
            notes.append(f"{path}: {info['impl']}, not CPython: skipped")
            continue
        include = tuple(dict.fromkeys(p for p in (info["include"], info["platinclude"]) if p))
        base = Interp(path=path, realpath=real, version=info["version"],
                      version_info=tuple(info["version_info"]), ft=info["ft"],
                      include=include, ext_suffix=info["ext_suffix"] or ".so")
        if base.version_info < (3, 9):
            old.append(base)
        elif base.ft:
            supported.append(dataclasses.replace(base, gil=0))
            supported.append(dataclasses.replace(base, gil=1))
        else:
            supported.append(base)
    order = lambda it: (it.version_info, it.ft, it.gil or 0, it.realpath)  # noqa: E731
    supported.sort(key=order)
    old.sort(key=order)
    _DISCOVERED = (supported, old, notes)
    return _DISCOVERED


def representative(interps: List[Interp], both_gil_modes: bool = False) -> List[Interp]:
    """The oldest and the newest interpreter with the GIL, and the newest
    free-threaded one with the GIL off (what CI can afford for tests that
    do not exercise the interpreter model); both_gil_modes: that one with
    the GIL turned back on too."""
    default = [it for it in interps if not it.ft]
    ft = [it for it in interps if it.ft and it.gil == 0]
    picks = []
    if default:
        picks += [default[0], default[-1]]
    if ft:
        picks.append(ft[-1])
        if both_gil_modes:
            picks += [it for it in interps if it.ft and it.gil == 1
                      and it.realpath == ft[-1].realpath]
    out: List[Interp] = []
    for it in picks:
        if it not in out:
            out.append(it)
    return out


def interp_ids(interps: List[Interp]) -> List[str]:
    """Test ids (py3.11.7, py3.13.1t-gil0); the same version found in two
    places gets the place appended."""
    counts: Dict[str, int] = {}
    for it in interps:
        counts[it.id] = counts.get(it.id, 0) + 1
    ids = []
    for it in interps:
        if counts[it.id] > 1:
            place = os.path.dirname(os.path.dirname(it.realpath))
            ids.append(f"{it.id}-{re.sub(r'[^A-Za-z0-9]+', '_', place).strip('_')}")
        else:
            ids.append(it.id)
    return ids


# --- the test extension --------------------------------------------------------

def _build_ext(it: Interp, src: Path, name: str, key_prefix: str, what: str) -> Path:
    """Build extension module `name` from `src` for this interpreter; return
    the directory to put on sys.path. Cached in tests/e2e/.ext/<hash of
    interpreter path + version>/, rebuilt when the C source or the
    interpreter changes. Safe against concurrent builds (each writes its
    own temporary file, then renames)."""
    key = hashlib.sha256(f"{key_prefix}{it.realpath}\0{it.version}\0{it.ft}".encode()).hexdigest()[:16]
    outdir = EXT_ROOT / key
    out = outdir / f"{name}{it.ext_suffix}"
    stamp = outdir / "source.sha256"
    st = os.stat(it.realpath)
    # rebuilt when the C source changes, or the interpreter was reinstalled
    src_hash = hashlib.sha256(src.read_bytes()).hexdigest() + f" {st.st_size} {st.st_mtime_ns}"
    if out.exists() and stamp.exists() and stamp.read_text().strip() == src_hash:
        return outdir
    outdir.mkdir(parents=True, exist_ok=True)
    tmp = outdir / f".{out.name}.{os.getpid()}.tmp"
    cc = os.environ.get("CC") or "gcc"
    cmd = [cc, "-shared", "-fPIC", "-O1", "-Wall", "-std=gnu11"]
    cmd += [f"-I{d}" for d in it.include]
    if it.ft:
        cmd.append("-DPy_GIL_DISABLED=1")
    cmd += ["-o", str(tmp), str(src)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if res.returncode != 0:
        pytest.fail(f"building {what} for {it.path} failed:\n$ {shlex.join(cmd)}\n"
                    f"{res.stdout}{res.stderr}", pytrace=False)
    os.replace(tmp, out)
    stamp.write_text(src_hash + "\n")
    (outdir / "interpreter.txt").write_text(f"{it.realpath}\n{it.version}\n")
    return outdir


def build_testext(it: Interp) -> Path:
    """gilscope_testext built for this interpreter (see _build_ext)."""
    return _build_ext(it, TESTEXT_SRC, "gilscope_testext", "", "the test extension")


def build_gilext(it: Interp) -> Path:
    """gilscope_gilext (testext/gilscope_gilext.c: does not declare Py_mod_gil)
    built for this interpreter (see _build_ext)."""
    return _build_ext(it, GILEXT_SRC, "gilscope_gilext", "gilext\0", "gilscope_gilext")


# --- NumPy, per interpreter ---------------------------------------------------

SITE_ROOT = E2E_DIR / ".site"


def install_package(it: Interp, package: str, module: str, *more: str) -> Path:
    """`package` (and the packages `more`) from PyPI (wheels only) in a venv
    of this interpreter's own (so a wheel matches its ABI, free-threaded
    builds included); return the venv. Cached in tests/e2e/.site/<hash>/;
    fails the test with pip's output when nothing installs."""
    names = "\0".join((package,) + more)
    key = hashlib.sha256(f"{it.realpath}\0{it.version}\0{it.ft}\0{names}".encode()).hexdigest()[:16]
    root = SITE_ROOT / key
    venv = root / "venv"
    done = root / "done"
    if done.exists():
        return venv
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    steps = [[it.path, "-m", "venv", "--clear", str(venv)],
             [str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
              "--disable-pip-version-check", "--only-binary=:all:", package, *more]]
    for cmd in steps:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
        if res.returncode != 0:
            pytest.fail(f"installing {package} for {it.path} failed:\n$ {shlex.join(cmd)}\n"
                        f"{res.stdout}{res.stderr}", pytrace=False)
    res = subprocess.run([str(venv / "bin" / "python"), "-c", f"import {module}"],
                         capture_output=True, text=True, timeout=120, env=env)
    if res.returncode != 0:
        pytest.fail(f"{package} for {it.path} does not import:\n{res.stdout}{res.stderr}",
                    pytrace=False)
    done.write_text("ok\n")
    return venv


def install_numpy(it: Interp) -> Path:
    """NumPy for this interpreter (install_package; the newest NumPy with a
    wheel for it: NumPy 2.4+ has none for 3.13t, and building one from
    source takes a quarter of an hour); return the site-packages directory
    to put on sys.path."""
    venv = install_package(it, "numpy", "numpy")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    res = subprocess.run([str(venv / "bin" / "python"), "-c",
                          "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         capture_output=True, text=True, timeout=120, env=env)
    if res.returncode != 0:
        pytest.fail(f"the NumPy venv of {it.path} does not run:\n{res.stdout}{res.stderr}",
                    pytrace=False)
    return Path(res.stdout.strip())


# --- the kernel's view of a thread -----------------------------------------------

@dataclasses.dataclass(frozen=True)
class KState:
    state: str  # R, S, D, t, ... ('?' if gone)
    syscall: Optional[int]  # None when running (or unknown)
    syscall_text: str
    voluntary: int
    nonvoluntary: int
    cpu_ns: int

    def short(self) -> str:
        sc = self.syscall_text.split(" ")[0] if self.syscall_text else "?"
        return (f"state={self.state} syscall={sc} vcsw={self.voluntary} "
                f"ivcsw={self.nonvoluntary} cpu={self.cpu_ns / 1e6:.0f}ms")


def _read(path: str) -> Optional[str]:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def read_kstate(pid: int, tid: int) -> KState:
    base = f"/proc/{pid}/task/{tid}"
    stat = _read(f"{base}/stat")
    if stat is None:
        return KState("?", None, "", -1, -1, -1)
    fields = stat[stat.rfind(")") + 2:].split()
    state = fields[0]
    sc_text = (_read(f"{base}/syscall") or "").strip()
    first = sc_text.split(" ")[0] if sc_text else ""
    syscall = int(first) if first.isdigit() else None
    vol = nonvol = -1
    for line in (_read(f"{base}/status") or "").splitlines():
        if line.startswith("voluntary_ctxt_switches:"):
            vol = int(line.split()[1])
        elif line.startswith("nonvoluntary_ctxt_switches:"):
            nonvol = int(line.split()[1])
    sched = _read(f"{base}/schedstat")
    if sched:
        cpu = int(sched.split()[0])
    else:  # utime + stime, in clock ticks
        cpu = (int(fields[11]) + int(fields[12])) * (1_000_000_000 // os.sysconf("SC_CLK_TCK"))
    return KState(state, syscall, sc_text, vol, nonvol, cpu)


# --- a running target ------------------------------------------------------------------

@dataclasses.dataclass
class TThread:
    role: str
    tid: int
    name: str
    msg: dict
    cpu_at_announce: int


class Target:
    """A running states.py scenario. Created by the `target` fixture."""

    def __init__(self, it: Interp, scenario: str, workdir: Path, ext_dir: Optional[Path],
                 switch_interval: Optional[float] = None):
        self.interp = it
        self.scenario = scenario
        self.workdir = workdir
        self.hello: dict = {}
        self.threads: Dict[str, TThread] = {}
        self.expected: Dict[str, str] = {}
        self.c_ready = 0
        self.poked = False
        self._buf = b""
        self._quiet: Dict[int, Tuple[float, Tuple[int, int]]] = {}
        self.log_path = workdir / f"target-{scenario}-{it.id}-{os.getpid()}-{id(self):x}.log"
        ready_r, ready_w = os.pipe()
        control_r, self._control_w = os.pipe()
        pass_fds = [ready_w, control_r]
        cmd = [it.path, str(STATES_PY), scenario, "--ready-fd", str(ready_w),
               "--control-fd", str(control_r), "--timeout", str(TARGET_LIFETIME),
               "--tmpdir", str(workdir)]
        self._poke_w = None
        poke_r = None
        if scenario == "gilheld":
            poke_r, self._poke_w = os.pipe()
            pass_fds.append(poke_r)
            cmd += ["--poke-fd", str(poke_r)]
        if ext_dir is not None:
            cmd += ["--ext-dir", str(ext_dir)]
        if switch_interval is None and scenario == "gilheld":
            switch_interval = GILHELD_SWITCH_INTERVAL
        if switch_interval is not None:
            cmd += ["--switch-interval", repr(switch_interval)]
        self.cmd = cmd
        self._log = open(self.log_path, "wb")
        try:
            self.proc = subprocess.Popen(cmd, pass_fds=pass_fds, stdin=subprocess.DEVNULL,
                                         stdout=self._log, stderr=subprocess.STDOUT,
                                         env=it.env(), cwd=str(workdir))
        finally:
            for fd in pass_fds:
                os.close(fd)
        self._ready_r = ready_r
        self.pid = self.proc.pid

    # -- facts

    @property
    def file(self) -> str:
        """co_filename of states.py in the target."""
        return self.hello["file"]

    def tid(self, role: str) -> int:
        return self.threads[role].tid

    def role_of(self, tid: int) -> Optional[str]:
        for role, t in self.threads.items():
            if t.tid == tid:
                return role
        return None

    def log_tail(self, n: int = 4000) -> str:
        try:
            data = self.log_path.read_bytes()[-n:]
        except OSError:
            return ""
        return data.decode("utf-8", "replace")

    def describe(self) -> str:
        lines = [f"target {self.scenario} pid {self.pid} on {self.interp.path} ({self.interp.id})",
                 f"  cmd: {shlex.join(self.cmd)}"]
        for role, t in sorted(self.threads.items()):
            ks = read_kstate(self.pid, t.tid) if t.tid is not None else None
            ks = ks.short() if ks else "?"
            lines.append(f"  {role:10} tid {t.tid!s:<7} expect {self.expected.get(role, '?'):10} "
                         f"kernel: {ks}  name={t.name!r}")
        tail = self.log_tail()
        if tail.strip():
            lines.append("  target output:\n    " + tail.replace("\n", "\n    "))
        return "\n".join(lines)

    # -- readiness

    def _parse(self):
        while self._buf:
            if self._buf[:1] == b"!":
                self.c_ready += 1
                self._buf = self._buf[1:]
                continue
            nl = self._buf.find(b"\n")
            if nl < 0:
                return
            line, self._buf = self._buf[:nl], self._buf[nl + 1:]
            msg = json.loads(line.decode("ascii"))
            if msg["event"] == "hello":
                self.hello = msg
            elif msg["event"] == "thread":
                role = msg["role"]
                tid = msg["tid"]  # None before 3.8 (no threading.get_native_id)
                cpu = read_kstate(self.pid, tid).cpu_ns if tid is not None else 0
                self.threads[role] = TThread(role, tid, msg["name"], msg, cpu)
                self.expected[role] = ROLE_STATES[role]
            else:
                raise AssertionError(f"unknown message from the target: {msg}")

    def _complete(self) -> bool:
        return (bool(self.hello) and len(self.threads) == self.hello["threads"]
                and self.c_ready == self.hello["c_ready"])

    def wait_ready(self, timeout: float = READY_TIMEOUT):
        deadline = time.monotonic() + timeout
        while not self._complete():
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"the target did not report ready within {timeout:.0f}s "
                            f"(hello={bool(self.hello)}, threads={sorted(self.threads)}, "
                            f"c_ready={self.c_ready}):\n{self.describe()}", pytrace=False)
            r, _, _ = select.select([self._ready_r], [], [], min(left, 0.5))
            if r:
                chunk = os.read(self._ready_r, 65536)
                if not chunk:
                    self.proc.wait(timeout=10)
                    pytest.fail(f"the target exited (status {self.proc.returncode}) before it was "
                                f"ready:\n{self.describe()}", pytrace=False)
                self._buf += chunk
                self._parse()
        h = self.hello
        problems = []
        if h["version"] != self.interp.version:
            problems.append(f"version {h['version']} != probed {self.interp.version}")
        if h["free_threaded"] != self.interp.ft:
            problems.append(f"free_threaded {h['free_threaded']} != probed {self.interp.ft}")
        if h["gil_enabled"] != self.interp.gil_enabled:
            problems.append(f"gil_enabled is {h['gil_enabled']} in the target, expected "
                            f"{self.interp.gil_enabled} (did an import turn the GIL back on?)")
        if problems:
            pytest.fail("the target does not run as intended: " + "; ".join(problems)
                        + "\n" + self.describe(), pytrace=False)

    # -- ground truth

    def _syscalls_for(self, state: str):
        if SYSCALLS is None:
            return None
        return {"io": SYSCALLS["io"], "sleep": SYSCALLS["sleep"], "lock_wait": SYSCALLS["futex"],
                "gil_wait": SYSCALLS["futex"]}[state]

    def quiet_window(self) -> float:
        # A thread waiting for the GIL wakes up every switch interval; one
        # that stays asleep in futex for many intervals waits on something else.
        return max(0.05, 10 * float(self.hello.get("switch_interval", 0.005)))

    def kernel_agrees(self, role: str, now: float) -> Tuple[bool, str]:
        t = self.threads[role]
        want = self.expected[role]
        if t.tid is None:
            return True, ""  # an old interpreter: nothing to check against
        ks = read_kstate(self.pid, t.tid)
        if ks.state == "?":
            return False, "thread is gone"
        if want in RUNNING_STATES:
            self._quiet.pop(t.tid, None)
            burnt = ks.cpu_ns - t.cpu_at_announce
            if ks.state != "R":
                return False, f"not running ({ks.short()})"
            if burnt < RUN_CPU_NS:
                return False, f"burnt only {burnt / 1e6:.1f}ms since it announced itself"
            return True, ""
        nrs = self._syscalls_for(want)
        if ks.state != "S" or (nrs is not None and ks.syscall not in nrs):
            self._quiet.pop(t.tid, None)
            return False, f"not blocked in a {want} system call ({ks.short()})"
        if want == "lock_wait":
            sw = (ks.voluntary, ks.nonvoluntary)
            since = self._quiet.get(t.tid)
            if since is None or since[1] != sw:
                self._quiet[t.tid] = (now, sw)
                return False, "in futex, not yet quiet"
            if now - since[0] < self.quiet_window():
                return False, "in futex, not yet quiet"
        return True, ""

    def settle(self, timeout: float = SETTLE_TIMEOUT):
        """Poll /proc until every thread is where the kernel says it should be."""
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            pending = {}
            for role in self.threads:
                ok, why = self.kernel_agrees(role, now)
                if not ok:
                    pending[role] = why
            if not pending:
                return
            if self.proc.poll() is not None:
                pytest.fail(f"the target exited (status {self.proc.returncode}):\n{self.describe()}",
                            pytrace=False)
            if now > deadline:
                pytest.fail(f"threads never reached their expected kernel state within "
                            f"{timeout:.0f}s: {pending}\n{self.describe()}", pytrace=False)
            time.sleep(0.002)  # poll interval of the ground truth, not a guess

    def poke(self):
        """gilheld: wake the waiter from read(2); it then waits for the GIL."""
        assert self._poke_w is not None, "only the gilheld scenario can be poked"
        os.write(self._poke_w, b"p")
        self.poked = True
        self.expected["waiter"] = "gil_wait"

    def snapshot(self) -> Dict[int, KState]:
        return {t.tid: read_kstate(self.pid, t.tid) for t in self.threads.values()}

    def moved(self, tid: int, before: Dict[int, KState], after: Dict[int, KState]) -> Optional[str]:
        """Why the kernel says this thread left its place while gilscope ran, or None."""
        role = self.role_of(tid)
        b, a = before.get(tid), after.get(tid)
        if role is None:
            return None  # not a thread we placed: no excuse
        if b is None or a is None:
            return "it vanished"
        if a.voluntary != b.voluntary:
            return f"it blocked or woke ({b.short()} -> {a.short()})"
        if self.expected[role] in RUNNING_STATES:
            if a.state != "R" or b.state != "R":
                return f"it stopped running ({b.short()} -> {a.short()})"
        elif a.state != "S" or b.state != "S" or a.syscall != b.syscall:
            return f"it left its system call ({b.short()} -> {a.short()})"
        return None

    # -- teardown

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for fd in (self._ready_r, self._control_w, self._poke_w):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._ready_r = self._control_w = self._poke_w = None
        self._log.close()

    def release(self):
        """Ask the target to exit by itself (its main thread reads the control pipe)."""
        os.write(self._control_w, b"q")


def read_workers_ready(ready_r: int, proc: subprocess.Popen, what: str) -> Dict[str, int]:
    """A workload's readiness, over its pipe: {"role", "tid"} lines, then
    {"ready": true}. The tids by role; the process is killed and the test
    fails when the pipe ends first (the workload died)."""
    tids = {}
    with os.fdopen(ready_r, "r", encoding="utf-8", closefd=True) as f:
        for line in f:
            msg = json.loads(line)
            if msg.get("ready"):
                return tids
            tids[msg["role"]] = msg["tid"]
    proc.kill()
    proc.wait()
    pytest.fail(f"{what} did not start", pytrace=False)


def read_json_line(rd, timeout: float, what: str, on_timeout=None) -> dict:
    """One JSON line from a target's pipe (a text file object) within
    `timeout` s; on a timeout `on_timeout()` (e.g. end the target) runs and
    the test fails; the pipe ending first is an assertion."""
    ready, _, _ = select.select([rd], [], [], timeout)
    if not ready:
        detail = on_timeout() if on_timeout else None
        pytest.fail(f"the target did not send {what} within {timeout:.0f} s"
                    + (f": {detail}" if detail else ""), pytrace=False)
    line = rd.readline()
    assert line, f"the target ended before {what}"
    return json.loads(line)


def sampled_window(doc: Optional[dict]) -> str:
    """"FIRST LAST": the window gilscope sampled (its first and last
    sample, CLOCK_MONOTONIC ns, the target's time.monotonic_ns()), for a
    target that measures its ground truth over it; "0 0" without a report."""
    smp = doc["sampling"] if doc else {}
    return f"{smp.get('first_sample_monotonic_ns', 0)} {smp.get('last_sample_monotonic_ns', 0)}"


def end_process(proc: subprocess.Popen, grace: float = 10):
    """SIGTERM, then SIGKILL after `grace` s; reaped either way."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# --- running gilscope -------------------------------------------------------------

@dataclasses.dataclass
class Run:
    argv: List[str]
    returncode: int
    stdout: str
    stderr: str
    saved: Optional[Path]

    def describe(self, limit: int = 6000) -> str:
        out = self.stdout if len(self.stdout) <= limit else (
            self.stdout[:limit] + f"\n... [{len(self.stdout) - limit} more characters"
            + (f", all in {self.saved}" if self.saved else "") + "]")
        return (f"$ {shlex.join(self.argv)}\nexit status: {self.returncode}\n"
                f"--- stdout ---\n{out}\n--- stderr ---\n{self.stderr}--- end ---")


_RUN_COUNTER = [0]
# (interpreter run id, requested rate, rate reached, fraction of deadlines
# kept) of each diagnose run of the accuracy tests; conftest.py prints them
ACHIEVED: List[tuple] = []
# (test id, role, state, gilscope's fraction, the thread's own) of every
# check against a thread's clock; conftest.py prints the closest calls, so a
# run shows how much room the tolerance had before a test fails
MARGINS: List[tuple] = []


def run_gilscope(gilscope: str, args: List[str], *, save_dir: Optional[Path] = None,
                 prefix: Optional[List[str]] = None, timeout: float = GILSCOPE_TIMEOUT) -> Run:
    argv = list(prefix or []) + [gilscope] + list(args)
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    try:
        res = subprocess.run(argv, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL, env=env)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"$ {shlex.join(argv)}\ndid not finish within {timeout:.0f}s\n"
                    f"stdout so far: {(e.stdout or b'')[:4000]!r}\nstderr so far: {(e.stderr or b'')[:4000]!r}",
                    pytrace=False)
    stdout = res.stdout.decode("utf-8", "surrogateescape")
    stderr = res.stderr.decode("utf-8", "surrogateescape")
    saved = None
    if save_dir is not None:
        _RUN_COUNTER[0] += 1
        saved = save_dir / f"gilscope-{_RUN_COUNTER[0]}.out"
        saved.write_bytes(res.stdout)
    return Run(argv, res.returncode, stdout, stderr, saved)


# --- JSON output -----------------------------------------------------------------------

def load_schema() -> dict:
    with open(SCHEMA_PATH, encoding="utf-8") as f:
        return json.load(f)


def schema_errors(doc) -> List[str]:
    import jsonschema
    validator = jsonschema.Draft202012Validator(load_schema())
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    return [f"at /{'/'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in errors[:20]]


DIAG_SCHEMA_PATH = REPO / "tests" / "schema" / "diagnose.schema.json"


def diag_schema_errors(doc) -> List[str]:
    """What does not match tests/schema/diagnose.schema.json in a diagnose
    --json report (also record -f json's launch object)."""
    import jsonschema
    with open(DIAG_SCHEMA_PATH, encoding="utf-8") as f:
        v = jsonschema.Draft202012Validator(json.load(f))
    return [f"{'/'.join(map(str, e.path))}: {e.message}" for e in v.iter_errors(doc)]


def describe_thread(th: Optional[dict], head: int = 8, tail: int = 4) -> str:
    """A thread object from gilscope's JSON, with a long stack abridged."""
    if th is None:
        return "(absent from the output)"
    th = dict(th)
    frames = th.get("frames") or []
    if isinstance(frames, list) and len(frames) > head + tail:
        th["frames"] = frames[:head] + [f"... {len(frames) - head - tail} more frames ..."] + frames[-tail:]
    return json.dumps(th, ensure_ascii=False, indent=1)


def threads_by_tid(doc: dict) -> Dict[int, dict]:
    out = {}
    for th in doc.get("threads", []):
        if isinstance(th, dict) and isinstance(th.get("tid"), int):
            out[th["tid"]] = th
    return out


@dataclasses.dataclass
class Problem:
    text: str
    tid: Optional[int] = None  # a problem with one thread's state: retryable if it moved


def parse_json_run(run: Run) -> Tuple[Optional[dict], List[Problem]]:
    if run.returncode != 0:
        return None, [Problem(f"gilscope exited with status {run.returncode}")]
    try:
        doc = json.loads(run.stdout)
    except ValueError as e:
        return None, [Problem(f"stdout is not one JSON document: {e}")]
    errs = schema_errors(doc)
    if errs:
        return None, [Problem("output does not match tests/schema/dump.schema.json:\n  " + "\n  ".join(errs))]
    return doc, []


def state_problems(target: Target, doc: dict) -> List[Problem]:
    """Each known thread's state and holds_gil against the oracle."""
    problems = []
    by_tid = threads_by_tid(doc)
    gil_on = target.interp.gil_enabled
    for role, t in sorted(target.threads.items()):
        th = by_tid.get(t.tid)
        if th is None:
            problems.append(Problem(f"thread {role} (tid {t.tid}) is missing from the output"))
            continue
        want = target.expected[role]
        if th["state"] != want:
            problems.append(Problem(f"thread {role} (tid {t.tid}): state {th['state']!r}, expected {want!r}", t.tid))
        want_gil = gil_on and want in ("python", "native_gil")
        if th["holds_gil"] != want_gil:
            problems.append(Problem(f"thread {role} (tid {t.tid}): holds_gil {th['holds_gil']}, expected "
                                    f"{want_gil}" + ("" if gil_on else " (the GIL is disabled)"), t.tid))
    if not gil_on:
        for th in doc.get("threads", []):
            if th.get("state") in ("gil_wait", "native_gil"):
                problems.append(Problem(f"tid {th.get('tid')}: state {th['state']} with the GIL disabled",
                                        th.get("tid")))
    return problems


def run_until_consistent(gilscope: str, target: Target, args: List[str], check, save_dir: Path):
    """Run gilscope, then check(run) -> (result, [Problem]).

    The kernel may move a thread while gilscope looks at it (a GIL waiter
    wakes up every switch interval, for instance). A run is repeated, at most
    DUMP_ATTEMPTS times, only when every problem is a thread state that the
    kernel's ground truth says changed during that run (voluntary context
    switches, or state/syscall in /proc before vs after); any other problem
    fails at once. Returns (result, run, retries)."""
    retries = []
    for attempt in range(1, DUMP_ATTEMPTS + 1):
        target.settle()
        before = target.snapshot()
        run = run_gilscope(gilscope, args, save_dir=save_dir)
        after = target.snapshot()
        result, problems = check(run)
        if not problems:
            if retries:  # shown in the test's captured output
                print(f"run_until_consistent: consistent at attempt {attempt}; earlier:\n  "
                      + "\n  ".join(retries))
            return result, run, retries
        excuses = [target.moved(p.tid, before, after) if p.tid is not None else None for p in problems]
        if any(x is None for x in excuses) or attempt == DUMP_ATTEMPTS:
            why = "\n  ".join(p.text for p in problems)
            moved = "".join(f"\n  (kernel: tid {p.tid} moved: {x})" for p, x in zip(problems, excuses) if x)
            earlier = "".join(f"\n  attempt {i + 1}: {r}" for i, r in enumerate(retries))
            pytest.fail(f"attempt {attempt}/{DUMP_ATTEMPTS}:\n  {why}{moved}{earlier}\n"
                        f"{target.describe()}\n{run.describe()}", pytrace=False)
        retries.append("; ".join(f"{p.text} [moved: {x}]" for p, x in zip(problems, excuses)))
    raise AssertionError("unreachable")
