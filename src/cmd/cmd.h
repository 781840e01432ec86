/*
 * cmd.h - the commands (one file each) and what they share: turning a
 * gs_err into one line a user can act on, and the matching exit status.
 */
#ifndef GS_CMD_H
#define GS_CMD_H

#include <sys/types.h>

#include "../util/strbuf.h"

struct sampler;
struct process;
struct sample;
struct dump_info;

int cmd_dump(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);
int cmd_diagnose(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_speedup(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_ft_check(int argc, char **argv);
int cmd_serve(int argc, char **argv);

/* What a command needs, from main.c's command table; opt_parse() checks
 * them once the options are parsed, for every command in one place. */
enum cmd_flags {
	CMD_NEEDS_PID = 1 << 0,	/* reads a running process: --pid PID */
	CMD_MAY_LAUNCH = 1 << 1,	/* ... or a command to launch instead (after --) */
	CMD_NEEDS_TTY = 1 << 2,	/* a live view: stdin and stdout are a terminal */
};

/* The dispatcher says which command runs, and what it needs. */
void cmd_begin(const char *name, unsigned flags);
/* Check what the running command needs, given whether --pid was given
 * and whether a command follows the options; a usage error (exit 2) when
 * something is missing. */
void cmd_check_needs(int have_pid, int have_command, long pid);

/* What `dump` shows of a process besides its threads, from one sample. */
void cmd_dump_info(struct dump_info *info, pid_t pid, const struct process *proc,
		   const struct sampler *s, const struct sample *smp);

/* Print "gilscope: <message>" for err about process pid and return the exit
 * status to use (README "Exit codes"). `version` names what we found when
 * err is GS_EUNSUPPORTED. */
int cmd_report_error(int err, pid_t pid, const char *version);
/* Parse a pid argument; -1 if it is not a positive integer. */
pid_t cmd_parse_pid(const char *s);
/* Attach and set up a sampler, reporting any failure; returns 0 or an exit
 * status. */
int cmd_attach(pid_t pid, struct process *proc, struct sampler *s);
/* After an attach: one "gilscope: note:" line on stderr when the kernel
 * refused process_vm_readv (a seccomp profile) and gilscope reads through
 * /proc/PID/mem instead; nothing otherwise. */
void cmd_note_reader(const struct process *proc);
/* Write buf to path (or stdout for "-" / NULL) via a temporary file renamed
 * into place (an existing file is replaced only by a complete one, keeping
 * its mode; a symlink is followed); a device, FIFO or socket (/dev/null, a
 * pipe) is written directly. Returns 0 or an exit status (after printing
 * the error). */
int cmd_write_output(const char *path, const char *buf, size_t len);
/* A finished report to path (NULL: stdout), as cmd_write_output(); one that
 * could not be made whole (sb->failed) is not written, and one line says
 * so. Returns an exit status. */
int cmd_write_report(const char *path, struct strbuf *sb);
/* Where cmd_write_output would put `path`: *direct for a device, FIFO or
 * socket; else `real` is the file to rename onto and *mode its mode.
 * Returns 0 or an exit status (after printing the error). */
int cmd_output_target(const char *path, char *real, size_t reallen, int *direct,
		      mode_t *mode);

/* A private (0700) temporary directory $TMPDIR/gilscope-<what>-XXXXXX into
 * dir; 0, or an exit status after printing why (dir is then ""). */
int cmd_make_tmpdir(const char *what, char *dir, size_t len);

/* getopt said '?': name the offending argument in one line and exit 2. */
void usage_bad_option(const char *cmd, int argc, char **argv)
	__attribute__((noreturn));

void usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

/* A process of a tree that was not read (--subprocesses), and why, in a
 * few words, for the reports. */
struct dump_other;
struct group_member;
void cmd_tree_other(struct dump_other *o, const struct group_member *m);

#endif
