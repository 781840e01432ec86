"""Samples that keep time with the program (sample/loop.c): a thread busy
for the first half of every 10 ms of the clock and asleep for the second
half is busy half the time; samples exactly 10 ms apart (100 Hz, the
default rate) would find it in the same half, run after run, and call it
always busy or never. Each sample is taken at a random moment of its
period, so the fraction gilscope reports is the thread's own.

Ground truth: the thread's own log of its busy stretches, over exactly the
window gilscope sampled (its first and last sample, CLOCK_MONOTONIC).
"""
import json
import os
import subprocess

import pytest

import e2e_support as es

INTERPRETERS = "representative"
TARGET = es.REPO / "tests" / "e2e" / "targets" / "square_wave.py"
WINDOW_S = 3


@pytest.mark.parametrize("rate", ["100", "200"])
def test_square_wave_in_step_with_the_rate(gilscope, interp, rate):
    r_ready, w_ready = os.pipe()
    r_ctl, w_ctl = os.pipe()
    proc = subprocess.Popen([interp.path, str(TARGET), "--ready-fd", str(w_ready),
                             "--control-fd", str(r_ctl)],
                            pass_fds=(w_ready, r_ctl), env=interp.env(),
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    os.close(w_ready)
    os.close(r_ctl)
    rd = os.fdopen(r_ready, "r")
    ctl = os.fdopen(w_ctl, "w", buffering=1)
    try:
        hello = es.read_json_line(rd, 60, "its readiness", proc.kill)
        run = es.run_gilscope(gilscope, ["diagnose", "--pid", str(hello["pid"]), "-d",
                                         str(WINDOW_S), "-r", rate, "--json"])
        doc = json.loads(run.stdout) if run.returncode == 0 else None
        ctl.write(f"stop {es.sampled_window(doc)}\n")
        truth = es.read_json_line(rd, 30, "its measurements", proc.kill)
    finally:
        ctl.close()
        es.end_process(proc)
    assert run.returncode == 0, run.describe()
    smp = doc["sampling"]
    # the wave was kept: about one busy stretch per 10 ms of the window
    cycles = (smp["last_sample_monotonic_ns"] - smp["first_sample_monotonic_ns"]) / 1e7
    assert truth["stretches"] >= 0.8 * cycles, (truth, cycles)
    assert 0.3 < truth["busy"] < 0.7, truth
    th = es.threads_by_tid(doc).get(hello["tid"])
    assert th is not None, es.describe_thread(th)
    st = th["states"]
    busy = sum(st.get(s, 0) for s in ("python", "native_gil", "native"))
    idle = st.get("sleep", 0)
    assert abs(busy - truth["busy"]) < 0.1, (busy, truth, st, smp)
    assert abs(idle - (1 - truth["busy"])) < 0.1, (idle, truth, st, smp)
