"""The JSON schema of `gilscope dump --json` itself (needs no gilscope)."""
import copy

import jsonschema
import pytest

import e2e_support as es

EXAMPLE = {
    "pid": 1234,
    "python": {"version": "3.13.1", "free_threaded": True, "gil_enabled": False,
               "switch_interval_s": 0.005},
    "threads": [
        {"tid": 1234, "name": "MainThread", "state": "io", "holds_gil": False,
         "truncated": False, "complete": True, "torn": False, "torn_reason": None,
         "frames": [{"function": "Worker.run", "file": "/srv/w.py", "line": 12},
                    {"function": "<module>", "file": "/srv/w.py", "line": 40}]},
        {"tid": 1240, "name": "n\u0153ud-\u03bb-\u7dda", "state": "python", "holds_gil": False,
         "truncated": False, "complete": False, "torn": True,
         "torn_reason": "a generator or coroutine yielded while it was read",
         "frames": [{"function": "fib_gen", "file": "/srv/w.py", "line": 3}],
         "extra": "fields are allowed"},
    ],
    "extra": {"fields": "are allowed"},
}


def test_schema_is_valid():
    jsonschema.Draft202012Validator.check_schema(es.load_schema())


def test_example_matches():
    assert es.schema_errors(EXAMPLE) == []


def _broken(path, value):
    doc = copy.deepcopy(EXAMPLE)
    node = doc
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return doc


@pytest.mark.parametrize("path,value", [
    (["pid"], KeyError),
    (["pid"], "1234"),
    (["python", "version"], KeyError),
    (["python", "version"], "2.7.18"),
    (["python", "free_threaded"], "no"),
    (["python", "gil_enabled"], KeyError),
    (["python", "switch_interval_s"], KeyError),
    (["python", "switch_interval_s"], 0),
    (["threads"], KeyError),
    (["threads", 0, "tid"], KeyError),
    (["threads", 0, "name"], None),
    (["threads", 0, "state"], "running"),
    (["threads", 0, "holds_gil"], KeyError),
    (["threads", 0, "frames"], KeyError),
    (["threads", 0, "complete"], KeyError),
    (["threads", 0, "complete"], "yes"),
    (["threads", 1, "torn"], KeyError),
    (["threads", 1, "torn_reason"], 1),
    (["threads", 0, "frames", 0, "line"], "12"),
    (["threads", 0, "frames", 0, "function"], KeyError),
    (["threads", 0, "frames", 0, "file"], KeyError),
], ids=lambda v: "-".join(map(str, v)) if isinstance(v, list) else "missing" if v is KeyError else repr(v))
def test_broken_documents_are_rejected(path, value):
    assert es.schema_errors(_broken(path, value)), f"schema accepted {path} = {value!r}"
