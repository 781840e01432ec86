"""gen-call-opcodes.py - list the opcodes that call into a callable, for one
interpreter, as a C initializer line for src/cpython/opcodes.c.

Run with each interpreter:  pythonX.Y tools/gen-call-opcodes.py
It reads the interpreter's own opcode header (Include/opcode.h up to 3.12,
Include/opcode_ids.h from 3.13), which numbers specialized and instrumented
instructions too. A thread that holds the GIL and whose innermost frame sits
on one of these opcodes is inside a call that did not push a Python frame:
native code.
"""
import os
import re
import sys
import sysconfig

inc = sysconfig.get_paths()["include"]
ops = {}
for name in ("opcode_ids.h", "opcode.h"):
    path = os.path.join(inc, name)
    if os.path.exists(path):
        for m in re.finditer(r"#define\s+([A-Z_0-9]+)\s+(\d+)", open(path).read()):
            ops.setdefault(m.group(1), int(m.group(2)))
        break


def is_call(name):
    if name.startswith("PRECALL"):  # 3.11: the specialized PRECALLs make the C call
        return name not in ("PRECALL", "PRECALL_ADAPTIVE", "PRECALL_BOUND_METHOD",
                            "PRECALL_PYFUNC")
    if "CALL" not in name.split("_"):
        return False
    # calls that push a Python frame rather than run C
    if "NON_PY" in name:  # 3.13+: CALL_NON_PY_GENERAL calls C
        return True
    return not any(w in name for w in ("_PY_", "ALLOC_AND_ENTER", "BOUND_METHOD",
                                       "CALL_PY", "PY_GENERAL", "KW_PY"))


calls = sorted({v for k, v in ops.items() if is_call(k) and v < 256})
print("\t{ 0x%02x%02x, %d, { %s } }," % (
    sys.version_info[0], sys.version_info[1], len(calls), ", ".join(str(c) for c in calls)))
print("  %d.%d: %s" % (sys.version_info[0], sys.version_info[1],
                       ", ".join(sorted(k for k, v in ops.items() if v in calls))), file=sys.stderr)
