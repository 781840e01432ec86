"""The packaged gilscope: the wheel (make wheel), the sdist (make sdist), the
man page and the shell completions (README "Install").

The wheel is built once per session with `make wheel`, installed into fresh
venvs of the oldest and the newest interpreter with the GIL, and used from
there (the console script and `python -m gilscope`) on a real target: a
workloads.py process of four pure-Python threads, whose thread ids come from
the target itself. The sdist is built and installed with pip (from source,
by make) into one venv. The man page must render without a groff warning
and name every command and option the binary's --help lists; the bash
completion must offer the commands, record's formats (as the binary names
them in its error message) and the pids of live Python processes.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import e2e_support as es
from test_diagnose import Workload, thread

REPO = es.REPO
VERSION = (REPO / "VERSION").read_text().strip()
PKG_VENV = REPO / "build" / "pkg-venv"
BUILD_TIMEOUT = 300

_DEFAULT = [it for it in es.discover()[0] if not it.ft]
# the oldest and the newest interpreter with the GIL (two different ones)
PICKS = list({it.realpath: it for it in (_DEFAULT[:1] + _DEFAULT[-1:])}.values())


def newest():
    if not PICKS:
        pytest.fail("no Python 3.9+ interpreter with the GIL found (see GILSCOPE_TEST_PYTHONS)", pytrace=False)
    return PICKS[-1]


def make(*targets):
    res = subprocess.run(["make", "-C", str(REPO), *targets], capture_output=True, text=True,
                         timeout=BUILD_TIMEOUT)
    assert res.returncode == 0, f"make {' '.join(targets)} failed:\n{res.stdout[-4000:]}\n{res.stderr[-4000:]}"
    return res.stdout


@pytest.fixture(scope="session")
def wheel() -> Path:
    make("wheel")
    found = sorted((REPO / "dist").glob(f"gilscope-{VERSION}-py3-none-*.whl"))
    assert len(found) == 1, found
    return found[0]


@pytest.fixture(scope="session")
def sdist() -> Path:
    make("sdist")
    path = REPO / "dist" / f"gilscope-{VERSION}.tar.gz"
    assert path.is_file()
    return path


def venv_with(it, package: Path, where: Path) -> Path:
    """A fresh venv of interpreter `it` with `package` pip-installed."""
    subprocess.run([it.path, "-m", "venv", str(where)], check=True, env=it.env(), timeout=120)
    res = subprocess.run([str(where / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps",
                          str(package)], capture_output=True, text=True, env=it.env(),
                         timeout=BUILD_TIMEOUT)
    assert res.returncode == 0, f"pip install {package.name} into {it.path}'s venv:\n{res.stderr[-4000:]}"
    return where


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, **kw)


def help_commands(gilscope):
    out = run([gilscope, "--help"]).stdout
    return re.findall(r"^  ([a-z][a-z-]*) ", out.split("commands:", 1)[1], re.M)


def help_options(gilscope, cmd):
    out = run([gilscope, cmd, "--help"]).stdout
    return re.findall(r"^ +(?:-[a-zA-Z], )?(--[a-z-]+)", out, re.M)


def test_wheel_tag_and_contents(wheel):
    """The tag auditwheel gives is the one the binary meets, not newer
    than this system's glibc, and the libraries outside the policy are in."""
    show = run([str(PKG_VENV / "bin" / "auditwheel"), "show", str(wheel)])
    assert show.returncode == 0, show.stderr
    tag = re.search(r'consistent with\s+the following platform tag:\s+"([^"]+)"', show.stdout)
    assert tag, show.stdout
    assert wheel.name.endswith(f"-py3-none-{tag.group(1)}.whl"), (wheel.name, show.stdout)
    m = re.fullmatch(r"manylinux_(\d+)_(\d+)_x86_64", tag.group(1))
    assert m, tag.group(1)
    libc = tuple(int(x) for x in os.confstr("CS_GNU_LIBC_VERSION").split()[1].split(".")[:2])
    assert (int(m.group(1)), int(m.group(2))) <= libc
    names = zipfile.ZipFile(wheel).namelist()
    for want in ("gilscope/bin/gilscope", "gilscope/__main__.py",
                 f"gilscope-{VERSION}.data/data/share/man/man1/gilscope.1",
                 f"gilscope-{VERSION}.data/data/share/bash-completion/completions/gilscope.bash",
                 f"gilscope-{VERSION}.data/data/share/zsh/site-functions/_gilscope"):
        assert want in names, (want, names)
    vendored = [n for n in names if n.startswith("gilscope.libs/")]
    for lib in ("libelf", "libjansson", "libncursesw"):
        assert any(lib in n for n in vendored), (lib, vendored)


@pytest.mark.parametrize("py_it", PICKS, ids=es.interp_ids(PICKS))
def test_wheel_installed_and_used(py_it, wheel, tmp_path):
    venv = venv_with(py_it, wheel, tmp_path / "venv")
    exe = str(venv / "bin" / "gilscope")
    py = str(venv / "bin" / "python")
    for argv in ([exe, "--version"], [py, "-m", "gilscope", "--version"]):
        res = run(argv)
        assert (res.returncode, res.stdout) == (0, f"gilscope {VERSION}\n"), (argv, res)
    # the installed binary runs on the libraries auditwheel put beside it
    binary = next(venv.glob("lib/python*/site-packages/gilscope/bin/gilscope"))
    ldd = run(["ldd", str(binary)]).stdout
    assert re.search(r"libelf\S*\.so\S* => \S*/gilscope\.libs/", ldd), ldd
    assert (venv / "share" / "man" / "man1" / "gilscope.1").is_file()
    # a real diagnose, by the console script and by python -m gilscope
    for prefix, cmd in (([], exe), ([py, "-m"], "gilscope")):
        w = Workload(py_it, "pure4")
        try:
            res = es.run_gilscope(cmd, ["diagnose", "--pid", str(w.proc.pid), "-d", "2", "--json",
                                        "--no-progress"], prefix=prefix, save_dir=tmp_path)
        finally:
            w.finish()
        assert res.returncode == 0, res.describe()
        doc = json.loads(res.stdout)
        assert not es.diag_schema_errors(doc), res.describe()
        assert doc["verdict"]["kind"] == "gil-bound-python", (prefix, doc["verdict"], res.describe())
        # the target's own threads, found and mostly in Python (how closely
        # is test_diagnose.py's job; this machine may be loaded)
        for role in ("py0", "py1", "py2", "py3"):
            st = thread(doc, w.tids[role])["states"]
            assert st["python"] + st["gil_wait"] > 0.5, (prefix, role, st, res.describe())


def test_pipx_install(wheel, tmp_path):
    """pipx installs the wheel into a venv of its own and puts gilscope on
    its bin directory. (The newest interpreter: pipx's shared pip, the
    newest, may no longer run on the oldest.)"""
    it = newest()
    env = {**it.env(), "PIPX_HOME": str(tmp_path / "pipx"), "PIPX_BIN_DIR": str(tmp_path / "bin"),
           "PIPX_MAN_DIR": str(tmp_path / "man")}
    res = subprocess.run([str(PKG_VENV / "bin" / "pipx"), "install", "--python", it.path, str(wheel)],
                         capture_output=True, text=True, env=env, timeout=BUILD_TIMEOUT)
    assert res.returncode == 0, res.stdout + res.stderr
    res = run([str(tmp_path / "bin" / "gilscope"), "--version"])
    assert (res.returncode, res.stdout) == (0, f"gilscope {VERSION}\n"), res


def test_sdist_builds_and_installs(sdist, tmp_path):
    """pip builds the binary from the sdist (by make) and installs it."""
    it = newest()
    venv = venv_with(it, sdist, tmp_path / "venv")
    exe = str(venv / "bin" / "gilscope")
    res = run([exe, "--version"])
    assert (res.returncode, res.stdout) == (0, f"gilscope {VERSION}\n"), res
    assert help_commands(exe) == help_commands(str(REPO / "gilscope"))
    assert (venv / "share" / "man" / "man1" / "gilscope.1").is_file()


def test_man_page(gilscope, tmp_path):
    """gilscope(1) renders without a warning, and names every command and
    every option of every command's --help."""
    make("man")
    page = REPO / "build" / "gilscope.1"
    res = run(["groff", "-man", "-Tutf8", "-ww", "-z", str(page)])
    assert (res.returncode, res.stderr) == (0, ""), res.stderr
    text = run(["man", "-l", str(page)], env={**os.environ, "MANWIDTH": "200", "MAN_KEEP_FORMATTING": ""}).stdout
    text = re.sub(r"\u2010\s*", "", text)     # hyphenation
    cmds = help_commands(gilscope)
    assert len(cmds) >= 5, cmds
    for cmd in cmds:
        assert f"GILSCOPE {cmd.upper()}" in text, cmd
        section = text.split(f"GILSCOPE {cmd.upper()}", 1)[1].split("\nGILSCOPE ", 1)[0]
        for opt in help_options(gilscope, cmd):
            assert re.search(re.escape(opt) + r"\b", section), (cmd, opt)


def complete(shell, gilscope, words):
    """What the bash or zsh completion offers for `words` (the last one
    being completed)."""
    if shell == "bash":
        script = ("source \"$1\"; shift; complete -p gilscope; COMP_WORDS=(\"$@\"); "
                  "COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _gilscope; printf '%s\\n' \"${COMPREPLY[@]}\"")
        argv = ["bash", "-c", script, "bash", str(REPO / "completions" / "gilscope.bash")]
    else:
        if not shutil.which("zsh"):
            pytest.fail("zsh is not installed: run make deps", pytrace=False)
        argv = ["zsh", str(es.E2E_DIR / "helpers" / "zsh_complete.zsh"), str(REPO / "completions" / "_gilscope")]
    res = run(argv + [gilscope, *words])
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    if shell == "bash":
        assert lines[0] == "complete -F _gilscope gilscope", lines[0]
        lines = lines[1:]
    return [x for x in lines if x]


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_completion(shell, gilscope):
    """Commands, options per command, record's formats (as the binary names
    them), and for --pid the live Python processes, not the others."""
    assert set(complete(shell, gilscope, [""])) == set(help_commands(gilscope)) | {"--help", "--version"}
    if shell == "bash":     # zsh filters by the prefix itself
        assert complete(shell, gilscope, ["rec"]) == ["record"]
    err = run([gilscope, "record", "-f", "bogus", "-o", os.devnull, "--", "true"]).stderr
    named = re.search(r"--format is (.*), not 'bogus'", err)
    assert named, err
    formats = set(re.split(r", | or ", named.group(1)))
    assert set(complete(shell, gilscope, ["record", "-f", ""])) == formats
    for cmd in help_commands(gilscope):
        assert set(complete(shell, gilscope, [cmd, "--"])) == set(help_options(gilscope, cmd)), cmd
    py = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    other = subprocess.Popen([shutil.which("cat")], stdin=subprocess.PIPE)
    try:
        pids = complete(shell, gilscope, ["diagnose", "--pid", ""])
        assert str(py.pid) in pids and str(other.pid) not in pids, (py.pid, other.pid, pids)
    finally:
        for p in (py, other):
            p.stdin.close()
            p.wait(timeout=10)


def test_make_install(tmp_path):
    """make install puts the binary, the man page and both completions
    under DESTDIR/PREFIX."""
    make("install", f"DESTDIR={tmp_path}", "PREFIX=/usr")
    for rel in ("bin/gilscope", "share/man/man1/gilscope.1",
                "share/bash-completion/completions/gilscope", "share/zsh/site-functions/_gilscope"):
        assert (tmp_path / "usr" / rel).is_file(), rel
    res = run([str(tmp_path / "usr" / "bin" / "gilscope"), "--version"])
    assert res.stdout == f"gilscope {VERSION}\n"
