"""gilscope's error exits: each a documented status and one line on stderr.

  0 ok, 1 other error, 2 usage, 3 no such process, 4 permission denied,
  5 not a Python process, 6 unsupported Python version/build,
  7 target exited during the operation (not provoked here: no deterministic way).
"""
import os
import re
import shutil
import subprocess

import pytest

import e2e_support as es

NOBODY = 65534


def error_problems(run: es.Run, status: int, *, mentions=(), one_line=True):
    problems = []
    if run.returncode != status:
        problems.append(f"exit status {run.returncode}, expected {status}")
    lines = run.stderr.rstrip("\n").split("\n") if run.stderr.strip() else []
    if not lines:
        problems.append("nothing on stderr")
    elif one_line and len(lines) != 1:
        problems.append(f"stderr has {len(lines)} lines, expected one")
    for word in mentions:
        if word.lower() not in run.stderr.lower():
            problems.append(f"stderr does not mention {word!r}")
    if run.stdout:
        problems.append("something was written to stdout")
    return problems


def check_error(run: es.Run, status: int, **kw):
    problems = error_problems(run, status, **kw)
    if problems:
        pytest.fail("\n".join(problems) + "\n" + run.describe(), pytrace=False)


# --- no such process / not Python / unsupported -----------------------------------------

@pytest.mark.asan
@pytest.mark.parametrize("json_flag", [[], ["--json"]], ids=["text", "json"])
def test_no_such_process(gilscope, json_flag):
    # A pid that certainly existed a moment ago and is reaped now.
    child = subprocess.Popen(["true"])
    child.wait()
    pid = child.pid
    assert not os.path.exists(f"/proc/{pid}"), f"(harness) pid {pid} was reused already"
    run = es.run_gilscope(gilscope, ["dump", "--pid", str(pid)] + json_flag)
    check_error(run, 3, mentions=[str(pid)])


@pytest.mark.asan
def test_not_a_python_process(gilscope):
    sleeper = subprocess.Popen(["sleep", "60"], stdin=subprocess.DEVNULL)
    try:
        run = es.run_gilscope(gilscope, ["dump", "--pid", str(sleeper.pid)])
        check_error(run, 5)
        assert sleeper.poll() is None, "gilscope killed or ended the process it looked at"
    finally:
        sleeper.kill()
        sleeper.wait()


@pytest.mark.asan
def test_unsupported_version(gilscope, old_interp, target):
    if old_interp is None:
        pytest.skip("no CPython older than 3.9 found (e.g. pyenv's 3.8.x)")
    t = target(old_interp, "idle")
    run = es.run_gilscope(gilscope, ["dump", "--pid", str(t.pid), "--json"])
    major_minor = ".".join(str(x) for x in old_interp.version_info[:2])
    check_error(run, 6, mentions=[major_minor])


# --- permission denied -----------------------------------------------------------------

def _newest_default_build():
    supported = es.discover()[0]
    default = [it for it in supported if not it.ft]
    return (default or supported or [None])[-1]


def test_permission_denied(nobody_gilscope, target):
    """A root-owned Python process, examined by user nobody: exit 4, and the
    message says what to do about ptrace (CAP_SYS_PTRACE / ptrace_scope)."""
    if os.geteuid() != 0:
        pytest.skip("needs root, to run gilscope as another user against a root-owned target")
    it = _newest_default_build()
    if it is None:
        pytest.skip("no supported interpreter found")
    t = target(it, "idle")
    setpriv = shutil.which("setpriv")
    if setpriv:
        prefix = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]
        run = es.run_gilscope(nobody_gilscope, ["dump", "--pid", str(t.pid)], prefix=prefix)
    else:
        pytest.skip("setpriv not found (util-linux)")
    check_error(run, 4, mentions=["ptrace"])
    assert t.proc.poll() is None, "the target died"


# --- usage ---------------------------------------------------------------------------

USAGE_ERRORS = {
    "no-pid": ["dump"],
    "pid-without-value": ["dump", "--pid"],
    "pid-not-a-number": ["dump", "--pid", "abc"],
    "pid-trailing-garbage": ["dump", "--pid", "12abc"],
    "pid-overflow": ["dump", "--pid", "99999999999999999999999"],
    "unknown-option": ["dump", "--pid", "1", "--no-such-option"],
    "unknown-command": ["no-such-command"],
}


@pytest.mark.asan
@pytest.mark.parametrize("args", list(USAGE_ERRORS.values()), ids=list(USAGE_ERRORS))
def test_usage_error(gilscope, args):
    check_error(es.run_gilscope(gilscope, args), 2)


def test_no_arguments_is_a_usage_error(gilscope):
    # Without any argument, a usage summary may follow the error line.
    check_error(es.run_gilscope(gilscope, []), 2, one_line=False)


# Every command, with what makes the rest of its line valid (so that only
# the option under test can be wrong).
COMMANDS = {
    "diagnose": ["--pid", "1"],
    "record": ["-o", "/dev/null", "--pid", "1"],
    "dump": ["--pid", "1"],
    "top": ["--pid", "1"],
    "info": ["--pid", "1"],
    "speedup": [],
    "snapshot": ["--pid", "1", "-o", "/dev/null"],
}


def help_options(gilscope, command):
    """The long options a command's --help lists, and whether each takes a
    value (a word in capitals after it)."""
    run = es.run_gilscope(gilscope, [command, "--help"])
    assert run.returncode == 0 and run.stdout.startswith("usage: gilscope " + command), \
        run.describe()
    opts = {}
    for line in run.stdout.splitlines():
        # "  -o, --output FILE    text" / "      --grace S        text"
        m = re.match(r"^ {2}(?:-\w, | {4})(--[\w-]+)(?: ([A-Z][A-Z_]*))?(?: {2,}|$)", line)
        if m:
            opts[m.group(1)] = bool(m.group(2))
    assert "--help" in opts, run.describe()
    return opts


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_bad_option_is_one_line(gilscope, command):
    """An unknown option: exit 2 and one line naming it, whatever the
    command (top and info once printed getopt's message before ours)."""
    run = es.run_gilscope(gilscope, [command, "--no-such-option"] + COMMANDS[command])
    check_error(run, 2, mentions=["--no-such-option", f"gilscope {command} --help"])
    run = es.run_gilscope(gilscope, [command, "-Z"] + COMMANDS[command])
    check_error(run, 2, mentions=["-Z"])


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_help_lists_what_is_accepted(gilscope, command):
    """What --help lists is what the command accepts: each listed option
    given a value it cannot take is refused for its value, never as an
    unknown option (both come from one table)."""
    opts = help_options(gilscope, command)
    assert len(opts) >= 2, opts
    for opt, takes in opts.items():
        if opt == "--help" or not takes:
            continue
        run = es.run_gilscope(gilscope, [command, opt, ""] + COMMANDS[command])
        assert run.returncode == 2, (opt, run.describe())
        assert "unknown" not in run.stderr, (opt, run.describe())
        assert opt in run.stderr, (opt, run.describe())
