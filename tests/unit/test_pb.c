/*
 * test_pb.c - the protocol buffers writer (util/pb) and the pprof renderer
 * (report/pprof), read back with a small decoder of the wire format written
 * here from the encoding rules, independent of the writer.
 */
#include "unit.h"
#include "synth.h"
#include "../../src/report/pprof.h"
#include "../../src/util/pb.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* ---- a reader of the wire format ---- */

struct rd {
	const uint8_t *p, *end;
	int bad;
};

struct field {
	uint32_t num;
	int wire;
	uint64_t v;		/* varint value */
	struct rd sub;		/* length-delimited body */
};

static uint64_t rd_varint(struct rd *r)
{
	uint64_t v = 0;
	int shift;

	for (shift = 0; shift < 70; shift += 7) {
		if (r->p >= r->end) {
			r->bad = 1;
			return 0;
		}
		v |= (uint64_t)(*r->p & 0x7f) << shift;
		if (!(*r->p++ & 0x80))
			return v;
	}
	r->bad = 1;
	return 0;
}

/* The next field, or 0 at the end (or on bad input: r->bad). */
static int rd_field(struct rd *r, struct field *f)
{
	uint64_t k, n;

	if (r->bad || r->p >= r->end)
		return 0;
	k = rd_varint(r);
	f->num = (uint32_t)(k >> 3);
	f->wire = (int)(k & 7);
	f->v = 0;
	f->sub.bad = 0;
	f->sub.p = f->sub.end = NULL;
	if (f->wire == PB_VARINT) {
		f->v = rd_varint(r);
	} else if (f->wire == PB_LEN) {
		n = rd_varint(r);
		if (n > (uint64_t)(r->end - r->p)) {
			r->bad = 1;
			return 0;
		}
		f->sub.p = r->p;
		f->sub.end = r->p + n;
		r->p += n;
	} else {
		r->bad = 1;
	}
	return !r->bad;
}

static struct rd rd_of(const struct strbuf *sb)
{
	struct rd r = { (const uint8_t *)sb->buf, (const uint8_t *)sb->buf + sb->len, 0 };

	return r;
}

/* ---- the writer ---- */

static void t_varint_edges(struct unit *u)
{
	static const struct {
		uint64_t v;
		size_t len;
		const char *bytes;
	} cases[] = {
		{ 0, 1, "\x00" },
		{ 1, 1, "\x01" },
		{ 127, 1, "\x7f" },
		{ 128, 2, "\x80\x01" },
		{ 300, 2, "\xac\x02" },
		{ 16383, 2, "\xff\x7f" },
		{ 16384, 3, "\x80\x80\x01" },
		{ UINT32_MAX, 5, "\xff\xff\xff\xff\x0f" },
		{ (uint64_t)1 << 63, 10, "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01" },
		{ UINT64_MAX, 10, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01" },
	};
	struct strbuf sb = STRBUF_INIT;
	struct rd r;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strbuf_reset(&sb);
		pb_varint(&sb, cases[i].v);
		CHECK_EQ(u, sb.len, cases[i].len);
		CHECK(u, !memcmp(sb.buf, cases[i].bytes, cases[i].len));
		r = rd_of(&sb);
		CHECK_EQ(u, rd_varint(&r), cases[i].v);
		CHECK(u, !r.bad && r.p == r.end);
	}
	/* a negative int64 is its two's complement: ten bytes */
	strbuf_reset(&sb);
	pb_int(&sb, 1, -1);
	CHECK_EQ(u, sb.len, 11);
	CHECK(u, !memcmp(sb.buf, "\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11));
	/* field numbers past 15 take a two-byte key */
	strbuf_reset(&sb);
	pb_uint(&sb, 16, 150);
	CHECK_EQ(u, sb.len, 4);
	CHECK(u, !memcmp(sb.buf, "\x80\x01\x96\x01", 4));
	CHECK(u, !sb.failed);
	strbuf_release(&sb);
}

/* A message with a string, a nested message and a packed field, bodies
 * long enough that pb_close() must shorten the room it kept (1 byte of
 * length) or use more of it (2 bytes). */
static void t_message(struct unit *u)
{
	struct strbuf sb = STRBUF_INIT;
	struct field f, g;
	struct rd r, s;
	char big[200];
	size_t m, p, i;
	uint64_t want = 0, got;
	int n = 0;

	memset(big, 'x', sizeof(big));
	pb_uint(&sb, 1, 150);
	pb_str(&sb, 2, "testing");
	m = pb_open(&sb, 3);
	pb_bytes(&sb, 1, big, sizeof(big));	/* body 203 bytes: 2-byte length */
	p = pb_open(&sb, 2);			/* packed, 1-byte length */
	for (i = 0; i < 5; i++)
		pb_varint(&sb, i * 100);
	pb_close(&sb, p);
	pb_close(&sb, m);
	m = pb_open(&sb, 4);			/* empty message */
	pb_close(&sb, m);
	CHECK(u, !sb.failed);
	/* the start, byte by byte (the protobuf documentation's example) */
	CHECK(u, !memcmp(sb.buf, "\x08\x96\x01\x12\x07testing\x1a", 13));

	r = rd_of(&sb);
	while (rd_field(&r, &f)) {
		n++;
		if (f.num == 1) {
			CHECK_EQ(u, f.v, 150);
		} else if (f.num == 2) {
			CHECK_EQ(u, f.sub.end - f.sub.p, 7);
			CHECK(u, !memcmp(f.sub.p, "testing", 7));
		} else if (f.num == 3) {
			s = f.sub;
			CHECK(u, rd_field(&s, &g) && g.num == 1 && g.sub.end - g.sub.p == 200);
			CHECK(u, rd_field(&s, &g) && g.num == 2 && g.wire == PB_LEN);
			for (i = 0; g.sub.p < g.sub.end; i++) {
				got = rd_varint(&g.sub);
				CHECK_EQ(u, got, i * 100);
				want += got;
			}
			CHECK_EQ(u, i, 5);
			CHECK_EQ(u, want, 1000);
			CHECK(u, !rd_field(&s, &g) && !s.bad);
		} else if (f.num == 4) {
			CHECK(u, f.wire == PB_LEN && f.sub.p == f.sub.end);
		} else {
			CHECK(u, 0);
		}
	}
	CHECK(u, !r.bad && r.p == r.end);
	CHECK_EQ(u, n, 4);
	strbuf_release(&sb);
}

/* ---- the pprof renderer, over the synthetic profile ---- */

struct prof {
	char *str[512];
	size_t nstr;
	uint64_t period, duration, n_sample_types;
	/* per thread (tid 100..103) and state: samples, and with the GIL */
	uint64_t by[4][ST_COUNT], gil[4][ST_COUNT], total, wall;
	uint64_t leaves_with_state_label;	/* locations named like a [state] leaf */
	int bad;
};

/* Labels of one sample, as (key, str or num) string indices / values. */
static void read_sample(struct prof *pr, struct rd s, uint64_t *ids, size_t *nids,
			uint64_t lab[16][3], size_t *nlab, uint64_t val[2])
{
	struct field f, g;
	size_t nv = 0;

	*nids = *nlab = 0;
	while (rd_field(&s, &f)) {
		if (f.num == 1 && f.wire == PB_LEN) {
			while (f.sub.p < f.sub.end && *nids < 64)
				ids[(*nids)++] = rd_varint(&f.sub);
		} else if (f.num == 2 && f.wire == PB_LEN) {
			while (f.sub.p < f.sub.end && nv < 2)
				val[nv++] = rd_varint(&f.sub);
		} else if (f.num == 3 && *nlab < 16) {
			uint64_t *l = lab[(*nlab)++];

			l[0] = l[1] = l[2] = 0;
			while (rd_field(&f.sub, &g))
				if (g.num >= 1 && g.num <= 3)
					l[g.num - 1] = g.v;
		}
	}
	if (s.bad || nv != 2)
		pr->bad = 1;
}

static const char *S(const struct prof *pr, uint64_t i)
{
	return i < pr->nstr ? pr->str[i] : "?";
}

static void read_profile(struct unit *u, struct prof *pr, const struct strbuf *sb)
{
	struct rd r = rd_of(sb), again;
	struct field f, g;

	memset(pr, 0, sizeof(*pr));
	/* the string table first (it may come anywhere) */
	while (rd_field(&r, &f))
		if (f.num == 6 && pr->nstr < 512)
			pr->str[pr->nstr++] = strndup((const char *)f.sub.p,
						      (size_t)(f.sub.end - f.sub.p));
	CHECK(u, !r.bad);
	CHECK(u, pr->nstr > 0 && !strcmp(pr->str[0], ""));
	again = rd_of(sb);
	while (rd_field(&again, &f)) {
		if (f.num == 1)
			pr->n_sample_types++;
		else if (f.num == 12)
			pr->period = f.v;
		else if (f.num == 10)
			pr->duration = f.v;
		else if (f.num == 5) {
			/* a Function named like a state leaf */
			while (rd_field(&f.sub, &g))
				if (g.num == 2 && S(pr, g.v)[0] == '[')
					pr->leaves_with_state_label++;
		} else if (f.num == 2) {
			uint64_t ids[64], lab[16][3], val[2] = { 0, 0 };
			size_t nids, nlab, i;
			int64_t tid = -1;
			int st = -1, gil = -1;

			read_sample(pr, f.sub, ids, &nids, lab, &nlab, val);
			for (i = 0; i < nlab; i++) {
				const char *k = S(pr, lab[i][0]);

				if (!strcmp(k, "thread"))
					tid = (int64_t)lab[i][2];
				else if (!strcmp(k, "state"))
					st = gs_state_from_name(S(pr, lab[i][1]));
				else if (!strcmp(k, "holds_gil"))
					gil = !strcmp(S(pr, lab[i][1]), "true") ? 1 :
					      !strcmp(S(pr, lab[i][1]), "false") ? 0 : -1;
			}
			if (tid < 100 || tid > 103 || st < 0 || gil < 0 || !nids) {
				pr->bad = 1;
				continue;
			}
			pr->by[tid - 100][st] += val[0];
			if (gil)
				pr->gil[tid - 100][st] += val[0];
			pr->total += val[0];
			pr->wall += val[1];
		}
	}
	CHECK(u, !again.bad);
}

static void prof_free(struct prof *pr)
{
	size_t i;

	for (i = 0; i < pr->nstr; i++)
		free(pr->str[i]);
}

static void t_pprof(struct unit *u)
{
	struct pprof_options raw = { .raw = 1 };
	struct strbuf sb = STRBUF_INIT, gz = STRBUF_INIT;
	struct agg a;
	struct prof pr;
	unsigned char *back;
	uLongf backlen;
	z_stream z;

	CHECK_EQ(u, synth_agg(&a, 1, 0, 1), 0);
	CHECK_EQ(u, report_pprof(&sb, &a, &raw), 0);
	read_profile(u, &pr, &sb);
	CHECK(u, !pr.bad);
	CHECK_EQ(u, pr.n_sample_types, 2);
	CHECK_EQ(u, pr.period, 1000000000 / SYNTH_RATE_HZ);
	CHECK_EQ(u, pr.total, SYNTH_THREAD_SAMPLES);
	CHECK_EQ(u, pr.wall, SYNTH_THREAD_SAMPLES * pr.period);
	CHECK_EQ(u, pr.duration, SYNTH_INSTANTS * pr.period);
	/* the segments of synth.h, by thread and state */
	CHECK_EQ(u, pr.by[0][ST_PYTHON], 6);
	CHECK_EQ(u, pr.gil[0][ST_PYTHON], 6);
	CHECK_EQ(u, pr.by[0][ST_GIL_WAIT], 4);
	CHECK_EQ(u, pr.gil[0][ST_GIL_WAIT], 0);
	CHECK_EQ(u, pr.by[0][ST_NATIVE_GIL], 5);
	CHECK_EQ(u, pr.gil[0][ST_NATIVE_GIL], 5);
	CHECK_EQ(u, pr.by[0][ST_IO], 5);
	CHECK_EQ(u, pr.by[1][ST_IO], 6);
	CHECK_EQ(u, pr.gil[1][ST_PYTHON], 4);
	CHECK_EQ(u, pr.by[1][ST_NATIVE], 5);
	CHECK_EQ(u, pr.gil[1][ST_NATIVE], 0);
	CHECK_EQ(u, pr.by[2][ST_LOCK_WAIT], 10);
	CHECK_EQ(u, pr.by[2][ST_SLEEP], 10);
	CHECK_EQ(u, pr.gil[3][ST_PYTHON], 3);
	CHECK_EQ(u, pr.by[3][ST_OTHER], 2);
	/* [state] leaves are labels, but a frameless stack is named by its
	 * state: the sleeper's, and idle-python's python samples */
	CHECK_EQ(u, pr.leaves_with_state_label, 2);
	prof_free(&pr);

	/* gzip'd by default: the same bytes once inflated */
	CHECK_EQ(u, report_pprof(&gz, &a, NULL), 0);
	CHECK(u, gz.len > 18 && (unsigned char)gz.buf[0] == 0x1f &&
		 (unsigned char)gz.buf[1] == 0x8b);
	backlen = sb.len + 1;
	back = malloc(backlen);
	memset(&z, 0, sizeof(z));
	CHECK(u, back && inflateInit2(&z, 15 + 16) == Z_OK);
	z.next_in = (Bytef *)gz.buf;
	z.avail_in = (uInt)gz.len;
	z.next_out = back;
	z.avail_out = (uInt)backlen;
	CHECK_EQ(u, inflate(&z, Z_FINISH), Z_STREAM_END);
	CHECK_EQ(u, z.total_out, sb.len);
	CHECK(u, !memcmp(back, sb.buf, sb.len));
	inflateEnd(&z);
	free(back);
	strbuf_release(&gz);
	strbuf_release(&sb);
	agg_release(&a);

	/* nothing sampled: a valid profile of no samples */
	CHECK_EQ(u, agg_init(&a, &(struct agg_options){ .state_leaves = 1 }), 0);
	CHECK_EQ(u, report_pprof(&sb, &a, &raw), 0);
	read_profile(u, &pr, &sb);
	CHECK(u, !pr.bad);
	CHECK_EQ(u, pr.n_sample_types, 2);
	CHECK_EQ(u, pr.total, 0);
	prof_free(&pr);
	strbuf_release(&sb);
	agg_release(&a);
}

UNIT_SUITE(pb)
{
	UNIT_RUN(u, t_varint_edges);
	UNIT_RUN(u, t_message);
	UNIT_RUN(u, t_pprof);
}
