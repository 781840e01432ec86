"""demo.py - run gilscope on each bundled example (make demo).

For every example it starts the program, waits for its "ready" line, points
gilscope at it, and prints what gilscope says. With `diagnose` available it
checks that the verdict is the one the example was written to produce.
"""
import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

EXAMPLES = [
    ("gil_bound_python.py", "gil-bound-python"),
    ("gil_bound_native.py", "gil-bound-native"),
    ("native_released.py", "native-released"),
    ("io_bound.py", "io-bound"),
    ("cpu_single.py", "cpu-single"),
    ("idle.py", "idle"),
]


def has_command(gilscope, name):
    out = subprocess.run([gilscope, "--help"], capture_output=True, text=True).stdout
    return any(line.split()[:1] == [name] for line in out.splitlines())


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--gilscope", default=os.path.join(HERE, "..", "gilscope"))
    p.add_argument("--python", default=sys.executable)
    p.add_argument("--duration", type=float, default=3.0)
    args = p.parse_args()

    diagnose = has_command(args.gilscope, "diagnose")
    failures = 0
    for script, expected in EXAMPLES:
        print("=" * 72)
        print("%s  (written to be: %s)" % (script, expected))
        print("=" * 72, flush=True)
        r, w = os.pipe()
        proc = subprocess.Popen([args.python, os.path.join(HERE, script), "--ready-fd", str(w),
                                 "--seconds", str(args.duration + 30)], pass_fds=(w,))
        os.close(w)
        try:
            with os.fdopen(r) as ready:
                line = ready.readline()
            if not line.startswith("ready"):
                print("example did not start", file=sys.stderr)
                failures += 1
                continue
            if diagnose:
                res = subprocess.run([args.gilscope, "diagnose", "--pid", str(proc.pid),
                                      "--duration", str(args.duration), "--json"],
                                     capture_output=True, text=True)
                subprocess.run([args.gilscope, "diagnose", "--pid", str(proc.pid),
                                "--duration", "1"])
                import json
                kind = json.loads(res.stdout)["verdict"]["kind"] if res.returncode == 0 else None
                ok = kind == expected
                print("verdict: %s  %s" % (kind, "OK" if ok else "EXPECTED " + expected))
                failures += not ok
            else:
                res = subprocess.run([args.gilscope, "dump", "--pid", str(proc.pid)])
                failures += res.returncode != 0
        finally:
            proc.kill()
            proc.wait()
    print()
    print("demo: %d example(s), %d problem(s)" % (len(EXAMPLES), failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
