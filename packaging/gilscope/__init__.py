"""gilscope, packaged for pip: the C binary is in bin/ beside this file.

This shim only runs it (console script `gilscope`, `python -m gilscope`),
with the same arguments; gilscope itself is C (see the project README).
"""
import os
import sys

__all__ = ["main", "binary"]


def binary():
    """The path of the bundled gilscope executable."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin", "gilscope")


def main():
    path = binary()
    try:
        os.execv(path, [path] + sys.argv[1:])
    except OSError as e:
        sys.stderr.write("gilscope: cannot run %s (%s): reinstall the gilscope package\n"
                         % (path, e.strerror))
        return 126
