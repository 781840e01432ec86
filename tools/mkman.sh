#!/bin/sh
# mkman.sh GILSCOPE VERSION - write gilscope(1) on stdout, made from the
# binary's own --help texts (`gilscope --help`, `gilscope CMD --help`),
# which src/cmd/opt.c prints from each command's option table: the man page
# says what the binary accepts, and cannot drift from it. One page, a
# section per command. Run by `make man` (build/gilscope.1).
set -eu
bin=$1
version=$2

# escape for roff: backslashes, and a leading . or ' would be a request
esc() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }

cmds=$("$bin" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }')

cat <<HEAD
.TH GILSCOPE 1 "" "gilscope $version" "User Commands"
.SH NAME
gilscope \\- is this Python program GIL-bound, or does it just feel slow?
.SH SYNOPSIS
.B gilscope
.I command
.RI [ options ]
.br
.B gilscope
.BR \\-\\-version " | " \\-\\-help
.SH DESCRIPTION
gilscope samples the threads of a running CPython process from outside
(process_vm_readv(2)), without stopping or changing it, and says whether it
is bound by the GIL, by I/O, by native code, or idle, and why.
Each command below has its own options;
.B gilscope
.I command
.B \\-\\-help
prints the same text as its section here.
.SH COMMANDS
HEAD
"$bin" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print } on && /^$/ { on = 0 }' |
	esc | awk '{ name = $1; sub(/^ *[a-z-]+ +/, ""); printf ".TP\n.B %s\n%s\n", name, $0 }'

for c in $cmds; do
	printf '.SH "GILSCOPE %s"\n' "$(echo "$c" | tr a-z A-Z)"
	"$bin" "$c" --help | esc | awk '
	function opt(line,   left, rest, i, n, parts, out, w, comma, sep) {
		# "  -p, --pid PID        text" or "      --grace S        text"
		sub(/^ +/, "", line)
		i = match(line, /  +/)
		if (i) { left = substr(line, 1, i - 1); rest = substr(line, i + RLENGTH) }
		else { left = line; rest = "" }
		n = split(left, parts, " ")
		out = ""
		for (w = 1; w <= n; w++) {
			if (parts[w] ~ /^-/) {
				comma = sub(/,$/, "", parts[w]); gsub(/-/, "\\-", parts[w])
				out = out sep "\\fB" parts[w] "\\fR"
				sep = comma ? ", " : " "
			} else
				out = out " \\fI" parts[w] "\\fR"
		}
		printf ".TP\n%s\n", out
		if (rest != "") print rest
	}
	NR == 1 { sub(/^usage: /, ""); printf ".SS Usage\n.nf\n%s\n", $0; state = "usage"; next }
	state == "usage" && /^ +gilscope / { sub(/^ +/, ""); print; next }
	state == "usage" { state = ""; print ".fi" }
	/^  ?-[a-zA-Z], --|^      --[a-z]/ { if (state != "opts") print ".SS Options"; state = "opts"; opt($0); next }
	state == "opts" && /^                       [^ ]/ { sub(/^ +/, ""); print; next }
	state == "opts" && /^$/ { state = "epilog"; print ".PP"; next }
	/^$/ { if (NR > 2) print ".PP"; next }
	{ sub(/^ +/, ""); print }
	'
done

cat <<'TAIL'
.SH EXIT STATUS
0 on success; 2 for a bad command line; other codes for a process that
cannot be read or a target that is not Python are listed in the README
("Exit codes") and said in the one line printed on stderr.
.SH FILES
Completions for bash and zsh are installed beside this page, under the same share/
(bash-completion/completions/gilscope or gilscope.bash, zsh/site-functions/_gilscope).
.SH SEE ALSO
.BR python3 (1),
.BR process_vm_readv (2),
.BR ptrace (2)
TAIL
