# speedup_harness.py - the Python side of `gilscope speedup`.
#
# Embedded in the gilscope binary at build time and written to a private
# temporary directory at run time; gilscope runs it with the chosen
# interpreter as
#
#     python HARNESS EVENTS_FD CONTROL_FD TARGET THREADS CALLS PROCESSES
#
# (fixed positions, so that no user data is ever read as an option):
#   EVENTS_FD   pipe this harness writes JSON lines to, one message each
#   CONTROL_FD  pipe gilscope answers on ("go" lines)
#   TARGET      module:function or path/to/file.py:function
#   THREADS     thread counts, comma-separated ("1,2,4,8")
#   CALLS       calls per thread, 0 for "enough that the baseline takes ~0.5 s"
#   PROCESSES   "1" to repeat each count on a ProcessPoolExecutor, else "0"
#
# Protocol (every message is one JSON object on one line):
#   {"phase": "ready", "pid", "python": {...}, "calls", "call_s"}   wait for go
#   {"phase": "baseline", "seconds", "calls", "cpu_wait_s"}
#   {"phase": "threads", "n", "start": true, "tids": [...]}         wait for go
#   {"phase": "threads", "n", "seconds", "cpu_wait_s"}              wait for go
#   {"phase": "processes", "n", "seconds"}
#   {"phase": "done"}
#   {"phase": "error", "error": KIND, "message": "one line"}        then exit 1
# gilscope starts sampling before it answers a threads start and stops when
# the end arrives, so the sampled window is exactly the threaded phase. The
# harness never sleeps: it blocks on the control pipe. cpu_wait_s is the
# time the timed threads were runnable but had no CPU (the kernel's run
# delay, summed over them; null where unknown): what other processes cost.
#
# Written for Python 3.6+ (gilscope reads 3.9+, but a timing-only run on an
# older interpreter should still work): no walrus, no match.
import os
import sys

# sys.path[0] is the directory of this file: a private temporary directory,
# but nothing the target's imports should see. (os and sys were imported at
# start-up, before sys.path[0] existed.)
if sys.path and sys.path[0] and \
        os.path.realpath(sys.path[0]) == os.path.dirname(os.path.realpath(__file__)):
    del sys.path[0]

# Everything the harness needs is imported before the target, so that a
# target file named like a module (json.py) cannot stand in for it.
import importlib
import importlib.util
import json
import platform
import sysconfig
import threading
import time

BASELINE_TARGET_S = 0.5  # automatic call count: the baseline takes about this
MAX_CALLS = 10000000
MSG_MAX = 400  # characters of an error message

_EVENTS = None
_CONTROL = None
_FN = None  # the target, resolved (also in pool workers)


class HarnessError(Exception):
    """An error to report to gilscope: kind and one-line message."""

    def __init__(self, kind, message):
        Exception.__init__(self, message)
        self.kind = kind
        self.message = message


def one_line(s):
    s = " ".join(str(s).split())
    return s if len(s) <= MSG_MAX else s[:MSG_MAX - 3] + "..."


def describe_exc(e):
    text = one_line(e)
    name = type(e).__name__
    return name + (": " + text if text else "")


def send(msg):
    data = (json.dumps(msg, sort_keys=True) + "\n").encode("utf-8")
    while data:
        n = os.write(_EVENTS, data)
        data = data[n:]


def wait_go():
    line = _CONTROL.readline()
    if not line:  # gilscope is gone
        os._exit(1)


# --- the target ---------------------------------------------------------------

def resolve(spec):
    """The callable TARGET names, or HarnessError."""
    left, sep, right = spec.rpartition(":")
    if not sep or not left or not right:
        raise HarnessError("bad-target", "TARGET is module:function or path/to/file.py:function, "
                           "not %r" % spec)
    if left.endswith(".py") or os.sep in left:
        path = os.path.abspath(left)
        if not os.path.isfile(path):
            raise HarnessError("no-file", "no such file: %s" % left)
        stem = os.path.splitext(os.path.basename(path))[0]
        name = stem if stem.isidentifier() and stem not in sys.modules else "_gilscope_speedup_target"
        # like `python file.py`: the file's directory comes first
        sys.path.insert(0, os.path.dirname(path))
        try:
            spec_ = importlib.util.spec_from_file_location(name, path)
            if spec_ is None or spec_.loader is None:
                raise HarnessError("bad-target", "%s is not a Python source file" % left)
            mod = importlib.util.module_from_spec(spec_)
            sys.modules[name] = mod
            spec_.loader.exec_module(mod)
        except HarnessError:
            raise
        except (Exception, SystemExit) as e:
            sys.modules.pop(name, None)
            raise HarnessError("import-failed", "importing %s failed: %s" % (left, describe_exc(e)))
        where = left
    else:
        # like `python -m`: the current directory comes first
        sys.path.insert(0, os.getcwd())
        try:
            mod = importlib.import_module(left)
        except ModuleNotFoundError as e:
            missing = getattr(e, "name", None)
            if missing and (left == missing or left.startswith(missing + ".")):
                raise HarnessError("no-module", "no module named %r (searched the current "
                                   "directory and sys.path)" % left)
            raise HarnessError("import-failed", "importing %s failed: %s" % (left, describe_exc(e)))
        except (Exception, SystemExit) as e:
            raise HarnessError("import-failed", "importing %s failed: %s" % (left, describe_exc(e)))
        where = "module %r" % left
    obj = mod
    for part in right.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise HarnessError("no-function", "%s has no function %r" % (where, right))
        except Exception as e:
            raise HarnessError("no-function", "looking up %r in %s failed: %s"
                               % (right, where, describe_exc(e)))
    if not callable(obj):
        raise HarnessError("not-callable", "%s in %s is not callable (it is of type %s)"
                           % (right, where, type(obj).__name__))
    return obj


def call_n(fn, n):
    for _ in range(n):
        fn()


def sched_wait():
    """Seconds this thread has spent runnable but waiting for a CPU (the
    kernel's run delay), or None where Linux does not say."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def waited(w0, w1):
    return w1 - w0 if w0 is not None and w1 is not None else None


# --- process pool workers (module level, so that they pickle by name) --------

def _pool_init(spec, path):
    global _FN
    if _FN is None:  # not a forked copy of the harness: import it here
        sys.path[:] = path
        _FN = resolve(spec)


def _pool_warm(_):
    _FN()
    return os.getpid()


def _pool_run(calls):
    call_n(_FN, calls)


# --- phases -------------------------------------------------------------------

def python_info():
    is_enabled = getattr(sys, "_is_gil_enabled", None)
    return {
        "version": platform.python_version(),
        "implementation": sys.implementation.name,
        "executable": sys.executable or "",
        "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "gil_enabled": bool(is_enabled()) if is_enabled is not None else True,
    }


def target_call(spec, fn, what):
    try:
        fn()
    except KeyboardInterrupt:
        raise
    except BaseException as e:
        raise HarnessError("raised", "%s raised %s%s" % (spec, describe_exc(e), what))


def calibrate(spec, fn, calls):
    """Call once (warm-up, and the check that it runs); pick the call count."""
    t0 = time.perf_counter()
    target_call(spec, fn, " (first call)")
    first = time.perf_counter() - t0
    if calls:
        return calls, first
    n, spent = 1, first
    # a few more calls until the estimate is worth something
    while spent < 0.05 and n < 1000:
        t0 = time.perf_counter()
        target_call(spec, fn, "")
        spent += time.perf_counter() - t0
        n += 1
    per_call = spent / n
    calls = int(round(BASELINE_TARGET_S / per_call)) if per_call > 0 else MAX_CALLS
    return max(1, min(MAX_CALLS, calls)), per_call


def run_threads(spec, fn, n, calls):
    # ready: every worker has written its tid; go: the timed phase starts
    ready = threading.Barrier(n + 1)
    go = threading.Barrier(n + 1)
    tids = [None] * n
    waits = [None] * n
    errors = []
    get_tid = getattr(threading, "get_native_id", None)

    def work(i):
        tids[i] = get_tid() if get_tid is not None else None
        ready.wait()
        go.wait()
        w0 = sched_wait()
        try:
            call_n(fn, calls)
        except BaseException as e:  # reported after the join
            errors.append(e)
        waits[i] = waited(w0, sched_wait())

    threads = [threading.Thread(target=work, args=(i,), name="speedup-%d" % (i + 1))
               for i in range(n)]
    for t in threads:
        t.start()
    ready.wait()
    send({"phase": "threads", "n": n, "start": True, "tids": [t for t in tids if t is not None]})
    wait_go()
    t0 = time.perf_counter()
    go.wait()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - t0
    if errors:
        raise HarnessError("raised", "%s raised %s in a thread (at %d threads)"
                           % (spec, describe_exc(errors[0]), n))
    cpu_wait = None if None in waits else sum(waits)
    send({"phase": "threads", "n": n, "seconds": seconds, "cpu_wait_s": cpu_wait})
    wait_go()


def run_processes(spec, n, calls):
    import concurrent.futures as cf
    try:
        with cf.ProcessPoolExecutor(max_workers=n, initializer=_pool_init,
                                    initargs=(spec, list(sys.path))) as ex:
            # start every worker (and warm the function up in it) before timing
            list(ex.map(_pool_warm, range(n)))
            t0 = time.perf_counter()
            futures = [ex.submit(_pool_run, calls) for _ in range(n)]
            for f in futures:
                f.result()
            seconds = time.perf_counter() - t0
    except HarnessError:
        raise
    except KeyboardInterrupt:
        raise
    except BaseException as e:
        raise HarnessError("raised", "%s on a process pool of %d: %s" % (spec, n, describe_exc(e)))
    send({"phase": "processes", "n": n, "seconds": seconds})


def main(argv):
    global _EVENTS, _CONTROL, _FN
    if len(argv) != 7:
        sys.stderr.write("speedup_harness.py: run by gilscope speedup, not by hand\n")
        return 2
    _EVENTS = int(argv[1])
    _CONTROL = os.fdopen(int(argv[2]), "r")
    spec = argv[3]
    counts = [int(x) for x in argv[4].split(",") if x]
    calls = int(argv[5])
    processes = argv[6] == "1"
    if processes:
        import concurrent.futures  # before the target, as above
    # stdout belongs to gilscope's report: what the target prints goes to stderr
    sys.stdout.flush()
    os.dup2(2, 1)
    try:
        try:
            fn = _FN = resolve(spec)
            calls, per_call = calibrate(spec, fn, calls)
            # after the import: an extension may have turned the GIL back on
            send({"phase": "ready", "pid": os.getpid(), "python": python_info(),
                  "calls": calls, "call_s": per_call})
            wait_go()
            w0 = sched_wait()
            t0 = time.perf_counter()
            try:
                call_n(fn, calls)
            except KeyboardInterrupt:
                raise
            except BaseException as e:
                raise HarnessError("raised", "%s raised %s" % (spec, describe_exc(e)))
            seconds = time.perf_counter() - t0
            send({"phase": "baseline", "seconds": seconds, "calls": calls,
                  "cpu_wait_s": waited(w0, sched_wait())})
            for n in counts:
                run_threads(spec, fn, n, calls)
            if processes:
                for n in counts:
                    run_processes(spec, n, calls)
            send({"phase": "done"})
            return 0
        except HarnessError as e:
            send({"phase": "error", "error": e.kind, "message": one_line(e.message)})
            return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 1
    except Exception as e:  # a bug here: still one line for gilscope to show
        send({"phase": "error", "error": "internal", "message":
              "the speedup harness failed: " + describe_exc(e)})
        return 1


if __name__ == "__main__":
    code = main(sys.argv)
    sys.stdout.flush()
    sys.stderr.flush()
    # skip interpreter teardown: the target's own threads or atexit hooks
    # must not keep the report waiting
    os._exit(code)
