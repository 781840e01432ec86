"""gen-operator-opcodes.py - list the opcodes that reach C without a call
instruction (operators, subscripts, comparisons, containment, iteration),
for src/cpython/opcodes.c.

usage: python3 tools/gen-operator-opcodes.py 3.12 path/to/opcode.h [...]
       (pairs of version and header: Include/opcode.h up to 3.12,
       Include/opcode_ids.h from 3.13, as each version ships it)

Prints one C initializer line per version. Each entry is an opcode, the
special method it runs (an index into the dunder table of opcodes.c, or
OP_BY_ARG when BINARY_OP's oparg says which), and the type a specialized
form proves (an index into the type table, 0 for none).
"""
import re
import sys

# BINARY_OP's oparg (3.11+), in order: NB_ADD .. NB_INPLACE_XOR, NB_SUBSCR
NB = ["ADD", "AND", "FLOOR_DIVIDE", "LSHIFT", "MATRIX_MULTIPLY", "MULTIPLY",
      "REMAINDER", "OR", "POWER", "RSHIFT", "SUBTRACT", "TRUE_DIVIDE", "XOR"]
# 3.9/3.10 opcode words for the same operators
OLD = {"MODULO": "REMAINDER"}
DUNDERS = ["__add__", "__and__", "__floordiv__", "__lshift__", "__matmul__", "__mul__",
           "__mod__", "__or__", "__pow__", "__rshift__", "__sub__", "__truediv__", "__xor__",
           "__iadd__", "__iand__", "__ifloordiv__", "__ilshift__", "__imatmul__", "__imul__",
           "__imod__", "__ior__", "__ipow__", "__irshift__", "__isub__", "__itruediv__",
           "__ixor__", "__getitem__", "__setitem__", "__delitem__", "__contains__",
           "__next__", "__iter__", "__neg__", "__invert__"]
TYPES = ["", "int", "float", "str", "list", "tuple", "dict", "range", "bool", "set"]
TYPE_WORDS = {"SET": "set", "INT": "int", "FLOAT": "float", "UNICODE": "str", "STR": "str", "LIST": "list",
              "TUPLE": "tuple", "DICT": "dict", "RANGE": "range", "BOOL": "bool"}


def classify(name):
    """(dunder, type) for an opcode name, or None."""
    typ, first = "", len(name)
    for w, t in TYPE_WORDS.items():
        m = re.search(r"_%s(_|$)" % w, name)
        if m and m.start() < first and not name.startswith("FOR_ITER"):
            typ, first = t, m.start()
    if name == "BINARY_OP" or name in ("BINARY_OP_ADAPTIVE", "INSTRUMENTED_BINARY_OP"):
        return ("OP_BY_ARG", "")
    m = re.match(r"^(BINARY|INPLACE)_(.*)$", name)
    if m and not m.group(2).startswith(("SUBSCR", "SLICE", "OP_SUBSCR")):
        rest = m.group(2)
        if rest.startswith("OP_"):
            rest = rest[3:]
        inplace = m.group(1) == "INPLACE" or rest.startswith("INPLACE_")
        rest = rest.replace("INPLACE_", "")
        for w in sorted(NB + list(OLD), key=len, reverse=True):
            if rest == w or rest.startswith(w + "_"):
                idx = NB.index(OLD.get(w, w))
                return (DUNDERS[idx + (13 if inplace else 0)], typ)
        if rest.startswith("EXTEND"):   # 3.14 BINARY_OP_EXTEND: a known C pair
            return ("OP_BY_ARG", "")
        return None
    if name.startswith(("BINARY_SUBSCR", "BINARY_OP_SUBSCR", "BINARY_SLICE")):
        if "GETITEM" in name:   # a Python __getitem__: pushes a frame
            return None
        return ("__getitem__", typ)
    if name.startswith(("STORE_SUBSCR", "STORE_SLICE")):
        return ("__setitem__", typ)
    if name == "DELETE_SUBSCR":
        return ("__delitem__", "")
    if name.startswith("CONTAINS_OP"):
        return ("__contains__", typ)
    if name.startswith("COMPARE_OP"):
        return ("OP_COMPARE", typ)
    if name.startswith(("FOR_ITER", "INSTRUMENTED_FOR_ITER")) and "GEN" not in name:
        t = {"FOR_ITER_LIST": "list", "FOR_ITER_TUPLE": "tuple",
             "FOR_ITER_RANGE": "range"}.get(name, "")
        return ("__next__", t)
    if name == "GET_ITER":
        return ("__iter__", "")
    if name == "UNARY_NEGATIVE":
        return ("__neg__", "")
    if name == "UNARY_INVERT":
        return ("__invert__", "")
    return None


def main():
    args = sys.argv[1:]
    for ver, path in zip(args[0::2], args[1::2]):
        ops = {}
        for m in re.finditer(r"#define\s+([A-Z_0-9]+)\s+(\d+)", open(path).read()):
            ops.setdefault(m.group(1), int(m.group(2)))
        out = []
        for name, num in sorted(ops.items(), key=lambda kv: kv[1]):
            if num >= 256:
                continue
            c = classify(name)
            if not c:
                continue
            d = c[0] if c[0].startswith("OP_") else "D(%s)" % c[0].strip("_").upper()
            out.append("{ %d, %s, %d }" % (num, d, TYPES.index(c[1])))
            print("  %s %s: %s %s" % (ver, name, c[0], c[1]), file=sys.stderr)
        major, minor = ver.split(".")
        # COMPARE_OP's oparg holds the comparison above this many bits
        shift = 0 if int(minor) <= 11 else 4 if int(minor) == 12 else 5
        # 3.9's eval loop may hand the GIL over before any instruction;
        # from 3.10 on only at jumps, calls and function entry
        anywhere = 1 if int(minor) <= 9 else 0
        # FOR_ITER's iterator: on top of the stack, below an index from 3.15
        iter_depth = 2 if int(minor) >= 15 else 1
        print("\t{ 0x%02x%02x, %d, %d, %d, %d, { %s } }," % (
            int(major), int(minor), shift, anywhere, iter_depth, len(out), ", ".join(out)))


if __name__ == "__main__":
    main()
