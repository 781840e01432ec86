"""End-to-end tests of `gilscope info (--pid PID | --python PY) [--json]`.

What the interpreter says about itself is the oracle: the targets report
sys._is_gil_enabled(), sys.flags.gil, their version and thread count over a
pipe, and gilscope, reading from outside, must agree. On free-threaded
builds the GIL is put in every state it can be in: off by default, on and
off through PYTHON_GIL, on through -X gil, left off under -E, and turned
back on by an extension module that does not declare Py_mod_gil
(testext/gilscope_gilext.c), next to one that does (gilscope_testext).
"""
import dataclasses
import json
import os
import select
import shlex
import subprocess
import time
from pathlib import Path
from typing import List, Optional

import pytest

import e2e_support as es

GILSTATE_PY = es.TARGETS_DIR / "gilstate.py"
INFO_SCHEMA = es.REPO / "tests" / "schema" / "info.schema.json"
GIL_PERMANENT = 2**31 - 1


# --- helpers ---------------------------------------------------------------------

def ft_interps() -> List[es.Interp]:
    """Each free-threaded interpreter once (discovery lists them per GIL setting)."""
    seen, out = set(), []
    for it in es.discover()[0]:
        if it.ft and it.realpath not in seen:
            seen.add(it.realpath)
            out.append(dataclasses.replace(it, gil=None))
    return out


def ft_ids(its):
    return [f"py{it.version}t" for it in its]


FT = ft_interps()
NO_FT = "no free-threaded interpreter found (list one in GILSCOPE_TEST_PYTHONS)"


def base_env(python_gil: Optional[str] = None, pythonpath: Optional[str] = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.setdefault("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    if python_gil is not None:
        env["PYTHON_GIL"] = python_gil
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    return env


def run(gilscope: str, args: List[str], env: Optional[dict] = None) -> es.Run:
    argv = [gilscope] + args
    try:
        res = subprocess.run(argv, capture_output=True, timeout=es.GILSCOPE_TIMEOUT,
                             stdin=subprocess.DEVNULL, env=env or base_env())
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"$ {shlex.join(argv)}\ndid not finish within {es.GILSCOPE_TIMEOUT:.0f}s\n"
                    f"stderr so far: {(e.stderr or b'')[:4000]!r}", pytrace=False)
    return es.Run(argv, res.returncode, res.stdout.decode("utf-8", "surrogateescape"),
                  res.stderr.decode("utf-8", "surrogateescape"), None)


def info_json(gilscope: str, args: List[str], env: Optional[dict] = None) -> dict:
    r = run(gilscope, args + ["--json"], env)
    if r.returncode != 0:
        pytest.fail(f"gilscope info failed:\n{r.describe()}", pytrace=False)
    try:
        doc = json.loads(r.stdout)
    except ValueError as e:
        pytest.fail(f"not one JSON document ({e}):\n{r.describe()}", pytrace=False)
    import jsonschema
    errors = list(jsonschema.Draft202012Validator(json.loads(INFO_SCHEMA.read_text())).iter_errors(doc))
    if errors:
        pytest.fail("output does not match tests/schema/info.schema.json:\n  "
                    + "\n  ".join(f"/{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:10])
                    + "\n" + r.describe(), pytrace=False)
    doc["_run"] = r.describe()
    return doc


class GilTarget:
    """targets/gilstate.py: imports modules, reports its GIL state, idles."""

    def __init__(self, it: es.Interp, env: dict, modules=(), ext_dirs=(), py_args=()):
        ready_r, ready_w = os.pipe()
        control_r, self._control_w = os.pipe()
        self.cmd = [it.path, *py_args, str(GILSTATE_PY), "--ready-fd", str(ready_w),
                    "--control-fd", str(control_r)]
        for d in ext_dirs:
            self.cmd += ["--ext-dir", str(d)]
        self.cmd += list(modules)
        try:
            self.proc = subprocess.Popen(self.cmd, pass_fds=[ready_w, control_r], env=env,
                                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT)
        finally:
            os.close(ready_w)
            os.close(control_r)
        self._ready_r = ready_r
        self.pid = self.proc.pid
        self.report = self._wait_report()

    def _wait_report(self, timeout: float = es.READY_TIMEOUT) -> dict:
        deadline = time.monotonic() + timeout
        buf = b""
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                self.close()
                pytest.fail(f"{shlex.join(self.cmd)}: no report within {timeout:.0f}s", pytrace=False)
            r, _, _ = select.select([self._ready_r], [], [], left)
            if r:
                chunk = os.read(self._ready_r, 4096)
                if not chunk:
                    out = self.close()
                    pytest.fail(f"{shlex.join(self.cmd)} exited before reporting:\n{out}", pytrace=False)
                buf += chunk
        return json.loads(buf.decode())

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> str:
        for fd in (self._control_w, getattr(self, "_ready_r", None)):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._control_w = None
        self._ready_r = None
        try:
            out, _ = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        return (out or b"").decode("utf-8", "replace")


@pytest.fixture
def gil_target():
    started = []

    def start(*args, **kwargs) -> GilTarget:
        t = GilTarget(*args, **kwargs)
        started.append(t)
        return t
    yield start
    for t in started:
        t.close()


def expected_by(it: es.Interp) -> str:
    return "default" if not it.ft else "PYTHON_GIL"


# --- attached to a running target, every interpreter ---------------------------

@pytest.mark.asan
def test_info_pid(interp, gilscope, target):
    """info --pid on a running states.py agrees with what the target says
    about itself (sys._is_gil_enabled(), version, switch interval, threads)."""
    t = target(interp, "idle")
    h = t.hello
    doc = info_json(gilscope, ["info", "--pid", str(t.pid)])
    py = doc["python"]
    ctx = f"\n{doc['_run']}\n{t.describe()}"
    assert doc["pid"] == t.pid and doc["launched"] is False, ctx
    assert os.path.realpath(doc["executable"]) == interp.realpath, ctx
    if doc["libpython"] is not None:
        assert os.path.basename(doc["libpython"]).startswith("libpython3."), ctx
    assert int(doc["runtime_address"], 16) > 0, ctx
    assert py["version"] == h["version"], ctx
    assert py["free_threaded"] == h["free_threaded"] == interp.ft, ctx
    assert py["gil_enabled"] == h["gil_enabled"], ("gil_enabled differs from the target's own "
                                                   "sys._is_gil_enabled()" + ctx)
    assert py["gil_enabled_by"] == expected_by(interp), ctx
    assert abs(py["switch_interval_s"] - h["switch_interval"]) < 1e-9, ctx
    assert doc["threads"] == h["threads"], ctx
    assert doc["os_threads"] >= doc["threads"], ctx
    assert doc["env"] == {"PYTHON_GIL": None if interp.gil is None else str(interp.gil)}, ctx
    if interp.ft:
        assert py["sys_flags_gil"] == interp.gil, ctx
        assert py["gil_count"] == (GIL_PERMANENT if interp.gil else 0), ctx
        assert py["gil_required_by"] == [] and py["gil_required_by_complete"], ctx

    # the same facts as text
    r = run(gilscope, ["info", "--pid", str(t.pid)])
    assert r.returncode == 0, r.describe()
    assert f"Python           {h['version']}, " in r.stdout, r.describe()
    assert ("GIL              enabled" if h["gil_enabled"] else "GIL              disabled") in r.stdout, \
        r.describe()
    assert t.proc.poll() is None, "the target did not survive gilscope info"


def test_info_python(interp, gilscope):
    """info --python starts the interpreter, reads it, and ends it."""
    env = base_env(None if interp.gil is None else str(interp.gil))
    own = subprocess.run([interp.path, "-c", "import sys, platform; print(platform.python_version(), "
                          "getattr(sys, '_is_gil_enabled', lambda: True)())"],
                         capture_output=True, text=True, env=env, timeout=30).stdout.split()
    doc = info_json(gilscope, ["info", "--python", interp.path], env)
    py = doc["python"]
    ctx = f"\n{doc['_run']}"
    assert doc["launched"] is True, ctx
    assert os.path.realpath(doc["executable"]) == interp.realpath, ctx
    assert [py["version"], str(py["gil_enabled"])] == own, ctx
    assert py["gil_enabled_by"] == expected_by(interp), ctx
    assert doc["threads"] == 1, ctx
    # ended: its pid is gone (or, reused meanwhile, is not our interpreter)
    try:
        exe = os.readlink(f"/proc/{doc['pid']}/exe")
    except OSError:
        exe = None
    assert exe != interp.realpath, f"the interpreter gilscope started still runs{ctx}"


# --- free-threaded builds: every way the GIL can be on or off ----------------------

CASES = {
    # id: (PYTHON_GIL, interpreter options, import the GIL-needing module,
    #      expected gil_enabled, gil_enabled_by, sys.flags.gil)
    "default": (None, [], False, False, "default", None),
    "extension": (None, [], True, True, "extension", None),
    "extension-gil0": ("0", [], True, False, "PYTHON_GIL", 0),
    "gil1": ("1", [], False, True, "PYTHON_GIL", 1),
    "gil0": ("0", [], False, False, "PYTHON_GIL", 0),
    "xgil1-over-env": ("0", ["-X", "gil=1"], False, True, "-X gil", 1),
    "ignore-env": ("1", ["-E"], False, False, "default", None),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("ft", FT or [None], ids=ft_ids(FT) or ["no-ft"])
def test_info_free_threaded(ft, case, gilscope, gil_target, ext_builder):
    if ft is None:
        pytest.skip(NO_FT)
    python_gil, py_args, needs_ext, enabled, by, flag = CASES[case]
    modules, dirs = ["gilscope_testext"], [ext_builder(ft)]  # declares Py_MOD_GIL_NOT_USED
    if needs_ext:
        modules.append("gilscope_gilext")
        dirs.append(es.build_gilext(ft))
    t = gil_target(ft, base_env(python_gil), modules=modules, ext_dirs=dirs, py_args=py_args)
    rep = t.report
    assert rep["gil_enabled"] == enabled, f"the interpreter itself says {rep} (test set-up is wrong)"
    doc = info_json(gilscope, ["info", "--pid", str(t.pid)])
    py = doc["python"]
    ctx = f"\ntarget: {shlex.join(t.cmd)}\nit says: {rep}\n{doc['_run']}"
    assert py["gil_enabled"] == rep["gil_enabled"], ctx
    assert py["sys_flags_gil"] == rep["flags_gil"] == flag, ctx
    assert py["gil_enabled_by"] == by, ctx
    assert py["gil_count"] == (GIL_PERMANENT if enabled else 0), ctx
    want_mods = ["gilscope_gilext"] if needs_ext else []
    assert py["gil_required_by"] == want_mods, ctx
    assert doc["env"]["PYTHON_GIL"] == python_gil, ctx
    assert doc["threads"] == rep["threads"], ctx
    if needs_ext and enabled:
        r = run(gilscope, ["info", "--pid", str(t.pid)])
        assert "gilscope_gilext" in r.stdout and "extension module" in r.stdout, r.describe()
    assert t.alive(), "the target did not survive gilscope info"


@pytest.mark.parametrize("python_gil", [None, "0"], ids=["unset", "gil0"])
@pytest.mark.parametrize("ft", FT or [None], ids=ft_ids(FT) or ["no-ft"])
def test_info_python_import(ft, python_gil, gilscope):
    """--python PY --import M: would importing M turn the GIL back on?"""
    if ft is None:
        pytest.skip(NO_FT)
    env = base_env(python_gil, pythonpath=str(es.build_gilext(ft)))
    doc = info_json(gilscope, ["info", "--python", ft.path, "--import", "gilscope_gilext",
                               "--import", "json"], env)
    py = doc["python"]
    ctx = f"\n{doc['_run']}"
    assert py["gil_required_by"] == ["gilscope_gilext"], ctx
    if python_gil is None:
        assert py["gil_enabled"] is True and py["gil_enabled_by"] == "extension", ctx
        assert "has been enabled to load module 'gilscope_gilext'" in doc["_run"], ctx
    else:
        assert py["gil_enabled"] is False and py["gil_enabled_by"] == "PYTHON_GIL", ctx


# --- errors ----------------------------------------------------------------------

def test_info_errors(gilscope, tmp_path):
    cases = [
        (["info"], 2, "give one of --pid PID or --python PY"),
        (["info", "--pid", "1", "--python", "python3"], 2, "give one of"),
        (["info", "--pid", "1", "--import", "json"], 2, "--import goes with --python"),
        (["info", "--python", str(tmp_path / "no-such-python")], 3, "cannot run"),
    ]
    for args, code, text in cases:
        r = run(gilscope, args)
        assert r.returncode == code and text in r.stderr, r.describe()

    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        r = run(gilscope, ["info", "--pid", str(sleeper.pid)])
        assert r.returncode == 5 and "not a Python process" in r.stderr, r.describe()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_info_python_import_fails(gilscope):
    py = (es.discover()[0] or [None])[0]
    if py is None:
        pytest.skip("no supported interpreter")
    r = run(gilscope, ["info", "--python", py.path, "--import", "gilscope_no_such_module"])
    assert r.returncode == 7, r.describe()
    assert "gilscope_no_such_module" in r.stderr and "--import" in r.stderr, r.describe()
