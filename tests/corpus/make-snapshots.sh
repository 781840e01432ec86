#!/bin/sh
# make-snapshots.sh - record tests/corpus/snapshots/<version>.snap from
# snapshot_target.py for each interpreter given (default: every one the
# end-to-end tests would use). The snapshots seed the model replay tests
# and the fuzzers. Run from the repository root after `make`.
#
# Names: <version>[t][-debian][-gil0|-gil1].snap. A free-threaded build is
# recorded twice, with the GIL off (PYTHON_GIL=0, "-gil0") and turned back on
# (PYTHON_GIL=1, "-gil1"): the interpreter's memory differs between the two.
set -eu
out=tests/corpus/snapshots
mkdir -p "$out"
pythons="$*"
if [ -z "$pythons" ]; then
	pythons="$(ls /root/.pyenv/versions/3.*/bin/python3.[0-9]* 2>/dev/null | grep -E 'python3\.(9|1[0-9])$' || true) /usr/bin/python3.11 ${GILSCOPE_TEST_PYTHONS:-}"
	# .ci/run's interpreters: /opt/gilscope-pythons/<3.N[t]>/bin/python<3.N[t]>
	for d in /opt/gilscope-pythons/3.*; do
		p="$d/bin/python${d##*/}"
		case " $pythons " in *" $p "*) ;; *) pythons="$pythons $p" ;; esac
	done
fi
for py in $pythons; do
	[ -x "$py" ] || continue
	ft=$(env -u PYTHON_GIL "$py" -c 'import sysconfig; print(1 if sysconfig.get_config_var("Py_GIL_DISABLED") else 0)')
	gils=default
	[ "$ft" = 1 ] && gils="0 1"
	for gil in $gils; do
		name=$(env -u PYTHON_GIL "$py" -c 'import sys,platform,sysconfig; print(platform.python_version() + ("t" if sysconfig.get_config_var("Py_GIL_DISABLED") else "") + ("-debian" if sys.executable.startswith("/usr/bin") else ""))')
		[ "$gil" = default ] || name="$name-gil$gil"
		fifo=$(mktemp -u)
		mkfifo "$fifo"
		if [ "$gil" = default ]; then
			env -u PYTHON_GIL "$py" tests/corpus/snapshot_target.py 3 3>"$fifo" &
		else
			PYTHON_GIL=$gil "$py" tests/corpus/snapshot_target.py 3 3>"$fifo" &
		fi
		pid=$!
		read -r line < "$fifo"
		rm -f "$fifo"
		# wait until no thread but the recorder's view is runnable
		i=0
		while [ $i -lt 200 ]; do
			busy=$(cat /proc/$pid/task/*/stat 2>/dev/null | awk '{ s=$0; sub(/.*\) /, "", s); split(s, f, " "); if (f[1] == "R") n++ } END { print n+0 }')
			[ "$busy" = 0 ] && break
			i=$((i + 1))
			sleep 0.01
		done
		./gilscope snapshot --pid "$pid" -o "$out/$name.snap"
		kill "$pid"
		wait "$pid" 2>/dev/null || true
	done
done
