# -*- coding: utf-8 -*-
"""A target for gilscope's end-to-end tests: threads parked in known states.

Run by tests/e2e/conftest.py with one of the interpreters under test:

    python states.py SCENARIO --ready-fd W --control-fd R [--poke-fd R]
                     [--ext-dir DIR] [--tmpdir DIR] [--timeout S]
                     [--switch-interval S]

Scenarios:
    mixed    one thread per state a default build can show without GIL
             contention (python, sleep, io, lock_wait, native), plus the
             awkward stacks: 500 frames deep, non-ASCII names and paths,
             generator and coroutine frames, exec() of a string, a method.
    gilheld  one thread holding the GIL inside C (native_gil), one thread
             that wants the GIL (gil_wait) once the test pokes it, a sleeper.
    idle     the main thread and one sleeper; needs no extension, runs on
             any Python 3 (used against unsupported versions too).

Readiness protocol, on the --ready-fd pipe (each message one write(2), so
messages never interleave):
  * JSON lines: first {"event": "hello", ...} (facts about this interpreter
    and how many messages to expect), then one {"event": "thread", "role":
    ..., "tid": ..., "name": ...} per thread, written by that thread just
    before it goes to its place;
  * single bytes b"!" written from inside gilscope_testext's C functions once
    the thread is certainly in the C call (hello["c_ready"] says how many).
The test then checks the kernel's view (/proc/PID/task/TID/{stat,syscall})
before it trusts that a thread has arrived: a thread message only says the
thread is about to go there.

Lines the tests look for end in a marker comment "# @mark:NAME"; the tests
find their numbers by scanning this file, so code can move freely.

The main thread ends blocked reading --control-fd; it exits when that pipe
says anything or reaches EOF (the test died), and SIGALRM ends the process
after --timeout seconds in any case, so nothing outlives a broken test run.

This file must stay parseable by Python 3.6 (the "idle" scenario runs on old,
unsupported interpreters for the error tests): no walrus, no match, no
positional-only parameters.
"""
import argparse
import json
import os
import signal
import socket
import sys
import threading
import time

DEPTH = 500  # frames of recurse() below the blocked one in the "deep" thread

NONASCII_THREAD_NAME = u"n\u0153ud-\u03bb-\u7dda"  # nœud-λ-線
NONASCII_DIR = u"dossier-\u00e9"  # dossier-é
NONASCII_FILE = u"m\u00f3dulo_\u7dda.py"  # módulo_線.py
NONASCII_FUNC = u"attendre_\u00e9"  # attendre_é
NONASCII_SOURCE = (
    u"# -*- coding: utf-8 -*-\n"
    u"# Written by gilscope's states.py at run time.\n"
    u"\n"
    u"def " + NONASCII_FUNC + u"(lock):\n"
    u"    lock.acquire()  # @mark:nonascii\n"
)

# Code run through exec(): its frames have the file name "<string>". Its own
# markers use "@exec:" so that scanning this file never finds them.
EXEC_SOURCE = (
    "def from_exec(lock):\n"
    "    lock.acquire()  # @exec:block\n"
    "\n"
    "from_exec(held)  # @exec:call\n"
)

READY_FDS = {}  # "fd": the readiness pipe, set in main()
HELD = threading.Lock()  # acquired by main and never released
FOREVER = threading.Event()  # never set


def die(message):
    # From any thread: SystemExit would only end the calling thread.
    sys.stderr.write("states.py: %s\n" % message)
    sys.stderr.flush()
    os._exit(70)


def native_tid():
    get = getattr(threading, "get_native_id", None)
    return get() if get is not None else None


def send(msg):
    data = (json.dumps(msg, sort_keys=True) + "\n").encode("ascii")
    if len(data) > 4000:  # PIPE_BUF: larger writes could interleave
        raise ValueError("readiness message too long")
    n = os.write(READY_FDS["fd"], data)
    if n != len(data):
        raise OSError("short write on the readiness pipe")


def announce(role, **extra):
    msg = {
        "event": "thread",
        "role": role,
        "tid": native_tid(),
        "name": threading.current_thread().name,
    }
    msg.update(extra)
    send(msg)


def scan_markers(text, tag):
    """{name: 1-based line} of the lines of text that end in '# @<tag>NAME'."""
    found = {}
    prefix = "# @" + tag
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.rstrip()
        i = stripped.rfind(prefix)
        if i >= 0:
            name = stripped[i + len(prefix):]
            if name and all(c.isalnum() or c in "_-" for c in name):
                found[name] = lineno
    return found


# --- the places threads go to ----------------------------------------------

class Worker(object):
    def run_loop(self):
        announce("busy")
        n = 0
        while True: n += 1  # @mark:busy_loop


def sleep_forever(seconds):
    announce("sleeper")
    time.sleep(seconds)  # @mark:sleep


def recv_forever(sock):
    announce("io")
    sock.recv(1)  # @mark:recv


def wait_on_lock(lock):
    announce("lock")
    lock.acquire()  # @mark:lock_acquire


def spin_without_gil(ext, fd, seconds):
    announce("native")
    ext.spin_nogil(fd, seconds)  # @mark:spin_nogil


def hold_the_gil(ext, fd, seconds, parked):
    announce("holder")
    # Once inside hold_gil no other thread runs Python again, so every other
    # thread must first be parked in its system call (it would otherwise be
    # stuck waiting for the GIL on its way there). The waits sleep, which
    # releases the GIL and lets the others get there.
    for what, tid_of, kind in parked:
        if not wait_until_in_syscall(tid_of(), SYSCALLS[kind], 30):
            die("%s never blocked in %s" % (what, kind))
    ext.hold_gil(fd, seconds)  # @mark:hold_gil


def want_the_gil(poke_fd):
    # Blocks in read(2) without the GIL. When the test pokes the pipe, read
    # returns and the thread must take the GIL back to go on: it then waits
    # for the GIL, which the holder never gives up.
    announce("waiter")
    os.read(poke_fd, 1)  # @mark:gil_wait


def recurse(n, event):
    if n > 0:
        return recurse(n - 1, event)  # @mark:recurse
    event.wait()  # @mark:deep_wait


def deep_main(event):
    announce("deep", depth=DEPTH)
    recurse(DEPTH, event)  # @mark:deep_call


def gen_body(lock):
    yield 1
    lock.acquire()  # @mark:gen_block
    yield 2


def drive_generator(lock):
    announce("generator")
    for _ in gen_body(lock): pass  # @mark:gen_drive


async def coro_inner(lock):
    lock.acquire()  # @mark:coro_block


async def coro_outer(lock):
    await coro_inner(lock)  # @mark:coro_await


def drive_coroutine(lock):
    announce("coroutine")
    coro = coro_outer(lock)
    coro.send(None)  # @mark:coro_drive


def run_exec(lock):
    lines = scan_markers(EXEC_SOURCE, "exec:")
    announce("exec", exec_block_line=lines["block"], exec_call_line=lines["call"])
    exec(EXEC_SOURCE, {"held": lock})  # @mark:exec_call


def load_nonascii_module(tmpdir):
    import importlib.util
    folder = os.path.join(tmpdir, NONASCII_DIR)
    if not os.path.isdir(folder):
        os.makedirs(folder)
    path = os.path.join(folder, NONASCII_FILE)
    with open(path, "w", encoding="utf-8") as f:
        f.write(NONASCII_SOURCE)
    spec = importlib.util.spec_from_file_location("gilscope_nonascii", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def nonascii_main(module, lock):
    func = getattr(module, NONASCII_FUNC)
    announce("nonascii", file=func.__code__.co_filename, function=NONASCII_FUNC)
    func(lock)  # @mark:nonascii_call


# --- scenarios -------------------------------------------------------------

def thread(target, name, *args):
    t = threading.Thread(target=target, name=name, args=args)
    t.daemon = True
    return t


def in_syscall(tid, numbers):
    """Whether thread tid of this process is blocked in one of the syscalls."""
    if tid is None:
        return False
    try:
        with open("/proc/self/task/%d/syscall" % tid) as f:
            first = f.read().split(None, 1)[0]
    except (OSError, IndexError):
        return False
    return first.lstrip("-").isdigit() and int(first) in numbers


def wait_until_in_syscall(tid, numbers, timeout):
    # Bounded polling of the kernel's view of one of our own threads.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if in_syscall(tid, numbers):
            return True
        time.sleep(0.001)
    return False


# System call numbers on the architectures gilscope supports. time.sleep()
# is select(2) before 3.11, clock_nanosleep(2) since.
_SYSCALLS = {
    "x86_64": {"read": {0}, "sleep": {35, 230, 23, 270}},
    "aarch64": {"read": {63}, "sleep": {101, 115, 72}},
}
SYSCALLS = _SYSCALLS.get(os.uname()[4], {"read": set(), "sleep": set()})


def scenario_mixed(args, ext):
    a, b = socket.socketpair()
    module = load_nonascii_module(args.tmpdir)
    threads = [
        thread(sleep_forever, "sleeper", args.timeout),
        thread(recv_forever, "io-recv", a),
        thread(wait_on_lock, "lock-waiter", HELD),
        thread(spin_without_gil, "native-spin", ext, args.ready_fd, args.timeout),
        thread(deep_main, "deep-%d" % DEPTH, FOREVER),
        thread(nonascii_main, NONASCII_THREAD_NAME, module, HELD),
        thread(drive_generator, "generator", HELD),
        thread(drive_coroutine, "coroutine", HELD),
        thread(run_exec, "exec-string", HELD),
        # Last: from now on it is the only thread that wants the GIL.
        thread(Worker().run_loop, "busy"),
    ]
    keep = [b]  # the other end of the socketpair stays open: recv blocks
    return threads, 1, keep


def scenario_gilheld(args, ext):
    if args.poke_fd is None:
        die("gilheld needs --poke-fd")
    sleeper = thread(sleep_forever, "sleeper", args.timeout)
    waiter = thread(want_the_gil, "gil-waiter", args.poke_fd)
    main_thread = threading.main_thread()
    parked = [
        ("the main thread", lambda: main_thread.native_id, "read"),
        ("the gil-waiter thread", lambda: waiter.native_id, "read"),
        ("the sleeper thread", lambda: sleeper.native_id, "sleep"),
    ]
    holder = thread(hold_the_gil, "gil-holder", ext, args.ready_fd,
                    args.timeout, parked)
    return [sleeper, waiter, holder], 1, []


def scenario_idle(args, ext):
    return [thread(sleep_forever, "sleeper", args.timeout)], 0, []


SCENARIOS = {
    "mixed": (scenario_mixed, True),
    "gilheld": (scenario_gilheld, True),
    "idle": (scenario_idle, False),
}


def gil_enabled():
    probe = getattr(sys, "_is_gil_enabled", None)
    return True if probe is None else bool(probe())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--ready-fd", type=int, required=True)
    parser.add_argument("--control-fd", type=int, required=True)
    parser.add_argument("--poke-fd", type=int)
    parser.add_argument("--ext-dir")
    parser.add_argument("--tmpdir")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--switch-interval", type=float)
    args = parser.parse_args()

    # The hard bound: SIGALRM's default action ends the whole process,
    # whatever the threads are doing and whoever holds the GIL.
    args.timeout = max(1.0, min(args.timeout, 120.0))
    signal.alarm(int(args.timeout) + 1)
    READY_FDS["fd"] = args.ready_fd
    if args.switch_interval is not None:
        sys.setswitchinterval(args.switch_interval)
    if args.tmpdir is None:
        import tempfile
        args.tmpdir = tempfile.mkdtemp(prefix="gilscope-states-")

    build, needs_ext = SCENARIOS[args.scenario]
    ext = None
    if needs_ext:
        if args.ext_dir:
            sys.path.insert(0, args.ext_dir)
        import gilscope_testext as ext  # after this, the GIL must still be off on FT gil0

    HELD.acquire()
    threads, c_ready, _keep = build(args, ext)
    import sysconfig
    send({
        "event": "hello",
        "pid": os.getpid(),
        "scenario": args.scenario,
        "version": __import__("platform").python_version(),
        "hexversion": sys.hexversion,
        "executable": sys.executable,
        "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "gil_enabled": gil_enabled(),
        "switch_interval": sys.getswitchinterval(),
        "file": main.__code__.co_filename,
        "threads": len(threads) + 1,  # + the main thread
        "c_ready": c_ready,
    })

    for t in threads:
        t.start()
    announce("main")
    os.read(args.control_fd, 1)  # @mark:main_wait
    os._exit(0)


if __name__ == "__main__":
    main()  # @mark:module_main
