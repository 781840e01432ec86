"""The record formats (flame graph SVG, speedscope, Chrome trace, collapsed
stacks), validated with the tools that will read them.

Two sources of files:
  * build/render-driver renders the synthetic profile of tests/unit/synth.h
    (known content: 60 thread samples at 100 Hz over 4 threads, names that
    need escaping); needs no interpreter;
  * `gilscope record` on the "mixed" scenario of targets/states.py, once per
    interpreter, for what a real profile looks like.

Checks: the SVG parses with xml.etree and its frames add up; it runs in
headless Chromium without a script error, zooms and searches from the
address (?x=&y=, ?s=), and its screenshot shows the state colours; the
speedscope file validates against speedscope's own JSON schema
(tests/schema/speedscope.schema.json) and its weights agree with the
collapsed stacks; the Chrome trace is JSON with the required keys, per-thread
spans that never overlap, and a GIL track.
"""
import json
import os
import re
import shutil
import struct
import subprocess
import urllib.parse
import xml.etree.ElementTree as ET
import zlib
from collections import defaultdict
from pathlib import Path

import jsonschema
import pytest

import e2e_support as es

SVG_NS = "http://www.w3.org/2000/svg"
GS_NS = "urn:gilscope:flamegraph"
SPEEDSCOPE_SCHEMA = es.REPO / "tests" / "schema" / "speedscope.schema.json"
DRIVER = es.REPO / "build" / "render-driver"
GIL_TID = 2147483647
STATES = es.STATES
# the colours of src/sample/states.c
STATE_COLORS = {
    "python": (0xf0, 0xa0, 0x30), "native_gil": (0xd8, 0x4a, 0x3c), "native": (0x5a, 0xb4, 0x5a),
    "gil_wait": (0xbe, 0x3c, 0xa0), "io": (0x46, 0x8c, 0xdc), "sleep": (0xa0, 0xb4, 0xc8),
    "lock_wait": (0x8c, 0x6e, 0xd2), "other": (0xa0, 0xa0, 0xa0),
}
SYNTH_THREADS = {  # thread label -> thread samples (tests/unit/synth.h)
    "MainThread (tid 100)": 20, "worker-\u03bb (tid 101)": 15,
    'a&b "q" <x> (tid 102)': 20, "idle-python (tid 103)": 5,
}
SYNTH_RATE = 100
CHROMIUM_TIMEOUT = 120
LINE_RE = re.compile(r"^(.+) (\d+)$")


# --- readers -------------------------------------------------------------------------

def svg_frames(path: Path):
    """The flame graph's frames: dicts of label, x, w (samples), rect attributes."""
    root = ET.parse(path).getroot()
    assert root.tag == f"{{{SVG_NS}}}svg"
    group = root.find(f".//{{{SVG_NS}}}g[@id='frames']")
    assert group is not None, "no <g id=frames>"
    frames = []
    for g in group.findall(f"{{{SVG_NS}}}g"):
        title, rect, text = (g.find(f"{{{SVG_NS}}}{t}") for t in ("title", "rect", "text"))
        assert title is not None and rect is not None and text is not None, ET.tostring(g)
        lines = title.text.split("\n")
        frames.append({
            "label": lines[0], "tooltip": lines,
            "x": int(g.get(f"{{{GS_NS}}}x")), "w": int(g.get(f"{{{GS_NS}}}w")),
            "rx": float(rect.get("x")), "ry": float(rect.get("y")),
            "rw": float(rect.get("width")), "fill": rect.get("fill"),
        })
    return root, group, frames


def read_collapsed(path: Path):
    stacks = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = LINE_RE.match(line)
        assert m, f"not 'stack count': {line!r}"
        assert m.group(1) not in stacks, f"stack listed twice: {line!r}"
        stacks[m.group(1)] = int(m.group(2))
    return stacks


def speedscope_validator():
    schema = json.loads(SPEEDSCOPE_SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def check_svg(path: Path, total=None):
    """Structure every flame graph must have; returns the frames."""
    root, group, frames = svg_frames(path)
    assert frames, "no frames"
    usable = float(group.get(f"{{{GS_NS}}}usable"))
    xpad = float(group.get(f"{{{GS_NS}}}xpad"))
    all_ = frames[0]
    assert all_["label"] == "all" and all_["x"] == 0
    assert all_["w"] == int(group.get(f"{{{GS_NS}}}total"))
    if total is not None:
        assert all_["w"] == total
    rows = defaultdict(list)
    for f in frames:
        assert 0 < f["w"] and f["x"] + f["w"] <= all_["w"], f
        # pixels follow samples
        assert abs(f["rx"] - (xpad + f["x"] / all_["w"] * usable)) < 0.01, f
        assert abs(f["rw"] - f["w"] / all_["w"] * usable) < 0.01, f
        assert re.fullmatch(r"rgb\(\d+,\d+,\d+\)", f["fill"]), f
        rows[f["ry"]].append(f)
    # no two frames of a row overlap; every frame sits on one of the row below
    ys = sorted(rows, reverse=True)
    assert ys[0] == all_["ry"]
    for below, y in zip(ys, ys[1:]):
        assert below - y == 16
        spans = sorted((f["x"], f["x"] + f["w"]) for f in rows[y])
        for (a0, a1), (b0, _) in zip(spans, spans[1:]):
            assert a1 <= b0, f"frames overlap on row {y}"
        for f in rows[y]:
            assert any(p["x"] <= f["x"] and f["x"] + f["w"] <= p["x"] + p["w"] for p in rows[below]), \
                f"{f['label']} has no parent frame"
    legend = root.find(f".//{{{SVG_NS}}}g[@id='legend']")
    texts = [t.text for t in legend.findall(f"{{{SVG_NS}}}text")]
    assert [t.split()[0] for t in texts] == list(STATES)
    return frames


def check_speedscope(path: Path):
    doc = json.loads(path.read_text(encoding="utf-8"))
    errors = sorted(speedscope_validator().iter_errors(doc), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])
    nframes = len(doc["shared"]["frames"])
    for p in doc["profiles"]:
        assert p["type"] == "sampled"
        assert len(p["samples"]) == len(p["weights"])
        assert all(0 <= i < nframes for s in p["samples"] for i in s)
        assert all(w > 0 for w in p["weights"])
        assert abs(sum(p["weights"]) - (p["endValue"] - p["startValue"])) < 1e-6
    assert 0 <= doc["activeProfileIndex"] < max(1, len(doc["profiles"]))
    return doc


def check_chrome(path: Path, pid=None):
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(doc, dict) and isinstance(doc["traceEvents"], list)
    assert doc["displayTimeUnit"] in ("ms", "ns")
    names, spans = {}, defaultdict(list)
    for e in doc["traceEvents"]:
        for key in ("ph", "pid", "tid", "name"):
            assert key in e, f"{key} missing: {e}"
        assert isinstance(e["pid"], int) and isinstance(e["tid"], int)
        if pid is not None:
            assert e["pid"] == pid
        if e["ph"] == "M":
            assert e["name"] in ("process_name", "thread_name", "thread_sort_index"), e
            if e["name"] == "thread_name":
                names[e["tid"]] = e["args"]["name"]
        else:
            assert e["ph"] == "X", e
            assert isinstance(e["ts"], (int, float)) and e["ts"] >= 0
            assert isinstance(e["dur"], (int, float)) and e["dur"] >= 0
            assert e["cat"] in ("state", "gil")
            if e["cat"] == "state":
                assert e["name"] in STATES
                assert isinstance(e["args"]["holds_gil"], bool)
            spans[e["tid"]].append((e["ts"], e["ts"] + e["dur"], e))
    for tid, ss in spans.items():
        assert tid in names, f"tid {tid} has spans but no thread_name"
        ss.sort(key=lambda s: s[0])
        for a, b in zip(ss, ss[1:]):
            assert a[1] <= b[0] + 1e-6, f"spans overlap on tid {tid}: {a[2]} {b[2]}"
    return doc, names, spans


# --- PNG, enough to look at a Chromium screenshot ------------------------------------

def png_pixels(path: Path):
    """(width, height, rows of (r, g, b)) of an 8-bit RGB/RGBA non-interlaced PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = hdr
    assert depth == 8 and ctype in (2, 6) and not interlace, hdr
    bpp = 3 if ctype == 2 else 4
    raw, stride = zlib.decompress(idat), w * bpp
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(h):
        ftype, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if ftype == 1:
                line[x] = (line[x] + a) & 255
            elif ftype == 2:
                line[x] = (line[x] + b) & 255
            elif ftype == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x:x + 3]) for x in range(0, stride, bpp)])
        prev = line
    return w, h, rows


# --- Chromium --------------------------------------------------------------------------

def chromium_path():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        p = shutil.which(name)
        if p:
            return p
    return None


@pytest.fixture(scope="session")
def chromium():
    path = chromium_path()
    if not path:
        pytest.skip("no chromium (install it: apt-get install chromium; `make deps` does)")
    return path


def run_chromium(chromium: str, tmp: Path, url: str, *extra: str):
    """Runs headless Chromium on url; returns (stdout, console errors)."""
    argv = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--no-first-run", "--disable-extensions", f"--user-data-dir={tmp / 'chromium-profile'}",
            "--enable-logging=stderr", "--v=0", *extra, url]
    res = subprocess.run(argv, capture_output=True, timeout=CHROMIUM_TIMEOUT, stdin=subprocess.DEVNULL)
    err = res.stderr.decode("utf-8", "replace")
    console = [ln for ln in err.splitlines() if ":CONSOLE" in ln or "Uncaught" in ln]
    assert res.returncode == 0, f"chromium exited {res.returncode}\n{err[-3000:]}"
    return res.stdout.decode("utf-8", "replace"), console


def dump_dom(chromium: str, tmp: Path, svg: Path, query: str = ""):
    out, console = run_chromium(chromium, tmp, svg.as_uri() + query, "--dump-dom")
    assert not console, "script errors:\n" + "\n".join(console)
    assert "<svg" in out, out[:2000]
    return ET.fromstring(out)


def dom_frames(dom):
    group = dom.find(f".//{{{SVG_NS}}}g[@id='frames']")
    out = []
    for g in group.findall(f"{{{SVG_NS}}}g"):
        rect = g.find(f"{{{SVG_NS}}}rect")
        out.append({
            "label": g.find(f"{{{SVG_NS}}}title").text.split("\n")[0],
            "cls": (g.get("class") or "").split(),
            "rx": float(rect.get("x")), "rw": float(rect.get("width")),
            "fill": rect.get("fill"), "text": g.find(f"{{{SVG_NS}}}text").text or "",
        })
    return out


# --- the render driver -----------------------------------------------------------------

@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    if not os.access(DRIVER, os.X_OK):
        pytest.fail(f"{DRIVER} not found: build it with `make build/render-driver`", pytrace=False)
    out = tmp_path_factory.mktemp("render")
    res = subprocess.run([str(DRIVER), str(out)], capture_output=True, timeout=60)
    assert res.returncode == 0, res.stderr.decode()
    return out


def test_driver_svg_structure(rendered):
    frames = check_svg(rendered / "flamegraph.svg", total=sum(SYNTH_THREADS.values()))
    labels = [f["label"] for f in frames]
    for thread, n in SYNTH_THREADS.items():
        f = frames[labels.index(thread)]
        assert f["w"] == n
        assert f["tooltip"][1].startswith(f"{n} samples (")
    # escaped in the file, plain text once parsed; bad bytes are U+FFFD
    assert "<lambda> (main.py:5)" in labels
    assert "a&b (we;ird name.py:1)" in labels
    assert "bad\ufffd\ufffdutf8 \u00e9 (q\"uote's.py:3)" in labels
    assert "[waiting for the GIL]" in labels
    # a file with a directory: base name in the frame, full path in the tooltip
    read = frames[labels.index("read (io.py:9)")]
    assert read["tooltip"][1] == "/usr/lib/python3.12/io.py:9"
    assert read["tooltip"][2] == "5 samples (8.33%)"
    title = ET.parse(rendered / "flamegraph.svg").getroot().find(f"{{{SVG_NS}}}text[@id='title']")
    assert title.text == 'gilscope render driver: <synthetic> & "friends"'


def test_driver_svg_colors(rendered):
    frames = check_svg(rendered / "flamegraph.svg")
    by_label = {f["label"]: f for f in frames}

    def near(fill, state):
        rgb = tuple(int(v) for v in re.findall(r"\d+", fill))
        return all(abs(a - b) <= 12 for a, b in zip(rgb, STATE_COLORS[state]))

    for label, state in [("[waiting for the GIL]", "gil_wait"), ("[blocked in I/O]", "io"),
                         ("[sleeping]", "sleep"), ("[waiting for a lock]", "lock_wait"),
                         ("[other]", "other"), ("crunch (c.py:3)", "native"),
                         ("compute (calc.py:7)", "native_gil"), ("<lambda> (main.py:5)", "python")]:
        assert near(by_label[label]["fill"], state), (label, by_label[label]["fill"])


def test_driver_collapsed_matches_svg(rendered):
    stacks = read_collapsed(rendered / "collapsed.txt")
    assert sum(stacks.values()) == sum(SYNTH_THREADS.values())
    per_thread = defaultdict(int)
    for stack, n in stacks.items():
        per_thread[stack.split(";")[0]] += n
    assert dict(per_thread) == SYNTH_THREADS
    # flame graph leaves: self samples of each frame == collapsed counts ending there
    assert stacks["idle-python (tid 103)"] == 3


def test_driver_speedscope_schema(rendered):
    doc = check_speedscope(rendered / "speedscope.json")
    assert doc["exporter"] == "gilscope"
    got = {p["name"]: round(sum(p["weights"]) * SYNTH_RATE) for p in doc["profiles"]}
    assert got == SYNTH_THREADS
    for p in doc["profiles"]:
        assert p["unit"] == "seconds"
    # the same stacks as the collapsed file, frame for frame
    frames = doc["shared"]["frames"]
    stacks = read_collapsed(rendered / "collapsed.txt")
    for p in doc["profiles"]:
        for s, w in zip(p["samples"], p["weights"]):
            names = [frames[i]["name"] for i in s]
            matching = [k for k, n in stacks.items()
                        if k.split(";")[0] == p["name"].replace(";", "_")
                        and len(k.split(";")) == len(names) + 1 and round(w * SYNTH_RATE) == n
                        and all(part.startswith(nm.replace(";", "_").replace("\n", " "))
                                for part, nm in zip(k.split(";")[1:], names))]
            assert matching, f"{p['name']}: {names} x {w} not in the collapsed stacks"


def test_speedscope_schema_rejects_broken_files(rendered):
    """The schema check has teeth: a broken copy of our file fails it."""
    v = speedscope_validator()
    doc = json.loads((rendered / "speedscope.json").read_text(encoding="utf-8"))
    assert not list(v.iter_errors(doc))
    for breakage in (lambda d: d.pop("shared"), lambda d: d["profiles"][0].pop("weights"),
                     lambda d: d["profiles"][0].update(unit="parsecs"),
                     lambda d: d["shared"]["frames"][0].pop("name"),
                     lambda d: d.update({"$schema": "https://example.com/other.json"})):
        broken = json.loads(json.dumps(doc))
        breakage(broken)
        assert list(v.iter_errors(broken))


def test_driver_chrome_trace(rendered):
    doc, names, spans = check_chrome(rendered / "chrome.json", pid=4242)
    assert doc["displayTimeUnit"] == "ms"
    assert names[GIL_TID] == "GIL holder"
    by_name = {v: k for k, v in names.items()}
    for thread, n in SYNTH_THREADS.items():
        tid = by_name[thread]
        # spans cover exactly the thread's samples: 10 ms each
        assert sum(e["dur"] for _, _, e in spans[tid]) == pytest.approx(n * 10_000)
    # the GIL track: one holder at a time, in time order, named after threads
    holds = [(e["name"], e["ts"], e["dur"]) for _, _, e in sorted(spans[GIL_TID], key=lambda s: s[0])]
    assert holds == [("MainThread (tid 100)", 0, 60_000), ("worker-\u03bb (tid 101)", 60_000, 40_000),
                     ("MainThread (tid 100)", 100_000, 50_000), ("idle-python (tid 103)", 150_000, 30_000)]
    fn = {e["ts"]: e["args"].get("function") for _, _, e in spans[by_name['a&b "q" <x> (tid 102)']]}
    assert fn == {0: "bad\ufffd\ufffdutf8 \u00e9", 100_000: None}


def test_driver_svg_in_chromium(rendered, chromium, tmp_path):
    svg = rendered / "flamegraph.svg"
    listed = svg_frames(svg)[2]
    frames = {f["label"]: f for f in listed}  # the labels looked up below are unique
    dom = dump_dom(chromium, tmp_path, svg)
    loaded = dom_frames(dom)
    assert len(loaded) == len(listed)
    assert all(not f["cls"] or f["cls"] == ["f"] for f in loaded)

    # search from the address: worker-λ's stacks are 15 of 60 samples
    dom = dump_dom(chromium, tmp_path, svg, "?s=" + urllib.parse.quote("^deep_"))
    matched = dom.find(f".//{{{SVG_NS}}}text[@id='matched']")
    assert matched.text == "Matched: 25.0%"
    hl = [f["label"] for f in dom_frames(dom) if f["fill"] == "rgb(255,230,0)"]
    assert len(hl) == 40 and all(h.startswith("deep_") for h in hl)

    # the search also sees the full path of a frame shown by its base name
    dom = dump_dom(chromium, tmp_path, svg, "?s=" + urllib.parse.quote(r"python3\.12/io\.py"))
    assert dom.find(f".//{{{SVG_NS}}}text[@id='matched']").text == "Matched: 8.3%"

    # a bad expression says so, and throws nothing
    dom = dump_dom(chromium, tmp_path, svg, "?s=" + urllib.parse.quote("(unclosed"))
    assert dom.find(f".//{{{SVG_NS}}}text[@id='matched']").text == "Bad expression"

    # zoom from the address to deep_1: ancestors dimmed full width, the frame
    # full width, what is above it scaled, the rest hidden
    z = frames["deep_1 (deep.py:2)"]
    dom = dump_dom(chromium, tmp_path, svg, f"?x={z['rx'] + z['rw'] / 2:.2f}&y={z['ry'] + 8:.0f}")
    after = {f["label"]: f for f in dom_frames(dom)}
    usable = 1180
    for label in ("all", "worker-\u03bb (tid 101)", "deep_0 (deep.py:1)"):
        assert "parent" in after[label]["cls"], label
        assert after[label]["rw"] == pytest.approx(usable)
    assert after["deep_1 (deep.py:2)"]["rw"] == pytest.approx(usable)
    assert "hide" not in after["deep_1 (deep.py:2)"]["cls"]
    # deep_2 has 6 of deep_1's 10 samples
    assert after["deep_2 (deep.py:3)"]["rw"] == pytest.approx(usable * 6 / 10)
    assert after["deep_2 (deep.py:3)"]["text"] == "deep_2 (deep.py:3)"  # room for the whole label now
    for label in ("MainThread (tid 100)", "crunch (c.py:3)", "[sleeping]"):
        assert "hide" in after[label]["cls"], label
    unzoom = dom.find(f".//{{{SVG_NS}}}text[@id='unzoom']")
    assert "hide" not in (unzoom.get("class") or "")


def test_driver_svg_screenshot(rendered, chromium, tmp_path):
    """Renders the picture and looks at it: every state's colour is on screen
    (in the legend and in frames), and the frames fill the width."""
    subprocess.run([str(DRIVER), str(tmp_path), "30"], check=True, timeout=60)
    svg = tmp_path / "flamegraph.svg"
    check_svg(svg)
    png = tmp_path / "shot.png"
    _, console = run_chromium(chromium, tmp_path, svg.as_uri(), f"--screenshot={png}",
                              "--window-size=1200,800")
    assert not console, "script errors:\n" + "\n".join(console)
    w, h, rows = png_pixels(png)
    assert (w, h) == (1200, 800)
    seen = {c for row in rows for c in row}
    for state, rgb in STATE_COLORS.items():
        assert rgb in seen, f"the {state} colour {rgb} is not on screen"
    # the "all" row spans the graph: its colour runs from x=12 to x=1188
    _, _, frames = svg_frames(svg)
    y = int(frames[0]["ry"]) + 8
    row = rows[y]
    assert row[12] == row[600] == row[1187] != (255, 255, 255), (row[12], row[600], row[1187])


# --- gilscope record on a real interpreter ---------------------------------------------

FORMATS = {"flamegraph": "svg", "speedscope": "json", "chrometrace": "json", "collapsed": "txt"}


@pytest.fixture
def recorded(gilscope, interp, target, tmp_path):
    t = target(interp, "mixed")
    out = {}
    for fmt, ext in FORMATS.items():
        path = tmp_path / f"{fmt}.{ext}"
        run = es.run_gilscope(gilscope, ["record", "--pid", str(t.pid), "-d", "0.5", "-r", "200",
                                         "-f", fmt, "-o", str(path), "--no-progress"])
        assert run.returncode == 0, run.describe()
        out[fmt] = path
    return t, out


@pytest.mark.asan
def test_record_formats(recorded, chromium_or_none):
    t, files = recorded
    tids = {th.tid for th in t.threads.values() if th.tid is not None}

    frames = check_svg(files["flamegraph"])
    labels = " ".join(f["label"] for f in frames)
    for tid in tids:
        assert f"(tid {tid})" in labels, f"thread {tid} missing from the flame graph"
    assert "n\u0153ud-\u03bb-\u7dda" in labels  # the non-ASCII thread name, decoded

    stacks = read_collapsed(files["collapsed"])
    assert sum(stacks.values()) > 0
    assert {int(m) for s in stacks for m in re.findall(r"^.*\(tid (\d+)\)", s.split(";")[0])} >= tids
    io_tid = t.threads["io"].tid
    io = max((n, s) for s, n in stacks.items() if s.split(";")[0].endswith(f"(tid {io_tid})"))
    assert io[1].endswith(";[blocked in I/O]"), io

    doc = check_speedscope(files["speedscope"])
    assert {int(re.search(r"\(tid (\d+)\)$", p["name"]).group(1)) for p in doc["profiles"]} >= tids
    assert all(p["unit"] == "seconds" for p in doc["profiles"])

    _, names, spans = check_chrome(files["chrometrace"], pid=t.pid)
    assert set(names) >= tids
    for tid in tids:
        assert spans[tid], f"no spans for thread {tid}"
    if t.interp.gil_enabled:
        assert names.get(GIL_TID) == "GIL holder" and spans[GIL_TID]

    if chromium_or_none:
        dump_dom(chromium_or_none, files["flamegraph"].parent, files["flamegraph"], "?s=recv")


@pytest.fixture(scope="session")
def chromium_or_none():
    """Chromium if present: the record test loads its SVG too, but does not
    skip its other checks without it."""
    return chromium_path()
