/*
 * options.h - the sampling options diagnose and record share, parsed the
 * way py-spy users expect: -p/--pid, -r/--rate, -d/--duration,
 * -o/--output, -f/--format, --mode, --json, and `-- command args...`.
 * Each command lists the ones it takes in its own option table (opt.h),
 * from the entries below.
 */
#ifndef GS_OPTIONS_H
#define GS_OPTIONS_H

#include "opt.h"
#include "run.h"

struct sample_opts {
	struct run_opts run;
	const char *output;	/* -o */
	const char *format;	/* -f */
	int json;
	int mode;		/* --mode: an enum agg_mode */
};

#define SAMPLE_MAX_RATE 1000000.0

extern const char *const sample_modes[];	/* --mode's values, by enum agg_mode */
extern const char *const switch_record_modes[];	/* --switch-records', by LOOP_SW_* */

/* Table entries for the shared options, writing into struct sample_opts *so. */
#define SO_PID(so) { .name = "pid", .letter = 'p', .kind = OPT_PID, .dest = &(so)->run.pid, \
	.arg = "PID", .help = "attach to a running process" }
#define SO_DURATION(so, text) { .name = "duration", .letter = 'd', .kind = OPT_NUM, \
	.dest = &(so)->run.duration_s, .arg = "S", .help = (text), .lo = 0.001, .hi = 1e7 }
#define SO_RATE(so) { .name = "rate", .letter = 'r', .kind = OPT_NUM, .dest = &(so)->run.rate_hz, \
	.arg = "HZ", .help = "samples per second (default 100)", .lo = 0.1, .hi = SAMPLE_MAX_RATE }
#define SO_OUTPUT(so, text) { .name = "output", .letter = 'o', .kind = OPT_STRING, \
	.dest = &(so)->output, .arg = "FILE", .help = (text) }
#define SO_JSON(so) { .name = "json", .letter = 'j', .kind = OPT_FLAG, .dest = &(so)->json, \
	.ival = 1, .help = "JSON instead of text" }
#define SO_PROGRESS(so) { .name = "progress", .kind = OPT_FLAG, .dest = &(so)->run.progress, \
	.ival = 1, .help = "a progress line on stderr (default: when stderr\nis a terminal)" }
#define SO_NO_PROGRESS(so) { .name = "no-progress", .kind = OPT_FLAG, \
	.dest = &(so)->run.progress, .ival = 0, .help = "no progress line on stderr" }
#define SO_GRACE(so) { .name = "grace", .kind = OPT_NUM, .dest = &(so)->run.grace_s, .arg = "S", \
	.help = "the grace period, in seconds (default 2)", .lo = 0, .hi = 3600 }
#define SO_KEEP_RUNNING(so) { .name = "keep-running", .kind = OPT_FLAG, \
	.dest = &(so)->run.keep_running, .ival = 1, \
	.help = "leave the program running instead (its pid is\nprinted) and return once " \
		"the report is written" }

#define SO_SWITCH_RECORDS(so) { .name = "switch-records", .kind = OPT_CHOICE, \
	.dest = &(so)->run.switch_records, .arg = "WHEN", .choices = switch_record_modes, \
	.help = "read the kernel's context-switch records\n(perf events: root or CAP_PERFMON) to " \
		"tell\nwhich threads ran: auto (with 256 threads or\nmore), always, never" }

#define SO_SUBPROCESSES(so) { .name = "subprocesses", .letter = 's', .kind = OPT_FLAG, \
	.dest = &(so)->run.subprocesses, .ival = 1, \
	.help = "sample every Python process of the tree too\n(the process and its " \
		"descendants, as they come\nand go); a report per process and one for\nthe program" }

/* What a launched command becomes, in diagnose's and record's --help
 * (before --grace and --keep-running). */
#define LAUNCH_END_HELP \
	"A launched command that is still running when the duration is over, or\n" \
	"when gilscope is interrupted (Ctrl-C, SIGTERM), is ended once sampling\n" \
	"stops, with the processes it started: SIGINT, then SIGTERM after the\n" \
	"grace period, then SIGKILL after another; one line on stderr says how it\n" \
	"ended, the report is written, and gilscope exits 0. A program that ends\n" \
	"by itself passes its exit status through; one that fails within its\n" \
	"first second gets no report, but a line with what it printed last.\n"

/* The defaults, before parsing. */
void sample_opts_init(struct sample_opts *o);
/* Parse argv by the table (opt_parse), then check what goes together:
 * --pid or a command, the launch options only with a command. Exits with
 * a usage error on bad input. */
void sample_opts_parse(const struct opt_cmd *c, const struct opt *opts, size_t n, int argc,
		       char **argv, struct sample_opts *o);

#endif
