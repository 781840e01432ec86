/* synth.c - the synthetic profile of synth.h. */
#include "synth.h"

#include <stdio.h>
#include <string.h>

#define NTHREADS 4
#define MAXF (SYNTH_DEEP + 4)

static const struct agg_frame_in f_module = { "<module>", "main.py", 10 };
static const struct agg_frame_in f_run = { "run", "main.py", 20 };
static const struct agg_frame_in f_run21 = { "run", "main.py", 21 };
static const struct agg_frame_in f_lambda = { "<lambda>", "main.py", 5 };
static const struct agg_frame_in f_compute = { "compute", "calc.py", 7 };
static const struct agg_frame_in f_read = { "read", "/usr/lib/python3.12/io.py", 9 };
static const struct agg_frame_in f_crunch = { "crunch", "c.py", 3 };
static const struct agg_frame_in f_amp = { "a&b", "we;ird\nname.py", 1 };
static const struct agg_frame_in f_semi = { "semi;colon", "x.py", 2 };
static const struct agg_frame_in f_bad = { "bad\xff\xfeutf8 \xc3\xa9", "q\"uote's.py", 3 };
static const struct agg_frame_in f_wait = { "wait", "idle.py", 1 };

/* Extra leaf functions for the scaled-up picture. */
static const char *const extra[] = {
	"parse_row", "tokenize", "<listcomp>", "normalise", "Matrix.__mul__",
	"json.loads", "hash_block", "<genexpr>",
};

struct stack {
	struct agg_frame_in f[MAXF];	/* built outermost first */
	size_t n;
};

static void push(struct stack *s, const struct agg_frame_in *f)
{
	if (s->n < MAXF)
		s->f[s->n++] = *f;
}

/* Thread `th` at base instant k (0..19); 0 when it is not sampled then. */
static int thread_at(int th, int k, int variant, struct agg_thread_in *t, struct stack *s,
		     struct agg_frame_in *inner)
{
	static char deep_names[SYNTH_DEEP][24];
	struct agg_frame_in x = { extra[variant % 8], "work.py", 30 + variant % 8 };
	int i;

	if (!deep_names[0][0])
		for (i = 0; i < SYNTH_DEEP; i++)
			snprintf(deep_names[i], sizeof(deep_names[i]), "deep_%d", i);
	memset(t, 0, sizeof(*t));
	s->n = 0;
	switch (th) {
	case 0:
		t->tid = 100;
		t->name = "MainThread";
		push(s, &f_module);
		if (k < 6) {
			t->state = ST_PYTHON;
			t->holds_gil = 1;
			push(s, &f_run);
			push(s, &f_lambda);
			if (variant)
				push(s, &x);
		} else if (k < 10) {
			t->state = ST_GIL_WAIT;
			push(s, &f_run21);
		} else if (k < 15) {
			t->state = ST_NATIVE_GIL;
			t->holds_gil = 1;
			push(s, &f_run);
			push(s, &f_compute);
		} else {
			t->state = ST_IO;
			push(s, &f_read);
		}
		break;
	case 1:
		if (k >= 15)
			return 0;
		t->tid = 101;
		t->name = "worker-\xce\xbb";
		if (k < 6) {
			t->state = ST_IO;
			for (i = 0; i < SYNTH_DEEP; i++) {
				struct agg_frame_in d = { deep_names[i], "deep.py", i + 1 };

				push(s, &d);
			}
		} else {
			struct agg_frame_in d0 = { deep_names[0], "deep.py", 1 };
			struct agg_frame_in d1 = { deep_names[1], "deep.py", 2 };

			push(s, &d0);
			if (k < 10) {
				t->state = ST_PYTHON;
				t->holds_gil = 1;
				push(s, &d1);
				if (variant)
					push(s, &x);
			} else {
				t->state = ST_NATIVE;
				push(s, &f_crunch);
			}
		}
		break;
	case 2:
		t->tid = 102;
		t->name = "a&b \"q\" <x>";
		if (k < 10) {
			t->state = ST_LOCK_WAIT;
			push(s, &f_amp);
			push(s, &f_semi);
			push(s, &f_bad);
		} else {
			t->state = ST_SLEEP;
		}
		break;
	default:
		if (k < 15)
			return 0;
		t->tid = 103;
		t->name = "idle-python";
		if (k < 18) {
			t->state = ST_PYTHON;
			t->holds_gil = 1;
		} else {
			t->state = ST_OTHER;
			push(s, &f_wait);
		}
		break;
	}
	/* agg wants innermost first */
	for (i = 0; i < (int)s->n; i++)
		inner[i] = s->f[s->n - 1 - (size_t)i];
	t->frames = inner;
	t->nframes = s->n;
	return 1;
}

int synth_agg(struct agg *a, int state_leaves, int timeline, int scale)
{
	struct agg_options opt = {
		.mode = AGG_MODE_WALL, .state_leaves = state_leaves,
		.timeline = timeline, .rate_hz = SYNTH_RATE_HZ,
	};
	const uint64_t t0 = 1000000000000ull, step = 1000000000ull / SYNTH_RATE_HZ;
	int k, th, ret;

	if (scale < 1)
		scale = 1;
	ret = agg_init(a, &opt);
	if (ret)
		return ret;
	for (k = 0; k < SYNTH_INSTANTS * scale; k++) {
		int base = k / scale;
		/* scaled runs vary the innermost Python function a little */
		int variant = scale > 1 ? (int)((k * 2654435761u) >> 7) % 9 : 0;

		agg_begin_sample(a, t0 + (uint64_t)k * step, 1, 1, (uint64_t)k);
		for (th = 0; th < NTHREADS; th++) {
			struct agg_thread_in t;
			struct stack s;
			struct agg_frame_in inner[MAXF];

			if (!thread_at(th, base, variant, &t, &s, inner))
				continue;
			ret = agg_add_thread(a, &t);
			if (ret)
				return ret;
		}
		agg_end_sample(a);
	}
	agg_finish(a);
	return 0;
}
