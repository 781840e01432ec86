#!/bin/sh
# add-found.sh NAME... - add to tests/corpus/fuzz/NAME/ the inputs a `make fuzz`
# run found (build-fuzz/corpus/NAME/) that reach code the seeds do not
# (libFuzzer's -merge=1), named found-<sha1>. For the harnesses with small
# inputs only: the corpus is kept in the repository. Run from the repository
# root after make fuzz.
set -eu
for name in "$@"; do
	dir=tests/corpus/fuzz/$name
	new=build-fuzz/corpus/$name
	[ -d "$new" ] || { echo "add-found: no $new (run make fuzz first)" >&2; exit 1; }
	before=$(mktemp)
	ls "$dir" > "$before"
	"build-fuzz/fuzz_$name" -merge=1 "$dir" "$new" > "build-fuzz/logs/$name-merge.log" 2>&1
	n=0
	for f in "$dir"/*; do
		b=$(basename "$f")
		grep -qxF "$b" "$before" && continue
		mv "$f" "$dir/found-$b"
		n=$((n + 1))
	done
	rm -f "$before"
	echo "$name: $n inputs added"
done
