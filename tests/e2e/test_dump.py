"""End-to-end tests of `gilscope dump --pid PID [--json]` against real interpreters.

Every test runs once per discovered interpreter (and per GIL setting on a
free-threaded build) on a targets/states.py scenario whose threads the
fixture has checked in /proc before gilscope runs. Expected line numbers come
from the "# @mark:NAME" comments in the target's sources, never from numbers
written here.
"""
import os
import subprocess
import re
from typing import Dict, List, Tuple

import pytest

import e2e_support as es
from e2e_support import Problem

Frame = Tuple[str, str, int]  # (function, file, line)

BOOTSTRAP = ("_bootstrap", "Thread._bootstrap")


# --- what the stacks must look like --------------------------------------------

def expected_innermost(t: es.Target) -> Dict[str, List[Frame]]:
    """Per role, the innermost frames gilscope must report, innermost first."""
    it, f = t.interp, t.file
    m = es.scan_markers(f)
    e: Dict[str, List[Frame]] = {
        "main": [(it.fn("main"), f, m["main_wait"]), ("<module>", f, m["module_main"])],
        "sleeper": [(it.fn("sleep_forever"), f, m["sleep"])],
    }
    if t.scenario == "mixed":
        na = t.threads["nonascii"].msg
        ex = t.threads["exec"].msg
        e.update({
            "busy": [(it.fn("run_loop", "Worker.run_loop"), f, m["busy_loop"])],
            "io": [(it.fn("recv_forever"), f, m["recv"])],
            "lock": [(it.fn("wait_on_lock"), f, m["lock_acquire"])],
            "native": [(it.fn("spin_without_gil"), f, m["spin_nogil"])],
            "nonascii": [(na["function"], na["file"], es.scan_markers(na["file"])["nonascii"]),
                         (it.fn("nonascii_main"), f, m["nonascii_call"])],
            "generator": [(it.fn("gen_body"), f, m["gen_block"]),
                          (it.fn("drive_generator"), f, m["gen_drive"])],
            "coroutine": [(it.fn("coro_inner"), f, m["coro_block"]),
                          (it.fn("coro_outer"), f, m["coro_await"]),
                          (it.fn("drive_coroutine"), f, m["coro_drive"])],
            "exec": [("from_exec", "<string>", ex["exec_block_line"]),
                     ("<module>", "<string>", ex["exec_call_line"]),
                     (it.fn("run_exec"), f, m["exec_call"])],
        })
    elif t.scenario == "gilheld":
        e.update({
            "holder": [(it.fn("hold_the_gil"), f, m["hold_gil"])],
            "waiter": [(it.fn("want_the_gil"), f, m["gil_wait"])],
        })
    return e


def as_tuple(fr) -> Frame:
    return (fr.get("function"), fr.get("file"), fr.get("line"))


def stack_problems(role: str, th: dict, want: List[Frame]) -> List[str]:
    """The innermost frames are exactly `want`; below them, a thread's stack
    goes down through threading.py to Thread._bootstrap, and the main
    thread's stack ends with `want`."""
    frames = th["frames"]
    got = [as_tuple(fr) for fr in frames[:len(want)]]
    problems = []
    if got != want:
        problems.append(f"{role}: innermost frames\n      got      {got}\n      expected {want}")
    rest = frames[len(want):]
    if role == "main":
        if rest:
            problems.append(f"main: {len(rest)} frames below <module>: {[as_tuple(fr) for fr in rest]}")
    elif not rest or rest[-1]["function"] not in BOOTSTRAP or any(
            os.path.basename(fr["file"]) != "threading.py" for fr in rest):
        problems.append(f"{role}: below its own frames the stack should be threading.py's, ending in "
                        f"_bootstrap; got {[as_tuple(fr) for fr in rest]}")
    return problems


def deep_problems(t: es.Target, th: dict) -> List[str]:
    """threading's wait frames, recurse() at the wait, DEPTH x recurse() at the
    recursive call, deep_main(), threading.py's frames: nothing lost, nothing cut."""
    it, f = t.interp, t.file
    m = es.scan_markers(f)
    depth = t.threads["deep"].msg["depth"]
    rec = it.fn("recurse")
    frames = th["frames"]
    names = [fr["function"] for fr in frames]
    if rec not in names:
        return [f"deep: no frame of {rec}() among {len(frames)} frames"]
    i = names.index(rec)
    problems = []
    above = frames[:i]
    if not 1 <= len(above) <= 3 or not all(fr["function"].endswith("wait") for fr in above):
        problems.append(f"deep: expected 1-3 threading wait frames above {rec}(), got "
                        f"{[as_tuple(fr) for fr in above]}")
    if as_tuple(frames[i]) != (rec, f, m["deep_wait"]):
        problems.append(f"deep: innermost {rec}() frame is {as_tuple(frames[i])}, expected "
                        f"{(rec, f, m['deep_wait'])}")
    chain = frames[i + 1:i + 1 + depth]
    want = (rec, f, m["recurse"])
    bad = [(i + 1 + k, as_tuple(fr)) for k, fr in enumerate(chain) if as_tuple(fr) != want]
    if len(chain) != depth or bad:
        problems.append(f"deep: expected {depth} frames {want} below it, got {len(chain)}, "
                        f"{len(bad)} of them wrong, first: {bad[:3]}")
    total = names.count(rec)
    if total != depth + 1:
        problems.append(f"deep: {total} frames of {rec}(), expected {depth + 1} "
                        f"(stack has {len(frames)} frames)")
    below = frames[i + 1 + depth:]
    if not below or as_tuple(below[0]) != (it.fn("deep_main"), f, m["deep_call"]):
        problems.append(f"deep: below the recursion expected {(it.fn('deep_main'), f, m['deep_call'])}, "
                        f"got {as_tuple(below[0]) if below else 'nothing'}")
    elif not below[1:] or below[-1]["function"] not in BOOTSTRAP:
        problems.append(f"deep: the stack does not end in threading's _bootstrap: "
                        f"{[as_tuple(fr) for fr in below]}")
    return problems


# --- running dump -------------------------------------------------------------------

def dump_json(gilscope, t: es.Target, tmp_path, *, check_states: bool):
    """Settled JSON dump of the target. With check_states, each thread's
    state and holds_gil must match the oracle (retried only where the kernel
    says the thread moved, see run_until_consistent)."""
    def check(run):
        doc, problems = es.parse_json_run(run)
        if doc is not None and check_states:
            problems = es.state_problems(t, doc)
        return doc, problems
    doc, run, retries = es.run_until_consistent(
        gilscope, t, ["dump", "--pid", str(t.pid), "--json"], check, tmp_path)
    return doc, run


def fail_with(problems: List[str], t: es.Target, run: es.Run, doc=None, roles=()):
    by_tid = es.threads_by_tid(doc) if doc else {}
    threads = "".join(f"\n--- {r} (tid {t.tid(r)}) as gilscope reported it:\n"
                      f"{es.describe_thread(by_tid.get(t.tid(r)))}" for r in roles if r in t.threads)
    pytest.fail("\n".join(problems) + threads + "\n" + t.describe() + "\n" + run.describe(2000),
                pytrace=False)


# --- mixed: JSON -------------------------------------------------------------------

@pytest.mark.asan
def test_mixed_states_and_gil_holder(gilscope, interp, target, tmp_path):
    """Each thread's state; exactly the busy thread holds the GIL (none with the
    GIL disabled); every thread of the process is listed once, by native tid."""
    t = target(interp, "mixed")
    doc, run = dump_json(gilscope, t, tmp_path, check_states=True)
    problems = []
    if doc["pid"] != t.pid:
        problems.append(f"pid {doc['pid']}, expected {t.pid}")
    tids = [th["tid"] for th in doc["threads"]]
    on_proc = sorted(int(x) for x in os.listdir(f"/proc/{t.pid}/task"))
    if sorted(tids) != on_proc:
        problems.append(f"threads listed {sorted(tids)} != the process's threads {on_proc}")
    holders = [th["tid"] for th in doc["threads"] if th["holds_gil"]]
    want = [t.tid("busy")] if interp.gil_enabled else []
    if holders != want:
        problems.append(f"GIL holders {holders}, expected {want}")
    if problems:
        fail_with(problems, t, run, doc)


def test_mixed_header(gilscope, interp, target, tmp_path):
    """python.version, free_threaded, gil_enabled, switch_interval_s."""
    t = target(interp, "mixed")
    doc, run = dump_json(gilscope, t, tmp_path, check_states=False)
    py = doc["python"]
    h = t.hello
    problems = []
    if py["version"] != h["version"]:
        problems.append(f"python.version {py['version']!r}, the target says {h['version']!r}")
    if py["free_threaded"] is not interp.ft:
        problems.append(f"python.free_threaded {py['free_threaded']}, expected {interp.ft}")
    if py["gil_enabled"] is not interp.gil_enabled:
        problems.append(f"python.gil_enabled {py['gil_enabled']}, expected {interp.gil_enabled}")
    if py["switch_interval_s"] != pytest.approx(h["switch_interval"], rel=1e-9, abs=1e-12):
        problems.append(f"python.switch_interval_s {py['switch_interval_s']}, the target's "
                        f"sys.getswitchinterval() is {h['switch_interval']}")
    if h["switch_interval"] != pytest.approx(0.005):
        problems.append(f"(harness) the target's switch interval is {h['switch_interval']}, not the default")
    if problems:
        fail_with(problems, t, run)


@pytest.mark.asan
def test_mixed_frames(gilscope, interp, target, tmp_path):
    """Innermost frames (qualified names on 3.11+, exact lines from the markers,
    files), generator and coroutine frames, exec()'d code in "<string>", and
    complete stacks down to threading's _bootstrap."""
    t = target(interp, "mixed")
    doc, run = dump_json(gilscope, t, tmp_path, check_states=False)
    by_tid = es.threads_by_tid(doc)
    problems, roles = [], []
    for role, want in sorted(expected_innermost(t).items()):
        th = by_tid.get(t.tid(role))
        if th is None:
            problems.append(f"{role}: tid {t.tid(role)} missing")
            continue
        p = stack_problems(role, th, want)
        if p:
            problems += p
            roles.append(role)
    if problems:
        fail_with(problems, t, run, doc, roles)


def test_mixed_qualified_method_name(gilscope, interp, target, tmp_path):
    """A method's frame is named Worker.run_loop on 3.11+ (co_qualname), run_loop before."""
    t = target(interp, "mixed")
    doc, run = dump_json(gilscope, t, tmp_path, check_states=False)
    th = es.threads_by_tid(doc).get(t.tid("busy"))
    want = "Worker.run_loop" if interp.qualnames else "run_loop"
    got = th["frames"][0]["function"] if th and th["frames"] else None
    if got != want:
        fail_with([f"busy: innermost function {got!r}, expected {want!r}"], t, run, doc, ["busy"])


@pytest.mark.asan
def test_mixed_deep_stack(gilscope, interp, target, tmp_path):
    """A thread 500 frames deep comes back whole, every frame with its exact line."""
    t = target(interp, "mixed")
    doc, run = dump_json(gilscope, t, tmp_path, check_states=False)
    th = es.threads_by_tid(doc).get(t.tid("deep"))
    problems = ["deep: thread missing"] if th is None else deep_problems(t, th)
    if problems:
        fail_with(problems, t, run, doc, ["deep"])


def test_mixed_thread_names_and_nonascii(gilscope, interp, target, tmp_path):
    """Thread names are threading.Thread names, exactly (non-ASCII included:
    "nœud-λ-線"), and a non-ASCII file path and function name come back exactly."""
    t = target(interp, "mixed")
    doc, run = dump_json(gilscope, t, tmp_path, check_states=False)
    by_tid = es.threads_by_tid(doc)
    problems = []
    for role, tt in sorted(t.threads.items()):
        th = by_tid.get(tt.tid)
        if th is None:
            problems.append(f"{role}: tid {tt.tid} missing")
        elif th["name"] != tt.name:
            problems.append(f"{role}: name {th['name']!r}, expected {tt.name!r}")
    na = t.threads["nonascii"]
    th = by_tid.get(na.tid)
    if th and th["frames"]:
        fr = th["frames"][0]
        if fr["file"] != na.msg["file"]:
            problems.append(f"nonascii: file {fr['file']!r}, expected {na.msg['file']!r}")
        if fr["function"] != na.msg["function"]:
            problems.append(f"nonascii: function {fr['function']!r}, expected {na.msg['function']!r}")
    elif th:
        problems.append("nonascii: no frames")
    if problems:
        fail_with(problems, t, run, doc, ["nonascii"])


# --- mixed: text -----------------------------------------------------------------

def _word(word: str) -> "re.Pattern":
    return re.compile(r"(?<![A-Za-z0-9_])" + re.escape(word) + r"(?![A-Za-z0-9_])")


def text_check(t: es.Target, innermost: Dict[str, List[Frame]]):
    """For the text report: each tid appears on a line that also has its state
    (as a word: "native" does not match "native_gil") and its thread name; a
    line with the GIL holder's tid says "GIL" (other lines may mention the GIL
    too, e.g. a waiter's); each thread's innermost frame appears as file:line."""
    def check(run):
        if run.returncode != 0:
            return None, [Problem(f"gilscope exited with status {run.returncode}")]
        lines = run.stdout.splitlines()
        problems = []
        for role, tt in sorted(t.threads.items()):
            tid_re = re.compile(r"(?<![0-9])" + str(tt.tid) + r"(?![0-9])")
            mine = [ln for ln in lines if tid_re.search(ln)]
            if not mine:
                problems.append(Problem(f"{role}: tid {tt.tid} appears nowhere"))
                continue
            state = t.expected[role]
            if not any(_word(state).search(ln) for ln in mine):
                problems.append(Problem(f"{role}: no line with tid {tt.tid} says {state!r}: {mine}", tt.tid))
            holds = t.interp.gil_enabled and state in ("python", "native_gil")
            if holds and not any("GIL" in ln for ln in mine):
                problems.append(Problem(f"{role}: holds the GIL but no line with tid {tt.tid} "
                                        f"has a GIL marker: {mine}", tt.tid))
            if not any(tt.name in ln for ln in mine):
                problems.append(Problem(f"{role}: thread name {tt.name!r} is on no line with tid "
                                        f"{tt.tid}: {mine}"))
        for role, frames in sorted(innermost.items()):
            fn, path, line = frames[0]
            if f"{path}:{line}" not in run.stdout:
                problems.append(Problem(f"{role}: innermost frame {fn} as '{path}:{line}' appears nowhere"))
        return None, problems
    return check


def test_mixed_text(gilscope, interp, target, tmp_path):
    t = target(interp, "mixed")
    es.run_until_consistent(gilscope, t, ["dump", "--pid", str(t.pid)],
                            text_check(t, expected_innermost(t)), tmp_path)


# --- GIL held in C -----------------------------------------------------------------

@pytest.mark.asan
def test_gilheld_json(gilscope, interp, target, tmp_path):
    """A thread spinning in C with the GIL is native_gil and the only holder; a
    thread that wants to run Python meanwhile is gil_wait; their frames point
    at the calls."""
    t = target(interp, "gilheld")  # skips where the GIL is disabled
    doc, run = dump_json(gilscope, t, tmp_path, check_states=True)
    by_tid = es.threads_by_tid(doc)
    problems = []
    holders = [th["tid"] for th in doc["threads"] if th["holds_gil"]]
    if holders != [t.tid("holder")]:
        problems.append(f"GIL holders {holders}, expected [{t.tid('holder')}] (gil-holder)")
    for role, want in sorted(expected_innermost(t).items()):
        problems += stack_problems(role, by_tid[t.tid(role)], want)
    if doc["python"]["gil_enabled"] is not True:
        problems.append(f"python.gil_enabled {doc['python']['gil_enabled']}, expected true")
    if problems:
        fail_with(problems, t, run, doc, ["holder", "waiter"])


def test_gilheld_text(gilscope, interp, target, tmp_path):
    t = target(interp, "gilheld")
    es.run_until_consistent(gilscope, t, ["dump", "--pid", str(t.pid)],
                            text_check(t, expected_innermost(t)), tmp_path)


def test_gilheld_repeated(gilscope, interp, target, tmp_path):
    """Dumping the same process again gives the same answer: gilscope leaves
    the holder holding and the waiter waiting."""
    t = target(interp, "gilheld")
    for _ in range(3):
        doc, run = dump_json(gilscope, t, tmp_path, check_states=True)
        holders = [th["tid"] for th in doc["threads"] if th["holds_gil"]]
        if holders != [t.tid("holder")]:
            fail_with([f"GIL holders {holders}, expected [{t.tid('holder')}]"], t, run, doc,
                      ["holder", "waiter"])


# --- the target is left as it was ------------------------------------------------------

def test_dump_leaves_target_unharmed(gilscope, interp, target, tmp_path):
    """After a dump no thread is stopped or traced, the busy threads still run,
    the blocked ones are still blocked, and the target still exits normally
    when asked."""
    t = target(interp, "mixed")
    dump_json(gilscope, t, tmp_path, check_states=False)
    problems = []
    for tid in os.listdir(f"/proc/{t.pid}/task"):
        status = open(f"/proc/{t.pid}/task/{tid}/status").read()
        tracer = re.search(r"^TracerPid:\s*(\d+)", status, re.M).group(1)
        state = re.search(r"^State:\s*(\S)", status, re.M).group(1)
        if tracer != "0" or state in "tT":
            problems.append(f"tid {tid}: TracerPid {tracer}, State {state} after gilscope exited")
    # still where they were, per the kernel (fails if not within the deadline)
    for role in ("busy", "native"):
        t.threads[role].cpu_at_announce = es.read_kstate(t.pid, t.tid(role)).cpu_ns
    t.settle()
    t.release()
    try:
        status = t.proc.wait(timeout=es.READY_TIMEOUT)
    except subprocess.TimeoutExpired:
        status = None
    if status != 0:
        problems.append(f"the target did not exit cleanly when asked (status {status})")
    if problems:
        pytest.fail("\n".join(problems) + "\n" + t.describe(), pytrace=False)


def test_custom_switch_interval(gilscope, interp, target, tmp_path):
    """switch_interval_s is read from the target, not assumed to be 0.005."""
    t = target(interp, "idle", switch_interval=0.0125)
    doc, run = dump_json(gilscope, t, tmp_path, check_states=True)
    got = doc["python"]["switch_interval_s"]
    if got != pytest.approx(t.hello["switch_interval"], rel=1e-9, abs=1e-12):
        fail_with([f"python.switch_interval_s {got}, the target's sys.getswitchinterval() is "
                   f"{t.hello['switch_interval']}"], t, run, doc)
