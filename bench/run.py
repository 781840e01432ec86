#!/usr/bin/env python3
"""bench/run.py - gilscope beside py-spy, Austin and CPython 3.15's sampler.

`make bench` runs this (`make bench BENCH_QUICK=1` for a short version).
Everything is measured in one run, on the same targets, on this machine;
the results go to bench/RESULTS.md (and raw numbers to bench/out/).

Targets (bench/targets/workers.py; each reports its own work rate):
  (a) 5 threads of CPU-bound Python (the main thread is one of them)
  (b) 200 threads: 2 busy as in (a), 198 blocked (on an Event, in a sleep,
      on a socket read, a third each)

Measurements, each repeated (medians of >= 5 runs, min-max shown):
  1. maximum sustained rate, in thread-samples per second (a sample of a
     5-thread process counts 5): every sampler is asked for a rate it
     cannot keep and runs for a fixed time; what it actually took is
     counted from its own output. Also the sampler's CPU time (rusage of
     the child), hence the cost per thread-sample.
  2. target slowdown on (a): the target's work rate with the sampler at
     100 Hz, 1 kHz and 10 kHz, against the rate without, in many short
     windows with one sampler process paused (SIGSTOP) or not, on wall time
     and on the target's CPU time; mean of paired differences, 95% t
     interval, and an A/A control for the resolution.
  3. gilscope's peak memory (VmHWM) on (b) at 1 kHz, after 10 s and after
     60 s, to show it is flat; the peers' alongside.
  4. cost per thread-sample at 200 to 10,000 threads, at 100 Hz.
  5. a process tree (targets/pool.py: a multiprocessing.Pool of 8 CPU-bound
     workers) sampled with --subprocesses by gilscope and py-spy, as in 1.
  6. `gilscope serve` at its default rate (20 Hz) over 1 and 4 targets of
     two busy threads: its CPU per process, and the targets' slowdown by
     the paired windows of 2.

--only SECTION[,SECTION] measures only some (SECTIONS below) and splices
them into RESULTS.md.

How each sampler's samples are counted is written into RESULTS.md.

Interpreters: py-spy and Austin 3.7 read up to 3.13, CPython's own sampler
reads only its own version, so two interpreters are used: a 3.13 (gilscope,
py-spy, Austin) and a 3.15 (gilscope, py-spy, profiling.sampling). Each
peer is probed on each interpreter first and skipped where it cannot read.
"""
import argparse
import datetime
import glob
import json
import math
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORKERS = HERE / "targets" / "workers.py"
POOL = HERE / "targets" / "pool.py"
OUT = HERE / "out"

# what the issue asks of gilscope (issue 5); checked in the summary
GOALS = {"rate_a": 150_000, "rate_b": 600_000, "slow_100": 1.0, "slow_1k": 3.0, "mem_mb": 32}


def log(*a):
    print("bench:", *a, file=sys.stderr, flush=True)


# An older gilscope measured beside the current one (--baseline), in the
# maximum-rate runs only; never counted as a peer.
BASE = "gilscope (before)"

# Targets and samplers all run at this nice value when we may (root): the
# same for every sampler (gilscope raises itself to -5 when allowed; the
# peers get the same here), and ahead of unrelated work on the machine.
NICE = -5


def nice_ahead():
    try:
        os.setpriority(os.PRIO_PROCESS, 0, NICE)
    except OSError:
        pass


def can_nice():
    try:
        return subprocess.run(["nice", "-n", str(NICE), "true"], capture_output=True).returncode == 0 \
            and os.geteuid() == 0
    except OSError:
        return False


# --- machine ------------------------------------------------------------------------------

def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_times():
    """(busy, total) jiffies of the whole machine."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return sum(v) - idle, sum(v)


def machine():
    mem = 0
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) // 1024
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu_model(), "kernel": platform.release(),
            "mem_mb": mem, "loadavg_start": open("/proc/loadavg").read().split()[:3]}


# --- targets ------------------------------------------------------------------------------

class Target:
    """A running bench/targets/workers.py."""

    def __init__(self, py, busy, blocked, pool=0):
        """workers.py BUSY BLOCKED, or with pool=N: pool.py N (a process tree)."""
        argv = [py, str(POOL), str(pool)] if pool else [py, str(WORKERS), str(busy), str(blocked)]
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1, preexec_fn=nice_ahead)
        line = self.proc.stdout.readline().split()
        if len(line) < 2 or line[0] != "ready":
            self.stop()
            raise RuntimeError(f"target {py} did not start: {line}")
        self.pid = int(line[1])
        # the whole tree: the parent, then (pool.py) its workers
        self.pids = [int(x) for x in line[1:]]
        self.nthreads = busy + blocked
        if pool:
            self.nthreads = sum(len(os.listdir(f"/proc/{p}/task")) for p in self.pids)

    def mark(self):
        """(monotonic seconds, work units done so far)."""
        self.proc.stdin.write("m\n")
        self.proc.stdin.flush()
        parts = self.proc.stdout.readline().split()
        return float(parts[1]), int(parts[2])

    def rate(self, seconds):
        t0, n0 = self.mark()
        time.sleep(seconds)
        t1, n1 = self.mark()
        return (n1 - n0) / (t1 - t0)

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("q\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


# --- running a sampler ----------------------------------------------------------------------

class Child:
    """A sampler process: its output, its rusage, when it started sampling."""

    def __init__(self, argv, banner=None):
        self.argv = argv
        self.t_start = time.monotonic()
        self.t_banner = None
        self.banner = banner
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, preexec_fn=nice_ahead)
        self.output = []
        self.seen = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.rusage = None
        self.status = None
        self.t_end = None

    def _read(self):
        buf = b""
        while True:
            chunk = self.proc.stdout.read1(65536) if hasattr(self.proc.stdout, "read1") \
                else self.proc.stdout.read(4096)
            if not chunk:
                break
            buf += chunk
            if self.banner and self.t_banner is None and self.banner.encode() in buf:
                self.t_banner = time.monotonic()
                self.seen.set()
        self.output.append(buf.decode("utf-8", "replace"))
        self.seen.set()

    def interrupt(self):
        # not poll(): that would reap the child, and wait() wants its rusage
        if running(self.proc.pid):
            self.proc.send_signal(signal.SIGINT)

    def wait(self, timeout=120):
        """Reap with wait4 for the child's own rusage."""
        deadline = time.monotonic() + timeout
        while True:
            pid, status, ru = os.wait4(self.proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                self.proc.kill()
            time.sleep(0.01)
        self.t_end = time.monotonic()
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        self.status = self.proc.returncode
        self.rusage = ru
        self.reader.join(timeout=10)
        return self.status

    def text(self):
        return "".join(self.output)

    def cpu(self):
        return self.rusage.ru_utime + self.rusage.ru_stime

    def maxrss_kb(self):
        return self.rusage.ru_maxrss


def proc_status(pid, key):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


class Tools:
    """How to run each sampler, and how its samples are counted."""

    def __init__(self, gilscope, venv, py315, baseline=None):
        self.gilscope = gilscope
        self.baseline = baseline
        self.pyspy = shutil.which("py-spy", path=str(venv / "bin")) if venv else None
        self.austin = shutil.which("austin", path=str(venv / "bin")) if venv else None
        self.py315 = py315

    def versions(self):
        v = {}

        def out(argv):
            try:
                return subprocess.run(argv, capture_output=True, text=True,
                                      timeout=30).stdout.strip()
            except (OSError, subprocess.TimeoutExpired):
                return None
        v["gilscope"] = out(["git", "-C", str(REPO), "describe", "--always", "--dirty"])
        if self.pyspy:
            v["py-spy"] = out([self.pyspy, "--version"])
        if self.austin:
            v["austin"] = out([self.austin, "--version"])
        if self.py315:
            v["profiling.sampling"] = "CPython " + (out([self.py315, "-c",
                                                         "import sys; print(sys.version.split()[0])"]) or "?")
        return v

    def names(self, py_is_315):
        names = ["gilscope"]
        if self.baseline:
            names.append(BASE)
        if self.pyspy:
            names.append("py-spy")
        if self.austin and not py_is_315:
            names.append("austin")
        if self.py315 and py_is_315:
            names.append("profiling.sampling")
        return names

    def start(self, name, pid, rate, seconds, outfile, tree=False):
        """Start sampler `name` at `rate` Hz for at most `seconds`; with
        tree, every process of pid's tree (--subprocesses)."""
        sub = ["--subprocesses"] if tree else []
        if tree and name not in ("gilscope", "py-spy"):
            raise ValueError(f"{name} has no --subprocesses")
        if name in ("gilscope", BASE):
            exe = self.gilscope if name == "gilscope" else self.baseline
            if name == BASE:
                rate = min(rate, 100_000)   # the most builds before 90ac3d4 accept
            return Child([exe, "diagnose", "--pid", str(pid), "-r", str(rate),
                          "-d", str(seconds), "--json", "--no-progress", "-o", str(outfile)] + sub)
        if name == "py-spy":
            # --idle: every thread in every sample, as the others do;
            # no --duration (it counts samples, rate x duration, not time):
            # stopped with SIGINT instead
            return Child([self.pyspy, "record", "--pid", str(pid), "--rate", str(rate),
                          "--nonblocking", "--idle", "--format", "raw", "-o", str(outfile)] + sub,
                         banner="Sampling process")
        if name == "austin":
            interval = "0" if rate >= 1_000_000 else f"{max(1, int(1e6 / rate))}"
            return Child([self.austin, "-i", interval, "-x", str(math.ceil(seconds)),
                          "-p", str(pid), "-o", str(outfile)])
        if name == "profiling.sampling":
            return Child([self.py315, "-m", "profiling.sampling", "attach", "-a",
                          "-r", f"{rate}hz", "-d", str(math.ceil(seconds)), "--collapsed",
                          "-o", str(outfile), str(pid)])
        raise ValueError(name)

    @staticmethod
    def count(name, child, outfile):
        """(thread-samples, process samples or None, seconds sampled)."""
        text = child.text()
        if name in ("gilscope", BASE):
            doc = json.loads(Path(outfile).read_text())
            ts = sum(Tools.per_process(name, outfile).values())
            return ts, doc["sampling"]["taken"], doc["duration_s"]
        if name == "py-spy":
            ts = 0
            for line in Path(outfile).read_text(errors="replace").splitlines():
                m = re.search(r" (\d+)$", line)
                if m:
                    ts += int(m.group(1))
            t0 = child.t_banner or child.t_start
            return ts, None, (child.t_stop or child.t_end) - t0
        if name == "austin":
            ts = 0
            dur = None
            with open(outfile, errors="replace") as f:
                for line in f:
                    if line.startswith("# duration:"):
                        dur = int(line.split(":")[1]) / 1e6
                    elif line.strip() and not line.startswith("#"):
                        ts += 1
            return ts, None, dur
        if name == "profiling.sampling":
            ts = 0
            for line in Path(outfile).read_text(errors="replace").splitlines():
                m = re.search(r" (\d+)$", line)
                if m:
                    ts += int(m.group(1))
            m = re.search(r"Captured ([\d,]+) samples? in ([\d.]+) seconds", text)
            n = int(m.group(1).replace(",", "")) if m else None
            return ts, n, float(m.group(2)) if m else None
        raise ValueError(name)

    @staticmethod
    def per_process(name, outfile):
        """{pid: thread-samples} from the output of gilscope or py-spy (with
        or without --subprocesses; without, one entry)."""
        per = {}
        if name in ("gilscope", BASE):
            doc = json.loads(Path(outfile).read_text())
            # --subprocesses: a report per process, each with its threads
            procs = doc["processes"] if "processes" in doc else [{"pid": doc["pid"], "diagnosis": doc}]
            for p in procs:
                per[p["pid"]] = sum(t["samples"] for t in p["diagnosis"].get("threads", []))
            return per
        if name == "py-spy":
            # --subprocesses puts 'process PID:"cmd"' frames at the root of
            # each stack, the parent's first: the last of them is the process
            for line in Path(outfile).read_text(errors="replace").splitlines():
                m = re.search(r" (\d+)$", line)
                if not m:
                    continue
                pid = 0
                for fr in line[:m.start()].split(";"):
                    pm = re.match(r"process (\d+):", fr)
                    if not pm:
                        break
                    pid = int(pm.group(1))
                per[pid] = per.get(pid, 0) + int(m.group(1))
            return per
        raise ValueError(name)

    def probe(self, name, pid, py_is_315):
        """Can this sampler read this interpreter? (one second of sampling)"""
        out = OUT / f"probe-{name}-{pid}.out"
        try:
            r = self.measure(name, pid, 100, 2, out)
            return r["thread_samples"] > 0, None
        except Exception as e:          # noqa: BLE001 - report, do not crash the bench
            return False, str(e)[:200]

    def measure(self, name, pid, rate, seconds, outfile, tree=False):
        """Sample for `seconds` at `rate`; counts, CPU time, peak RSS."""
        c = self.start(name, pid, rate, seconds + (0 if name != "py-spy" else 60), outfile, tree)
        c.t_stop = None
        if name == "py-spy":
            c.seen.wait(timeout=30)
            time.sleep(seconds)
            c.t_stop = time.monotonic()
            c.interrupt()
        status = c.wait(timeout=seconds + 120)
        if status not in (0, None) and not (name == "py-spy" and status in (0, 1, -2, 130)):
            raise RuntimeError(f"{name} exited {status}: {c.text()[-400:]}")
        ts, n, secs = self.count(name, c, outfile)
        m = {"thread_samples": ts, "samples": n, "seconds": secs, "cpu_s": c.cpu(),
             "maxrss_kb": c.maxrss_kb(),
             "rate": ts / secs if secs else 0.0}
        if tree:
            m["per_process"] = {str(k): v for k, v in self.per_process(name, outfile).items()}
        return m


# --- the measurements ---------------------------------------------------------------------------

def med(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return None
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "n": len(xs)}


def max_rate(tools, py, tag, busy, blocked, names, runs, seconds, pool=0):
    """Measurement 1 on one target: every sampler, `runs` times, interleaved.
    With pool=N, measurement 5: the process tree of pool.py N, each sampler
    with --subprocesses."""
    res = {n: [] for n in names}
    target = Target(py, busy, blocked, pool=pool)
    nthreads = target.nthreads
    try:
        time.sleep(0.5)
        for r in range(runs):
            order = names[:]
            random.shuffle(order)
            for n in order:
                out = OUT / f"rate-{tag}-{n}-{r}.out"
                rate = 1_000_000
                try:
                    m = tools.measure(n, target.pid, rate, seconds, out, tree=bool(pool))
                except Exception as e:  # noqa: BLE001
                    log(f"{n} on {tag}: {e}")
                    continue
                if pool:
                    # processes of the tree it took samples of
                    m["processes"] = sum(1 for p in target.pids if m["per_process"].get(str(p)))
                res[n].append(m)
                log(f"{tag} {n} run {r + 1}: {m['rate']:,.0f} thread-samples/s, "
                    f"cpu {m['cpu_s']:.2f} s")
                try:
                    os.unlink(out)
                except OSError:
                    pass
    finally:
        target.stop()
    summary = {}
    for n, ms in res.items():
        if not ms:
            continue
        summary[n] = {
            "thread_samples_per_s": med([m["rate"] for m in ms]),
            "samples_per_s": med([m["samples"] / m["seconds"] if m["samples"] and m["seconds"]
                                  else m["rate"] / nthreads for m in ms]),
            "us_per_thread_sample": med([m["cpu_s"] / m["thread_samples"] * 1e6
                                         if m["thread_samples"] else None for m in ms]),
            "cpu_share": med([m["cpu_s"] / m["seconds"] if m["seconds"] else None for m in ms]),
            "runs": ms,
        }
        if pool:
            summary[n]["processes"] = med([m["processes"] for m in ms])
            summary[n]["nprocs"] = len(target.pids)
            summary[n]["nthreads"] = nthreads
    return summary


# two-sided 95% quantiles of Student's t for 1..9 degrees of freedom; from
# 10 on, the Cornish-Fisher expansion about the normal one (error < 1e-4)
T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262)


def t975(df):
    if df < 1:
        return float("nan")
    if df <= len(T975):
        return T975[df - 1]
    z = 1.959963984540054
    return (z + (z ** 3 + z) / 4 / df + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / 96 / df ** 2
            + (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / 384 / df ** 3)


def mean_ci(xs):
    """Mean and 95% confidence interval (Student's t) of paired differences."""
    xs = [x for x in xs if x is not None and math.isfinite(x)]
    if len(xs) < 2:
        return None
    mean = statistics.fmean(xs)
    half = t975(len(xs) - 1) * statistics.stdev(xs) / math.sqrt(len(xs))
    return {"mean": mean, "lo": mean - half, "hi": mean + half, "half": half, "n": len(xs)}


def work_window(targets, sampler_pid, seconds):
    """One window: the targets' work units against wall time (their own
    clocks; rates summed over the targets) and against their CPU time (every
    thread's schedstat), and the sampler's CPU share over it."""
    s0 = task_cpu_ns(sampler_pid)
    m0 = [(t.mark(), task_cpu_ns(t.pid)) for t in targets]
    time.sleep(seconds)
    m1 = [(t.mark(), task_cpu_ns(t.pid)) for t in targets]
    s1 = task_cpu_ns(sampler_pid)
    units = sum(n1 - n0 for ((_, n0), _), ((_, n1), _) in zip(m0, m1))
    cpu_s = sum((c1 - c0) / 1e9 for (_, c0), (_, c1) in zip(m0, m1))
    wall = sum((n1 - n0) / (t1 - t0) for ((t0, n0), _), ((t1, n1), _) in zip(m0, m1))
    span = statistics.fmean(t1 - t0 for ((t0, _), _), ((t1, _), _) in zip(m0, m1))
    return {"wall": wall, "cpu": units / cpu_s if cpu_s > 0 else None,
            "target_cpus": cpu_s / span,
            "sampler_cpu": (s1 - s0) / 1e9 / span if s0 is not None and s1 is not None else None}


def paired_windows(targets, sampler, control, pairs, win, settle):
    """The pairs of windows of measurement 2 (see slowdown()): `pairs` pairs,
    one window with the sampler process running and one with it paused
    (SIGSTOP; with `control`, paused in both), in a random order within each
    pair, each after `settle` s in its state. Leaves the sampler running."""
    rows = []
    for _ in range(pairs):
        if not running(sampler.proc.pid):
            raise RuntimeError(f"sampler exited: {sampler.text()[-200:]}")
        kinds = ["on", "off"]
        random.shuffle(kinds)
        pair = {}
        for k in kinds:
            on = k == "on" and not control
            os.kill(sampler.proc.pid, signal.SIGCONT if on else signal.SIGSTOP)
            time.sleep(settle)
            pair[k] = work_window(targets, sampler.proc.pid, win)
        pair["first"] = kinds[0]
        rows.append(pair)
    os.kill(sampler.proc.pid, signal.SIGCONT)
    return rows


def stop_paused(c):
    """Stop a sampler that paired_windows() may have left paused."""
    try:
        os.kill(c.proc.pid, signal.SIGCONT)
    except OSError:
        pass
    c.interrupt()
    c.wait(timeout=60)


def pairs_summary(rows):
    """Slowdown per pair = 1 - sampled / unsampled rate, on wall and on CPU
    time: mean and 95% interval over the pairs, and the medians beside."""
    def diffs(what):
        return [100.0 * (1.0 - p["on"][what] / p["off"][what])
                if p["on"][what] and p["off"][what] else None for p in rows]
    return {"wall": mean_ci(diffs("wall")), "cpu": mean_ci(diffs("cpu")),
            "base_wall": med([p["off"]["wall"] for p in rows]),
            "target_cpus": med([p["off"]["target_cpus"] for p in rows]),
            "sampler_cpu_on": med([p["on"]["sampler_cpu"] for p in rows]),
            "sampler_cpu_off": med([p["off"]["sampler_cpu"] for p in rows]),
            "pairs": rows}


CONTROL = "control"


def slowdown(tools, py, tag, jobs, pairs, win, settle):
    """Measurement 2: target (a)'s work rate with and without a sampler.

    Per job (sampler, rate): ONE sampler process is started on the target
    and given 1 s to attach; then `pairs` pairs of windows of `win` s, one
    with the sampler running and one with it stopped (SIGSTOP to the
    sampler, never to the target; SIGCONT to resume it), in a random order
    within each pair, each window after `settle` s in its state (a sampler
    that catches up on its missed deadlines does it there). Per pair the
    slowdown is 1 - sampled / unsampled, on the work rate against wall time
    and against the target's CPU time; the mean over the pairs with a 95%
    confidence interval (Student's t). The job (CONTROL, None) keeps a
    gilscope at 100 Hz stopped in both windows: an A/A comparison, whose
    interval is what the method cannot tell from zero."""
    target = Target(py, 5, 0)
    out_jobs = {}
    try:
        target.rate(1.0)        # warm up
        order = jobs[:]
        random.shuffle(order)
        for n, r in order:
            key = CONTROL if n == CONTROL else f"{n}@{r}"
            sampler, rate = ("gilscope", 100) if n == CONTROL else (n, r)
            out = OUT / f"slow-{tag}-{sampler}-{rate}.out"
            rows = []
            c = tools.start(sampler, target.pid, rate, 3600, out)
            c.t_stop = None
            try:
                if sampler == "py-spy":
                    c.seen.wait(timeout=30)
                time.sleep(1.0)     # attached and sampling
                rows = paired_windows([target], c, n == CONTROL, pairs, win, settle)
            except Exception as e:  # noqa: BLE001 - report, do not crash the bench
                log(f"slowdown {tag} {key}: {e}")
            finally:
                stop_paused(c)
                try:
                    os.unlink(out)
                except OSError:
                    pass
            if len(rows) < 2:
                continue
            res = pairs_summary(rows)
            out_jobs[key] = res
            log(f"{tag} slowdown {key}: wall {res['wall']['mean']:+.2f}% "
                f"± {res['wall']['half']:.2f}, cpu {res['cpu']['mean']:+.2f}% "
                f"± {res['cpu']['half']:.2f} ({len(rows)} pairs)")
    finally:
        target.stop()
    return {"jobs": out_jobs, "pairs": pairs, "window_s": win, "settle_s": settle,
            "target_threads": target.nthreads}


def memory(tools, py_pairs, seconds, early, peers):
    """Measurement 3: VmHWM of each sampler at 1 kHz on target (b), after
    `early` seconds and at the end. gilscope alone first, then the peers
    together (their memory does not depend on sharing the CPU)."""
    result = {}

    def run(group):
        targets, children = [], []
        try:
            for py, names in group:
                t = Target(py, 2, 198)
                targets.append(t)
                for n in names:
                    out = OUT / f"mem-{n}-{t.pid}.out"
                    c = tools.start(n, t.pid, 1000, seconds, out)
                    c.t_stop = None
                    children.append((n, py, c, out))
            t0 = time.monotonic()
            early_hwm = {}
            while time.monotonic() - t0 < seconds - 0.5:
                el = time.monotonic() - t0
                for n, py, c, out in children:
                    hwm = proc_status(c.proc.pid, "VmHWM")
                    if hwm is not None:
                        if el <= early:
                            early_hwm[(n, py)] = hwm
                        c.last_hwm = hwm
                time.sleep(0.25)
            for n, py, c, out in children:
                if n == "py-spy":
                    c.interrupt()
                c.wait(timeout=120)
                key = f"{n} ({Path(py).name})"
                late = getattr(c, "last_hwm", None) or c.maxrss_kb()
                entry = {"vmhwm_early_kb": early_hwm.get((n, py)), "vmhwm_end_kb": late,
                         "maxrss_kb": c.maxrss_kb(), "early_s": early, "end_s": seconds}
                if n == "gilscope":
                    try:
                        doc = json.loads(Path(out).read_text())
                        entry["requested"] = doc["sampling"]["requested"]
                        entry["taken"] = doc["sampling"]["taken"]
                    except (OSError, ValueError, KeyError):
                        pass
                result[key] = entry
                try:
                    os.unlink(out)
                except OSError:
                    pass
        finally:
            for t in targets:
                t.stop()

    run([(py_pairs[0][0], ["gilscope"])])
    if peers:
        group = [(py, [n for n in names if n != "gilscope"]) for py, names in py_pairs]
        group = [(py, ns) for py, ns in group if ns]
        if group:
            run(group)
    return result


def task_cpu_ns(pid):
    """CPU time of every thread of process pid so far, in ns (schedstat's run
    time: nanoseconds, where /proc/PID/stat counts 10 ms ticks), or None."""
    total = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
    except OSError:
        return None
    return total


def threads_scale(tools, py, tag, names, counts, runs, seconds, skip_after):
    """Measurement 4: the cost per thread-sample at 100 Hz as the thread count
    grows, on targets of 4 CPU-bound threads and N-4 blocked ones.

    Each sampler runs at 100 Hz for `seconds`; its CPU time is read from
    /proc (every thread's schedstat, in ns) every 0.1 s, and the cost is
    taken over the steady part of the run only (from STEADY_FROM s after
    it started to the last reading), with the thread-samples of that part
    counted pro rata from its output: what it costs to attach (finding the
    runtime, the first read of every thread) is not a cost per sample. Also
    the rate it reached and, for gilscope, the deadlines it missed."""
    result, notes = {}, []
    for n in counts:
        errors = {}
        try:
            target = Target(py, 4, n - 4)
        except RuntimeError as e:
            log(f"threads: {n} threads on {tag}: {e}")
            continue
        per = {x: [] for x in names}
        try:
            time.sleep(1.0)
            for r in range(runs):
                order = names[:]
                random.shuffle(order)
                for name in order:
                    if name in skip_after and n > skip_after[name]:
                        continue
                    out = OUT / f"threads-{tag}-{n}-{name}-{r}.out"
                    try:
                        m = measure_steady(tools, name, target.pid, seconds, out, n)
                    except Exception as e:  # noqa: BLE001 - report, do not crash the bench
                        log(f"threads: {name} on {n} threads: {e}")
                        errors[name] = str(e).strip().splitlines()[0][:200] if str(e).strip() \
                            else type(e).__name__
                        continue
                    per[name].append(m)
                    log(f"threads {tag} {n} {name} run {r + 1}: {m['us_per_thread_sample']:.2f} us/"
                        f"thread-sample, {m['samples_per_s']:.1f} samples/s"
                        + (f", missed {m['missed']} of {m['requested']}" if m.get('requested') else ""))
                    try:
                        os.unlink(out)
                    except OSError:
                        pass
        finally:
            target.stop()
        result[str(n)] = summarize_threads(per)
        for name, why in errors.items():
            notes.append(f"{name} on {n:,} threads: {why}")
    return result, notes


def summarize_threads(per):
    """Medians of measurement 4's runs, per sampler."""
    out = {}
    for name, ms in per.items():
        if not ms:
            continue
        for m in ms:
            # process samples: the sampler's own count where it gives one
            if m.get("samples") is None and m.get("requested") is not None:
                m["samples"] = m["requested"] - m["missed"]
        out[name] = {
            "us_per_thread_sample": med([m["us_per_thread_sample"] for m in ms]),
            "samples_per_s": med([m["samples"] / m["seconds"] if m.get("samples")
                                  else m["samples_per_s"] for m in ms]),
            "threads_seen": med([m["thread_samples"] / m["samples"] for m in ms
                                 if m.get("samples")]),
            "missed_pct": med([100.0 * m["missed"] / m["requested"] for m in ms
                               if m.get("requested")]),
            "files_short": max((m.get("files_short") or 0) for m in ms),
            "runs": ms,
        }
    return out


STEADY_FROM = 3.0

# what --only takes: 1. maximum rate, 2. slowdown, 3. memory, 4. thousands
# of threads, 5. process tree, 6. serve's overhead
SECTIONS = ("rate", "slowdown", "memory", "threads", "tree", "serve")


def running(pid):
    """Not exited (without reaping it: Child.wait() wants its rusage)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def measure_steady(tools, name, pid, seconds, outfile, nthreads):
    c = tools.start(name, pid, 100, seconds + (0 if name != "py-spy" else 60), outfile)
    c.t_stop = None
    marks = []
    t_end = time.monotonic() + seconds + (30 if name == "py-spy" else 0)
    if name == "py-spy":
        c.seen.wait(timeout=30)
        t_end = time.monotonic() + seconds
    while running(c.proc.pid) and time.monotonic() < t_end:
        v = task_cpu_ns(c.proc.pid)
        if v is not None:
            marks.append((time.monotonic() - c.t_start, v))
        time.sleep(0.1)
    if name == "py-spy":
        c.t_stop = time.monotonic()
        c.interrupt()
    status = c.wait(timeout=seconds + 120)
    if status not in (0, None) and not (name == "py-spy" and status in (0, 1, -2, 130)):
        raise RuntimeError(f"{name} exited {status}: {c.text()[-400:]}")
    ts, n, secs = tools.count(name, c, outfile)
    steady = [(t, v) for t, v in marks if t >= STEADY_FROM]
    if len(steady) < 2 or not secs or not ts:
        raise RuntimeError(f"{name}: too short a run to measure ({len(steady)} readings, "
                           f"{ts} thread-samples)")
    (t0, v0), (t1, v1) = steady[0], steady[-1]
    window_ts = ts * (t1 - t0) / secs
    m = {"us_per_thread_sample": (v1 - v0) / 1e3 / window_ts if window_ts else None,
         "samples_per_s": ts / nthreads / secs, "thread_samples": ts, "seconds": secs,
         "samples": n,
         "cpu_window_s": (v1 - v0) / 1e9, "window_s": t1 - t0}
    if name in ("gilscope", BASE):
        doc = json.loads(Path(outfile).read_text())
        m["requested"] = doc["sampling"]["requested"]
        m["missed"] = doc["sampling"]["missed"]
        m["files_short"] = doc["sampling"].get("files_short")
    elif name == "profiling.sampling" and n is not None:
        m["requested"] = round(100 * secs)
        m["missed"] = max(0, m["requested"] - n)
    return m


# --- 6. serve ---------------------------------------------------------------------------------

def stat_cpu_s(pid):
    """utime + stime of process pid (all its threads) from /proc/PID/stat, in
    seconds (10 ms ticks), or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            v = f.read().rsplit(")", 1)[1].split()
        return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serving(port, n, timeout=30):
    """Wait until serve at port says it samples n processes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
                if re.search(rf"^gilscope_targets {n}$", r.read().decode(), re.M):
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"serve did not sample {n} processes within {timeout} s")


def serve_overhead(gilscope, py, counts, runs, seconds, pairs, win, settle):
    """Measurement 6: `gilscope serve` at its default rate over N targets of
    two busy Python threads each. Per N, `runs` serve processes are started
    in turn on the same targets; in each, once it samples all N, its CPU time
    (/proc/PID/stat utime+stime, and every thread's schedstat) over `seconds`
    s of wall time, divided by N; medians over the runs. With the first of
    them, the targets' slowdown by the paired windows of measurement 2 (serve
    paused and resumed), and the A/A control (paused in both)."""
    out = {}
    for n in counts:
        targets = []
        res = {"cpu": [], "pairs": None, "control": None}
        try:
            for _ in range(n):
                targets.append(Target(py, 2, 0))
            for r in range(runs):
                port = free_port()
                argv = [gilscope, "serve", "--listen", f"127.0.0.1:{port}"]
                for t in targets:
                    argv += ["--pid", str(t.pid)]
                c = Child(argv)
                try:
                    serving(port, n)
                    time.sleep(1.0)     # past attaching
                    s0, c0, t0 = stat_cpu_s(c.proc.pid), task_cpu_ns(c.proc.pid), time.monotonic()
                    time.sleep(seconds)
                    s1, c1, t1 = stat_cpu_s(c.proc.pid), task_cpu_ns(c.proc.pid), time.monotonic()
                    res["cpu"].append({"stat_pct": 100.0 * (s1 - s0) / (t1 - t0) / n,
                                       "schedstat_pct": 100.0 * (c1 - c0) / 1e9 / (t1 - t0) / n,
                                       "seconds": t1 - t0})
                    log(f"serve over {n}: run {r + 1}: {res['cpu'][-1]['stat_pct']:.3f}% "
                        f"(stat), {res['cpu'][-1]['schedstat_pct']:.3f}% (schedstat) per process")
                    if r == 0:
                        res["pairs"] = pairs_summary(paired_windows(targets, c, False, pairs,
                                                                    win, settle))
                        res["control"] = pairs_summary(paired_windows(targets, c, True, pairs,
                                                                      win, settle))
                        log(f"serve over {n}: slowdown wall {fmt_ci(res['pairs']['wall'])}, "
                            f"cpu {fmt_ci(res['pairs']['cpu'])}; control wall "
                            f"{fmt_ci(res['control']['wall'])}, cpu {fmt_ci(res['control']['cpu'])}")
                except Exception as e:  # noqa: BLE001 - report, do not crash the bench
                    log(f"serve over {n}: {e}")
                finally:
                    stop_paused(c)
        finally:
            for t in targets:
                t.stop()
        res["stat_pct"] = med([x["stat_pct"] for x in res["cpu"]])
        res["schedstat_pct"] = med([x["schedstat_pct"] for x in res["cpu"]])
        out[str(n)] = res
    return out


def serve_section(doc):
    """Measurement 6, as markdown lines."""
    sv = doc.get("serve")
    if not sv:
        return []
    meta = doc["serve_meta"]
    lines = []
    w = lines.append
    w("## 6. `gilscope serve`: overhead at the default rate (20 Hz)")
    w("")
    w(stamp(meta))
    w("")
    w(f"Targets: N processes of `workers.py 2 0` on {meta['python']} (two CPU-bound Python "
      "threads each, counting their own work), sampled by one `gilscope serve --pid ... "
      "--listen 127.0.0.1:PORT` at its default rate, 20 Hz. **gilscope CPU per process** = "
      "serve's CPU time over a window of "
      f"{meta['seconds']:g} s of wall time (from 1 s after its /metrics first showed "
      "`gilscope_targets N`), all its threads (the HTTP thread and the process-table rescan "
      "every second included), / N / wall time, as % of one core; medians of "
      f"{meta['runs']} serve processes, min–max in parentheses, read from /proc/PID/stat "
      "(utime+stime, 10 ms ticks) and from every thread's schedstat (ns). **Target "
      "slowdown**: with the first serve process, the paired windows of section 2 "
      f"({meta['pairs']} pairs of {meta['window_s']:g} s windows, serve paused by SIGSTOP in "
      f"one and running in the other, {meta['settle_s']:g} s settle), the targets' work "
      "rates summed over the N processes, against wall time and against their CPU time; mean "
      "of the paired slowdowns and 95% interval; **control**: serve paused in both windows "
      "(A/A), the smallest slowdown the run can resolve. Positive = slower.")
    w("")
    w("| processes | gilscope CPU per process (stat) | (schedstat) | slowdown, work / wall time | "
      "slowdown, work / target CPU time | control, wall | control, CPU | pairs |")
    w("|---|---|---|---|---|---|---|---|")
    for n, r in sv.items():
        p, c = r.get("pairs") or {}, r.get("control") or {}
        w(f"| {n} | {fmt_stat(r['stat_pct'], '%', digits=3)} | "
          f"{fmt_stat(r['schedstat_pct'], '%', digits=3)} | {fmt_ci(p.get('wall'))} | "
          f"{fmt_ci(p.get('cpu'))} | {fmt_ci(c.get('wall'))} | {fmt_ci(c.get('cpu'))} | "
          f"{len(p.get('pairs', []))} |")
    w("")
    return lines


def threads_section(doc):
    """The thread-scaling table (measurement 4), as markdown lines."""
    th = doc.get("threads")
    if not th:
        return []
    lines = []
    w = lines.append
    w(f"## 4. Thousands of threads (Python {th['tag']}, 100 Hz)")
    w("")
    w(f"Generated by `{th['command']}` (bench/run.py) on {th['date']}; took "
      f"{th['elapsed_s'] / 60:.1f} min; medians of {th['runs']} runs of {th['seconds']} s, "
      "min–max in parentheses; load average at start "
      f"{' '.join(th['loadavg_start'])}, at end {' '.join(th['loadavg_end'])}. "
      f"Target: `workers.py 4 N-4` on {th['python']} (4 CPU-bound threads, the rest "
      "blocked on an Event, in a sleep and on a socket read). Each sampler at 100 Hz; cost = "
      "its CPU time (every thread's schedstat, read from /proc every 0.1 s) per thread-sample "
      f"over the steady part of the run (from {STEADY_FROM:g} s after it started: attaching and "
      "the first read of every thread are not a cost per sample), the thread-samples of that "
      "part counted pro rata from its output. rate = samples/s it delivered (100 asked); "
      "threads seen = thread-samples per sample, where the sampler counts its samples; "
      "missed = deadlines it skipped (gilscope's own count; profiling.sampling: 100 × seconds "
      "less the samples it says it captured; py-spy does not say, see its rate). From 256 "
      "threads on, gilscope reads the kernel's context-switch records (perf events: the bench "
      "runs as root) and reads only the threads that ran; below, and without the records, it "
      "asks each thread its /proc schedstat (README, How it samples).")
    w("")
    w("Versions: " + "; ".join(f"{k} {v}" for k, v in th.get("versions", {}).items()
                               if k != "austin") + ".")
    w("")
    names = []
    for per in th["results"].values():
        for n in per:
            if n not in names:
                names.append(n)
    w("| threads | sampler | cost µs/thread-sample | rate samples/s | missed | threads seen |")
    w("|---|---|---|---|---|---|")
    for count, per in th["results"].items():
        for n in names:
            s = per.get(n)
            if not s:
                continue
            miss = fmt_stat(s["missed_pct"], "%", digits=1) if s.get("missed_pct") else "—"
            seen = f"{s['threads_seen']['median']:,.0f}" if s.get("threads_seen") else "—"
            w(f"| {int(count):,} | {n} | {fmt_stat(s['us_per_thread_sample'], digits=2)} | "
              f"{fmt_stat(s['samples_per_s'], digits=1)} | {miss} | {seen} |")
    w("")
    for count, per in th["results"].items():
        s = per.get("gilscope")
        if s and s.get("files_short"):
            w(f"- {int(count):,} threads: the open-file limit kept up to {s['files_short']:,} "
              "threads' /proc files from staying open (gilscope said so in its report)")
    if th.get("skipped"):
        for line in th["skipped"]:
            w(f"- {line}")
    w("")
    return lines


def splice_section(path, lines, heading="## 4. Thousands of threads"):
    """Put a section (its first line starts with `heading`) into RESULTS.md
    in place of the one there, or before '## How each sampler', leaving the
    rest as is."""
    try:
        text = Path(path).read_text()
    except OSError:
        text = ""
    section = "\n".join(lines).rstrip("\n") + "\n\n"
    start = text.find("\n" + heading)
    start = 0 if text.startswith(heading) else (start + 1 if start >= 0 else -1)
    if start >= 0:
        end = text.find("\n## ", start + 1)
        end = len(text) if end < 0 else end + 1
        text = text[:start] + section + text[end:]
    else:
        at = text.find("## How each sampler")
        if at < 0:
            text = text.rstrip("\n") + "\n\n" + section
        else:
            text = text[:at] + section + text[at:]
    Path(path).write_text(text)


def goal_section(goal):
    """Which measurement a row of the summary belongs to."""
    if goal.startswith("slowdown"):
        return "slowdown"
    if goal.startswith(("peak memory", "flat")):
        return "memory"
    return "rate"


def goal_line(row):
    met = {True: "yes", False: "**no**"}.get(row["met"], "not resolved")
    return f"| {row['goal']} | {row['measured']} | {met} |"


def splice_goals(path, rows, sections):
    """Replace the summary rows of the measurements in `sections` by `rows`."""
    lines = Path(path).read_text().split("\n")
    try:
        top = next(i for i, x in enumerate(lines) if x.startswith("## Summary"))
        head = next(i for i in range(top, len(lines)) if lines[i].startswith("|---"))
    except StopIteration:
        return
    end = head + 1
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    kept = [x for x in lines[head + 1:end]
            if goal_section(x[2:].split(" | ")[0]) not in sections]
    lines[head + 1:end] = kept + [goal_line(r) for r in rows]
    Path(path).write_text("\n".join(lines))


def old_skipped(path):
    """The 'Skipped:' lines of the RESULTS.md there (kept when only some
    sections are measured)."""
    try:
        text = Path(path).read_text()
    except OSError:
        return []
    at = text.find("\nSkipped:")
    if at < 0:
        return []
    return [x[2:] for x in text[at:].split("\n") if x.startswith("- ")]


def stamp(meta):
    """When, where and how loaded a measurement ran, for its section."""
    return (f"Generated by `{meta['command']}` (bench/run.py) on {meta['date']}; took "
            f"{meta['elapsed_s'] / 60:.1f} min; load average at start "
            f"{' '.join(meta['loadavg_start'])}, at end {' '.join(meta['loadavg_end'])}; "
            f"machine: {meta['machine']}.")


def fmt_ci(c):
    if not c:
        return "—"
    return f"{c['mean']:+.2f}% [{c['lo']:+.2f}, {c['hi']:+.2f}]"


def slowdown_section(doc):
    """Measurement 2, as markdown lines."""
    sds = doc.get("slowdown")
    if not sds:
        return []
    lines = []
    w = lines.append
    w("## 2. Target slowdown (target (a), 5 CPU-bound threads)")
    w("")
    meta = doc.get("slowdown_meta")
    if meta:
        w(stamp(meta))
        w("")
    sd0 = next((x for x in sds.values() if "jobs" in x), None)
    if sd0:
        w(f"Per sampler and rate, ONE sampler process runs on the target and is paused "
          f"(SIGSTOP to the sampler, never to the target) and resumed (SIGCONT) so that "
          f"{sd0['pairs']} pairs of {sd0['window_s']:g} s windows, one sampled and one not, in a "
          f"random order within each pair, alternate; each window starts {sd0['settle_s']:g} s "
          "after the sampler was resumed or paused (a sampler that catches up on deadlines it "
          "missed while paused does it there). In each window the target's work units are "
          "counted (by the target, on its own clock) against wall time and against the "
          "target's own CPU time (every thread's schedstat, read at the window's edges). "
          "Slowdown of a pair = 1 − sampled rate / unsampled rate; the table gives the mean "
          "over the pairs and its 95% confidence interval (Student's t on the paired "
          "differences). Positive = slower. **control** is an A/A comparison: a gilscope "
          "at 100 Hz attached but paused in both windows; its interval's half-width is the "
          "smallest slowdown the method can resolve on this machine in this run. target "
          "CPUs = the target's CPU time / wall time (medians over the sampled and the "
          "unsampled windows): a GIL-bound target keeps about one CPU busy when nothing "
          "else runs, and less when other work on the machine takes its CPU, which moves "
          "the wall-time figure and not the CPU-time one. sampler CPU = the sampler's CPU "
          "time / wall time in its sampled windows (CPUs).")
        w("")
    w("| interpreter | sampler | rate Hz | slowdown, work / wall time | slowdown, work / target CPU time "
      "| target CPUs sampled / unsampled | sampler CPU | pairs |")
    w("|---|---|---|---|---|---|---|---|")
    res_lines = []
    for tag, sd in sds.items():
        if "jobs" not in sd:
            continue
        keys = sorted(sd["jobs"], key=lambda k: (k != CONTROL, k.split("@")[0] != "gilscope",
                                                 k.split("@")[0], int(k.split("@")[1]) if "@" in k else 0))
        for k in keys:
            j = sd["jobs"][k]
            n, r = (k.split("@") + [""])[:2]
            sc = j.get("sampler_cpu_on")
            sc_txt = f"{sc['median']:.3f}" if sc else "—"
            rate = f"{int(r):,}" if r else "—"
            cpus = [med([p[k]["target_cpus"] for p in j["pairs"]]) for k in ("on", "off")]
            cpus_txt = " / ".join(f"{c['median']:.2f}" if c else "—" for c in cpus)
            w(f"| {tag} | {n} | {rate} | {fmt_ci(j['wall'])} | {fmt_ci(j['cpu'])} | "
              f"{cpus_txt} | {sc_txt} | {len(j['pairs'])} |")
        ctl = sd["jobs"].get(CONTROL)
        base = next(iter(sd["jobs"].values()))["base_wall"]
        for what, label in (("wall", "wall time"), ("cpu", "CPU time")):
            c = ctl and ctl.get(what)
            if c and (c["lo"] > 0 or c["hi"] < 0):
                res_lines.append(f"{tag}: the control's interval on {label} excludes 0 "
                                 f"({fmt_ci(c)}): with the sampler paused in both windows they "
                                 "still differed, so in this run the windows were not alike "
                                 "(other work on the machine); read every interval on "
                                 f"{label} as at least that much less certain.")
        if ctl and ctl["wall"] and ctl["cpu"]:
            res_lines.append(f"{tag}: the smallest slowdown this run can resolve (the control's "
                             f"half-width): ±{ctl['wall']['half']:.2f}% on wall time, "
                             f"±{ctl['cpu']['half']:.2f}% on CPU time; the target did "
                             f"{fmt_stat(base)} units/s unsampled (median, min–max).")
    w("")
    for x in res_lines:
        w(f"- {x}")
    if res_lines:
        w("")
    return lines


def tree_section(doc):
    """Measurement 5, as markdown lines."""
    tr = doc.get("tree")
    if not tr:
        return []
    lines = []
    w = lines.append
    meta = doc["tree_meta"]
    w(f"## 5. Process tree (multiprocessing.Pool of {meta['workers']} workers, --subprocesses)")
    w("")
    w(stamp(meta))
    w("")
    w(f"Target: `pool.py {meta['workers']}` (bench/targets/pool.py): a `multiprocessing.Pool` "
      f"(fork) of {meta['workers']} worker processes, each running one task of CPU-bound "
      "Python (the work unit of workers.py) and counting its work; the parent waits on its "
      "stdin (4 threads: main and the pool's 3 handlers). Each sampler, with `--subprocesses`, "
      f"asked for 1,000,000 samples/s for {meta['seconds']} s on the parent's pid, "
      f"{meta['runs']} runs in a random order; medians, min–max in parentheses. "
      "thread-samples/s = thread stacks delivered over every process of the tree / seconds "
      "sampled; per process = thread-samples/s / the tree's threads (the rate at which each "
      "process was sampled); processes = how many of the tree's processes it took samples "
      "of; cost = its CPU time (user+sys, rusage of the child) per thread-sample; CPU = its "
      "CPU time / wall time. See the last section for how each one's samples are counted. "
      "With 8 CPU-bound workers on this machine's CPUs, the rate a sampler reaches is bounded "
      "by the CPU the scheduler gives it (gilscope samples from one thread, py-spy from one "
      "thread per process): the cost per thread-sample is the figure to compare.")
    w("")
    w("| interpreter | sampler | thread-samples/s (all processes) | samples/s per process | "
      "processes | cost µs/thread-sample | CPU |")
    w("|---|---|---|---|---|---|---|")
    for tag, per in tr.items():
        for n, s in per.items():
            w(f"| {tag} | {n} | {fmt_stat(s['thread_samples_per_s'])} | "
              f"{fmt_stat(s['samples_per_s'])} | {fmt_stat(s['processes'])} of {s['nprocs']} | "
              f"{fmt_stat(s['us_per_thread_sample'], digits=2)} | "
              f"{fmt_stat(s['cpu_share'], '%', 100)} |")
    w("")
    for tag, per in tr.items():
        g, p = per.get("gilscope"), per.get("py-spy")
        if g and p and p["thread_samples_per_s"]["median"]:
            w(f"- {tag}: gilscope {g['thread_samples_per_s']['median']:,.0f} vs py-spy "
              f"{p['thread_samples_per_s']['median']:,.0f} thread-samples/s = "
              f"{g['thread_samples_per_s']['median'] / p['thread_samples_per_s']['median']:.1f}×; "
              f"cost {g['us_per_thread_sample']['median']:.2f} vs "
              f"{p['us_per_thread_sample']['median']:.2f} µs/thread-sample")
    for x in meta.get("skipped", []):
        w(f"- {x}")
    w("")
    return lines


def how_section(doc, skipped):
    lines = ["## How each sampler was run and counted", ""]
    lines += [f"- {x}" for x in doc["how"]]
    lines.append("")
    if skipped:
        lines += ["Skipped:", ""] + [f"- {x}" for x in skipped] + [""]
    return lines


# --- interpreters ---------------------------------------------------------------------------

def find_pythons():
    """A 3.13 (for py-spy and Austin) and a 3.15 (for profiling.sampling)."""
    listed = os.environ.get("GILSCOPE_TEST_PYTHONS", "").split()
    cands = listed + sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[0-9]*/bin/python3.1[0-9]"))) \
        + sorted(glob.glob("/opt/gilscope-pythons/*/bin/python3.*")) \
        + [p for p in (shutil.which(f"python3.{m}") for m in (13, 12, 15)) if p]
    py13 = py15 = None
    for p in cands:
        if not os.access(p, os.X_OK) or p.endswith("t") or "t/bin" in p:
            continue
        try:
            v = subprocess.run([p, "-c", "import sys; print(sys.version_info[:2] == (3, 13), "
                                "sys.version_info[:2] == (3, 15), getattr(sys, '_is_gil_enabled', lambda: True)())"],
                               capture_output=True, text=True, timeout=20).stdout.split()
        except (OSError, subprocess.TimeoutExpired):
            continue
        if len(v) != 3 or v[2] != "True":
            continue
        if v[0] == "True" and not py13:
            py13 = p
        if v[1] == "True" and not py15:
            py15 = p
    return py13, py15


def py_version(p):
    return subprocess.run([p, "-c", "import sys; print(sys.version.split()[0])"],
                          capture_output=True, text=True).stdout.strip()


# --- the report -----------------------------------------------------------------------------

def fmt_stat(s, unit="", scale=1.0, digits=0):
    if not s:
        return "—"
    f = f"{{:,.{digits}f}}"
    return (f"{f.format(s['median'] * scale)}{unit} "
            f"({f.format(s['min'] * scale)}–{f.format(s['max'] * scale)})")


def rate_section(doc):
    """Measurement 1, as markdown lines."""
    if not doc.get("max_rate"):
        return []
    lines = []
    w = lines.append
    w("## 1. Maximum sustained rate")
    w("")
    w("Each sampler asked for 1,000,000 samples/s (a rate none can keep) for "
      f"{doc['rate_seconds']} s; thread-samples/s = thread stacks it delivered / seconds it "
      "sampled. cost = the sampler's own CPU time (user+sys, rusage of the child) per "
      "thread-sample; CPU = its CPU time / wall time.")
    w("")
    w("| target | interpreter | sampler | thread-samples/s | samples/s | cost µs/thread-sample | CPU |")
    w("|---|---|---|---|---|---|---|")
    for key, per in doc["max_rate"].items():
        tgt, tag = key.split("/")
        for n, s in per.items():
            w(f"| {tgt} | {tag} | {n} | {fmt_stat(s['thread_samples_per_s'])} | "
              f"{fmt_stat(s['samples_per_s'])} | {fmt_stat(s['us_per_thread_sample'], digits=2)} | "
              f"{fmt_stat(s['cpu_share'], '%', 100)} |")
    w("")
    w("gilscope against each peer, same target, same interpreter, same run (ratio of medians):")
    w("")
    for row in doc["ratios"]:
        w(f"- {row}")
    w("")
    return lines


def memory_section(doc):
    """Measurement 3, as markdown lines."""
    if not doc.get("memory"):
        return []
    lines = []
    w = lines.append
    w("## 3. Peak memory at 1 kHz on target (b)")
    w("")
    w("VmHWM of the sampler process (peak resident set), read from /proc during the run. "
      "gilscope ran alone; the peers ran together afterwards.")
    w("")
    w("| sampler | VmHWM after early s | VmHWM at end | note |")
    w("|---|---|---|---|")
    for n, e in doc["memory"].items():
        note = ""
        if "taken" in e:
            note = f"{e['taken']:,} of {e['requested']:,} samples taken"
        early = f"{e['vmhwm_early_kb'] / 1024:.1f} MB at {e['early_s']} s" if e.get("vmhwm_early_kb") else "—"
        end = f"{e['vmhwm_end_kb'] / 1024:.1f} MB at {e['end_s']} s" if e.get("vmhwm_end_kb") else "—"
        w(f"| {n} | {early} | {end} | {note} |")
    w("")
    return lines


def report(doc):
    m = doc["machine"]
    lines = []
    w = lines.append
    w("# gilscope benchmark results")
    w("")
    base = (f" BENCH_BASELINE=<a build of {doc.get('baseline_version') or '?'}>"
            f" BENCH_BASELINE_VERSION={doc.get('baseline_version') or '?'}"
            if doc.get("baseline") else "")
    w(f"Generated by `make bench{' BENCH_QUICK=1' if doc['quick'] else ''}{base}` (bench/run.py) on "
      f"{doc['date']}; took {doc['elapsed_s'] / 60:.1f} min. Medians of {doc['runs']} runs, "
      "min–max in parentheses. See bench/README.md for the method and the history.")
    w("")
    w("## Machine")
    w("")
    w(f"- {m['nproc']} CPUs: {m['cpu']}; {m['mem_mb']:,} MB RAM; Linux {m['kernel']}")
    w(f"- load average at start {' '.join(m['loadavg_start'])}, at end {' '.join(m['loadavg_end'])}")
    w(f"- CPU busy on the whole machine during the run: {m['busy_pct']:.0f}% of {m['nproc']} CPUs "
      "(the bench itself included; other work on the machine makes every sampler slower and noisier)")
    if doc.get("niced"):
        w(f"- targets and all samplers ran at nice {NICE} (ahead of unrelated work, equal "
          "among themselves)")
    w("")
    w("## Versions")
    w("")
    for k, v in doc["versions"].items():
        w(f"- {k}: {v}")
    if doc.get("baseline"):
        w(f"- {BASE}: a build of {doc.get('baseline_version') or 'an earlier commit'}, "
          "measured for the maximum rate only, never counted as a peer")
    for tag, p in doc["pythons"].items():
        w(f"- target interpreter {tag}: {p['path']} (Python {p['version']})")
    w("")

    w("## Summary: gilscope against the goals of issue 5")
    w("")
    w("| goal | measured | met |")
    w("|---|---|---|")
    for row in doc["goals"]:
        w(goal_line(row))
    w("")

    lines += rate_section(doc)
    lines += slowdown_section(doc)
    lines += memory_section(doc)
    lines += threads_section(doc)
    lines += tree_section(doc)
    lines += serve_section(doc)
    lines += how_section(doc, doc.get("skipped"))
    return "\n".join(lines)


HOW = [
    "**gilscope**: `gilscope diagnose --pid PID -r RATE -d SECONDS --json --no-progress -o F` "
    "(full state classification, all eight states). thread-samples = the sum of the "
    "per-thread `samples` in the JSON; seconds = its `duration_s`; process samples = "
    "`sampling.taken`.",
    "**py-spy**: `py-spy record --pid PID --rate RATE --nonblocking --idle --format raw -o F`, "
    "stopped with SIGINT after SECONDS (its `--duration` counts samples, RATE × SECONDS, not "
    "time). `--idle` makes it report every thread in every sample as the others do. "
    "thread-samples = the sum of the counts in the raw (collapsed) output; seconds = from "
    "its 'Sampling process' line to the SIGINT.",
    "**Austin 3.7** (austin-dist 3.7.0): `austin -i INTERVAL -x SECONDS -p PID -o F` with "
    "INTERVAL 0 for the maximum rate and 1e6/RATE µs otherwise; wall mode (all threads). "
    "thread-samples = the sample lines of its output (one per thread per sample); seconds = "
    "its `# duration:`.",
    "**profiling.sampling** (CPython 3.15): `python3.15 -m profiling.sampling attach -a "
    "-r RATEhz -d SECONDS --collapsed -o F PID` (`-a`: all threads; wall mode). "
    "thread-samples = the sum of the counts in the collapsed output; seconds and process "
    "samples from its 'Captured N samples in S seconds' line. The highest rate its CLI "
    "takes is 1,000,000 Hz (a 1 µs interval).",
    "Slowdown windows: each sampler is started (with a duration of an hour: it is stopped "
    "with SIGINT at the end), given 1 s to attach (py-spy: 1 s after its 'Sampling process' "
    "line), then paused and resumed with SIGSTOP/SIGCONT sent to the sampler's process for "
    "the windows; the target's work counter is read at the start and the end of each window "
    "(the target answers on a pipe, timestamped by the target itself) and its CPU time from "
    "/proc/PID/task/*/schedstat at the same edges. A sampler that is behind its deadlines "
    "when resumed behaves as it does: gilscope counts the deadlines it missed and goes on "
    "from the next; py-spy takes the samples it owes back to back (its 'behind in sampling' "
    "catch-up), within the settle time at 100 Hz, not always at 1 kHz and never at 10 kHz "
    "(it cannot keep 10 kHz at all, so it samples flat out either way): see the sampler CPU "
    "column.",
    "Process tree (section 5): **gilscope** `diagnose --pid PARENT --subprocesses -r 1000000 "
    "-d SECONDS --json`: one sampling loop visits every process of the tree at each tick; "
    "thread-samples = the sum, over the per-process reports (`processes[].diagnosis`), of "
    "their threads' `samples`; seconds = the top-level `duration_s` (attaching to the tree "
    "included); process samples = `sampling.taken` (ticks, each a sample of every process). "
    "**py-spy** `record --pid PARENT --subprocesses --rate 1000000 --nonblocking --idle "
    "--format raw`, stopped with SIGINT: it samples each process from a thread of its own; "
    "thread-samples = the sum of the counts of its raw output, all processes together (each "
    "stack is rooted at `process PID:\"cmd\"` frames, which give the per-process counts); "
    "seconds = from its 'Sampling process' line to the SIGINT (it finds the children after "
    "that line, so its seconds include its attaching, as gilscope's do). Both count every "
    "thread of every process in every sample (py-spy with `--idle`), the parent's four "
    "included.",
]


def goals(doc):
    rows = []

    def g(tag):
        return doc["max_rate"].get(tag, {})
    for tgt, key, goal in (("a", "rate_a", GOALS["rate_a"]), ("b", "rate_b", GOALS["rate_b"])):
        for tag in doc["pythons"]:
            s = g(f"{tgt}/{tag}").get("gilscope")
            if not s:
                continue
            v = s["thread_samples_per_s"]["median"]
            rows.append({"goal": f"≥ {goal:,} thread-samples/s on target ({tgt}), {tag}",
                         "measured": f"{v:,.0f}", "met": v >= goal})
            peers = {n: x["thread_samples_per_s"]["median"] for n, x in g(f"{tgt}/{tag}").items()
                     if n not in ("gilscope", BASE)}
            if peers:
                best = max(peers, key=peers.get)
                rows.append({"goal": f"more thread-samples/s than every peer on ({tgt}), {tag}",
                             "measured": f"gilscope {v:,.0f}; best peer {best} {peers[best]:,.0f}",
                             "met": v > peers[best]})
    rows += slowdown_goals(doc)
    e = next((v for k, v in doc["memory"].items() if k.startswith("gilscope")), None)
    if e and e.get("vmhwm_end_kb"):
        mb = e["vmhwm_end_kb"] / 1024
        rows.append({"goal": f"peak memory ≤ {GOALS['mem_mb']} MB after {e['end_s']} s at 1 kHz on (b)",
                     "measured": f"{mb:.1f} MB", "met": mb <= GOALS["mem_mb"]})
        if e.get("vmhwm_early_kb"):
            grow = e["vmhwm_end_kb"] - e["vmhwm_early_kb"]
            rows.append({"goal": f"flat: VmHWM at {e['early_s']} s vs {e['end_s']} s",
                         "measured": f"{e['vmhwm_early_kb'] / 1024:.1f} MB → {mb:.1f} MB "
                                     f"({grow / 1024:+.2f} MB)",
                         "met": grow <= max(1024, e["vmhwm_early_kb"] * 0.05)})
    return rows


def slowdown_goals(doc):
    """Met when the upper ends of the 95% intervals of the slowdown, on wall
    time and on CPU time, are both under the limit; not met when either's
    lower end is over it; not resolved otherwise, or when the control's
    half-width (for that measure) is not under the limit."""
    rows = []
    for tag, sd in doc["slowdown"].items():
        jobs = sd.get("jobs", {})
        ctl = jobs.get(CONTROL)
        for r, key, lim in ((100, "slow_100", GOALS["slow_100"]), (1000, "slow_1k", GOALS["slow_1k"])):
            j = jobs.get(f"gilscope@{r}")
            if not j or not j["wall"]:
                continue
            met = True
            measured = []
            for what, label in (("wall", "wall time"), ("cpu", "CPU time")):
                c = j[what]
                res = ctl[what]["half"] if ctl and ctl.get(what) else None
                measured.append(f"{label} {fmt_ci(c)}" + (f" (resolves ±{res:.2f}%)" if res is not None
                                                          else " (no control)"))
                if not c or res is None or res >= lim:
                    met = met and None      # the method cannot tell
                elif c["lo"] > lim:
                    met = False
                elif c["hi"] >= lim:
                    met = met and None
            rows.append({"goal": f"slowdown ≤ {lim:g}% at {r} Hz, {tag} (95% CIs, on wall and on "
                                 "CPU time)",
                         "measured": "; ".join(measured), "met": met})
    return rows


def ratios(doc):
    out = []
    for key, per in doc["max_rate"].items():
        if "gilscope" not in per:
            continue
        gv = per["gilscope"]["thread_samples_per_s"]["median"]
        for n, s in per.items():
            if n == "gilscope":
                continue
            pv = s["thread_samples_per_s"]["median"]
            if n == BASE:
                tgt, tag = key.split("/")
                before = doc.get("baseline_version") or doc.get("baseline")
                out.append(f"target ({tgt}), {tag}: gilscope {gv:,.0f} vs gilscope before "
                           f"({before}) {pv:,.0f} thread-samples/s = {gv / pv:.1f}×" if pv else
                           f"target ({tgt}), {tag}: gilscope before took no samples")
                continue
            tgt, tag = key.split("/")
            out.append(f"target ({tgt}), {tag}: gilscope {gv:,.0f} vs {n} {pv:,.0f} thread-samples/s "
                       f"= {gv / pv:.1f}×" if pv else f"target ({tgt}), {tag}: {n} took no samples")
    return out


def write_partial(out, doc, only):
    """Put the sections in `only` (and their rows of the summary) into
    RESULTS.md in place of the ones there, the rest as it is."""
    for name, render, heading in (("rate", rate_section, "## 1."),
                                  ("slowdown", slowdown_section, "## 2."),
                                  ("memory", memory_section, "## 3."),
                                  ("threads", threads_section, "## 4."),
                                  ("tree", tree_section, "## 5."),
                                  ("serve", serve_section, "## 6.")):
        lines = render(doc) if name in only else []
        if lines:       # nothing measured: the section there stays
            splice_section(out, lines, heading)
    splice_goals(out, [r for r in doc["goals"] if goal_section(r["goal"]) in only],
                 only & {"rate", "slowdown", "memory"})
    skipped = old_skipped(out)
    skipped += [x for x in doc["skipped"] if x not in skipped]
    splice_section(out, how_section(doc, skipped), "## How each sampler")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--gilscope", default=str(REPO / "gilscope"))
    ap.add_argument("--venv", default=str(HERE / ".venv"))
    ap.add_argument("--output", default=str(HERE / "RESULTS.md"))
    ap.add_argument("--baseline-version", default=None, help="what the baseline is (a commit)")
    ap.add_argument("--baseline", help="an older gilscope binary to measure beside the current "
                    "one (maximum rate only), e.g. one built from an earlier commit")
    ap.add_argument("--threads-only", action="store_true",
                    help="measure only the thread-scaling table (measurement 4) and put it "
                    "into RESULTS.md in place of the one there, leaving the other sections")
    ap.add_argument("--only", metavar="SECTION[,SECTION]",
                    help="measure only these sections (" + ", ".join(SECTIONS) + ") and put "
                    "them (and their rows of the summary) into RESULTS.md in place of the "
                    "ones there, leaving the others")
    ap.add_argument("--thread-counts", default="200,1000,2000,10000",
                    help="thread counts of measurement 4 (comma-separated)")
    ap.add_argument("--report-only", metavar="JSON",
                    help="write RESULTS.md again from the raw results of an earlier run "
                    "(bench/out/results-*.json), measuring nothing")
    args = ap.parse_args()

    only = set(SECTIONS)
    if args.only:
        only = {x.strip() for x in args.only.split(",") if x.strip()}
        if not only or only - set(SECTIONS):
            ap.error(f"--only: sections are {', '.join(SECTIONS)}")
    if args.threads_only:
        only = {"threads"}
    partial = only != set(SECTIONS)
    if args.report_only:
        doc = json.loads(Path(args.report_only).read_text())
        doc["how"] = HOW
        doc["goals"] = goals(doc)
        if partial:
            write_partial(args.output, doc, only)
        else:
            Path(args.output).write_text(report(doc) + "\n")
        log(f"wrote {args.output} from {args.report_only}")
        return
    OUT.mkdir(exist_ok=True)
    t_begin = time.monotonic()
    busy0 = cpu_times()
    quick = args.quick
    runs = 3 if quick else 5
    rate_seconds = 2 if quick else 4
    pairs_n, window, settle = (12, 0.5, 0.3) if quick else (30, 0.5, 0.3)
    mem_seconds, mem_early = (15, 5) if quick else (60, 10)

    py13, py15 = find_pythons()
    venv = Path(args.venv)
    tools = Tools(args.gilscope, venv if venv.exists() else None, py15,
                  os.path.abspath(args.baseline) if args.baseline else None)
    doc = {"date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
           "quick": quick, "runs": runs, "rate_seconds": rate_seconds, "niced": can_nice(),
           "machine": machine(), "versions": tools.versions(), "pythons": {},
           "max_rate": {}, "slowdown": {}, "memory": {}, "how": HOW, "skipped": [],
           "baseline": args.baseline, "baseline_version": args.baseline_version}
    interps = []
    pairs_wanted = (("3.13", py13, False), ("3.15", py15, True))
    if only == {"threads"}:
        # the table needs only the interpreter every peer reads
        pairs_wanted = (("3.15", py15, True),) if py15 else (("3.13", py13, False),)
    if only == {"serve"}:
        pairs_wanted = (("3.13", py13, False),) if py13 else (("3.15", py15, True),)
    for tag, p, is315 in pairs_wanted:
        if not p:
            doc["skipped"].append(f"no Python {tag} found")
            continue
        doc["pythons"][tag] = {"path": p, "version": py_version(p)}
        names = tools.names(is315)
        # probe: a sampler that cannot read this interpreter is left out
        t = Target(p, 5, 0)
        try:
            ok_names = []
            for n in names:
                ok, why = tools.probe(n, t.pid, is315)
                if ok:
                    ok_names.append(n)
                else:
                    doc["skipped"].append(f"{n} on Python {tag}: could not sample it ({why})")
        finally:
            t.stop()
        interps.append((tag, p, ok_names))
        log(f"Python {tag}: {p}: {', '.join(ok_names)}")
    if not tools.pyspy or not tools.austin:
        doc["skipped"].append("py-spy/austin not installed in bench/.venv (make bench installs them)")

    counts = [int(x) for x in args.thread_counts.split(",") if x.strip()]
    th_runs = 3
    th_seconds = 8

    def run_threads():
        # on the interpreter every peer reads: 3.15 (profiling.sampling reads only its own)
        tag, p, names = interps[-1]
        names = [n for n in names if n != "austin"]
        t0 = time.monotonic()
        load0 = open("/proc/loadavg").read().split()[:3]
        cmd = "make bench BENCH_THREADS=1" + (f" BENCH_BASELINE=<a build of "
                                              f"{args.baseline_version or '?'}>"
                                              if args.baseline else "")
        log(f"threads: {', '.join(names)} on {tag}, {counts}")
        res, notes = threads_scale(tools, p, tag, names, counts, th_runs, th_seconds, {})
        return {"tag": tag, "python": doc["pythons"][tag]["path"], "results": res,
                "runs": th_runs, "seconds": th_seconds, "command": cmd,
                "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
                "elapsed_s": time.monotonic() - t0, "loadavg_start": load0,
                "loadavg_end": open("/proc/loadavg").read().split()[:3],
                "versions": doc["versions"], "skipped": notes}

    if not interps:
        log("no Python 3.15 or 3.13 found")
        sys.exit(1)
    command = "make bench" + (" BENCH_QUICK=1" if quick else "") + \
        (f" BENCH_ONLY={','.join(s for s in SECTIONS if s in only)}" if partial else "")
    mach = (f"{doc['machine']['nproc']} CPUs ({doc['machine']['cpu']}), Linux "
            f"{doc['machine']['kernel']}")

    def timed(fn):
        """Run one measurement; when, how long and how loaded, for its section."""
        t0 = time.monotonic()
        load0 = open("/proc/loadavg").read().split()[:3]
        date = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
        res = fn()
        return res, {"command": command, "date": date, "elapsed_s": time.monotonic() - t0,
                     "loadavg_start": load0, "machine": mach,
                     "loadavg_end": open("/proc/loadavg").read().split()[:3]}

    if "rate" in only:
        for tag, p, names in interps:
            for tgt, busy, blocked in (("a", 5, 0), ("b", 2, 198)):
                log(f"max rate: target ({tgt}) on {tag}")
                doc["max_rate"][f"{tgt}/{tag}"] = max_rate(tools, p, f"{tgt}-{tag}", busy, blocked,
                                                           names, runs, rate_seconds)
    if "slowdown" in only:
        # gilscope on both interpreters, each peer on one (py-spy and Austin on
        # 3.13, profiling.sampling on 3.15) to keep within the time; and the
        # A/A control on each
        def run_slowdown():
            out = {}
            for i, (tag, p, names) in enumerate(interps):
                peers = [n for n in names if n not in ("gilscope", BASE) and (n != "py-spy" or i == 0)]
                jobs = [(n, r) for n in ["gilscope"] + peers for r in (100, 1000, 10000)]
                jobs.append((CONTROL, None))
                log(f"slowdown on {tag}: {', '.join(['gilscope'] + peers)} and the control")
                out[tag] = slowdown(tools, p, tag, jobs, pairs_n, window, settle)
            return out
        doc["slowdown"], doc["slowdown_meta"] = timed(run_slowdown)
    if "threads" in only:
        doc["threads"] = run_threads()
        if not args.threads_only:
            doc["threads"]["command"] = doc["threads"]["command"].replace(
                "make bench BENCH_THREADS=1", command)
    if "tree" in only:
        workers = 8

        def run_tree():
            out = {}
            for tag, p, names in interps:
                names = [n for n in names if n in ("gilscope", "py-spy")]
                log(f"process tree on {tag}: {', '.join(names)}")
                out[tag] = max_rate(tools, p, f"tree-{tag}", 0, 0, names, runs, rate_seconds,
                                    pool=workers)
            return out
        doc["tree"], doc["tree_meta"] = timed(run_tree)
        doc["tree_meta"].update({"workers": workers, "runs": runs, "seconds": rate_seconds,
                                 "skipped": [x for x in doc["skipped"] if x.startswith("py-spy")]})
    if "serve" in only:
        tag, p, _ = interps[0]
        sv_runs, sv_seconds = (3, 4) if quick else (5, 10)
        log(f"serve over 1 and 4 processes on {tag}")
        doc["serve"], doc["serve_meta"] = timed(lambda: serve_overhead(
            args.gilscope, p, (1, 4), sv_runs, sv_seconds, pairs_n, window, settle))
        doc["serve_meta"].update({"python": f"Python {doc['pythons'][tag]['version']}",
                                  "runs": sv_runs, "seconds": sv_seconds, "pairs": pairs_n,
                                  "window_s": window, "settle_s": settle})
    if "memory" in only:
        log("memory")
        pairs = [(p, [n for n in names if n != BASE]) for tag, p, names in interps]
        doc["memory"] = memory(tools, pairs, mem_seconds, mem_early, peers=not quick)

    busy1 = cpu_times()
    doc["machine"]["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    doc["machine"]["busy_pct"] = 100.0 * (busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1])
    doc["elapsed_s"] = time.monotonic() - t_begin
    doc["goals"] = goals(doc)
    doc["ratios"] = ratios(doc)
    when = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    (OUT / f"results-{when}.json").write_text(json.dumps(doc, indent=1))
    if partial:
        write_partial(args.output, doc, only)
        log(f"wrote {', '.join(sorted(only))} into {args.output} ({doc['elapsed_s'] / 60:.1f} min)")
    else:
        Path(args.output).write_text(report(doc) + "\n")
        log(f"wrote {args.output} ({doc['elapsed_s'] / 60:.1f} min)")
    for row in doc["goals"]:
        log(f"{ {True: 'ok ', False: 'NOT'}.get(row['met'], '?  ')} {row['goal']}: {row['measured']}")


if __name__ == "__main__":
    main()
