#!/usr/bin/env python3
"""json-seeds.py OUTDIR - seeds for fuzz_json: messages like those
src/cmd/speedup_harness.py sends, and JSON edge cases."""
import json
import os
import sys

MESSAGES = [
    {"phase": "ready", "pid": 1234, "python": {"version": "3.14.0", "free_threaded": True,
                                               "gil_enabled": False, "executable": "/usr/bin/python3"}},
    {"phase": "threads", "n": 4, "start": True, "tids": [101, 102, 103, 104]},
    {"phase": "threads", "n": 4, "seconds": 1.25e-3},
    {"phase": "processes", "n": 2, "seconds": 0.75},
    {"phase": "baseline", "seconds": 0.5, "calls": 1000},
    {"phase": "error", "error": "internal", "message": "Traceback \u00e9 \"quoted\" \\ \n"},
    {"phase": "done"},
]
EDGE = {
    "nested": "[" * 32 + "]" * 32,
    "too-deep": "[" * 40 + "]" * 40,
    "unicode": r'"\ud83d\ude00 \u00e9 \n\t\/ \u0041"',
    "lone-surrogate": r'"\ud800"',
    "nul-escape": r'"a\u0000b"',
    "numbers": "[0, -0, 1e308, -1.5E-10, 123456789012345678901234567890, 1e400]",
    "literals": " [true, false, null] ",
    "dup-key": '{"a": 1, "a": 2}',
    "trailing": '{"a": 1} x',
    "utf8": '"\xc3\xa9\xe7\xb7\x9a"',
}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for i, m in enumerate(MESSAGES):
        with open(os.path.join(out, f"msg{i}"), "w", encoding="utf-8") as f:
            f.write(json.dumps(m, sort_keys=True))
    for name, text in EDGE.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(text.encode("latin-1") if name == "utf8" else text.encode("utf-8"))


if __name__ == "__main__":
    main()
