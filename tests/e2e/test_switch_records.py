"""Context-switch records (src/target/swtrack.c): with them, a thread that
did not run since its last read is not read again at all; the records of
the kernel's scheduler say which threads ran. The states must be the same
as when each thread is asked its /proc schedstat: the same accuracy tests,
with `--switch-records always`, against what each thread measured of
itself (its time inside a sleep, a socket read, a lock wait, a C call that
lets go of the GIL, NumPy's a @ b 40% of the time beside bytecode).

And where perf events are not allowed (here: root without CAP_PERFMON and
CAP_SYS_ADMIN, with kernel.perf_event_paranoid above 0), the same answers
through schedstat, with one note that says why and what to grant.
"""
import json
import shutil

import pytest

import e2e_support as es
from test_diagnose import check_within, diagnose, thread, workload, TOLERANCE  # noqa: F401
from test_operators import operator_workload, sample  # noqa: F401 - a fixture

INTERPRETERS = "representative-both-gil"
ALWAYS = ("--switch-records", "always")
# no capability that allows perf events for every CPU (CAP_PERFMON,
# CAP_SYS_ADMIN) and none that a perf event could come back through
NO_PERF = ["setpriv", "--inh-caps=-all", "--ambient-caps=-all",
           "--bounding-set=-perfmon,-sys_admin", "--"]


def perf_paranoid():
    try:
        with open("/proc/sys/kernel/perf_event_paranoid") as f:
            return int(f.read())
    except (OSError, ValueError):
        return None


def used_records(doc, run):
    smp = doc["sampling"]
    if not smp["switch_records"]:
        pytest.fail("the context-switch records could not be read here "
                    f"({smp['switch_records_unavailable']}): these tests need root or CAP_PERFMON\n"
                    + run.describe(), pytrace=False)
    # most thread samples of threads that block are found quiet by the
    # records alone, with no read
    assert smp["quiet_by_records"] > 0, (smp, run.describe())
    return smp


@pytest.mark.accuracy
def test_blocking_states_with_records(gilscope, interp, workload, tmp_path):  # noqa: F811
    w = workload(interp, "blocking")
    doc, run = diagnose(gilscope, w.proc.pid, tmp_path, *ALWAYS, interp=interp)
    truth = w.finish()
    smp = used_records(doc, run)
    assert smp["quiet_by_records"] >= 0.3 * smp["thread_samples"], smp
    check_within(doc, run, w, truth, "sleep", "sleep")
    check_within(doc, run, w, truth, "io", "io")
    check_within(doc, run, w, truth, "lock", "lock_wait")


@pytest.mark.accuracy
def test_c_call_releasing_the_gil_with_records(gilscope, interp, workload, tmp_path):
    """hashlib over a large buffer lets go of the GIL: the thread runs C
    code on a CPU, between short stretches of bytecode."""
    w = workload(interp, "hashlib")
    doc, run = diagnose(gilscope, w.proc.pid, tmp_path, *ALWAYS, interp=interp)
    truth = w.finish()
    used_records(doc, run)
    for role in w.tids:
        check_within(doc, run, w, truth, role, "native")


@pytest.mark.accuracy
def test_numpy_mixture_with_records(gilscope, interp, operator_workload, tmp_path):  # noqa: F811
    """One thread ~40% in NumPy's a @ b (the GIL let go), the rest bytecode."""
    w = operator_workload(interp, "mixmm")
    doc, run, window = sample(gilscope, w, tmp_path, interp)
    truth = w.finish(window)
    for role in w.tids:
        assert 0.1 <= truth[role]["inside"] <= 0.9, (role, truth[role])
    if not interp.gil_enabled:
        for role in w.tids:
            st = thread(doc, w.tids[role])["states"]
            assert st["python"] + st["native"] >= 0.9, (role, st, run.describe())
        return
    for role in w.tids:
        check_within(doc, run, w, truth, role, "native")
        st = thread(doc, w.tids[role])["states"]
        assert abs(st["python"] - (1 - truth[role]["inside"])) <= TOLERANCE, (st, truth[role])


def test_records_not_allowed(gilscope, interp, workload, tmp_path):
    """Without a capability for perf events: schedstat, the same states,
    and one note that says why and what to grant."""
    if not shutil.which("setpriv"):
        pytest.fail("setpriv (util-linux) is not installed", pytrace=False)
    if perf_paranoid() is None or perf_paranoid() <= 0:
        pytest.skip("kernel.perf_event_paranoid allows perf events to everyone here")
    w = workload(interp, "blocking")
    run = es.run_gilscope(gilscope, ["diagnose", "--pid", str(w.proc.pid), "-d", "2", "-r", "200",
                                     *ALWAYS, "--no-progress"], prefix=NO_PERF, save_dir=tmp_path)
    truth = w.finish()
    assert run.returncode == 0, run.describe()
    assert ("context-switch records could not be read (perf events for every CPU are not "
            "allowed to gilscope)") in run.stdout, run.describe()
    assert "CAP_PERFMON" in run.stdout, run.describe()
    # and the JSON of a second run says the same, with the states right
    w = workload(interp, "blocking")
    run = es.run_gilscope(gilscope, ["diagnose", "--pid", str(w.proc.pid), "-d", "2", "-r", "200",
                                     *ALWAYS, "--no-progress", "--json"], prefix=NO_PERF,
                          save_dir=tmp_path)
    truth = w.finish()
    assert run.returncode == 0, run.describe()
    doc = json.loads(run.stdout)
    smp = doc["sampling"]
    assert smp["switch_records"] is False and smp["switch_records_unavailable"], smp
    assert smp["quiet_by_records"] == 0, smp
    check_within(doc, run, w, truth, "sleep", "sleep")
    check_within(doc, run, w, truth, "io", "io")
    check_within(doc, run, w, truth, "lock", "lock_wait")


def test_never_reads_records(gilscope, interp, workload, tmp_path):
    w = workload(interp, "blocking")
    doc, run = diagnose(gilscope, w.proc.pid, tmp_path, "--switch-records", "never", interp=interp)
    truth = w.finish()
    smp = doc["sampling"]
    assert smp["switch_records"] is False and smp["switch_records_unavailable"] is None, smp
    assert smp["quiet_by_records"] == 0, smp
    check_within(doc, run, w, truth, "sleep", "sleep")
