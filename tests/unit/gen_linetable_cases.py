#!/usr/bin/env python3
"""Generate tests/unit/linetable_cases.h: line-table ground truth from real
CPython interpreters, for tests/unit/test_linetable.c.

Usage (from the repository root):

    python3 tests/unit/gen_linetable_cases.py -o tests/unit/linetable_cases.h [PYTHON ...]

With no PYTHON arguments it uses every interpreter in DEFAULT_PYTHONS that
exists. Each interpreter is run on this same script with --emit: it compiles
the sample sources in SAMPLES (plus every nested code object), and prints, as
JSON, each code object's raw table (co_lnotab on 3.9, co_linetable on 3.10+),
co_firstlineno, code length and the position of every instruction offset:

  3.9    the line from dis.findlinestarts()
  3.10   the line from co_lines() (None = no line)
  3.11+  line, end line, column, end column from co_positions(), one per
         2-byte code unit (None = -1)

Every value is cross-checked against the interpreter's own C decoder,
PyCode_Addr2Line (all versions) and PyCode_Addr2Location (3.11+), called
through ctypes; any disagreement aborts the generation.

The output is committed generated data; rerun this when adding samples or
interpreters. It needs nothing outside the standard library.
"""

import argparse
import dis
import json
import os
import re
import subprocess
import sys
import types

DEFAULT_PYTHONS = [
    "/root/.pyenv/versions/3.9.18/bin/python3.9",
    "/root/.pyenv/versions/3.10.13/bin/python3.10",
    "/root/.pyenv/versions/3.11.7/bin/python3.11",
    "/root/.pyenv/versions/3.12.1/bin/python3.12",
    "/root/.pyenv/versions/3.13.0/bin/python3.13",
    "/opt/gilscope-pythons/3.14/bin/python3.14",
    "/opt/gilscope-pythons/3.15/bin/python3.15",
]

# (name, source, what it exercises). Sources must compile on every version
# from 3.9 on; they are compiled, never run.
SAMPLES = [
    ("straight", """\
def straight(a, b):
    x = a + b
    y = x * 2
    z = [x, y]
    return z
""", "straight-line code"),

    ("oneline", """\
def oneline(a): return a + 1
""", "all code on the first line (empty co_lnotab on 3.9)"),

    ("loop", """\
def loop(n):
    total = 0
    for i in range(n):
        if i % 3:
            total += i
        else:
            total -= 1
    while total > 100:
        total //= 2
    return total
""", "loops: lines jump backwards"),

    ("longline", "def longline(a):\n    b = 1\n    x = " +
     " + ".join(["a"] * 100) + "\n    return x + b\n",
     "> 255 bytecode bytes on one line"),

    ("bigdelta", "def bigdelta(a, b):\n    x = a\n" + "\n" * 300 +
     "    y = b\n    while x < y:\n        x += 1\n" + "\n" * 300 +
     "        x += 2\n    z = (a +\n" + "\n" * 300 + "         b)\n" +
     "    return x, y, z\n",
     "line deltas > 127 and < -128"),

    ("noloc", """\
def noloc(f, path):
    try:
        with open(path) as fh:
            data = fh.read()
    except OSError as e:
        data = str(e)
    finally:
        f()
    return data
""", "instructions with no line (cleanup code)"),

    ("multi", """\
def multi(a, b):
    r = call(
        a,
        b.attr,
    )[
        0
    ]
    return {
        'k': a,
        'v': [b,
              a],
    }
""", "expressions spanning lines"),

    ("wide", "def wide(a, b):\n    x = (" + " " * 90 + "a + b)\n    y = (" +
     " " * 5000 + "a - b)\n    return x, y\n",
     "columns past 127 and multi-byte column varints"),

    ("nested", """\
def nested(xs):
    ys = [x * 2 for x in xs if x]
    g = (lambda v: v + 1)
    def gen():
        for y in ys:
            yield g(y)
    return list(gen())
""", "comprehension, lambda, generator code objects"),

    ("padded", "\n" * 70000 + "def padded(a):\n    b = a + 1\n    return b\n",
     "first line past 70000; the module's first line delta is huge"),
]


def walk(code, prefix):
    """Yield (name, code) for code and every code object nested in it."""
    yield prefix, code
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            sub = re.sub(r"[^A-Za-z0-9]+", "_", c.co_name).strip("_")
            yield from walk(c, prefix + "_" + sub)


def c_decoders():
    """CPython's own decoders via ctypes, or (None, None) without ctypes."""
    global ctypes
    try:
        import ctypes
    except ImportError:
        return None, None
    api = ctypes.pythonapi
    addr2line = api.PyCode_Addr2Line
    addr2line.argtypes = [ctypes.py_object, ctypes.c_int]
    addr2line.restype = ctypes.c_int
    try:
        addr2loc = api.PyCode_Addr2Location
    except AttributeError:
        addr2loc = None
    if addr2loc is not None:
        addr2loc.argtypes = [ctypes.py_object, ctypes.c_int] + \
            [ctypes.POINTER(ctypes.c_int)] * 4
        addr2loc.restype = ctypes.c_int
    return addr2line, addr2loc


def none1(v):
    return -1 if v is None else v


def positions(code):
    """Position (line, end_line, col, end_col) of each 2-byte code unit."""
    nunits = len(code.co_code) // 2
    if sys.version_info < (3, 10):
        starts = list(dis.findlinestarts(code))
        assert starts and starts[0][0] == 0, starts
        out = []
        for unit in range(nunits):
            line = [ln for off, ln in starts if off <= 2 * unit][-1]
            out.append((line, -1, -1, -1))
        return out
    if sys.version_info < (3, 11):
        out = []
        for start, end, line in code.co_lines():
            assert start == 2 * len(out) and end > start, (start, end)
            out.extend([(none1(line), -1, -1, -1)] * ((end - start) // 2))
        assert len(out) == nunits, (len(out), nunits)
        return out
    out = [tuple(none1(v) for v in p) for p in code.co_positions()]
    assert len(out) == nunits, (len(out), nunits)
    return out


def check_against_c(code, pos, addr2line, addr2loc):
    if addr2line is None:
        return
    for unit, p in enumerate(pos):
        off = 2 * unit
        line = addr2line(code, off)
        assert line == p[0], (code.co_name, off, line, p)
        if addr2loc is None:
            continue
        v = [ctypes.c_int() for _ in range(4)]
        addr2loc(code, off, *[ctypes.byref(x) for x in v])
        # Addr2Location's argument order: line, col, end_line, end_col.
        got = (v[0].value, v[2].value, v[1].value, v[3].value)
        assert got == p, (code.co_name, off, got, p)


def runs(pos):
    """Merge equal consecutive positions into [start, end) byte ranges."""
    out = []
    for unit, p in enumerate(pos):
        if out and out[-1][1] == 2 * unit and tuple(out[-1][2:]) == p:
            out[-1][1] += 2
        else:
            out.append([2 * unit, 2 * unit + 2] + list(p))
    return out


def emit():
    v = sys.version_info
    addr2line, addr2loc = c_decoders()
    cases = []
    for name, src, _ in SAMPLES:
        mod = compile(src, name + ".py", "exec")
        for cname, code in walk(mod, name):
            if v < (3, 10):
                kind, table = "LINETABLE_LNOTAB", code.co_lnotab
            elif v < (3, 11):
                kind, table = "LINETABLE_310", code.co_linetable
            else:
                kind, table = "LINETABLE_LOCATIONS", code.co_linetable
            pos = positions(code)
            check_against_c(code, pos, addr2line, addr2loc)
            code_len = len(code.co_code)
            # 3.9's table does not end: the last line runs on past the code.
            past = -1
            if v < (3, 10):
                past = addr2line(code, code_len) if addr2line else pos[-1][0]
            cases.append({
                "name": cname, "kind": kind, "firstlineno": code.co_firstlineno,
                "table": list(table), "code_len": code_len,
                "past_line": past, "runs": runs(pos),
            })
    json.dump({"version": "%d.%d" % v[:2], "full": sys.version.split()[0],
               "addr2line": addr2line is not None,
               "addr2location": addr2loc is not None, "cases": cases},
              sys.stdout)


def c_bytes(data):
    lines = []
    for i in range(0, len(data), 16):
        lines.append("\t" + " ".join("0x%02x," % b for b in data[i:i + 16]))
    return "\n".join(lines)


HEADER = """\
/*
 * linetable_cases.h - GENERATED by tests/unit/gen_linetable_cases.py from
 * real interpreters; do not edit. Regenerate from the repository root with
 *
 *   python3 tests/unit/gen_linetable_cases.py -o tests/unit/linetable_cases.h
 *
 * Interpreters used:
%(pythons)s
 *
 * Each case is one code object compiled by that interpreter: its raw line
 * table (co_lnotab on 3.9, co_linetable on 3.10+), co_firstlineno, the code
 * length in bytes, and runs of byte offsets [start, end) whose instructions
 * share a position (3.9: dis.findlinestarts, 3.10: co_lines, 3.11+:
 * co_positions; -1 where the interpreter says None), cross-checked against
 * the interpreter's PyCode_Addr2Line / PyCode_Addr2Location. past_line is
 * 3.9's line for the offset just past the code (its table has no end).
 * Included only by test_linetable.c.
 */
#ifndef GS_LINETABLE_CASES_H
#define GS_LINETABLE_CASES_H

#include "../../src/cpython/linetable.h"

#include <stddef.h>
#include <stdint.h>

struct lt_run {
	uint32_t start, end;
	int line, end_line, col, end_col;
};

struct lt_case {
	const char *version;
	const char *name;
	enum linetable_kind kind;
	int firstlineno;
	const uint8_t *table;
	size_t table_len;
	uint32_t code_len;
	int past_line;
	const struct lt_run *runs;
	size_t nruns;
};
"""


def write_header(results, out):
    pythons = "\n".join(" *   %s (%s)" % (r["path"], r["full"]) for r in results)
    out.write(HEADER % {"pythons": pythons})
    entries = []
    for r in results:
        vid = r["version"].replace(".", "")
        for c in r["cases"]:
            ident = "lt%s_%s" % (vid, c["name"])
            out.write("\n/* %s %s */\n" % (r["version"], c["name"]))
            if c["table"]:
                out.write("static const uint8_t %s_table[] = {\n%s\n};\n"
                          % (ident, c_bytes(c["table"])))
            out.write("static const struct lt_run %s_runs[] = {\n" % ident)
            for run in c["runs"]:
                out.write("\t{ %d, %d, %d, %d, %d, %d },\n" % tuple(run))
            out.write("};\n")
            table = "%s_table, sizeof(%s_table)" % (ident, ident) \
                if c["table"] else "NULL, 0"
            entries.append('\t{ "%s", "%s", %s, %d, %s, %d, %d, %s_runs, %d },'
                           % (r["version"], c["name"], c["kind"],
                              c["firstlineno"], table, c["code_len"],
                              c["past_line"], ident, len(c["runs"])))
    out.write("\nstatic const struct lt_case lt_cases[] = {\n")
    out.write("\n".join(entries))
    out.write("\n};\n\n#endif\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--emit", action="store_true",
                    help="print this interpreter's cases as JSON (internal)")
    ap.add_argument("-o", "--output", help="header to write (default stdout)")
    ap.add_argument("pythons", nargs="*", help="interpreters to run")
    args = ap.parse_args()
    if args.emit:
        emit()
        return 0

    # Named interpreters must work; default ones that are missing or broken
    # (say, still being built) are skipped with a warning.
    pythons = args.pythons or [p for p in DEFAULT_PYTHONS if os.access(p, os.X_OK)]
    results = []
    for py in pythons:
        proc = subprocess.run([py, os.path.abspath(__file__), "--emit"],
                              stdout=subprocess.PIPE)
        if proc.returncode:
            if args.pythons:
                sys.exit("%s failed (status %d)" % (py, proc.returncode))
            sys.stderr.write("skipping %s: it failed (status %d)\n"
                             % (py, proc.returncode))
            continue
        r = json.loads(proc.stdout)
        r["path"] = py
        results.append(r)
        note = ""
        if not r["addr2line"]:
            note = " (no ctypes: not cross-checked against the C decoder)"
        elif not r["addr2location"] and r["version"] not in ("3.9", "3.10"):
            note = " (no PyCode_Addr2Location: columns not cross-checked)"
        sys.stderr.write("%s %s: %d cases%s\n"
                         % (py, r["full"], len(r["cases"]), note))
    if args.output:
        tmp = args.output + ".tmp"
        with open(tmp, "w") as f:
            write_header(results, f)
        os.replace(tmp, args.output)
    else:
        write_header(results, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
