"""record -f pprof, read back with `go tool pprof` (Debian's golang-go; `make
deps` installs it, as `make test` does; without it the tests fail).

A states.py "mixed" target has one thread parked in each state, each one
checked in place through /proc before gilscope starts. The profile must hold
every thread, each one sampled at every instant gilscope says it took (the
"wrote ... (N samples)" line), labelled with its tid, name, state and GIL;
`-tagfocus` on a label must select exactly the samples carrying it; the
flattest functions are the parked threads' own leaves, at the lines they
wait on.
"""
import datetime
import re
import shutil
import subprocess
import time
from collections import Counter, defaultdict
from typing import Dict, List

import pytest

import e2e_support as es

INTERPRETERS = "representative"

LABEL_KEYS = {"thread", "thread_name", "state", "holds_gil"}
TREE_LABEL_KEYS = LABEL_KEYS | {"pid", "process"}


def go_tool() -> str:
    go = shutil.which("go")
    if not go:
        pytest.fail("no `go` for `go tool pprof` (apt-get install golang-go; `make deps` does)",
                    pytrace=False)
    return go


def pprof(path, *args: str) -> str:
    argv = [go_tool(), "tool", "pprof", *args, str(path)]
    res = subprocess.run(argv, capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    out = res.stdout.decode("utf-8", "replace")
    assert res.returncode == 0, (f"$ {' '.join(argv)}\nexit {res.returncode}\n{out}\n"
                                 f"{res.stderr.decode('utf-8', 'replace')}")
    return out


class Raw:
    """`go tool pprof -raw`: samples (values, location ids, labels) and
    locations (id -> function, file, line)."""

    def __init__(self, text: str):
        self.text = text
        self.period = None
        self.time = None        # seconds since the epoch
        self.duration = None    # seconds
        self.samples: List[dict] = []
        self.locations: Dict[int, tuple] = {}
        part = None
        for line in text.splitlines():
            if line.startswith("Period:"):
                self.period = int(line.split()[1])
            elif line.startswith("Time:"):
                # "Time: 2026-12-05 10:53:13.830933645 +0000 UTC"
                m = re.match(r"Time: (\S+ \d+:\d+:\d+)(\.\d+)? ([+-]\d{4})", line)
                if m:
                    t = datetime.datetime.strptime(f"{m.group(1)} {m.group(3)}",
                                                   "%Y-%m-%d %H:%M:%S %z")
                    self.time = t.timestamp() + float(m.group(2) or 0)
            elif line.startswith("Duration:"):
                self.duration = float(line.split()[1])
            elif line in ("Samples:", "Locations", "Mappings"):
                part = line
            elif part == "Samples:":
                m = re.match(r"^\s+(\d+)\s+(\d+):([\d ]*)$", line)
                if m:
                    self.samples.append({"count": int(m.group(1)), "wall": int(m.group(2)),
                                         "locs": [int(x) for x in m.group(3).split()],
                                         "labels": {}})
                elif self.samples:
                    for k, v in re.findall(r"(\w+):\[([^\]]*)\]", line):
                        self.samples[-1]["labels"][k] = v
            elif part == "Locations":
                # "    12: 0x0 M=1 spin /path/t.py:4 s=0()" (an inlined
                # line would follow indented; we write one line each)
                m = re.match(r"^\s+(\d+): 0x0 M=\d+ (.*) (\S*):(\d+) s=\d+", line)
                if m:
                    self.locations[int(m.group(1))] = (m.group(2), m.group(3), int(m.group(4)))

    def total(self, **labels) -> int:
        return sum(s["count"] for s in self.samples
                   if all(s["labels"].get(k) == v for k, v in labels.items()))

    def by(self, key: str) -> Counter:
        c = Counter()
        for s in self.samples:
            c[s["labels"].get(key)] += s["count"]
        return c

    def leaf(self, s: dict) -> tuple:
        return self.locations.get(s["locs"][0], ("?", "?", 0)) if s["locs"] else ("", "", 0)


def instants(run: es.Run) -> int:
    m = re.search(r"wrote .* \((\d+) samples", run.stderr)
    assert m, run.describe()
    return int(m.group(1))


def top_flat(text: str) -> Dict[str, int]:
    """`-top`'s table: function -> flat."""
    flat = {}
    for line in text.splitlines():
        m = re.match(r"^\s*(\d+)\s+[\d.]+%\s+[\d.]+%\s+(\d+)\s+[\d.]+%\s+(.+)$", line)
        if m:
            flat[m.group(3).strip()] = int(m.group(1))
    return flat


@pytest.mark.asan
def test_pprof_mixed(gilscope, interp, target, tmp_path):
    go_tool()
    t = target(interp, "mixed")
    out = tmp_path / "profile.pb.gz"
    t0 = time.time()
    run = es.run_gilscope(gilscope, ["record", "--pid", str(t.pid), "-d", "2", "-r", "100",
                                     "-f", "pprof", "-o", str(out)])
    t1 = time.time()
    assert run.returncode == 0, run.describe()
    n = instants(run)
    assert n > 50, run.describe()
    assert out.read_bytes()[:2] == b"\x1f\x8b", "not gzip'd"
    raw = Raw(pprof(out, "-raw"))
    ctx = f"{t.describe()}\n{run.describe()}\n{raw.text[:6000]}"

    # every thread sampled at every instant, each sample's wall time its
    # count times the period (10 ms at 100 Hz)
    assert raw.period == 10_000_000, ctx
    # when it started (the wall clock) and how long it sampled (-d 2)
    assert raw.time is not None and t0 - 0.01 <= raw.time <= t1, (t0, raw.time, t1)
    assert raw.duration is not None and 1.5 <= raw.duration <= 2.5, ctx
    assert all(s["wall"] == s["count"] * raw.period for s in raw.samples), ctx
    tids = {th.tid for th in t.threads.values()} | {t.pid}
    per_thread = raw.by("thread")
    assert set(per_thread) == {str(x) for x in tids}, ctx
    for tid, count in per_thread.items():
        assert count == n, f"thread {tid}: {count} samples of {n} instants\n{ctx}"
    assert sum(per_thread.values()) == n * len(tids), ctx
    # each thread's name travels with it
    names = {s["labels"]["thread"]: s["labels"].get("thread_name") for s in raw.samples}
    for th in t.threads.values():
        assert names[str(th.tid)] == th.name, (th.role, names[str(th.tid)], th.name)

    # states: what each parked thread was found in (its own place, checked
    # through /proc before sampling), for most of its samples
    sleeper, busy = str(t.tid("sleeper")), str(t.tid("busy"))
    for role in ("sleeper", "io", "lock", "native"):
        tid = str(t.tid(role))
        got = raw.total(thread=tid, state=t.expected[role])
        assert got >= 0.9 * n, f"{role}: {got} of {n} in {t.expected[role]}\n{ctx}"

    # -tagfocus=state=sleep: exactly the samples labelled sleep, and they
    # are the sleeper's
    focus = Raw(pprof(out, "-raw", "-tagfocus=state=sleep"))
    assert focus.samples, ctx
    assert {s["labels"]["state"] for s in focus.samples} == {"sleep"}
    assert focus.total() == raw.total(state="sleep"), ctx
    assert set(focus.by("thread")) == {sleeper}, (focus.by("thread"), ctx)
    assert focus.total() == raw.total(thread=sleeper, state="sleep") >= 0.9 * n

    # holds_gil: on a build with the GIL, exactly the holder's states; the
    # busy thread is the one that holds it (the only one that wants it)
    gil = raw.by("holds_gil")
    held_states = {s["labels"]["state"] for s in raw.samples if s["labels"]["holds_gil"] == "true"}
    if interp.gil_enabled:
        assert held_states <= {"python", "native_gil"}, held_states
        assert gil["true"] == raw.total(state="python") + raw.total(state="native_gil"), ctx
        focus = Raw(pprof(out, "-raw", "-tagfocus=holds_gil=true"))
        assert focus.total() == gil["true"] > 0, ctx
        assert focus.by("thread").most_common(1)[0][0] == busy, (focus.by("thread"), ctx)
    else:
        assert gil["true"] == 0 and gil["false"] == n * len(tids), (gil, ctx)

    # -tags lists every label key (not pid/process: one process)
    tags = pprof(out, "-tags")
    keys = set(re.findall(r"^\s*(\w+): Total", tags, re.M))
    assert keys == LABEL_KEYS, tags[:3000]

    # the flattest functions: the parked threads' own leaves, with their
    # samples; the sleeper's leaf at the line it sleeps on
    flat = top_flat(pprof(out, "-top", "-sample_index=samples", "-nodecount=200",
                             "-nodefraction=0"))
    leaves = defaultdict(int)
    for s in raw.samples:
        leaves[raw.leaf(s)[0]] += s["count"]
    assert {k: v for k, v in flat.items() if v} == {k: v for k, v in leaves.items() if v}, \
        (flat, dict(leaves))
    sleep_fn = interp.fn("sleep_forever")
    assert flat.get(sleep_fn, 0) >= raw.total(thread=sleeper, state="sleep"), (flat, ctx)
    marks = es.scan_markers(es.STATES_PY)
    sleep_leaves = {raw.leaf(s) for s in raw.samples
                    if s["labels"]["thread"] == sleeper and s["labels"]["state"] == "sleep"}
    assert (sleep_fn, t.file, marks["sleep"]) in sleep_leaves, (sleep_leaves, ctx)


def test_pprof_format_name(gilscope, tmp_path):
    """An unknown format names pprof among the choices."""
    run = es.run_gilscope(gilscope, ["record", "-f", "nope", "-o", str(tmp_path / "x"),
                                     "--pid", "1"])
    assert run.returncode != 0 and "pprof" in run.stderr, run.describe()
