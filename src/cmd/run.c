/*
 * run.c - the sampling session behind diagnose and record.
 */
#include "run.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "../analyze/feed.h"
#include "../target/launch.h"
#include "../util/error.h"

static int on_sample(void *ctx, const struct sample *smp)
{
	return agg_add_sample((struct agg *)ctx, smp);
}

/* Launch mode: the runtime appears once the dynamic loader has mapped
 * libpython; poll for it while the child lives (up to 10 s). */
static int attach_launched(struct run *r, pid_t pid)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	int ret = GS_ENOTPY, i, status;

	for (i = 0; i < 2000; i++) {
		if (launch_poll(pid, &status)) {
			r->info.child_status = status;
			return GS_EEXITED;
		}
		ret = process_attach(pid, &r->proc);
		if (!ret) {
			ret = sampler_init(&r->s, &r->proc);
			if (!ret)
				return 0;
			process_release(&r->proc);
		}
		if (ret != GS_ENOTPY && ret != GS_EFAULT && ret != GS_ECORRUPT)
			return ret;
		nanosleep(&ts, NULL);
	}
	return ret;
}

int run_session(const struct run_opts *o, struct run *r)
{
	struct loop_opts lo;
	pid_t pid = o->pid;
	int ret;

	memset(r, 0, sizeof(*r));
	loop_install_signals();
	if (o->argv) {
		ret = launch_start(o->argv, &pid);
		if (ret)
			return GS_EXIT_NOPROC;
		r->info.launched = 1;
		ret = attach_launched(r, pid);
		if (ret) {
			int status;

			if (ret == GS_EEXITED) {
				fprintf(stderr, "gilscope: %s exited (status %d) before its Python "
					"runtime could be found\n", o->argv[0], r->info.child_status);
				return r->info.child_status ? r->info.child_status : GS_EXIT_EXITED;
			}
			status = cmd_report_error(ret, pid, r->s.found.version);
			fprintf(stderr, "gilscope: letting %s run to its end without sampling\n",
				o->argv[0]);
			launch_wait(pid);
			return status;
		}
	} else {
		ret = cmd_attach(pid, &r->proc, &r->s);
		if (ret)
			return ret;
	}
	r->have_proc = r->have_sampler = 1;
	ret = agg_init(&r->agg, &o->agg);
	if (ret) {
		fprintf(stderr, "gilscope: out of memory\n");
		return GS_EXIT_ERROR;
	}
	r->have_agg = 1;
	r->agg.free_threaded = r->s.model.free_threaded;

	memset(&lo, 0, sizeof(lo));
	lo.rate_hz = o->rate_hz;
	lo.duration_s = o->duration_s;
	lo.progress = o->progress < 0 ? isatty(2) : o->progress;
	lo.child = r->info.launched ? pid : 0;
	ret = loop_run(&r->s, &lo, on_sample, &r->agg, &r->st);
	if (ret) {
		fprintf(stderr, "gilscope: %s\n", gs_strerror(ret));
		return GS_EXIT_ERROR;
	}
	r->agg.requested = r->st.requested;
	r->agg.taken = r->st.taken;
	r->agg.missed = r->st.missed;
	r->agg.errors = r->st.errors;
	r->agg.rereads = r->s.n_rereads;
	r->agg.worst_lag_ns = r->st.worst_lag_ns;
	agg_finish(&r->agg);

	r->info.pid = (int)pid;
	r->info.version = r->s.found.version;
	r->info.free_threaded = r->s.model.free_threaded;
	r->info.gil_enabled = r->agg.samples ? r->agg.gil_enabled : !r->s.model.free_threaded;
	r->info.switch_interval_s = r->s.cur.gil.known ? (double)r->s.cur.gil.interval_us / 1e6 : -1;
	r->info.target_exited = r->st.target_exited;
	r->info.target_execd = r->st.target_execd;
	r->info.interrupted = r->st.interrupted;
	r->info.child_status = r->st.child_status;
	if (r->info.launched && !r->st.child_reaped) {
		/* duration over or Ctrl-C: the program keeps its own fate; we
		 * wait for it so that its exit status can pass through */
		if (r->st.interrupted)
			fprintf(stderr, "gilscope: waiting for %s to exit\n", o->argv[0]);
		r->info.child_status = launch_wait(pid);
	}
	return 0;
}

void run_release(struct run *r)
{
	if (r->have_agg)
		agg_release(&r->agg);
	if (r->have_sampler)
		sampler_release(&r->s);
	if (r->have_proc)
		process_release(&r->proc);
	memset(r, 0, sizeof(*r));
}
