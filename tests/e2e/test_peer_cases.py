"""What the peers' own suites check, where our other tests do not already:
a deleted executable (py-spy, Austin), churning deep stacks, code from
eval(), threads that come and go (CPython's test_external_inspection),
on every interpreter."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import e2e_support as es

HERE = Path(__file__).resolve().parent


def start(argv, env):
    r, w = os.pipe()
    proc = subprocess.Popen(argv + [str(w)], stdin=subprocess.PIPE, env=env, pass_fds=(w,))
    os.close(w)
    with os.fdopen(r) as f:
        if not f.readline().startswith("ready"):
            proc.kill()
            pytest.fail("target did not start")
    return proc


@pytest.mark.asan
def test_churning_stacks_eval_and_short_lived_threads(gilscope, interp, tmp_path):
    proc = start([interp.path, str(HERE / "targets" / "churn.py")], interp.env())
    try:
        run = es.run_gilscope(gilscope, ["record", "--pid", str(proc.pid), "-d", "2", "-r", "500",
                                         "-f", "json", "-o", str(tmp_path / "p.json"),
                                         "--no-progress"], save_dir=tmp_path)
        assert run.returncode == 0, run.describe()
        doc = json.loads((tmp_path / "p.json").read_text())
        stacks = doc["stacks"]
        depths = [sum(1 for f in s["frames"] if f["function"] == "down") for s in stacks]
        assert max(depths) >= 100, f"deepest churn stack seen: {max(depths)}"
        assert len(set(depths)) >= 3, "stack depths should vary"
        # code compiled by eval() is reported with its pseudo-file
        assert any(f["file"] == "<string>" for s in stacks for f in s["frames"]), \
            "no frame from eval()'d code"
        names = {t["name"] for t in doc["diagnosis"]["threads"]}
        assert {"churn", "evaluator", "short_lived"} <= names, names
        # threads that lived for a moment were seen as they came and went
        tids = {t["tid"] for t in doc["diagnosis"]["threads"]}
        assert len(tids) >= 6, f"only {len(tids)} distinct threads seen"
        gone = [t for t in doc["diagnosis"]["threads"] if t["samples"] < doc["diagnosis"]["samples"] // 2]
        assert gone, "no short-lived thread among them"
        assert doc["diagnosis"]["sampling"]["errors"] <= doc["diagnosis"]["sampling"]["taken"] // 10
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode is not None


def test_deleted_executable(gilscope, interp, tmp_path):
    copy = tmp_path / Path(interp.realpath).name
    shutil.copy2(interp.realpath, copy)
    proc = start([str(copy), str(HERE / "targets" / "churn.py")], interp.env())
    try:
        copy.unlink()
        assert os.readlink(f"/proc/{proc.pid}/exe").endswith("(deleted)")
        run = es.run_gilscope(gilscope, ["dump", "--pid", str(proc.pid), "--json"], save_dir=tmp_path)
        assert run.returncode == 0, run.describe()
        doc = json.loads(run.stdout)
        assert doc["python"]["version"] == interp.version
        assert any(t["name"] == "churn" for t in doc["threads"]), doc["threads"]
    finally:
        proc.kill()
        proc.wait()
