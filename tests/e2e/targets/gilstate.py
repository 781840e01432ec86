"""A target for tests/e2e/test_info.py: imports the modules named on its
command line (which may turn a free-threaded interpreter's GIL back on),
then reports what the interpreter itself says about its GIL on the
--ready-fd pipe, as one JSON line, and idles reading --control-fd until it
says anything or closes.

    python gilstate.py --ready-fd W --control-fd R [--ext-dir DIR]... [MODULE...]

The report: {"pid", "version", "free_threaded", "gil_enabled"
(sys._is_gil_enabled()), "flags_gil" (sys.flags.gil, 3.13+), "threads"
(threading.active_count()), "switch_interval", "executable"}.
SIGALRM ends it after 120 s whatever happens.
"""
import argparse
import importlib
import json
import os
import platform
import signal
import sys
import sysconfig
import threading
import warnings


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ready-fd", type=int, required=True)
    parser.add_argument("--control-fd", type=int, required=True)
    parser.add_argument("--ext-dir", action="append", default=[])
    parser.add_argument("modules", nargs="*")
    args = parser.parse_args()
    signal.alarm(120)
    for d in args.ext_dir:
        sys.path.insert(0, d)
    with warnings.catch_warnings():
        # "The global interpreter lock (GIL) has been enabled to load module":
        # expected when the test imports gilscope_gilext
        warnings.simplefilter("ignore", RuntimeWarning)
        for name in args.modules:
            importlib.import_module(name)
    probe = getattr(sys, "_is_gil_enabled", None)
    report = {
        "pid": os.getpid(),
        "version": platform.python_version(),
        "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "gil_enabled": True if probe is None else bool(probe()),
        "flags_gil": getattr(sys.flags, "gil", 1),
        "threads": threading.active_count(),
        "switch_interval": sys.getswitchinterval(),
        "executable": sys.executable,
    }
    os.write(args.ready_fd, (json.dumps(report) + "\n").encode())
    os.close(args.ready_fd)
    os.read(args.control_fd, 1)


if __name__ == "__main__":
    main()
