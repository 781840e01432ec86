#!/bin/sh
# make-fuzz-corpus.sh - (re)build the fuzzers' seed corpora in
# tests/corpus/fuzz/<harness>/ from this machine's interpreters and /proc.
# Run from the repository root, as root, after `make gilscope build/fuzz-seeds`
# and tests/corpus/make-snapshots.sh (the snapshots are seeds too).
#
#   maps           /proc/PID/maps of Python processes (every interpreter,
#                  shared and static libpython, a deleted mapped file) and of
#                  a non-Python process
#   procfs         /proc/PID/task/TID/{stat,syscall,schedstat,status} of
#                  threads in every state snapshot_target.py parks them in,
#                  of a kernel thread, and of a process whose name holds ") (";
#                  /proc/PID/environ
#   elfsym         each interpreter's ELF file defining _PyRuntime, shrunk
#                  by elf-shrink.py to its headers and dynamic symbols, plus
#                  small compiled objects (relocatable, shared, executable)
#   linetable      every line table in the snapshots' stacks (all formats)
#   debug_offsets  _Py_DebugOffsets of each 3.13+ snapshot
#   json           messages like those of the speedup harness, and edge cases
#   snapshot       tests/corpus/snapshots/ itself (run.sh adds it)
#   snapshot_mem   one input per snapshot, and a few damaging ones
set -eu
top=tests/corpus/fuzz
snaps=tests/corpus/snapshots
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; [ -n "${pids:-}" ] && kill $pids 2>/dev/null; true' EXIT

pythons="$(ls /root/.pyenv/versions/3.*/bin/python3.[0-9]* 2>/dev/null | grep -E 'python3\.(9|1[0-9])$' || true) /usr/bin/python3.11"
for d in /opt/gilscope-pythons/3.*; do
	pythons="$pythons $d/bin/python${d##*/}"
done

# Inputs that once crashed a harness (regress-*) and what fuzzing found
# that reaches new code (found-*, see tests/fuzz/README) stay; the rest is
# recorded again.
for h in maps procfs elfsym linetable debug_offsets json snapshot snapshot_mem; do
	mkdir -p "$top/$h"
	find "$top/$h" -type f ! -name 'regress-*' ! -name 'found-*' -delete
done

# --- running targets: maps and procfs ------------------------------------
pids=""
n=0
for py in $pythons; do
	[ -x "$py" ] || continue
	n=$((n + 1))
	fifo=$tmp/fifo$n
	mkfifo "$fifo"
	"$py" tests/corpus/snapshot_target.py 3 3>"$fifo" &
	pid=$!
	pids="$pids $pid"
	read -r _ < "$fifo"
	ver=$("$py" -c 'import platform,sysconfig; print(platform.python_version() + ("t" if sysconfig.get_config_var("Py_GIL_DISABLED") else ""))')
	cp "/proc/$pid/maps" "$top/maps/$ver-$n"
	# threads of one default and one free-threaded build are enough for procfs
	case "$ver" in 3.12.*|3.14.*t)
		for t in /proc/$pid/task/*; do
			for f in stat syscall schedstat status; do
				cp "$t/$f" "$top/procfs/$ver-${t##*/}-$f" 2>/dev/null || true
			done
		done
		cp "/proc/$pid/environ" "$top/procfs/$ver-environ"
	esac
done
kill $pids 2>/dev/null || true
wait 2>/dev/null || true
pids=""

# a mapped file that was deleted, and a process named ") (" with spaces
python3 - "$tmp" "$top" <<'EOF'
import mmap, os, sys
tmp, top = sys.argv[1], sys.argv[2]
path = os.path.join(tmp, "gone.bin")
with open(path, "wb") as f:
    f.write(b"x" * 8192)
f = open(path, "rb")
m = mmap.mmap(f.fileno(), 8192, prot=mmap.PROT_READ)
os.unlink(path)
with open("/proc/self/comm", "w") as c:
    c.write("a) b (c) d")
for name in ("maps",):
    with open(f"/proc/self/{name}", "rb") as src, open(f"{top}/maps/deleted", "wb") as dst:
        dst.write(src.read())
for name in ("stat", "status"):
    with open(f"/proc/self/{name}", "rb") as src, open(f"{top}/procfs/paren-comm-{name}", "wb") as dst:
        dst.write(src.read())
EOF
cat /proc/self/maps > "$top/maps/cat"
for f in stat status syscall schedstat; do
	cp "/proc/2/$f" "$top/procfs/kthread-$f" 2>/dev/null || true
done
cp /proc/self/stat "$top/procfs/self-stat"

# --- ELF files --------------------------------------------------------------
for py in $pythons; do
	[ -x "$py" ] || continue
	elf=$(readlink -f "$py")
	if ! readelf --dyn-syms -W "$elf" | grep -q ' _PyRuntime$'; then
		lib=$(ldd "$py" | sed -n 's/.*=> \(.*libpython[^ ]*\) .*/\1/p' | head -1)
		[ -n "$lib" ] && elf=$(readlink -f "$lib")
	fi
	name=$(basename "$elf")
	[ -f "$top/elfsym/$name" ] && name="$name-$(echo "$elf" | cksum | cut -d' ' -f1)"
	python3 tests/corpus/elf-shrink.py "$elf" "$top/elfsym/$name"
done
cat > "$tmp/rt.c" <<'EOF'
/* what locate.c looks for, in a small file */
struct { char debug[16]; unsigned long v; } _PyRuntime = { "xdebugpy", 0x030d00f0 };
const unsigned long Py_Version = 0x030d00f0;
const char version_literal[] = "3.9.18";
const char version_rc[] = "3.15.0rc1+";
int PyCode_Type[8];
int main(void) { return (int)Py_Version + version_literal[0] + version_rc[0]; }
EOF
cc -O0 -c -o "$top/elfsym/tiny.o" "$tmp/rt.c"
cc -O0 -shared -fPIC -Wl,--build-id -o "$top/elfsym/tiny.so" "$tmp/rt.c"
cc -O0 -no-pie -Wl,--build-id -o "$top/elfsym/tiny-exe" "$tmp/rt.c"
cc -O0 -pie -fPIE -Wl,--build-id -s -o "$top/elfsym/tiny-pie-stripped" "$tmp/rt.c"

# --- from the snapshots -------------------------------------------------------
./build/fuzz-seeds linetable "$top/linetable" "$snaps"/*.snap
./build/fuzz-seeds debug_offsets "$top/debug_offsets" "$snaps"/*.snap
python3 tests/corpus/json-seeds.py "$top/json"
cat > "$top/snapshot/README" <<'EOF'
fuzz_snapshot's seeds are the recorded snapshots in ../../snapshots/
(tests/fuzz/run.sh passes both directories); this one holds extra ones.
EOF
i=0
for s in "$snaps"/*.snap; do
	printf "\\$(printf '%03o' $i)" > "$top/snapshot_mem/$(basename "$s" .snap)"
	i=$((i + 1))
done
# snapshot 0, then: a run of 0xff bytes, a pointer into region 0, 2^40
printf '\000\005\000\020\000\000\100' > "$top/snapshot_mem/ff-run"
printf '\000\001\010\000\000\000\000\000\000\000\000\000' > "$top/snapshot_mem/pointer"
printf '\000\002\020\000\000\000\014' > "$top/snapshot_mem/big-number"

chmod -R u+rw,go+r "$top"
du -sh "$top"
for h in "$top"/*; do
	echo "$(ls "$h" | wc -l) files, $(du -sh "$h" | cut -f1): $h"
done
