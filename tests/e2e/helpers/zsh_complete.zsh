# zsh zsh_complete.zsh COMPLETION WORD... - run the zsh completion function
# for the command line WORD... (the last word being completed) outside the
# completion system, for tests/e2e/test_wheel.py: its builtins are stubbed to
# print what they would offer, one per line.
_describe() { print -l -- "${(@P)${@[-1]}}" | sed 's/:.*//' }
compadd() { [[ $1 == -- ]] && shift; print -l -- "$@" }
_files() { print -- "<files>" }
_normal() { print -- "<normal>" }
comp=$1; shift
words=("$@"); CURRENT=$#words; PREFIX=${words[CURRENT]}
source $comp
