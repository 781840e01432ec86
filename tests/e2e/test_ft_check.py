"""`gilscope ft-check`: small real suites (targets/ft_suites/) run on every
free-threaded interpreter, each expected class asserted, every run bounded.

Ground truth is the suites' own: the race test counts the updates it lost,
the crash tests kill themselves with a known signal, the hang test waits in a
known function, the extension test imports a module built here that does
not declare Py_mod_gil. That no test process is left behind is checked in
/proc after each run. pytest is installed per interpreter by the test setup
(es.install_package, cached in tests/e2e/.site/)."""
import json
import os
import shlex
import shutil
import signal
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Dict, List, Optional

import jsonschema
import pytest

import e2e_support as es

SUITES = es.E2E_DIR / "targets" / "ft_suites"
SCHEMA = es.REPO / "tests" / "schema" / "ft-check.schema.json"
RUN_TIMEOUT = 120          # one ft-check run, whatever happens
EXIT_NOT_READY = 9

_supported = es.discover()[0]
FT = [it for it in _supported if it.ft and it.gil == 0]
DEFAULT = [it for it in _supported if not it.ft]


@pytest.fixture(scope="module", params=FT, ids=es.interp_ids(FT) if FT else None)
def ft(request):
    """(interpreter, its venv's python with pytest installed)."""
    it = request.param
    venv = es.install_package(it, "pytest", "pytest")
    return it, str(venv / "bin" / "python")


@pytest.fixture(scope="module")
def ft_forked(ft):
    """(interpreter, its venv's python with pytest and pytest-forked)."""
    it, _ = ft
    # pytest-forked 1.7.5 under pytest 9.2: every forked child fails
    # ("running the test EXITED with status 3"), whatever the test
    venv = es.install_package(it, "pytest<9", "pytest", "pytest-forked")
    return it, str(venv / "bin" / "python")


@pytest.fixture(scope="module")
def ft_forked_broken(ft):
    """(interpreter, its venv's python with pytest 9.2 and pytest-forked
    1.7.5: every test it forks fails there)."""
    it, _ = ft
    venv = es.install_package(it, "pytest==9.2.0", "pytest", "pytest-forked==1.7.5")
    return it, str(venv / "bin" / "python")


def leftovers(suite: Path) -> List[str]:
    """Processes still running in the suite's directory (a test process or
    anything it started)."""
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            if os.readlink(f"/proc/{d}/cwd") == str(suite):
                cmd = Path(f"/proc/{d}/cmdline").read_bytes().replace(b"\0", b" ")
                found.append(f"{d}: {cmd.decode('utf-8', 'replace')}")
        except OSError:
            pass
    return found


def ft_check(gilscope: str, python: str, suite: str, args: List[str], env_extra: Optional[Dict[str, str]] = None,
             junit: Optional[Path] = None, command: Optional[List[str]] = None) -> tuple:
    """Run gilscope ft-check --json in the suite's directory; (the report,
    what to show when an assertion fails, its tests by function name)."""
    cwd = SUITES / suite
    argv = [gilscope, "ft-check", "--json", "-q", "--python", python] + args
    if junit:
        argv[3:3] = ["--junit-xml", str(junit)]
    argv += ["--"] + (command or ["pytest", "."])
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(env_extra or {})
    t0 = time.monotonic()
    try:
        res = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=env,
                             timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"$ {shlex.join(argv)}\ndid not finish within {RUN_TIMEOUT}s\n{e.stderr}",
                    pytrace=False)
    took = time.monotonic() - t0
    ctx = f"$ (cd {cwd}; {shlex.join(argv)})\nexit {res.returncode} in {took:.1f}s\n" \
          f"--- stdout ---\n{res.stdout[:6000]}\n--- stderr ---\n{res.stderr[:3000]}"
    try:
        doc = json.loads(res.stdout)
    except ValueError:
        pytest.fail(f"no JSON report:\n{ctx}", pytrace=False)
    errors = [e.message for e in jsonschema.Draft202012Validator(
        json.loads(SCHEMA.read_text())).iter_errors(doc)]
    assert not errors, f"report does not match {SCHEMA.name}: {errors[:5]}\n{ctx}"
    left = leftovers(cwd)
    assert not left, f"test processes left running: {left}\n{ctx}"
    doc["_exit"] = res.returncode
    return doc, ctx, {t["id"].split("::")[-1]: t for t in doc["tests"]}


def test_clean_suite_is_ready(gilscope, ft, tmp_path):
    it, py = ft
    junit = tmp_path / "junit.xml"
    doc, ctx, t = ft_check(gilscope, py, "clean", ["-n", "1", "-t", "60"], junit=junit)
    assert doc["verdict"] == "ready", ctx
    assert doc["_exit"] == 0, ctx
    assert doc["python"]["free_threaded"] is True and doc["python"]["version"] == it.version, ctx
    assert set(t) == {"test_arithmetic", "test_locked_counter"}, ctx
    for one in t.values():
        assert one["class"] == "pass", ctx
        assert one["runs"]["nogil"] == {"pass": 1, "fail": 0, "crash": 0, "hang": 0}, ctx
        assert one["runs"]["gil"]["pass"] == 1, ctx
    # every run without the GIL was read from outside, and had it off
    assert doc["gil"]["runs_read"] == 2 and doc["gil"]["runs_reenabled"] == 0, ctx
    assert doc["runs_done"] == doc["runs_total"] == 4, ctx
    root = ET.parse(junit).getroot()
    cases = root.findall(".//testcase")
    assert len(cases) == 2 and not root.findall(".//failure") and not root.findall(".//error")


def test_data_race_fails_only_without_the_gil(gilscope, ft):
    _, py = ft
    doc, ctx, t = ft_check(gilscope, py, "race", ["-n", "3", "-t", "60"])
    race = t["test_unsynchronised_counter"]
    # how many of the runs lose updates is up to the scheduler: all of
    # them (fails) or some (flaky); with the GIL, none may
    assert race["class"] in ("fails-without-gil", "flaky-without-gil"), ctx
    assert race["runs"]["gil"] == {"pass": 3, "fail": 0, "crash": 0, "hang": 0}, ctx
    assert race["runs"]["nogil"]["fail"] >= 1, ctx
    want = "fails-without-gil" if race["runs"]["nogil"]["pass"] == 0 else "flaky-without-gil"
    assert race["class"] == want, ctx
    assert "lost" in (race["output_tail"] or "") and "updates" in race["output_tail"], ctx
    assert t["test_safe"]["class"] == "pass", ctx
    assert doc["verdict"] == "unsafe" and doc["_exit"] == EXIT_NOT_READY, ctx


def test_crash_names_the_signal(gilscope, ft, tmp_path):
    _, py = ft
    junit = tmp_path / "junit.xml"
    doc, ctx, t = ft_check(gilscope, py, "crash", ["-n", "1", "-t", "60"], junit=junit)
    for name, sig in (("test_abort", "SIGABRT"), ("test_segfault", "SIGSEGV")):
        assert t[name]["class"] == "crash", ctx
        assert t[name]["signal"] == sig, ctx
        assert t[name]["runs"]["nogil"]["crash"] == 1 and t[name]["runs"]["gil"]["crash"] == 1, ctx
        # faulthandler's stack names the test that crashed
        assert f"in {name}" in (t[name]["output_tail"] or ""), ctx
    assert t["test_fine"]["class"] == "pass", ctx
    # it crashes with the GIL too: not a free-threading problem
    assert doc["verdict"] == "failing" and doc["_exit"] == EXIT_NOT_READY, ctx
    errors = ET.parse(junit).getroot().findall(".//error")
    assert sorted(e.get("type") for e in errors) == ["crash", "crash"], ctx


@pytest.mark.asan
def test_pytest_forked_when_installed(gilscope, ft_forked):
    """pytest-forked in the environment: the suite runs whole with --forked,
    each test still classified (the crash suite's crashes, by their signal,
    as pytest-forked reports them)."""
    _, py = ft_forked
    doc, ctx, t = ft_check(gilscope, py, "crash", ["-n", "2", "-t", "60"])
    assert doc["isolation"] == "pytest-forked", ctx
    # a run is the whole suite: 2 repeats x 2 modes
    assert doc["runs_done"] == doc["runs_total"] == 4, ctx
    for name, sig in (("test_abort", "SIGABRT"), ("test_segfault", "SIGSEGV")):
        assert t[name]["class"] == "crash", ctx
        assert t[name]["signal"] == sig, ctx
        assert t[name]["runs"]["nogil"]["crash"] == 2 and t[name]["runs"]["gil"]["crash"] == 2, ctx
    assert t["test_fine"]["class"] == "pass", ctx
    assert t["test_fine"]["runs"]["nogil"]["pass"] == 2, ctx
    assert doc["verdict"] == "failing", ctx
    # the race suite: the racy test is told apart from the safe one
    doc, ctx, t = ft_check(gilscope, py, "race", ["-n", "3", "-t", "60"])
    assert doc["isolation"] == "pytest-forked", ctx
    race = t["test_unsynchronised_counter"]
    assert race["class"] in ("fails-without-gil", "flaky-without-gil"), ctx
    assert race["runs"]["gil"] == {"pass": 3, "fail": 0, "crash": 0, "hang": 0}, ctx
    assert t["test_safe"]["class"] == "pass", ctx
    # and gilscope's own isolation on demand
    doc, ctx, t = ft_check(gilscope, py, "clean", ["-n", "1", "--isolation", "gilscope"])
    assert doc["isolation"] == "gilscope" and doc["runs_total"] == 4, ctx


@pytest.mark.asan
def test_unittest_split_per_test(gilscope, ft):
    """-- python -m unittest discover -s tests: the ids listed by gilscope's
    loader (from the top directory of the discovery, here tests/), each run
    in processes of its own."""
    _, py = ft
    doc, ctx, t = ft_check(gilscope, py, "unittest", ["-n", "2", "-t", "60"],
                           command=["python", "-m", "unittest", "discover", "-s", "tests"])
    assert doc["per_test"] is True and doc["isolation"] == "gilscope", ctx
    assert set(t) == {"test_ut.Counters.test_locked", "test_ut.Counters.test_unsynchronised",
                      "test_ut.Broken.test_wrong_everywhere"}, ctx
    t = {k.rsplit(".", 1)[1]: v for k, v in t.items()}
    assert doc["runs_done"] == doc["runs_total"] == 3 * 2 * 2, ctx
    assert t["test_locked"]["class"] == "pass", ctx
    assert doc["verdict_reasons"] == [], ctx
    race = t["test_unsynchronised"]
    assert race["runs"]["gil"] == {"pass": 2, "fail": 0, "crash": 0, "hang": 0}, ctx
    assert race["runs"]["nogil"]["fail"] >= 1, ctx
    want = "fails-without-gil" if race["runs"]["nogil"]["pass"] == 0 else "flaky-without-gil"
    assert race["class"] == want and "lost" in race["output_tail"], ctx
    assert t["test_wrong_everywhere"]["class"] == "fails-everywhere", ctx
    assert "6 != 7" in t["test_wrong_everywhere"]["output_tail"], ctx
    # every run without the GIL was read at its end, as for pytest's
    assert doc["gil"]["runs_read"] == 3 * 2, ctx
    assert doc["verdict"] == "unsafe", ctx


@pytest.mark.asan
def test_stress_with_pytest_run_parallel(gilscope, ft):
    """--stress 4: each test also run by 4 threads at once (pytest-run-parallel);
    the stress suite's counter races only then, and only without the GIL."""
    it, plain = ft
    py = str(es.install_package(it, "pytest", "pytest", "pytest-run-parallel") / "bin" / "python")
    doc, ctx, t = ft_check(gilscope, py, "stress", ["-n", "2", "-t", "60", "--stress", "4"])
    assert doc["stress_threads"] == 4 and doc["isolation"] == "gilscope", ctx
    assert doc["runs_done"] == doc["runs_total"] == 2 * 2 * 2 * 2, ctx
    c = t["test_shared_counter"]
    s = c["stress_runs"]
    # alone it passed every time, with and without the GIL
    assert c["runs"]["nogil"]["pass"] - s["nogil"]["pass"] == 2, ctx
    assert c["runs"]["gil"]["pass"] == 4, ctx
    assert s["gil"] == {"pass": 2, "fail": 0, "crash": 0, "hang": 0}, ctx
    assert s["nogil"]["fail"] >= 1, ctx
    assert c["failed_only_under_stress"] is True, ctx
    want = "fails-without-gil" if s["nogil"]["pass"] == 0 else "flaky-without-gil"
    assert c["class"] == want, ctx
    assert "lost" in (c["output_tail"] or ""), ctx
    assert t["test_alone_is_fine"]["class"] == "pass", ctx
    assert t["test_alone_is_fine"]["failed_only_under_stress"] is False, ctx
    assert doc["verdict"] == "unsafe", ctx
    # without the plugin: one line saying how to get it, and no stress
    doc, ctx, t = ft_check(gilscope, plain, "clean", ["-n", "1", "--stress", "4"])
    assert doc["stress_threads"] == 0 and doc["runs_total"] == 4, ctx
    assert "-m pip install pytest-run-parallel" in ctx and doc["verdict"] == "ready", ctx


@pytest.mark.asan
def test_hang_is_dumped_and_killed(gilscope, ft):
    _, py = ft
    doc, ctx, t = ft_check(gilscope, py, "hang", ["-n", "1", "-t", "3"])
    hang = t["test_waits_forever"]
    assert hang["class"] == "hang", ctx
    assert hang["runs"]["nogil"]["hang"] == 1 and hang["runs"]["gil"]["hang"] == 1, ctx
    dump = hang["dump"]
    assert dump, ctx
    funcs = [f["function"] for th in dump["threads"] for f in th["frames"]]
    assert "test_waits_forever" in funcs, ctx
    names = {th["name"] for th in dump["threads"]}
    assert "helper" in names, ctx
    assert t["test_fine"]["class"] == "pass", ctx


@pytest.mark.asan
def test_extension_without_py_mod_gil(gilscope, ft, tmp_path):
    it, py = ft
    # gilscope_gilext "installed" as pip leaves a wheel: the module beside
    # a dist-info directory whose RECORD lists it
    site = tmp_path / "site"
    site.mkdir()
    so = next(es.build_gilext(it).glob("gilscope_gilext*.so"))
    shutil.copy(so, site / so.name)
    info = site / "gilscope_gilext-0.3.dev1.dist-info"
    info.mkdir()
    (info / "RECORD").write_text(f"{so.name},sha256=x,{so.stat().st_size}\n"
                                 f"{info.name}/RECORD,,\n")
    ok_dir = es.build_testext(it)     # declares Py_mod_gil = Py_MOD_GIL_NOT_USED
    log = tmp_path / "imports.jsonl"
    doc, ctx, t = ft_check(gilscope, py, "ext", ["-n", "2", "-t", "60"],
                           env_extra={"PYTHONPATH": f"{site}:{ok_dir}",
                                      "GILSCOPE_FT_IMPORT_LOG": str(log)})
    assert t["test_uses_extension"]["class"] == "pass", ctx
    # when it came back, read from outside while each run ran: within the
    # import the test itself timed (seconds after its process started, to
    # the kernel's 1/CLK_TCK; gilscope reads at gaps of at most 20 ms)
    imports = [json.loads(line) for line in log.read_text().splitlines()]
    imports = [i for i in imports if i["python_gil"] == "0"]
    flips = t["test_uses_extension"]["gil_came_back"]
    assert len(imports) == 2 and len(flips) == 2, f"{imports}\n{ctx}"
    tick = 1 / os.sysconf("SC_CLK_TCK")
    for f in flips:
        assert f["module"] == "gilscope_gilext" and f["enabled"] is False, ctx
        assert 0 < f["not_before_seconds"] < f["seconds"] <= t["test_uses_extension"]["max_seconds"], ctx
        # the last read that saw it off and the first that saw it back
        # enclose one of the runs' imports (each read a few ms apart, more
        # on a loaded machine)
        assert f["seconds"] - f["not_before_seconds"] < 0.5, ctx
        assert any(f["not_before_seconds"] <= i["after"] + tick and i["before"] - tick <= f["seconds"]
                   for i in imports), f"{imports}\n{ctx}"
    assert t["test_plain"]["gil_came_back"] == [], ctx
    assert doc["gil"]["watch_reads"] > 0, ctx
    assert t["test_uses_extension"]["gil_modules"] == ["gilscope_gilext"], ctx
    assert t["test_uses_extension"]["gil_runs_with_modules"] == 2, ctx
    assert t["test_plain"]["gil_modules"] == [], ctx
    mods = doc["gil"]["modules"]
    assert [m["name"] for m in mods] == ["gilscope_gilext"], ctx
    assert mods[0]["first_test"].endswith("test_uses_extension"), ctx
    # PYTHON_GIL=0 keeps the GIL off even so: the module runs without it
    assert doc["gil"]["runs_reenabled"] == 0, ctx
    # the scan of the files, without importing them: what the C sources say
    scanned = {m["module"]: m for m in doc["extensions"]["modules"]}
    tag = "cpython-" + "".join(map(str, it.version_info[:2])) + "t"
    assert scanned["gilscope_gilext"]["py_mod_gil"] == "undeclared", ctx
    assert scanned["gilscope_gilext"]["ready"] is False, ctx
    assert scanned["gilscope_testext"]["py_mod_gil"] == "not-used", ctx
    assert scanned["gilscope_testext"]["ready"] is True, ctx
    for name in ("gilscope_gilext", "gilscope_testext"):
        assert scanned[name]["tag"] == tag and scanned[name]["free_threaded_abi"] is True, ctx
    want = {"name": "gilscope_gilext", "version": "0.3.dev1"}
    assert scanned["gilscope_gilext"]["distribution"] == want, ctx
    assert scanned["gilscope_testext"]["distribution"] is None, ctx
    assert mods[0]["distribution"] == want, ctx
    assert doc["verdict"] == "gil-reenabled" and doc["_exit"] == EXIT_NOT_READY, ctx
    assert [(r["module"], r["why"]) for r in doc["verdict_reasons"]] == \
        [("gilscope_gilext", "no-py-mod-gil")], ctx
    assert doc["verdict_reasons"][0]["distribution"] == want, ctx


@pytest.mark.skipif(not DEFAULT, reason="no default (GIL) build found")
def test_default_abi_extension_is_a_reason(gilscope, ft, tmp_path):
    """An extension installed for a default build only, imported by a test:
    the import fails (another ABI tag), and the verdict names the module."""
    it, py = ft
    same = [d for d in DEFAULT if d.version_info[:2] == it.version_info[:2]]
    base_it = (same or DEFAULT)[-1]
    site = tmp_path / "site"
    site.mkdir()
    so = next(es.build_testext(base_it).glob("gilscope_testext*.so"))
    shutil.copy(so, site / so.name)
    doc, ctx, t = ft_check(gilscope, py, "abi", ["-n", "1", "-t", "60"],
                           env_extra={"PYTHONPATH": str(site)})
    assert t["test_imports_default_abi_module"]["class"] == "fails-everywhere", ctx
    assert t["test_plain"]["class"] == "pass", ctx
    scanned = {m["module"]: m for m in doc["extensions"]["modules"]}
    assert scanned["gilscope_testext"]["free_threaded_abi"] is False, ctx
    reasons = doc["verdict_reasons"]
    assert [(r["module"], r["why"]) for r in reasons] == [("gilscope_testext", "default-abi")], ctx
    assert reasons[0]["test"].endswith("test_imports_default_abi_module"), ctx
    assert reasons[0]["path"] == str(site / so.name), ctx
    assert reasons[0]["tag"] == "cpython-" + "".join(map(str, base_it.version_info[:2])), ctx
    assert doc["verdict"] == "failing", ctx


@pytest.mark.skipif(not (FT and DEFAULT), reason="needs a free-threaded and a default build")
def test_baseline_on_a_default_build(gilscope):
    """--baseline-python: the runs with the GIL on another interpreter, a
    default build of the same version when there is one."""
    ft_it = FT[-1]
    same = [it for it in DEFAULT if it.version_info[:2] == ft_it.version_info[:2]]
    base_it = (same or DEFAULT)[-1]
    py = str(es.install_package(ft_it, "pytest", "pytest") / "bin" / "python")
    base = str(es.install_package(base_it, "pytest", "pytest") / "bin" / "python")
    doc, ctx, t = ft_check(gilscope, py, "race", ["-n", "2", "-t", "60", "--baseline-python", base])
    assert doc["baseline_python"] == base, ctx
    race = t["test_unsynchronised_counter"]
    assert race["runs"]["gil"] == {"pass": 2, "fail": 0, "crash": 0, "hang": 0}, ctx
    assert race["class"] in ("fails-without-gil", "flaky-without-gil"), ctx
    assert doc["verdict"] == "unsafe", ctx


@pytest.mark.skipif(not DEFAULT, reason="no default (GIL) build found")
def test_default_build_is_not_free_threaded(gilscope):
    it = DEFAULT[-1]
    doc, ctx, t = ft_check(gilscope, it.path, "clean", [])
    assert doc["verdict"] == "not-free-threaded", ctx
    assert doc["python"]["free_threaded"] is False and doc["tests"] == [], ctx
    assert doc["_exit"] == EXIT_NOT_READY, ctx


@pytest.mark.skipif(not FT, reason="no free-threaded interpreter found")
def test_interrupt_gives_a_partial_report_and_ends_the_tests(gilscope):
    # the newest free-threaded interpreter only: the ending of processes
    # is gilscope's, not the interpreter's
    py = str(es.install_package(FT[-1], "pytest", "pytest") / "bin" / "python")
    cwd = SUITES / "hang"
    argv = [gilscope, "ft-check", "--json", "--python", py, "-n", "1", "-t", "60",
            "--", "pytest", "."]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    p = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, env=env, text=True)
    with p:
        # wait until the hanging test runs (past the collection)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(
                "test_waits_forever" in line for line in leftovers(cwd)):
            time.sleep(0.05)
        p.send_signal(signal.SIGINT)
        try:
            out, err = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            pytest.fail("gilscope did not end within 30 s of SIGINT", pytrace=False)
    ctx = f"exit {p.returncode}\n{out[:4000]}\n{err[:2000]}"
    assert p.returncode == 130, ctx
    doc = json.loads(out)
    assert doc["interrupted"] is True and doc["runs_done"] < doc["runs_total"], ctx
    assert not leftovers(cwd), ctx


def test_pytest_forked_that_does_not_work(gilscope, ft_forked_broken):
    """pytest-forked installed where it cannot work (1.7.5 under pytest 9:
    "running the test EXITED with status 3" for every test): gilscope tries
    a test that passes under --forked first, and on its own (auto) isolates
    each test itself and says why, rather than report every test failing;
    asked for --isolation forked, it refuses with one line."""
    _, py = ft_forked_broken
    doc, ctx, t = ft_check(gilscope, py, "crash", ["-n", "1", "-t", "60"])
    assert doc["isolation"] == "gilscope", ctx
    assert "pytest-forked is installed but does not work here" in ctx, ctx
    assert "EXITED" in ctx, ctx
    assert t["test_fine"]["class"] == "pass", ctx
    assert t["test_abort"]["class"] == "crash" and t["test_abort"]["signal"] == "SIGABRT", ctx
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    res = subprocess.run([gilscope, "ft-check", "-q", "--python", py, "--isolation", "forked",
                          "--", "pytest", "."], cwd=SUITES / "clean", capture_output=True,
                         text=True, env=env, timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL)
    assert res.returncode == 1, (res.returncode, res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "pytest-forked does not work for" in lines[0], res.stderr
