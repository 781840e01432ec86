# bash completion for gilscope(1).
#
# Commands and each command's options are read from the binary's own
# --help (printed from its option tables, src/cmd/opt.c), so they follow
# the installed gilscope; values: record --format/--mode names, --pid the
# live pids of Python processes, files for -o and --python.

# the pids whose executable or command name looks like python
_gilscope_python_pids()
{
	local d pid exe comm
	for d in /proc/[0-9]*; do
		pid=${d#/proc/}
		exe=$(readlink "$d/exe" 2>/dev/null) || exe=
		read -r comm < "$d/comm" 2>/dev/null || comm=
		case "${exe##*/} $comm" in
		*python*) printf '%s\n' "$pid" ;;
		esac
	done
}

_gilscope()
{
	local cur prev cmd bin i
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	bin=${COMP_WORDS[0]}
	cmd=
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--) return 0 ;;	# a command to launch: its own words
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done
	if [[ -z $cmd ]]; then
		COMPREPLY=($(compgen -W "$("$bin" --help 2>/dev/null |
			awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }') --help --version" \
			-- "$cur"))
		return 0
	fi
	case $prev in
	-p | --pid)
		COMPREPLY=($(compgen -W "$(_gilscope_python_pids)" -- "$cur"))
		return 0 ;;
	-f | --format)
		[[ $cmd == record ]] &&
			COMPREPLY=($(compgen -W "flamegraph speedscope chrometrace collapsed pprof json" -- "$cur"))
		return 0 ;;
	-m | --mode)
		COMPREPLY=($(compgen -W "wall cpu gil" -- "$cur"))
		return 0 ;;
	--switch-records)
		COMPREPLY=($(compgen -W "auto always never" -- "$cur"))
		return 0 ;;
	-o | --output | --python | --baseline-python | --junit-xml)
		COMPREPLY=($(compgen -f -- "$cur"))
		return 0 ;;
	-d | --duration | -r | --rate | --grace | -t | --threads | -n | --calls | --import | -J | --jobs | --timeout | --repeat)
		return 0 ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$("$bin" "$cmd" --help 2>/dev/null |
			grep -oE '^ +(-[a-zA-Z], )?--[a-z-]+' | grep -oE -- '--[a-z-]+')" -- "$cur"))
	else
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
	return 0
}
complete -F _gilscope gilscope
