"""C code reached without a call instruction, on every interpreter.

The source document's own example is NumPy's `a @ b` in two threads: the
matrix product is entered through an operator (the type's number slot), not
a CALL, and lets go of the GIL. Big-int multiplication, `x in list`, a C
iterator's __next__ and a C property keep it. Each thread of
tests/e2e/targets/operators.py measures the fraction of its own wall time
spent inside the operation (and its own CPU time); gilscope's state for the
thread must match within 5 percentage points, the verdict must be the one
the states call for, and the C code must be named the way calls are
(`numpy.ndarray.__matmul__`, `int.__mul__`).

With the GIL off (free-threaded builds, PYTHON_GIL=0) C code behind an
operator runs attached, like bytecode, and nothing outside the process
tells the two apart: there the test holds gilscope to "on a CPU"
(python + native) for threads that never block, and to the verdict.
"""
import os
import time
from pathlib import Path

import pytest

import e2e_support as es
from test_diagnose import Workload, check_within, diagnose, thread, TOLERANCE

OPERATORS = Path(__file__).resolve().parent / "targets" / "operators.py"
NUMPY_SCENARIOS = ("matmul", "inplace", "mixmm")
EXT_SCENARIOS = ("iterator", "property", "construct")


@pytest.fixture
def operator_workload(ext_builder):
    started = []

    def start(it, scenario):
        extra = []
        if scenario in NUMPY_SCENARIOS:
            extra += ["--site", str(es.install_numpy(it))]
        w = Workload(it, scenario, ext_builder(it) if scenario in EXT_SCENARIOS else None,
                     script=OPERATORS, extra=extra, env={"OPENBLAS_NUM_THREADS": "1",
                                                         "OMP_NUM_THREADS": "1"})
        started.append(w)
        return w
    yield start
    for w in started:
        w.kill()


def sample(gilscope, w, tmp_path, interp):
    """diagnose, and the window it sampled in, on the target's clock."""
    t0 = time.perf_counter()
    doc, run = diagnose(gilscope, w.proc.pid, tmp_path, interp=interp)
    return doc, run, (t0, time.perf_counter())


def check_hold(doc, run, w, truth, role, interp):
    """C code that keeps the GIL. On 3.9 the eval loop may hand the GIL
    over before any instruction, so the clock read after the operation
    also holds the GIL wait that follows it, and the thread cannot time the
    operation alone: there gilscope must find the holds in C and next to
    no bytecode (the loop runs microseconds of it per operation)."""
    if tuple(interp.version_info[:2]) <= (3, 9):
        st = thread(doc, w.tids[role])["states"]
        assert st["native_gil"] >= 0.35 and st["python"] <= TOLERANCE, (role, st, run.describe())
    else:
        check_within(doc, run, w, truth, role, "native_gil")


def names_wanted(interp, scenario):
    """The names gilscope may give the C code, on this interpreter: the
    receiver's type is known from the saved stack pointer (3.14+), or from
    a specialised instruction (3.11-3.13 int arithmetic, once the
    interpreter has specialised it: a loop of a few dozen big-int products
    may end before it does); otherwise the special method alone."""
    v = tuple(interp.version_info[:2])
    exact = v >= (3, 14)
    # 3.13t does not specialise instructions
    spec = v >= (3, 11) and not (interp.ft and v == (3, 13))
    if scenario in ("bigmul", "mixbig"):
        return ("int.__mul__",) if exact else ("int.__mul__", "__mul__") if spec else ("__mul__",)
    return {
        "matmul": ("numpy.ndarray.__matmul__",) if exact else ("__matmul__",),
        "inplace": ("numpy.ndarray.__imul__",) if exact else ("__imul__",),
        "contains": ("list.__contains__",) if exact else ("__contains__",),
        "iterator": ("gilscope_testext.Slow.__next__",) if exact else ("__next__",),
        "construct": ("gilscope_testext.Slow",),
        "mixmm": ("numpy.ndarray.__matmul__",) if exact else ("__matmul__",),
    }.get(scenario)


def check_on_cpu(doc, run, w, truth, role):
    """GIL off: the thread never blocks (its operation and its bytecode
    both want a CPU), and gilscope must say so."""
    st = thread(doc, w.tids[role])["states"]
    assert st["python"] + st["native"] >= 0.9, (role, st, truth[role], run.describe())


def check_named(doc, state, want, run):
    calls = [c["function"] for c in doc["verdict"]["native_calls"][state]]
    assert calls and calls[0] in want, (calls, want, run.describe())


@pytest.mark.accuracy
@pytest.mark.parametrize("scenario", ["matmul", "inplace"])
def test_operator_releasing_the_gil(gilscope, interp, operator_workload, tmp_path, scenario):
    """a @ b and x *= f on NumPy arrays: C code without the GIL. Both
    threads run at once: `native`, verdict native-released. (Before:
    gil_wait 100%, "on CPU, taking or handing over the GIL", gil-bound.)"""
    w = operator_workload(interp, scenario)
    doc, run, window = sample(gilscope, w, tmp_path, interp)
    truth = w.finish(window)
    for role in w.tids:
        check_within(doc, run, w, truth, role, "native")
    assert doc["verdict"]["kind"] == "native-released", (doc["verdict"], run.describe())
    check_named(doc, "native", names_wanted(interp, scenario), run)


@pytest.mark.accuracy
@pytest.mark.parametrize("scenario", ["bigmul", "contains", "iterator", "property", "construct"])
def test_operator_holding_the_gil(gilscope, interp, operator_workload, tmp_path, scenario):
    """x * y on big ints, x in a list, a C iterator, a C property, a C
    constructor: C code that keeps the GIL while the other thread waits:
    `native_gil`, verdict gil-bound-native, the C code named. (Before:
    python 50% / gil_wait 50%, gil-bound-python, "running Python".)"""
    w = operator_workload(interp, scenario)
    doc, run, window = sample(gilscope, w, tmp_path, interp)
    truth = w.finish(window)
    if not interp.gil_enabled:
        if scenario == "construct":   # a call: C, whatever the GIL
            for role in w.tids:
                check_within(doc, run, w, truth, role, "native")
        else:
            for role in w.tids:
                check_on_cpu(doc, run, w, truth, role)
        assert doc["verdict"]["kind"] in ("parallel", "native-released"), doc["verdict"]
        return
    for role in w.tids:
        if scenario in ("bigmul", "contains"):
            check_hold(doc, run, w, truth, role, interp)
        else:   # measured inside the C code
            check_within(doc, run, w, truth, role, "native_gil")
    assert doc["verdict"]["kind"] == "gil-bound-native", (doc["verdict"], run.describe())
    want = names_wanted(interp, scenario)
    if want:
        # on 3.14+ the constructor's slot is read below the frame's saved
        # stack pointer, which is stale until CALL saves it (a stale one
        # once named _thread.lock flat out)
        check_named(doc, "native_gil", want, run)
    # the holds gilscope saw are C holds, far past the switch interval
    hold = thread(doc, w.tids[sorted(w.tids)[0]])["gil_hold_ms"]
    assert hold["max"] >= 20, hold


# Not in make's flat-out pass (-m accuracy): flat out, the NumPy mixture's
# native share reads 2-5 points low on 3.12-3.15 (a sampling bias not yet
# explained; at 200 Hz it is within a point or two).
@pytest.mark.parametrize("scenario", ["mixmm", "mixbig"])
def test_operator_mixtures(gilscope, interp, operator_workload, tmp_path, scenario):
    """Threads that run bytecode part of the time and an operator the rest
    (measured): each part gets its share. mixmm: one thread, ~40% in
    NumPy's a @ b; mixbig: two threads, a third to a half in x * y."""
    w = operator_workload(interp, scenario)
    doc, run, window = sample(gilscope, w, tmp_path, interp)
    truth = w.finish(window)
    for role in w.tids:
        assert 0.1 <= truth[role]["inside"] <= 0.9, (role, truth[role])
    if scenario == "mixbig" and not interp.gil_enabled:
        for role in w.tids:
            check_on_cpu(doc, run, w, truth, role)
        return
    for role in w.tids:
        if scenario == "mixmm":
            check_within(doc, run, w, truth, role, "native")
            st = thread(doc, w.tids[role])["states"]
            # the rest is bytecode (no other thread wants the GIL)
            assert abs(st["python"] - (1 - truth[role]["inside"])) <= TOLERANCE, (st, truth[role])
        elif tuple(interp.version_info[:2]) <= (3, 9):
            # the clock around x * y also holds the GIL wait after it, and
            # the bytecode part waits too: both parts must show
            st = thread(doc, w.tids[role])["states"]
            assert st["native_gil"] >= 0.5 * truth[role]["inside"], (st, truth[role])
            assert st["python"] >= 0.05, (st, truth[role])
        else:
            check_hold(doc, run, w, truth, role, interp)
    check_named(doc, "native" if scenario == "mixmm" else "native_gil",
                names_wanted(interp, scenario), run)
