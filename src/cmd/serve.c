/*
 * serve.c - `gilscope serve`: a Prometheus exporter for a fleet of Python
 * processes on one host, and optionally a pprof profile per process per
 * interval for a Pyroscope/Parca agent.
 *
 * One thread samples (the loop of every tree, sample/loop.h, over a group
 * of the selected processes, sample/group.h, rescanned every second, so
 * processes that start are picked up and those that end dropped). Between
 * samples it publishes the metrics text every second into a buffer under a
 * mutex; libmicrohttpd's own thread (MHD_USE_INTERNAL_POLLING_THREAD)
 * serves a copy of it, and never touches the sampler.
 *
 * Windowed figures (GIL held/contended, switches, verdict) come from two
 * aggregates per process started WINDOW_NS apart (as top does with its
 * two); the older is reported, so a gauge covers the last 5 to 10 s.
 */
#include "cmd.h"
#include "opt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../analyze/agg.h"
#include "../analyze/feed.h"
#include "../analyze/verdict.h"
#include "../report/pprof.h"
#include "../report/prom.h"
#include "../sample/group.h"
#include "../sample/loop.h"
#include "../util/afile.h"
#include "../util/clock.h"
#include "../util/error.h"

#define DEFAULT_RATE 20.0
#define MAX_RATE 1000.0
#define PUBLISH_NS 1000000000ull
#define WINDOW_NS 5000000000ull
#define RESCAN_NS 1000000000ull
#define MAX_PIDS 64

static const struct opt_cmd serve_cmd = {
	.name = "serve",
	.synopsis =
	"usage: gilscope serve [--listen HOST:PORT] (--pid PID ... | --match REGEX | --all)\n"
	"                      [--rate HZ] [--thread-names REGEX] [--top-stacks N]\n"
	"                      [--profiles DIR [--every T]]\n"
	"\n"
	"Sample the chosen Python processes continuously and serve their GIL and\n"
	"thread-state metrics at http://HOST:PORT/metrics in the Prometheus text\n"
	"format. Processes that start and match are picked up within a second;\n"
	"those that end are dropped. SIGHUP judges the selection again and\n"
	"checks the profiles directory anew; SIGTERM or SIGINT stops.\n",
	.epilog =
	"--match is a POSIX extended regular expression over the command line\n"
	"(arguments joined by spaces); --all takes every process whose executable's\n"
	"name contains \"python\". With --profiles, DIR/gilscope-PID-TIME.pb.gz is\n"
	"written per process every interval (gzip'd pprof, as record -f pprof).\n"
	"--top-stacks N adds gilscope_stack_threads{stack,state}: for each process\n"
	"the N heaviest (stack, state) pairs of the last window, the stack its\n"
	"functions outermost first joined by ';' (at most 200 bytes, outer frames\n"
	"cut as \"...;\"), the value the threads in it on average. It is a gauge, not\n"
	"a counter: a stack's series lasts only while it is in the top N, and the\n"
	"rate() of a counter that comes and goes would be wrong across its gaps;\n"
	"sum or avg_over_time it instead.\n",
};

struct window {
	struct agg agg;
	int live;
};

/* What serve keeps of a sampled process, from its first sample on;
 * sp[i] goes with g.m[i]. */
struct sproc {
	struct window win[2];
	double state_s[ST_COUNT];
	unsigned threads[ST_COUNT];
	struct agg prof;
	int prof_live;
	uint64_t prof_wall_ns;
	struct verdict v;
	struct prom_tname tn[PROM_THREAD_NAMES_MAX];	/* --thread-names */
	size_t ntn;
	struct prom_stack *stacks;	/* --top-stacks: top_stacks of them */
};

struct serve {
	struct group g;
	struct group_select sel;
	struct sproc *sp[GROUP_MAX];
	struct prom_proc pp[GROUP_MAX];
	struct loop_stats st;
	double rate;
	uint64_t next_publish, next_rotate, next_profile;
	unsigned rotations;
	const char *profiles;
	const regex_t *tnames;	/* --thread-names, or NULL */
	size_t top_stacks;	/* --top-stacks, 0: none */
	double every_s;
	int profiles_ok;
	/* the published text: written by the sampling thread, read by the
	 * HTTP thread, both under mu */
	pthread_mutex_t mu;
	struct strbuf pub, work;
	int failed;
};

static volatile sig_atomic_t hup;

static void on_hup(int sig)
{
	(void)sig;
	hup = 1;
}

static int agg_start(struct agg *a, double rate)
{
	struct agg_options o;

	memset(&o, 0, sizeof(o));
	o.mode = AGG_MODE_WALL;
	o.rate_hz = rate;
	return agg_init(a, &o) ? GS_ENOMEM : 0;
}

static void sproc_free(struct sproc *p)
{
	int i;

	if (!p)
		return;
	for (i = 0; i < 2; i++)
		if (p->win[i].live)
			agg_release(&p->win[i].agg);
	if (p->prof_live)
		agg_release(&p->prof);
	free(p->stacks);
	free(p);
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* --thread-names: the counters of the threads named `name`; past
 * PROM_THREAD_NAMES_MAX names, the last slot sums the others. */
static struct prom_tname *tname_slot(struct sproc *p, const char *name)
{
	static const char other[] = "(other)";
	size_t i, n;

	for (i = 0; i < p->ntn; i++)
		if (!strncmp(p->tn[i].name, name, PROM_THREAD_NAME_LEN - 1))
			return &p->tn[i];
	if (p->ntn == PROM_THREAD_NAMES_MAX)
		return &p->tn[PROM_THREAD_NAMES_MAX - 1];	/* "(other)" */
	if (p->ntn + 1 == PROM_THREAD_NAMES_MAX)
		name = other;
	n = strnlen(name, PROM_THREAD_NAME_LEN - 1);	/* a longer name is cut */
	memcpy(p->tn[p->ntn].name, name, n);
	p->tn[p->ntn].name[n] = 0;
	return &p->tn[p->ntn++];
}

static int serve_sample(void *ctx, size_t i, const struct sample *smp)
{
	struct serve *sv = ctx;
	struct sproc *p = sv->sp[i];
	size_t k;
	int w;

	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p || agg_start(&p->win[0].agg, sv->rate)) {
			free(p);
			return GS_ENOMEM;
		}
		p->win[0].live = 1;
		sv->sp[i] = p;
	}
	if (sv->profiles && !p->prof_live) {
		if (agg_start(&p->prof, sv->rate))
			return GS_ENOMEM;
		p->prof_live = 1;
		p->prof_wall_ns = wall_ns();
	}
	for (w = 0; w < 2; w++)
		if (p->win[w].live)
			agg_add_sample(&p->win[w].agg, smp);	/* full: cut short until
							the window restarts */
	if (p->prof_live)
		agg_add_sample(&p->prof, smp);
	memset(p->threads, 0, sizeof(p->threads));
	for (k = 0; k < smp->nthreads; k++) {
		unsigned st = (unsigned)smp->threads[k].state;

		if (st >= ST_COUNT)
			continue;
		p->threads[st]++;
		p->state_s[st] += 1.0 / sv->rate;
		if (sv->tnames && smp->threads[k].name[0] &&
		    !regexec(sv->tnames, smp->threads[k].name, 0, NULL, 0))
			tname_slot(p, smp->threads[k].name)->state_seconds[st] += 1.0 / sv->rate;
	}
	return 0;
}

/* The older live window: the longer view. */
static struct agg *older(struct sproc *p, double rate, int free_threaded)
{
	struct window *w = &p->win[0];
	struct agg *a;

	if (p->win[1].live && p->win[1].agg.samples &&
	    (!w->agg.samples || p->win[1].agg.t_first < w->agg.t_first))
		w = &p->win[1];
	a = &w->agg;
	a->free_threaded = free_threaded;
	a->duration_s = a->samples ? (double)(a->t_last - a->t_first) / 1e9 + 1.0 / rate : 0;
	return a;
}

static void rotate(struct serve *sv)
{
	size_t i;

	for (i = 0; i < sv->g.n; i++) {
		struct sproc *p = sv->sp[i];
		struct window *w;

		if (!p)
			continue;
		w = !p->win[1].live ? &p->win[1] : &p->win[sv->rotations % 2];
		if (w->live)
			agg_release(&w->agg);
		w->live = !agg_start(&w->agg, sv->rate);
	}
	sv->rotations++;
}

/* DIR/gilscope-PID-YYYYmmddTHHMMSSZ.pb.gz, whole or not at all; the
 * profile starts again. A failure is one line on stderr, and serving goes
 * on. */
static void write_profile(struct serve *sv, struct group_member *m, struct sproc *p)
{
	struct strbuf sb = STRBUF_INIT;
	struct pprof_options po = { 0 };
	struct gs_afile af;
	char path[GS_AFILE_PATH_MAX], when[32];
	struct tm tm;
	time_t t = (time_t)(p->prof_wall_ns / 1000000000ull);
	int ret;

	if (!p->prof_live || !p->prof.samples || !sv->profiles_ok)
		goto out;
	p->prof.free_threaded = m->s.model.free_threaded;
	agg_finish(&p->prof);
	p->prof.duration_s = (double)(p->prof.t_last - p->prof.t_first) / 1e9 + 1.0 / sv->rate;
	po.time_nanos = p->prof_wall_ns;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y%m%dT%H%M%SZ", &tm);
	if ((size_t)snprintf(path, sizeof(path), "%s/gilscope-%d-%s.pb.gz", sv->profiles,
			     (int)m->pid, when) >= sizeof(path)) {
		fprintf(stderr, "gilscope serve: --profiles path too long; choose a shorter one\n");
		goto out;
	}
	ret = report_pprof(&sb, &p->prof, &po);
	if (ret || sb.failed) {
		fprintf(stderr, "gilscope serve: profile of process %d not written: %s\n",
			(int)m->pid, gs_strerror(ret ? ret : GS_ENOMEM));
		goto out;
	}
	ret = gs_afile_open(&af, path, 0644);
	if (!ret) {
		if (fwrite(sb.buf, 1, sb.len, af.f) != sb.len) {
			ret = errno ? errno : EIO;
			gs_afile_abort(&af);
		} else {
			ret = gs_afile_commit(&af);
		}
	}
	if (ret)
		fprintf(stderr, "gilscope serve: cannot write %s: %s; check --profiles\n", path,
			strerror(ret));
out:
	strbuf_release(&sb);
	if (p->prof_live)
		agg_release(&p->prof);
	p->prof_live = 0;	/* the next sample starts the next profile */
}

static void forget(struct serve *sv, size_t i)
{
	sproc_free(sv->sp[i]);
	memmove(&sv->sp[i], &sv->sp[i + 1], (sv->g.n - i - 1) * sizeof(sv->sp[0]));
	sv->sp[sv->g.n - 1] = NULL;
	group_forget(&sv->g, i);
}

/* Processes that ended (or exec'd) go, with their last profile; their
 * series end with them, which Prometheus sees as staleness. */
static void drop_gone(struct serve *sv)
{
	size_t i;

	for (i = sv->g.n; i-- > 0;) {
		if (!sv->g.m[i]->gone)
			continue;
		if (sv->sp[i] && sv->profiles)
			write_profile(sv, sv->g.m[i], sv->sp[i]);
		forget(sv, i);
	}
}

static double cpu_seconds(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts))
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void publish(struct serve *sv)
{
	struct prom_self self;
	struct strbuf tmp;
	size_t i, n = 0;

	memset(&self, 0, sizeof(self));
	for (i = 0; i < sv->g.n; i++) {
		struct group_member *m = sv->g.m[i];
		struct sproc *p = sv->sp[i];
		struct prom_proc *pp = &sv->pp[n];
		struct agg *a;

		if (!m->sampled) {
			self.unreadable += m->err != GS_ENOTPY;
			continue;
		}
		if (!p || m->gone)
			continue;
		memset(pp, 0, sizeof(*pp));
		a = older(p, sv->rate, m->s.model.free_threaded);
		pp->pid = (int)m->pid;
		pp->command = m->cmdline;
		pp->version = m->s.found.version;
		pp->free_threaded = m->s.model.free_threaded;
		pp->gil_enabled = a->samples ? a->gil_enabled : !m->s.model.free_threaded;
		if (a->samples) {
			verdict_decide(a, &p->v);
			pp->have_window = 1;
			pp->gil_held = p->v.gil_held;
			pp->gil_contended = p->v.gil_contended;
			pp->switches_per_s = p->v.switches_per_s;
			pp->verdict = verdict_kind_name(p->v.kind);
		}
		memcpy(pp->state_seconds, p->state_s, sizeof(p->state_s));
		memcpy(pp->threads, p->threads, sizeof(p->threads));
		pp->tnames = p->tn;
		pp->ntnames = p->ntn;
		if (sv->top_stacks && a->samples) {
			int k;

			if (!p->stacks)
				p->stacks = calloc(sv->top_stacks, sizeof(*p->stacks));
			k = p->stacks ? prom_top_stacks(a, sv->top_stacks, p->stacks) : GS_ENOMEM;
			pp->stacks = p->stacks;
			pp->nstacks = k > 0 ? (size_t)k : 0;	/* out of memory: none */
		}
		pp->taken = m->taken;
		pp->lost = m->errors;
		n++;
	}
	self.requested = sv->st.requested;
	self.taken = sv->st.taken;
	self.missed = sv->st.missed;
	self.cpu_seconds = cpu_seconds();
	self.targets = n;
	strbuf_reset(&sv->work);
	report_prom(&sv->work, sv->pp, n, &self);
	if (sv->work.failed) {
		strbuf_release(&sv->work);
		return;	/* out of memory: the last text stays */
	}
	pthread_mutex_lock(&sv->mu);
	tmp = sv->pub;
	sv->pub = sv->work;
	sv->work = tmp;
	pthread_mutex_unlock(&sv->mu);
}

static int profiles_check(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) || !S_ISDIR(st.st_mode) || access(dir, W_OK | X_OK)) {
		fprintf(stderr, "gilscope serve: --profiles %s is not a writable directory; "
			"create it (profiles are skipped until SIGHUP finds it)\n", dir);
		return 0;
	}
	return 1;
}

/* SIGHUP: the members not sampled are judged again, the directory checked. */
static void reopen(struct serve *sv)
{
	size_t i;

	hup = 0;
	for (i = sv->g.n; i-- > 0;)
		if (!sv->g.m[i]->sampled && !sv->g.m[i]->gone)
			forget(sv, i);
	if (sv->profiles)
		sv->profiles_ok = profiles_check(sv->profiles);
	fprintf(stderr, "gilscope serve: SIGHUP: selection and profiles directory reopened\n");
}

/* Between samples: publish, rotate windows, write profiles, sleep. */
static int serve_wait(void *ctx, uint64_t until)
{
	struct serve *sv = ctx;

	for (;;) {
		uint64_t now = gs_now_ns(), wake = until;
		struct timespec ts;
		size_t i;

		if (loop_stop_requested())
			return 1;
		if (hup)
			reopen(sv);
		if (sv->profiles && now >= sv->next_profile) {
			for (i = 0; i < sv->g.n; i++)
				if (sv->sp[i])
					write_profile(sv, sv->g.m[i], sv->sp[i]);
			sv->next_profile = now + (uint64_t)(sv->every_s * 1e9);
		}
		if (now >= sv->next_rotate) {
			rotate(sv);
			sv->next_rotate = now + WINDOW_NS;
		}
		if (now >= sv->next_publish) {
			drop_gone(sv);
			publish(sv);
			sv->next_publish = now + PUBLISH_NS;
		}
		if (now >= until)
			return 0;
		if (sv->next_publish < wake)
			wake = sv->next_publish;
		ts.tv_sec = (time_t)((wake - now) / 1000000000ull);
		ts.tv_nsec = (long)((wake - now) % 1000000000ull);
		nanosleep(&ts, NULL);	/* a signal cuts it short: checked above */
	}
}

static const char index_page[] =
	"<html><head><title>gilscope</title></head><body><h1>gilscope serve</h1>"
	"<p>GIL and thread-state metrics of Python processes: "
	"<a href=\"/metrics\">/metrics</a>.</p></body></html>\n";

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *type,
			      void *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* libmicrohttpd's thread: GET /metrics (a copy of the published text), GET /
 * (a short page), 404 elsewhere, 405 for other methods. */
static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	static const char nf[] = "not found: try /metrics\n", na[] = "only GET\n";
	struct serve *sv = cls;
	char *copy;
	size_t len;

	(void)version, (void)upload, (void)upload_size, (void)con_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return answer(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", (void *)na,
			      sizeof(na) - 1, MHD_RESPMEM_PERSISTENT);
	if (!strcmp(url, "/"))
		return answer(c, MHD_HTTP_OK, "text/html", (void *)index_page,
			      sizeof(index_page) - 1, MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/metrics"))
		return answer(c, MHD_HTTP_NOT_FOUND, "text/plain", (void *)nf, sizeof(nf) - 1,
			      MHD_RESPMEM_PERSISTENT);
	pthread_mutex_lock(&sv->mu);
	len = sv->pub.len;
	copy = malloc(len ? len : 1);
	if (copy && len)
		memcpy(copy, sv->pub.buf, len);
	pthread_mutex_unlock(&sv->mu);
	if (!copy)
		return MHD_NO;
	return answer(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", copy, len,
		      MHD_RESPMEM_MUST_FREE);
}

/* HOST:PORT: an IPv4 address, or an IPv6 one in brackets ([::1]:9464);
 * an empty host is 127.0.0.1. *v6: the address is IPv6. */
static int parse_listen(const char *s, struct sockaddr_storage *ss, int *v6)
{
	struct sockaddr_in *sa = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sa6 = (struct sockaddr_in6 *)ss;
	char host[64];
	const char *colon = strrchr(s, ':'), *h = s;
	size_t hlen;
	char *end;
	long port;

	memset(ss, 0, sizeof(*ss));
	if (!colon)
		return -1;
	hlen = (size_t)(colon - s);
	*v6 = s[0] == '[';
	if (*v6) {	/* [ADDR]:PORT */
		if (hlen < 2 || s[hlen - 1] != ']')
			return -1;
		h = s + 1;
		hlen -= 2;
	}
	if (hlen >= sizeof(host))
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = 0;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || colon[1] == '-' || colon[1] == '+' ||
	    port < 1 || port > 65535)
		return -1;
	if (*v6) {
		sa6->sin6_family = AF_INET6;
		sa6->sin6_port = htons((uint16_t)port);
		return inet_pton(AF_INET6, host, &sa6->sin6_addr) == 1 ? 0 : -1;
	}
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (!host[0])
		sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return -1;
	return 0;
}

/* 1, or a usage error */
static int compile(regex_t *re, const char *opt, const char *pattern)
{
	int ret = regcomp(re, pattern, REG_EXTENDED | REG_NOSUB);
	char msg[128];

	if (!ret)
		return 1;
	regerror(ret, re, msg, sizeof(msg));
	usage_error("serve", "%s '%s': %s", opt, pattern, msg);
}

struct pids {
	pid_t v[MAX_PIDS];
	size_t n;
};

static void add_pid(void *ctx, const char *s)
{
	struct pids *p = ctx;
	pid_t pid = cmd_parse_pid(s);

	if (pid < 0)
		usage_error("serve", "--pid wants a process id, not '%s'", s);
	if (p->n == MAX_PIDS)
		usage_error("serve", "at most %d --pid; use --match for more", MAX_PIDS);
	p->v[p->n++] = pid;
}

/* SECONDS, or with a unit: 90s, 5m, 1h. */
static void parse_every(void *ctx, const char *s)
{
	double *d = ctx, v;
	char *end;

	errno = 0;
	v = strtod(s, &end);
	if (!errno && end != s) {
		if (!strcmp(end, "m"))
			v *= 60;
		else if (!strcmp(end, "h"))
			v *= 3600;
		else if (*end && strcmp(end, "s"))
			v = -1;
	} else {
		v = -1;
	}
	if (!(v >= 1 && v <= 86400))
		usage_error("serve", "--every wants a time from 1s to 24h like 60s or 5m, not '%s'",
			    s);
	*d = v;
}

int cmd_serve(int argc, char **argv)
{
	struct serve *sv;
	struct loop_opts lo;
	struct sockaddr_storage sa;
	struct MHD_Daemon *d = NULL;
	struct sigaction act;
	sigset_t all, old;
	struct pids pids = { { 0 }, 0 };
	regex_t re, tre;
	const char *listen = "127.0.0.1:9464", *match = NULL, *profiles = NULL,
		   *tnames = NULL;
	double rate = DEFAULT_RATE, every = 60;
	long top_stacks = 0;
	int all_py = 0, have_re = 0, have_tre = 0, status = GS_EXIT_OK, ret, v6 = 0;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD;
	size_t i;
	const struct opt opts[] = {
		{ .name = "listen", .letter = 'l', .kind = OPT_STRING, .dest = &listen,
		  .arg = "HOST:PORT", .help = "where to serve /metrics (default 127.0.0.1:9464;\n"
					       "IPv6 in brackets: [::1]:9464)" },
		{ .name = "pid", .letter = 'p', .kind = OPT_CALL, .call = add_pid, .ctx = &pids,
		  .arg = "PID", .help = "a process to sample (again for more)" },
		{ .name = "match", .letter = 'm', .kind = OPT_STRING, .dest = &match,
		  .arg = "REGEX", .help = "every process whose command line matches" },
		{ .name = "all", .letter = 'a', .kind = OPT_FLAG, .dest = &all_py, .ival = 1,
		  .help = "every Python process gilscope may read" },
		{ .name = "rate", .letter = 'r', .kind = OPT_NUM, .dest = &rate, .arg = "HZ",
		  .lo = 1, .hi = MAX_RATE, .help = "samples per second (default 20)" },
		{ .name = "thread-names", .kind = OPT_STRING, .dest = &tnames, .arg = "REGEX",
		  .help = "also state seconds per thread name, for the threads\n"
			  "whose name matches (at most 16 names a process)" },
		{ .name = "top-stacks", .kind = OPT_LONG, .dest = &top_stacks, .arg = "N",
		  .lo = 0, .hi = PROM_TOP_STACKS_MAX,
		  .help = "also the N heaviest stacks of each process, a gauge\n"
			  "of threads per (stack, state) (default 0: none)" },
		{ .name = "profiles", .kind = OPT_STRING, .dest = &profiles, .arg = "DIR",
		  .help = "write a pprof profile per process per interval here" },
		{ .name = "every", .kind = OPT_CALL, .call = parse_every, .ctx = &every,
		  .arg = "SECONDS", .help = "the profiles' interval (default 60s)" },
	};

	opt_parse(&serve_cmd, opts, OPT_COUNT(opts), argc, argv);
	if ((pids.n > 0) + (match != NULL) + all_py != 1)
		usage_error("serve", "choose the processes with one of --pid, --match or --all");
	if (parse_listen(listen, &sa, &v6))
		usage_error("serve", "--listen wants ADDRESS:PORT like 127.0.0.1:9464 or "
			    "[::1]:9464 (a numeric address, port 1-65535), not '%s'", listen);
	if (v6)	/* [::] listens on IPv4 too (dual stack); any other address only itself */
		flags |= IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&sa)->sin6_addr) ?
			 MHD_USE_DUAL_STACK : MHD_USE_IPv6;
	if (match)
		have_re = compile(&re, "--match", match);
	if (tnames)
		have_tre = compile(&tre, "--thread-names", tnames);
	sv = calloc(1, sizeof(*sv));
	if (!sv) {
		fprintf(stderr, "gilscope: out of memory\n");
		status = GS_EXIT_ERROR;
		goto out;
	}
	pthread_mutex_init(&sv->mu, NULL);
	sv->sel.pids = pids.v;
	sv->sel.npids = pids.n;
	sv->sel.re = have_re ? &re : NULL;
	sv->sel.all = all_py;
	sv->rate = rate;
	sv->profiles = profiles;
	sv->tnames = have_tre ? &tre : NULL;
	sv->top_stacks = (size_t)top_stacks;
	sv->every_s = every;
	if (profiles)
		sv->profiles_ok = profiles_check(profiles);
	group_init_select(&sv->g, &sv->sel);
	sv->g.rescan_ns = RESCAN_NS;
	loop_install_signals();
	memset(&act, 0, sizeof(act));
	act.sa_handler = on_hup;
	sigemptyset(&act.sa_mask);
	sigaction(SIGHUP, &act, NULL);
	publish(sv);	/* an empty page until the first samples */

	/* the HTTP thread takes no signal: they are the sampler's */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	d = MHD_start_daemon(flags, v6 ? ntohs(((struct sockaddr_in6 *)&sa)->sin6_port) :
			     ntohs(((struct sockaddr_in *)&sa)->sin_port), NULL, NULL,
			     handle, sv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
			     MHD_OPTION_CONNECTION_LIMIT, 64U, MHD_OPTION_CONNECTION_TIMEOUT, 10U,
			     MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!d) {
		fprintf(stderr, "gilscope serve: cannot listen on %s (in use, or not an address "
			"of this host); choose another --listen\n", listen);
		status = GS_EXIT_ERROR;
		goto out;
	}
	fprintf(stderr, "gilscope serve: metrics at http://%s/metrics\n", listen);

	memset(&lo, 0, sizeof(lo));
	lo.rate_hz = rate;
	lo.wait = serve_wait;
	lo.wait_ctx = sv;
	sv->next_publish = gs_now_ns();
	sv->next_rotate = sv->next_publish + WINDOW_NS;
	sv->next_profile = sv->next_publish + (uint64_t)(every * 1e9);
	ret = loop_run_group(&sv->g, &lo, serve_sample, sv, &sv->st);
	if (ret) {
		fprintf(stderr, "gilscope serve: out of memory\n");
		status = GS_EXIT_ERROR;
	}
	if (profiles)	/* what was sampled since the last interval */
		for (i = 0; i < sv->g.n; i++)
			if (sv->sp[i])
				write_profile(sv, sv->g.m[i], sv->sp[i]);
out:
	if (d)
		MHD_stop_daemon(d);
	if (sv) {
		for (i = 0; i < GROUP_MAX; i++)
			sproc_free(sv->sp[i]);
		group_release(&sv->g);
		strbuf_release(&sv->pub);
		strbuf_release(&sv->work);
		pthread_mutex_destroy(&sv->mu);
		free(sv);
	}
	if (have_re)
		regfree(&re);
	if (have_tre)
		regfree(&tre);
	return status;
}
