"""The test harness itself, checked without gilscope: every scenario of
targets/states.py gets ready on every interpreter and its threads reach the
places the kernel can confirm; the extension builds and keeps the GIL off
on free-threaded builds (the target's hello message is checked for that)."""
import os

import pytest

import e2e_support as es


@pytest.mark.parametrize("scenario", ["mixed", "gilheld", "idle"])
def test_target_gets_in_place(interp, target, scenario):
    t = target(interp, scenario)
    assert t.hello["pid"] == t.pid
    on_proc = sorted(int(x) for x in os.listdir(f"/proc/{t.pid}/task"))
    assert sorted(tt.tid for tt in t.threads.values()) == on_proc, t.describe()
    if scenario == "mixed":
        assert t.threads["nonascii"].name == "n\u0153ud-\u03bb-\u7dda"
        assert "dossier-\u00e9" in t.threads["nonascii"].msg["file"]


def test_markers_are_unique_and_present():
    marks = es.scan_markers(es.STATES_PY)
    for name in ("busy_loop", "sleep", "recv", "lock_acquire", "spin_nogil", "hold_gil",
                 "gil_wait", "recurse", "deep_wait", "deep_call", "gen_block", "gen_drive",
                 "coro_block", "coro_await", "coro_drive", "exec_call", "nonascii_call",
                 "main_wait", "module_main"):
        assert name in marks, f"marker {name} missing from {es.STATES_PY}"


def test_testext_keeps_gil_off(interp, testext):
    """On a free-threaded build, importing gilscope_testext (PYTHON_GIL unset)
    leaves the GIL disabled: the module declares Py_MOD_GIL_NOT_USED."""
    import subprocess
    if not interp.ft or interp.gil != 0:
        pytest.skip("only meaningful once per free-threaded build")
    env = {k: v for k, v in interp.env().items() if k != "PYTHON_GIL"}
    env["PYTHONPATH"] = str(testext)
    code = "import sys, gilscope_testext; print(sys._is_gil_enabled())"
    res = subprocess.run([interp.path, "-W", "error", "-c", code], capture_output=True, text=True,
                         env=env, timeout=60)
    assert (res.returncode, res.stdout.strip()) == (0, "False"), res.stdout + res.stderr
