/*
 * states.c - the one table of thread states; see states.h.
 *
 * The flame graph's colours: orange and red for holding the GIL (Python,
 * C code), green for C code that let it go, magenta for waiting for it,
 * blue, purple and greys for the other blocked states. top has only the
 * terminal's eight.
 */
#include "states.h"

#include <string.h>

enum { ANSI_RED = 1, ANSI_GREEN, ANSI_YELLOW, ANSI_BLUE, ANSI_MAGENTA, ANSI_CYAN, ANSI_WHITE };

/* name, leaf label, legend word, letter, colour, top's colour,
 * flags */
static const struct gs_state_info table[ST_COUNT] = {
	[ST_PYTHON] = { "python", "[running Python]", "python", 'P',
			"#f0a030", ANSI_GREEN, GS_BUSY | GS_WANTS_CPU | GS_ON_CPU },
	[ST_NATIVE_GIL] = { "native_gil", "[native code, holding the GIL]", "native+GIL", 'C',
			    "#d84a3c", ANSI_MAGENTA, GS_BUSY | GS_WANTS_CPU | GS_ON_CPU },
	[ST_NATIVE] = { "native", "[native code, GIL released]", "native", 'N',
			"#5ab45a", ANSI_CYAN, GS_BUSY | GS_WANTS_CPU | GS_ON_CPU },
	[ST_GIL_WAIT] = { "gil_wait", "[waiting for the GIL]", "GIL wait", 'W',
			  "#be3ca0", ANSI_RED, GS_BUSY | GS_WANTS_CPU },
	[ST_IO] = { "io", "[blocked in I/O]", "io", 'I',
		    "#468cdc", ANSI_BLUE, GS_BUSY },
	[ST_SLEEP] = { "sleep", "[sleeping]", "sleep", 's',
		       "#a0b4c8", -1, 0 },
	[ST_LOCK_WAIT] = { "lock_wait", "[waiting for a lock]", "lock", 'l',
			   "#8c6ed2", ANSI_YELLOW, 0 },
	[ST_OTHER] = { "other", "[other]", "other", '?',
		       "#a0a0a0", ANSI_WHITE, 0 },
};

const struct gs_state_info *gs_state_info(enum gs_state s)
{
	return &table[(unsigned)s < ST_COUNT ? s : ST_OTHER];
}

const char *gs_state_name(enum gs_state s)
{
	return gs_state_info(s)->name;
}

int gs_state_from_name(const char *name)
{
	int i;

	for (i = 0; i < ST_COUNT; i++)
		if (!strcmp(table[i].name, name))
			return i;
	return -1;
}
