"""Imports gilscope_gilext, an extension module that does not declare
Py_mod_gil (built by test_ft_check.py, found through PYTHONPATH).

With GILSCOPE_FT_IMPORT_LOG set, each run appends when it imported the module,
in seconds after its process started (the kernel's start time of the process,
/proc/self/stat, against CLOCK_BOOTTIME: 1/CLK_TCK resolution)."""
import json
import os
import time


def since_start():
    with open("/proc/self/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    start = int(fields[19]) / os.sysconf("SC_CLK_TCK")   # field 22: starttime
    return time.clock_gettime(time.CLOCK_BOOTTIME) - start


def test_uses_extension():
    before = since_start()
    import gilscope_gilext
    after = since_start()
    log = os.environ.get("GILSCOPE_FT_IMPORT_LOG")
    if log:
        with open(log, "a") as f:
            f.write(json.dumps({"python_gil": os.environ.get("PYTHON_GIL"),
                                "before": before, "after": after}) + "\n")
    assert gilscope_gilext.__doc__


def test_plain():
    assert True
