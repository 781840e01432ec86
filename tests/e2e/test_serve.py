"""End-to-end tests of `gilscope serve`, the Prometheus exporter.

A real Prometheus (Debian's `prometheus`, on loopback, a temporary data
directory, a 1 s scrape interval) scrapes `gilscope serve --match MARKER`
while a GIL-bound target (two threads of pure Python) and an I/O-bound one
(two threads blocked reading a pipe) run; the series it stored are read back
through its HTTP API. Ground truth for what the targets do comes from the
kernel (/proc: the workers' CPU time), not from gilscope. Further tests
scrape /metrics directly: the text format line by line, counters monotonic,
a process started after serve found by --match, profiles written, SIGTERM.

Every wait is for a condition, polled, with a deadline that fails the test.
"""
import gzip
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

import e2e_support as es

INTERPRETERS = "representative"
HERE = Path(__file__).resolve().parent
FLEET = HERE / "targets" / "fleet.py"
RATE = "50"
DEADLINE = 30.0          # for any condition to come true

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE_RE = re.compile(rf"^({NAME})(\{{(?:{LABEL}(?:,{LABEL})*)?\}})? (\S+)$")
HELP_RE = re.compile(rf"^# HELP ({NAME}) .*$")
TYPE_RE = re.compile(rf"^# TYPE ({NAME}) (counter|gauge|untyped|summary|histogram)$")


def free_port(host="127.0.0.1") -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_for(what, fn, deadline=DEADLINE, describe=lambda: ""):
    """Poll fn() until it returns something true; fail after `deadline` s."""
    end = time.monotonic() + deadline
    while True:
        got = fn()
        if got:
            return got
        if time.monotonic() > end:
            pytest.fail(f"not within {deadline:.0f}s: {what}\n{describe()}", pytrace=False)
        time.sleep(0.2)


def http_get(url, timeout=5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except (urllib.error.URLError, ConnectionError, socket.timeout):
        return None, ""


class Member:
    """A fleet.py target, ready once its workers run."""

    def __init__(self, it, mode, marker, then_exec=(), pass_fds=()):
        """then_exec: what to exec on exec_now() (fleet.py --then-exec);
        pass_fds: more fds for it to inherit."""
        ready_r, ready_w = os.pipe()
        then = ["--then-exec", *then_exec] if then_exec else []
        self.proc = subprocess.Popen([it.path, str(FLEET), mode, "--ready-fd", str(ready_w), "--marker",
                                      marker, *then], stdin=subprocess.PIPE, env=it.env(),
                                     pass_fds=(ready_w, *pass_fds))
        os.close(ready_w)
        self.pid = self.proc.pid
        self.tids = es.read_workers_ready(ready_r, self.proc, f"fleet.py {mode} on {it.path}")

    def cpu_ns(self):
        return {r: es.read_kstate(self.pid, t).cpu_ns for r, t in self.tids.items()}

    def exec_now(self):
        self.proc.stdin.write(b"x")
        self.proc.stdin.flush()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)


class Serve:
    """`gilscope serve` on a free loopback port, ready once it says where."""

    def __init__(self, gilscope, *args, host="127.0.0.1", exe=None, prefix=()):
        """exe: another gilscope binary; prefix: what runs it (setpriv ...)."""
        self.port = free_port(host)
        addr = f"[{host}]" if ":" in host else host
        self.argv = [*prefix, exe or gilscope, "serve", "--listen", f"{addr}:{self.port}",
                     "--rate", RATE, *args]
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = self.proc.stderr.readline().decode()
        if "metrics at" not in line:
            self.proc.kill()
            pytest.fail(f"serve did not start: {line}{self.proc.stderr.read().decode()}",
                        pytrace=False)
        self.url = f"http://{addr}:{self.port}"

    def scrape(self):
        status, text = http_get(self.url + "/metrics")
        assert status == 200, f"/metrics: HTTP {status}"
        return text

    def terminate(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            _, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            pytest.fail("serve did not stop within 10 s of SIGTERM")
        return self.proc.returncode, err.decode()


def marker_regex(marker):
    """An ERE matching the marker; the marker holds only [A-Za-z0-9_-]."""
    assert re.fullmatch(r"[A-Za-z0-9_-]+", marker)
    return marker.replace("-", "[-]")


def parse_exposition(text):
    """{(name, labels-string): value}, and {name: type}; asserts every line
    is a sample, a # HELP or a # TYPE, each sample after its TYPE."""
    samples, types = {}, {}
    for n, line in enumerate(text.splitlines(), 1):
        m = TYPE_RE.match(line)
        if m:
            assert m.group(1) not in types, f"line {n}: second TYPE for {m.group(1)}"
            types[m.group(1)] = m.group(2)
            continue
        if HELP_RE.match(line):
            continue
        m = SAMPLE_RE.match(line)
        assert m, f"line {n} is not in the text format: {line!r}"
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        assert name in types, f"line {n}: {name} has no # TYPE before it"
        key = (name, labels)
        assert key not in samples, f"line {n}: duplicate series {key}"
        samples[key] = float(value)
    assert text.endswith("\n")
    return samples, types


def series(samples, name, **labels):
    """Values of `name` whose labels include all of `labels`."""
    out = []
    for (n, ls), v in samples.items():
        if n == name and all(f'{k}="{val}"' in ls for k, val in labels.items()):
            out.append(v)
    return out


def started_by(make):
    """A fixture's factory: start(*args) makes one, and `started` keeps it
    for the teardown."""
    started = []

    def start(*args, **kw):
        started.append(make(*args, **kw))
        return started[-1]
    return start, started


@pytest.fixture
def fleet():
    start, started = started_by(Member)
    yield start
    for m in started:
        es.end_process(m.proc)


@pytest.fixture
def serve(gilscope):
    start, started = started_by(lambda *args, **kw: Serve(gilscope, *args, **kw))
    yield start
    for s in started:
        es.end_process(s.proc)


@pytest.fixture
def prometheus(tmp_path):
    exe = shutil.which("prometheus")
    if not exe:
        pytest.fail("prometheus not found: run `make deps` (Debian package prometheus), "
                    "as `make test` does", pytrace=False)
    started = []

    def start(target_port):
        port = free_port()
        cfg = tmp_path / "prometheus.yml"
        cfg.write_text("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                       "scrape_configs:\n  - job_name: gilscope\n    static_configs:\n"
                       f"      - targets: ['127.0.0.1:{target_port}']\n")
        log = open(tmp_path / "prometheus.log", "wb")
        p = subprocess.Popen([exe, f"--config.file={cfg}", f"--storage.tsdb.path={tmp_path}/tsdb",
                              f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                             stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        started.append(p)
        url = f"http://127.0.0.1:{port}"

        def logtail():
            return (tmp_path / "prometheus.log").read_text(errors="replace")[-3000:]
        wait_for("prometheus ready", lambda: http_get(url + "/-/ready")[0] == 200,
                 describe=logtail)
        return url
    yield start
    for p in started:
        es.end_process(p)


def query(url, promql):
    status, body = http_get(url + "/api/v1/query?" + urllib.parse.urlencode({"query": promql}))
    assert status == 200, f"{promql}: HTTP {status} {body[:500]}"
    doc = json.loads(body)
    assert doc["status"] == "success", doc
    return doc["data"]["result"]


def one_value(url, promql):
    r = query(url, promql)
    return float(r[0]["value"][1]) if len(r) == 1 else None


def test_prometheus_stores_fleet(gilscope, interp, fleet, serve, prometheus, tmp_path):
    marker = f"gsfleet-{os.getpid()}-{time.monotonic_ns()}"
    gil = fleet(interp, "gil", marker)
    io = fleet(interp, "io", marker)
    cpu0 = {"gil": gil.cpu_ns(), "io": io.cpu_ns()}
    t0 = time.monotonic()
    s = serve("--match", marker_regex(marker))
    prom = prometheus(s.port)

    def have_window():
        # both processes stored, each with 3 s of samples behind its gauges
        n = [one_value(prom, f'gilscope_target_samples_total{{pid="{m.pid}"}}') for m in (gil, io)]
        return all(v is not None and v >= 3 * float(RATE) for v in n)
    wait_for("3 s of samples of both targets in prometheus", have_window,
             describe=lambda: s.scrape())
    held = one_value(prom, f'gilscope_gil_contended_ratio{{pid="{gil.pid}"}}')
    idle = one_value(prom, f'gilscope_gil_contended_ratio{{pid="{io.pid}"}}')
    wall = time.monotonic() - t0
    cpu = {k: {r: (v - cpu0[k][r]) / 1e9 / wall for r, v in m.cpu_ns().items()}
           for k, m in (("gil", gil), ("io", io))}
    labels = query(prom, f'gilscope_gil_contended_ratio{{pid="{gil.pid}"}}')[0]["metric"]
    why = f"contended gil={held} io={idle}; worker CPU shares {cpu}; labels {labels}"

    # the kernel's view: the I/O workers never ran; the GIL workers did (on
    # a loaded machine they get less than the one CPU the GIL allows them)
    assert all(v < 0.05 for v in cpu["io"].values()), why
    assert sum(cpu["gil"].values()) > 20 * max(sum(cpu["io"].values()), 0.001), why
    assert labels["free_threaded"] == ("true" if interp.ft else "false"), why
    assert labels["gil_enabled"] == ("true" if interp.gil_enabled else "false"), why
    assert idle is not None and idle < 0.1, why
    if interp.gil_enabled:
        assert max(cpu["gil"].values()) < 0.8, why      # they took turns
        assert held is not None and held > 0.8, why
        assert query(prom, f'gilscope_verdict_info{{pid="{gil.pid}",kind="gil-bound-python"}}'), why
    else:
        assert held is not None and held < 0.1, why
    assert query(prom, f'gilscope_verdict_info{{pid="{io.pid}",kind="io-bound"}}'), why
    # counters: rate() over them works, and says three of the I/O target's
    # four threads (its workers on the pipe, its main thread on stdin; not
    # the watchdog, asleep) sat in io
    io_share = wait_for("two scrapes of the counters in the rate() range", lambda: one_value(
        prom, f'sum(rate(gilscope_thread_state_seconds_total{{pid="{io.pid}",state="io"}}[5s]))'
              f' / sum(rate(gilscope_thread_state_seconds_total{{pid="{io.pid}"}}[5s]))'))
    assert abs(io_share - 0.75) < 0.05, f"io share of the I/O target's thread-seconds: {io_share}"

    # the I/O target ends: its series go stale, the other's stay
    io.stop()
    wait_for("the exited target's series stale in prometheus",
             lambda: not query(prom, f'gilscope_threads{{pid="{io.pid}"}}'),
             describe=lambda: s.scrape())
    assert query(prom, f'gilscope_threads{{pid="{gil.pid}"}}'), "the live target's series went too"
    rc, err = s.terminate()
    assert rc == 0, err


@pytest.mark.asan
def test_scrape_text_format(gilscope, interp, fleet, serve, tmp_path):
    marker = f"gsscrape-{os.getpid()}-{time.monotonic_ns()}"
    gil = fleet(interp, "gil", marker)
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    s = serve("--pid", str(gil.pid), "--profiles", str(profiles), "--every", "1s",
              "--thread-names", "^gil[0-9]$")
    wait_for("the target in /metrics", lambda: f'pid="{gil.pid}"' in s.scrape())
    first, types = parse_exposition(s.scrape())
    wait_for("more samples", lambda: parse_exposition(s.scrape())[0][
        ("gilscope_samples_total", "")] > first[("gilscope_samples_total", "")] + 10)
    second, types2 = parse_exposition(s.scrape())
    assert types == types2
    for key, v in first.items():
        if types[key[0]] == "counter" and key in second:
            assert second[key] >= v, f"counter {key} went from {v} to {second[key]}"
    for name in ("gilscope_gil_held_ratio", "gilscope_gil_contended_ratio",
                 "gilscope_thread_state_seconds_total", "gilscope_threads",
                 "gilscope_verdict_info", "gilscope_samples_total",
                 "gilscope_samples_missed_total", "gilscope_cpu_seconds_total"):
        assert name in types, f"{name} missing"
    # two workers, the watchdog and the main thread, whatever their states
    assert sum(series(second, "gilscope_threads", pid=gil.pid)) == 4
    for v in series(second, "gilscope_gil_held_ratio") + series(second, "gilscope_gil_contended_ratio"):
        assert 0 <= v <= 1
    assert second[("gilscope_cpu_seconds_total", "")] > 0
    # --thread-names: the two workers by name, nobody else
    named = {re.search(r'thread_name="([^"]*)"', ls).group(1)
             for (n, ls) in second if n == "gilscope_thread_name_state_seconds_total"}
    assert named == {"gil0", "gil1"}, named
    assert sum(series(second, "gilscope_thread_name_state_seconds_total", thread_name="gil0")) > 0
    assert http_get(s.url + "/")[0] == 200
    assert http_get(s.url + "/nope")[0] == 404
    # a profile of the target, gzip'd protobuf, written whole
    got = wait_for("a profile in --profiles",
                   lambda: sorted(profiles.glob(f"gilscope-{gil.pid}-*.pb.gz")))
    assert len(gzip.decompress(got[0].read_bytes())) > 50
    assert not [p for p in profiles.iterdir() if not p.name.endswith(".pb.gz")]
    rc, err = s.terminate()
    assert rc == 0, err


@pytest.mark.asan
def test_match_finds_late_process(gilscope, interp, fleet, serve):
    marker = f"gslate-{os.getpid()}-{time.monotonic_ns()}"
    s = serve("--match", marker_regex(marker))
    text = s.scrape()
    assert "gilscope_targets 0\n" in text, text
    io = fleet(interp, "io", marker)
    wait_for("the late process in /metrics", lambda: f'pid="{io.pid}"' in s.scrape())
    # SIGHUP: the selection judged again; the sampled process stays, and
    # the counters go on from where they were
    before = parse_exposition(s.scrape())[0][("gilscope_samples_total", "")]
    s.proc.send_signal(signal.SIGHUP)
    wait_for("samples after SIGHUP", lambda: parse_exposition(s.scrape())[0][
        ("gilscope_samples_total", "")] > before + 5)
    assert f'pid="{io.pid}"' in s.scrape()
    io.stop()
    wait_for("the exited process gone from /metrics", lambda: f'pid="{io.pid}"' not in s.scrape())
    assert s.proc.poll() is None, "serve ended with its last target"
    rc, err = s.terminate()
    assert rc == 0, err
    assert "SIGHUP" in err, err


def stacks_of(samples, pid):
    """{(stack, state): threads} of gilscope_stack_threads for pid."""
    out = {}
    for (n, ls), v in samples.items():
        if n == "gilscope_stack_threads" and f'pid="{pid}"' in ls:
            stack = re.search(r'stack="((?:[^"\\]|\\.)*)"', ls).group(1)
            out[(stack, re.search(r'state="([a-z_]+)"', ls).group(1))] = v
    return out


@pytest.mark.asan
def test_top_stacks(gilscope, interp, fleet, serve):
    marker = f"gstop-{os.getpid()}-{time.monotonic_ns()}"
    gil = fleet(interp, "gil", marker)
    cpu0 = gil.cpu_ns()
    t0 = time.monotonic()
    wide = serve("--pid", str(gil.pid), "--top-stacks", "10")
    narrow = serve("--pid", str(gil.pid), "--top-stacks", "2")
    plain = serve("--pid", str(gil.pid))
    # 3 s of samples behind the window of both
    for s in (wide, narrow):
        wait_for("3 s of samples", lambda: series(parse_exposition(s.scrape())[0],
                 "gilscope_target_samples_total", pid=gil.pid) >= [3 * float(RATE)])
    every = stacks_of(parse_exposition(wide.scrape())[0], gil.pid)
    top2 = stacks_of(parse_exposition(narrow.scrape())[0], gil.pid)
    wall = time.monotonic() - t0
    cpu = {r: (v - cpu0[r]) / 1e9 / wall for r, v in gil.cpu_ns().items()}
    per_stack = {}
    for (stack, _), v in every.items():
        per_stack[stack] = per_stack.get(stack, 0) + v
    why = f"stacks {every}; top 2 {top2}; workers' CPU shares {cpu}"
    # the two workers ran (the kernel says so), in spin(): the heaviest
    # stack, about two threads of the four on average
    assert all(v > 0.1 for v in cpu.values()), why
    heaviest = max(per_stack, key=per_stack.get)
    assert heaviest.endswith("spin") and heaviest.split(";")[-1] == "spin", why
    assert 1.6 < per_stack[heaviest] < 2.2, why
    # the main thread (on stdin) and the watchdog (asleep) too: more pairs
    # than 2, of which --top-stacks 2 shows 2
    assert len(every) >= 3, why
    assert len(top2) == 2, why
    assert "gilscope_stack_threads{" not in plain.scrape()
    for s in (wide, narrow, plain):
        rc, err = s.terminate()
        assert rc == 0, err


def ipv6_loopback():
    """Why ::1 cannot be bound here, or None when it can."""
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError as e:
        return f"this kernel has no IPv6 loopback (::1): {e}"
    return None


@pytest.mark.asan
def test_listen_ipv6(gilscope, interp, fleet, serve):
    why = ipv6_loopback()
    if why:
        pytest.skip(why)
    marker = f"gsv6-{os.getpid()}-{time.monotonic_ns()}"
    io = fleet(interp, "io", marker)
    s = serve("--pid", str(io.pid), host="::1")
    assert s.url.startswith("http://[::1]:")
    wait_for("the target in /metrics over ::1", lambda: f'pid="{io.pid}"' in s.scrape())
    # [::1] is IPv6 only: nothing of it on 127.0.0.1
    assert http_get(f"http://127.0.0.1:{s.port}/metrics", timeout=2)[0] is None
    rc, err = s.terminate()
    assert rc == 0, err


@pytest.mark.parametrize("bad", ["[::1]9464", "::1:9464", "[::1:9464", "[nothost]:9464",
                                 "127.0.0.1:0", "127.0.0.1:http", "1.2.3:9464"])
def test_listen_malformed(gilscope, bad):
    r = subprocess.run([gilscope, "serve", "--listen", bad, "--pid", str(os.getpid())],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2, r
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and "--listen" in lines[0] and bad in lines[0], r.stderr


def samples_of(s, pid):
    v = series(parse_exposition(s.scrape())[0], "gilscope_target_samples_total", pid=pid)
    return v[0] if v else None


@pytest.mark.asan
def test_target_execs(gilscope, interp, fleet, serve):
    """Two targets; one execs another program under serve (the same pid):
    its series go, the other's go on, serve keeps running. Into a program
    that is not Python: nothing of it stays, and it is not counted
    unreadable. Into Python again: sampled anew, its counters from zero,
    its threads as the new program has them."""
    marker = f"gsexec-{os.getpid()}-{time.monotonic_ns()}"
    stay = fleet(interp, "io", marker)
    sleep = shutil.which("sleep")
    to_c = fleet(interp, "io", marker, then_exec=(sleep, "120"))
    again_r, again_w = os.pipe()
    to_py = fleet(interp, "io", marker, then_exec=(interp.path, str(FLEET), "gil", "--ready-fd",
                                                    str(again_w), "--marker", marker + "-again"),
                  pass_fds=(again_w,))
    os.close(again_w)
    s = serve("--pid", str(stay.pid), "--pid", str(to_c.pid), "--pid", str(to_py.pid))
    wait_for("the three in /metrics, 3 s of samples each", lambda: all(
        (samples_of(s, m.pid) or 0) >= 3 * float(RATE) for m in (stay, to_c, to_py)),
        describe=lambda: s.scrape())
    before = {m.pid: samples_of(s, m.pid) for m in (stay, to_c, to_py)}

    to_c.exec_now()
    wait_for("the kernel says it runs sleep", lambda: os.path.realpath(
        f"/proc/{to_c.pid}/exe") == os.path.realpath(sleep))
    last = samples_of(s, to_py.pid)
    to_py.exec_now()
    tids = es.read_workers_ready(again_r, to_py.proc, f"fleet.py gil after exec on {interp.path}")
    assert set(tids) == {"gil0", "gil1"}
    # the Python one back as the program it is now: its counters from zero
    # (the command label, cut to 80 bytes, need not show the difference),
    # and its threads as they are now: of its four only the main thread in
    # io, where the io program had its two workers there too
    first = wait_for("the exec'd Python sampled anew", lambda: (
        lambda v: v is not None and v < last and v)(samples_of(s, to_py.pid)),
        describe=lambda: s.scrape())
    wait_for("the exec'd Python's threads as the gil program's", lambda: series(
        parse_exposition(s.scrape())[0], "gilscope_threads", pid=to_py.pid, state="io") == [1],
        describe=lambda: s.scrape())
    wait_for("the one running sleep gone from /metrics",
             lambda: f'pid="{to_c.pid}"' not in s.scrape(), describe=lambda: s.scrape())
    text = s.scrape()
    samples, _ = parse_exposition(text)
    why = f"before {before}, before exec {last}, after {first}\n{text}"
    assert s.proc.poll() is None, "serve ended"
    assert sum(series(samples, "gilscope_threads", pid=to_py.pid)) == 4, why
    assert samples[("gilscope_targets", "")] == 2, why
    assert samples[("gilscope_targets_unreadable", "")] == 0, why
    # the one that stayed: sampled all along
    n = samples_of(s, stay.pid)
    assert n > before[stay.pid], why
    wait_for("more samples of the one that stayed", lambda: samples_of(s, stay.pid) > n)
    rc, err = s.terminate()
    assert rc == 0, err


def test_unreadable_target(nobody_gilscope, interp, fleet, serve):
    """serve run as user nobody, told to sample a root-owned Python process
    it may not read: it keeps serving, counts the process unreadable (with
    no series of its own), and forgets it once it exits."""
    if os.geteuid() != 0:
        pytest.skip("needs root, to run serve as another user against a root-owned target")
    setpriv = shutil.which("setpriv")
    if not setpriv:
        pytest.skip("setpriv not found (util-linux)")
    marker = f"gsunread-{os.getpid()}-{time.monotonic_ns()}"
    io = fleet(interp, "io", marker)
    s = serve("--pid", str(io.pid), exe=nobody_gilscope,
              prefix=[setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--"])

    def gauges():
        g = parse_exposition(s.scrape())[0]
        return g[("gilscope_targets", "")], g[("gilscope_targets_unreadable", "")]
    wait_for("the target counted unreadable", lambda: gauges() == (0, 1),
             describe=lambda: s.scrape())
    assert f'pid="{io.pid}"' not in s.scrape()
    io.stop()
    wait_for("the exited target no longer counted", lambda: gauges() == (0, 0),
             describe=lambda: s.scrape())
    assert s.proc.poll() is None, "serve ended"
    rc, err = s.terminate()
    assert rc == 0, err
