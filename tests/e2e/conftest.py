"""Fixtures for gilscope's end-to-end tests.

Interpreters: pyenv's versions/*/bin/python3.N (3.9+), Debian's
/usr/bin/python3.N, and every path in GILSCOPE_TEST_PYTHONS (separated by
whitespace or os.pathsep), deduplicated by realpath. A free-threaded build is
tested twice: PYTHON_GIL=0 (id suffix -gil0) and PYTHON_GIL=1 (-gil1). Older
CPython 3 interpreters only serve the "unsupported version" error test.

Fixtures:
  interp      one interpreter run (parametrized)
  old_interp  a CPython 3 older than 3.9 (parametrized; skips if none)
  gilscope    the executable under test: $GILSCOPE, default <repo>/gilscope
  testext     the directory holding gilscope_testext built for `interp`
  target      factory: target(interp, scenario, ...) -> a ready, settled Target
"""
import os
import shutil
import tempfile
from pathlib import Path

import pytest

import e2e_support as es

# the suites that test_ft_check.py runs through gilscope ft-check are not ours
collect_ignore = ["targets"]


def pytest_configure(config):
    # Also in pytest.ini; repeated here for runs whose rootdir is elsewhere.
    config.addinivalue_line("markers", "asan: also run against the AddressSanitizer build "
                            "(GILSCOPE=./gilscope-asan pytest -m asan)")
    config.addinivalue_line("markers", "accuracy: state fractions against the threads' own "
                            "clocks; also run flat out (GILSCOPE_TEST_RATE=1000000 pytest -m accuracy)")


def pytest_report_header(config):
    supported, old, notes = es.discover()
    lines = ["gilscope: " + _gilscope_path()]
    for it, ident in zip(supported, es.interp_ids(supported)):
        lines.append(f"  target {ident:22} {it.path}")
    for it in old:
        lines.append(f"  old    py{it.version:19} {it.path} (unsupported-version test only)")
    lines += [f"  note: {n}" for n in notes]
    return lines


def pytest_terminal_summary(terminalreporter):
    """The rates gilscope reached in the diagnose runs of the accuracy
    tests, per interpreter run (GILSCOPE_TEST_RATE raises the requested
    rate; above what gilscope sustains on a target it samples flat out),
    and the accuracy checks that came closest to their tolerance."""
    tr = terminalreporter
    if es.MARGINS:
        worst = sorted(es.MARGINS, key=lambda m: -abs(m[3] - m[4]))
        devs = sorted(abs(m[3] - m[4]) for m in es.MARGINS)
        tr.section(f"accuracy against the threads' own clocks ({len(devs)} checks, "
                   f"median miss {devs[len(devs) // 2]:.3f})")
        for test, role, state, got, want in worst[:5]:
            tr.write_line(f"{got - want:+.3f}  {test} {role}: {state} {got:.3f}, thread {want:.3f}")
    if not es.ACHIEVED:
        return
    tr.section("sampling rates reached (samples/s; min / median / max over the runs)")
    by = {}
    for ident, requested, rate, kept in es.ACHIEVED:
        by.setdefault(ident, []).append((rate, kept, requested))
    for ident in by:          # the order the interpreter runs were found in
        runs = by[ident]
        rs = sorted(r for r, _, _ in runs)
        kept = sorted(k for _, k, _ in runs)
        tr.write_line(f"{ident:22} requested {runs[0][2]:>9,.0f}  reached "
                      f"{rs[0]:>7,.0f} / {rs[len(rs) // 2]:>7,.0f} / {rs[-1]:>7,.0f}  "
                      f"deadlines kept {100 * kept[0]:5.1f}-{100 * kept[-1]:5.1f}%  ({len(rs)} runs)")


def pytest_generate_tests(metafunc):
    supported, old, _ = es.discover()
    if "interp" in metafunc.fixturenames:
        # Integration tests (a module with INTERPRETERS = "representative")
        # run on the oldest, the newest and the newest free-threaded
        # interpreter ("representative-both-gil": that one with the GIL
        # off and on); the interpreter model's tests on every one.
        runs = supported
        mode = getattr(metafunc.module, "INTERPRETERS", "all")
        if mode == "representative":
            runs = es.representative(supported)
        elif mode == "representative-both-gil":
            runs = es.representative(supported, both_gil_modes=True)
        metafunc.parametrize("interp", runs, ids=es.interp_ids(runs))
    if "old_interp" in metafunc.fixturenames:
        if old:
            metafunc.parametrize("old_interp", old, ids=[f"py{it.version}" for it in old])
        else:
            metafunc.parametrize("old_interp", [None], ids=["no-old-python"])


def _gilscope_path() -> str:
    # Relative paths (the Makefile passes GILSCOPE=./gilscope-asan) are taken
    # from the directory pytest was started in.
    return os.path.abspath(os.environ.get("GILSCOPE") or str(es.REPO / "gilscope"))


@pytest.fixture(scope="session")
def gilscope() -> str:
    path = _gilscope_path()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"gilscope executable not found at {path} (build it with `make`, "
                    f"or point GILSCOPE at it)", pytrace=False)
    return path


@pytest.fixture(scope="session")
def ext_builder():
    built = {}

    def build(it: es.Interp) -> Path:
        if it.realpath not in built:
            built[it.realpath] = es.build_testext(it)
        return built[it.realpath]
    return build


@pytest.fixture
def testext(interp, ext_builder) -> Path:
    return ext_builder(interp)


@pytest.fixture
def target(tmp_path, ext_builder):
    """target(interp, scenario, switch_interval=None) starts states.py,
    waits for every readiness message (deadline: fail), then polls /proc
    until each thread is where it should be (deadline: fail). For "gilheld"
    it also pokes the waiter and waits until it blocks on the GIL. The
    target is killed and reaped at teardown."""
    started = []

    def start(it: es.Interp, scenario: str, switch_interval=None) -> es.Target:
        if es.SYSCALLS is None:
            pytest.skip(f"no system call table for {os.uname().machine} in e2e_support.py")
        ext_dir = ext_builder(it) if scenario in ("mixed", "gilheld") else None
        if scenario == "gilheld" and not it.gil_enabled:
            pytest.skip("the GIL is disabled in this run: no thread can hold it")
        t = es.Target(it, scenario, tmp_path, ext_dir, switch_interval=switch_interval)
        started.append(t)
        t.wait_ready()
        t.settle()
        if scenario == "gilheld":
            t.poke()
            t.settle()
        return t

    yield start
    for t in started:
        t.close()


@pytest.fixture
def nobody_gilscope(gilscope):
    """A copy of gilscope that user nobody can run (the repository may sit
    under a directory only root can enter): for the permission tests."""
    d = tempfile.mkdtemp(prefix="gilscope-nobody-")
    try:
        os.chmod(d, 0o755)
        dst = os.path.join(d, os.path.basename(gilscope))
        shutil.copy2(gilscope, dst)
        os.chmod(dst, 0o755)
        yield dst
    finally:
        shutil.rmtree(d, ignore_errors=True)
