/*
 * flamegraph.c - interactive SVG flame graph coloured by thread state;
 * see flamegraph.h.
 *
 * Layout follows flamegraph.pl's conventions (root at the bottom, 16-pixel
 * rows, text cut to fit with ".."), so the result reads like the flame
 * graphs users know; the code and the script are our own. Each frame is
 *   <g class="f" gs:x=".." gs:w=".."><title>..</title><rect/><text/></g>
 * where gs:x and gs:w are its offset and width in samples; the script
 * zooms and searches with those, so pixel rounding never adds up. The
 * <title> lines are, in this order: the label, the full "file:line" (only
 * when the label shortens the path), "N samples (P%)[, self S]", and the
 * per-state counts; the script reads them by position.
 */
#include "flamegraph.h"

#include <inttypes.h>
#include <string.h>

#include "rtree.h"
#include "../util/error.h"

#define GS_NS "urn:gilscope:flamegraph"
#define FONT_SIZE 12
#define FONT_W 0.59		/* average glyph width / font size (Verdana) */
#define FRAME_H 16		/* row height; rectangles are one pixel less */
#define XPAD 10
#define TOP_PAD 50		/* title, subtitle */
#define LEGEND_ROW 18
#define LEGEND_ITEM_W 135
#define BOTTOM_PAD 26		/* the details line */
#define HIGHLIGHT "rgb(255,230,0)"	/* search matches: unlike any state colour */
#define STR_(x) #x
#define STR(x) STR_(x)

/* What flamegraph.js leaves to this file, as @NAME@. */
static const struct {
	const char *name, *value;
} script_vars[] = {
	{ "@GS_NS@", GS_NS },
	{ "@HIGHLIGHT@", HIGHLIGHT },
	{ "@FRAME_H@", STR(FRAME_H) },
};

static void add_script(struct strbuf *sb)
{
	const char *p = (const char *)flamegraph_js, *end = p + flamegraph_js_len, *at;
	size_t i, n;

	while ((at = memchr(p, '@', (size_t)(end - p)))) {
		strbuf_add(sb, p, (size_t)(at - p));
		for (i = 0; i < sizeof(script_vars) / sizeof(script_vars[0]); i++) {
			n = strlen(script_vars[i].name);
			if ((size_t)(end - at) >= n && !memcmp(at, script_vars[i].name, n))
				break;
		}
		if (i < sizeof(script_vars) / sizeof(script_vars[0])) {
			strbuf_addstr(sb, script_vars[i].value);
			p = at + n;
		} else {
			strbuf_addch(sb, '@');
			p = at + 1;
		}
	}
	strbuf_add(sb, p, (size_t)(end - p));
}

struct fg {
	const struct agg *a;
	const struct rtree *rt;
	const struct flamegraph_options *opt;
	struct strbuf *sb;
	struct strbuf label, path, tmp;
	uint64_t total;
	double usable, min_w;
	size_t maxdepth;
	double y_base;		/* y of the bottom row ("all") */
};

static const struct agg_frame *frame_of(const struct agg *a, uint32_t node)
{
	uint32_t f = a->nodes[node].frame;

	return f < a->nframes ? &a->frames[f] : NULL;
}

static int is_state(const struct agg *a, uint32_t node)
{
	const struct agg_frame *f = frame_of(a, node);

	return f && f->kind == AGG_FRAME_STATE;
}

/* The state a rectangle is coloured by. */
static enum gs_state dominant(const struct agg *a, uint32_t node)
{
	const struct agg_node *n = &a->nodes[node];
	const struct agg_frame *f = frame_of(a, node);
	uint64_t most = 0;
	int s, best = ST_OTHER;

	if (f && f->kind == AGG_FRAME_STATE && f->state < ST_COUNT)
		return (enum gs_state)f->state;
	for (s = 0; s < ST_COUNT; s++) {
		if (n->state_total[s] > most) {
			most = n->state_total[s];
			best = s;
		}
	}
	return (enum gs_state)best;
}

/* A colour near the state's, varied by the label so neighbours differ. */
static void add_color(struct strbuf *sb, enum gs_state s, const char *label)
{
	const char *hex = gs_state_info(s)->color;
	uint32_t h = 2166136261u;
	int rgb[3], i;

	for (; *label; label++)
		h = (h ^ (unsigned char)*label) * 16777619u;
	for (i = 0; i < 3; i++) {
		int c = 0, k;

		for (k = 0; k < 2; k++) {
			char ch = hex[1 + 2 * i + k];

			c = c * 16 + (ch <= '9' ? ch - '0' : ch - 'a' + 10);
		}
		c += (int)((h >> (8 * i)) % 25) - 12;
		rgb[i] = c < 0 ? 0 : c > 255 ? 255 : c;
	}
	strbuf_addf(sb, "rgb(%d,%d,%d)", rgb[0], rgb[1], rgb[2]);
}

/* The label as shown: control characters (a newline in a file name) would
 * break the tooltip's first line, which the script reads as the label. */
static void clean_label(struct strbuf *out, const char *s)
{
	for (; *s; s++)
		strbuf_addch(out, (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s);
}

/*
 * Long absolute paths would crowd out the function names, so a Python
 * frame whose file has a directory shows "func (base.py:12)" (the parent
 * directory kept for __init__.py and __main__.py), and its tooltip and the
 * search add the full "file:line". Returns 1 when that applies, with the
 * short label in `label` and the full location in `path`.
 */
static int short_label(struct strbuf *label, struct strbuf *path, const struct agg *a,
		       uint32_t node)
{
	const struct agg_frame *f = frame_of(a, node);
	const char *file, *func, *base, *p;

	if (!node || !f || f->kind != AGG_FRAME_PYTHON)
		return 0;
	file = agg_str(a, f->file);
	func = agg_str(a, f->func);
	if (!file || !(base = strrchr(file, '/')) || !base[1])
		return 0;
	base++;
	if (!strcmp(base, "__init__.py") || !strcmp(base, "__main__.py")) {
		for (p = base - 1; p > file && p[-1] != '/'; p--)
			;
		base = p;
	}
	strbuf_addstr(label, func && func[0] ? func : "<unknown>");
	strbuf_addf(label, " (%s", base);
	strbuf_addstr(path, file);
	if (f->line > 0) {
		strbuf_addf(label, ":%d", (int)f->line);
		strbuf_addf(path, ":%d", (int)f->line);
	}
	strbuf_addch(label, ')');
	return 1;
}

/* Appends the label escaped, cut to `max` characters with ".." as the
 * script's fit() does; counts characters, never splits one. */
static void add_fitted(struct strbuf *sb, struct strbuf *tmp, const char *label, double pw)
{
	long max = (long)((pw - 6) / (FONT_SIZE * FONT_W));
	size_t off = 0, n, chars = 0, cut = 0;

	if (max < 3)
		return;
	while (label[off]) {
		n = utf8_seq_len(label + off);
		off += n ? n : 1;
		chars++;
		if (chars == (size_t)max - 2)
			cut = off;
	}
	if (chars <= (size_t)max) {
		strbuf_add_xml_str(sb, label);
		return;
	}
	strbuf_reset(tmp);
	strbuf_add(tmp, label, cut);
	strbuf_add_xml_str(sb, strbuf_str(tmp));
	strbuf_addstr(sb, "..");
}

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0;
}

static int skip(struct fg *g, uint32_t node)
{
	const struct agg_node *n = &g->a->nodes[node];

	if (!n->total)
		return 1;
	if (g->opt->no_state_leaves && is_state(g->a, node))
		return 1;
	return (double)n->total / (double)g->total * g->usable < g->min_w;
}

static int visit_depth(void *vctx, const uint32_t *path, size_t depth, uint64_t x)
{
	struct fg *g = vctx;

	(void)x;
	if (skip(g, path[depth - 1]))
		return 1;
	if (depth > g->maxdepth)
		g->maxdepth = depth;
	return 0;
}

static void add_tooltip(struct fg *g, uint32_t node, const char *label, const char *where)
{
	const struct agg_node *n = &g->a->nodes[node];
	struct strbuf *sb = g->sb;
	int s, first = 1;

	strbuf_add_xml_str(sb, label);
	if (where) {
		strbuf_addch(sb, '\n');
		strbuf_add_xml_str(sb, where);
	}
	strbuf_addf(sb, "\n%" PRIu64 " samples (%.2f%%)", n->total, pct(n->total, g->total));
	if (node && n->self)
		strbuf_addf(sb, ", self %" PRIu64, n->self);
	strbuf_addch(sb, '\n');
	for (s = 0; s < ST_COUNT; s++) {
		if (!n->state_total[s])
			continue;
		strbuf_addf(sb, "%s%s %" PRIu64 " (%.1f%%)", first ? "" : ", ",
			    gs_state_name((enum gs_state)s), n->state_total[s],
			    pct(n->state_total[s], n->total));
		first = 0;
	}
}

static int visit_draw(void *vctx, const uint32_t *path, size_t depth, uint64_t x)
{
	struct fg *g = vctx;
	struct strbuf *sb = g->sb;
	uint32_t node = path[depth - 1];
	const struct agg_node *n = &g->a->nodes[node];
	double px, pw, y;
	const char *label, *where = NULL;

	if (skip(g, node))
		return 1;
	px = XPAD + (double)x / (double)g->total * g->usable;
	pw = (double)n->total / (double)g->total * g->usable;
	y = g->y_base - (double)(depth - 1) * FRAME_H;

	strbuf_reset(&g->label);
	strbuf_reset(&g->path);
	strbuf_reset(&g->tmp);
	if (short_label(&g->tmp, &g->path, g->a, node)) {
		clean_label(&g->label, strbuf_str(&g->tmp));
		strbuf_reset(&g->tmp);
		clean_label(&g->tmp, strbuf_str(&g->path));
		strbuf_reset(&g->path);
		strbuf_addstr(&g->path, strbuf_str(&g->tmp));
		where = strbuf_str(&g->path);
	} else {
		rtree_label(&g->tmp, g->a, node);
		clean_label(&g->label, strbuf_str(&g->tmp));
	}
	label = strbuf_str(&g->label);

	strbuf_addf(sb, "<g class=\"f\" gs:x=\"%" PRIu64 "\" gs:w=\"%" PRIu64 "\"><title>",
		    x, n->total);
	add_tooltip(g, node, label, where);
	strbuf_addf(sb, "</title><rect x=\"%.2f\" y=\"%.0f\" width=\"%.2f\" height=\"%d\" fill=\"",
		    px, y, pw, FRAME_H - 1);
	add_color(sb, dominant(g->a, node), label);
	strbuf_addf(sb, "\" rx=\"2\" ry=\"2\"/><text x=\"%.2f\" y=\"%.1f\">", px + 3, y + 11.5);
	add_fitted(sb, &g->tmp, label, pw);
	strbuf_addstr(sb, "</text></g>\n");
	return sb->failed || g->label.failed || g->tmp.failed || g->path.failed ? GS_ENOMEM : 0;
}

static void add_subtitle(struct strbuf *sb, const struct agg *a)
{
	static const char *const modes[] = {
		[AGG_MODE_WALL] = "wall clock", [AGG_MODE_CPU] = "on CPU only",
		[AGG_MODE_GIL] = "holding the GIL only",
	};
	double dur = a->duration_s > 0 ? a->duration_s :
		a->t_last > a->t_first ? (double)(a->t_last - a->t_first) / 1e9 : 0;
	unsigned mode = (unsigned)a->opt.mode;

	strbuf_addf(sb, "%" PRIu64 " samples of %zu thread%s", a->samples, a->nthreads,
		    a->nthreads == 1 ? "" : "s");
	if (a->nprocesses)
		strbuf_addf(sb, " in %zu process%s", a->nprocesses,
			    a->nprocesses == 1 ? "" : "es");
	strbuf_addf(sb, " over %.2f s", dur);
	if (a->opt.rate_hz > 0)
		strbuf_addf(sb, " at %g Hz", a->opt.rate_hz);
	if (mode < sizeof(modes) / sizeof(modes[0]))
		strbuf_addf(sb, " (%s)", modes[mode]);
	if (a->nprocesses)
		return;	/* each process has a GIL of its own: diagnose tells them */
	if (a->gil_known)
		strbuf_addf(sb, "; GIL held %.1f%%, contended %.1f%%",
			    pct(a->gil_held, a->gil_known), pct(a->gil_contended, a->gil_known));
	else if (a->free_threaded && !a->gil_enabled)
		strbuf_addstr(sb, "; free-threaded, GIL disabled");
}

static void add_legend(struct strbuf *sb, const struct agg *a, int width, double y0)
{
	const struct agg_node *root = a->nnodes ? &a->nodes[0] : NULL;
	int per_row = (width - 2 * XPAD) / LEGEND_ITEM_W, s;

	if (per_row < 1)
		per_row = 1;
	strbuf_addstr(sb, "<g id=\"legend\">\n");
	for (s = 0; s < ST_COUNT; s++) {
		double x = XPAD + (s % per_row) * LEGEND_ITEM_W;
		double y = y0 + (s / per_row) * LEGEND_ROW;
		uint64_t n = root ? root->state_total[s] : 0;

		strbuf_addf(sb, "<rect x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"12\" rx=\"2\" "
			    "ry=\"2\" fill=\"%s\"/><text x=\"%.0f\" y=\"%.0f\">%s %.1f%%</text>\n",
			    x, y, gs_state_info((enum gs_state)s)->color, x + 16, y + 10.5,
			    gs_state_name((enum gs_state)s),
			    pct(n, root ? root->total : 0));
	}
	strbuf_addstr(sb, "</g>\n");
}

int report_flamegraph(struct strbuf *sb, const struct agg *a,
		      const struct flamegraph_options *opt)
{
	static const struct flamegraph_options defaults;
	struct fg g = { .a = a, .sb = sb, .label = STRBUF_INIT, .path = STRBUF_INIT,
			.tmp = STRBUF_INIT };
	struct rtree rt;
	int width, per_row, legend_rows, ret;
	double height, legend_y, top;

	if (!opt)
		opt = &defaults;
	g.opt = opt;
	width = opt->width > 0 ? opt->width : 1200;
	if (width < 200)
		width = 200;
	g.usable = width - 2 * XPAD;
	g.min_w = opt->min_width > 0 ? opt->min_width : opt->min_width < 0 ? -1 : 0.1;
	g.total = a->nnodes ? a->nodes[0].total : 0;
	per_row = (width - 2 * XPAD) / LEGEND_ITEM_W;
	if (per_row < 1)
		per_row = 1;
	legend_rows = (ST_COUNT + per_row - 1) / per_row;
	legend_y = TOP_PAD;
	top = legend_y + legend_rows * LEGEND_ROW + 8;

	ret = rtree_init(&rt, a);
	if (ret)
		return ret;
	g.rt = &rt;
	if (g.total) {
		ret = rtree_walk(&rt, 0, visit_depth, &g);
		if (ret)
			goto out;
	}
	height = top + (double)(g.maxdepth ? g.maxdepth : 1) * FRAME_H + BOTTOM_PAD;
	g.y_base = height - BOTTOM_PAD - FRAME_H;

	strbuf_addf(sb, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
		    "<svg version=\"1.1\" width=\"%d\" height=\"%.0f\" viewBox=\"0 0 %d %.0f\" "
		    "xmlns=\"http://www.w3.org/2000/svg\" xmlns:gs=\"" GS_NS "\" "
		    "onload=\"gs_init()\">\n", width, height, width, height);
	strbuf_addstr(sb, "<style type=\"text/css\"><![CDATA[\n"
		      "text { font-family: Verdana, 'DejaVu Sans', sans-serif; font-size: 12px; fill: #000; }\n"
		      "#title { font-size: 17px; text-anchor: middle; }\n"
		      "#subtitle { text-anchor: middle; fill: #555; }\n"
		      "#search, #matched { text-anchor: end; }\n"
		      "#search, #unzoom { cursor: pointer; fill: #36c; }\n"
		      "#search:hover, #unzoom:hover { text-decoration: underline; }\n"
		      ".f { cursor: pointer; }\n"
		      ".f:hover rect { stroke: #000; stroke-width: 0.5; }\n"
		      ".f text { pointer-events: none; }\n"
		      ".parent { opacity: 0.5; }\n"
		      ".hide { display: none; }\n"
		      "]]></style>\n");
	strbuf_addstr(sb, "<script type=\"text/ecmascript\"><![CDATA[\n");
	add_script(sb);
	strbuf_addstr(sb, "]]></script>\n");
	strbuf_addf(sb, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%.0f\" fill=\"#f8f8f4\"/>\n",
		    width, height);
	strbuf_addf(sb, "<text id=\"title\" x=\"%.1f\" y=\"24\">", width / 2.0);
	strbuf_add_xml_str(sb, opt->title ? opt->title : "gilscope flame graph");
	strbuf_addf(sb, "</text>\n<text id=\"subtitle\" x=\"%.1f\" y=\"42\">", width / 2.0);
	if (opt->subtitle)
		strbuf_add_xml_str(sb, opt->subtitle);
	else
		add_subtitle(sb, a);
	strbuf_addstr(sb, "</text>\n");
	strbuf_addf(sb, "<text id=\"unzoom\" class=\"hide\" x=\"%d\" y=\"24\">Reset Zoom</text>\n", XPAD);
	strbuf_addf(sb, "<text id=\"search\" x=\"%d\" y=\"24\">Search</text>\n", width - XPAD);
	strbuf_addf(sb, "<text id=\"matched\" class=\"hide\" x=\"%d\" y=\"%.0f\"> </text>\n",
		    width - XPAD, height - 8);
	strbuf_addf(sb, "<text id=\"details\" x=\"%d\" y=\"%.0f\"> </text>\n", XPAD, height - 8);
	add_legend(sb, a, width, legend_y);

	strbuf_addf(sb, "<g id=\"frames\" gs:total=\"%" PRIu64 "\" gs:xpad=\"%d\" gs:usable=\"%.0f\" "
		    "gs:fontw=\"%.3f\">\n", g.total, XPAD, g.usable, FONT_SIZE * FONT_W);
	if (g.total) {
		ret = rtree_walk(&rt, 0, visit_draw, &g);
		if (ret)
			goto out;
	} else {
		strbuf_addf(sb, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">No samples</text>\n",
			    width / 2.0, g.y_base + 12);
	}
	strbuf_addstr(sb, "</g>\n</svg>\n");
	ret = sb->failed ? GS_ENOMEM : 0;
out:
	strbuf_release(&g.label);
	strbuf_release(&g.path);
	strbuf_release(&g.tmp);
	rtree_release(&rt);
	return ret;
}
