/*
 * procfs.h - parsers for /proc/PID/task/TID/{stat,syscall,schedstat,status}
 * and the readers that fetch them.
 *
 * Every parser takes bytes. The fetch helpers (procfs_read_*) open, read and
 * close, or pread a descriptor kept open by the caller.
 */
#ifndef GS_PROCFS_H
#define GS_PROCFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct proc_stat {
	char state;		/* 'R', 'S', 'D', 'T', 't', 'Z', 'X', 'I', ... */
	char comm[64];		/* between the parentheses; may contain ')' */
	pid_t ppid, pgrp;	/* parent, process group */
	uint64_t utime, stime;	/* clock ticks */
	uint64_t starttime;	/* clock ticks after boot; 0 if absent */
	int processor;		/* CPU last run on, -1 if unknown */
};

/* Parse the contents of /proc/.../stat. */
int procfs_parse_stat(const char *buf, size_t len, struct proc_stat *out);
/* Read and parse /proc/PID/stat. */
int procfs_read_stat(pid_t pid, struct proc_stat *out);

/* /proc/.../syscall: "running", or "NR a0 a1 a2 a3 a4 a5 sp pc", or "-1 sp pc"
 * for a thread blocked outside a system call. */
struct proc_syscall {
	int running;		/* the file said "running" */
	long nr;		/* -1 when blocked but not in a syscall */
	uint64_t args[6];
	uint64_t sp, pc;
};
int procfs_parse_syscall(const char *buf, size_t len, struct proc_syscall *out);

/* /proc/.../schedstat: "run_ns wait_ns timeslices". */
struct proc_schedstat {
	uint64_t run_ns, wait_ns, slices;
};
int procfs_parse_schedstat(const char *buf, size_t len, struct proc_schedstat *out);

/* Value of a "Key:\tvalue" line in /proc/PID/status, copied into out
 * (NUL-terminated, truncated to outlen-1). Returns 0 or GS_ECORRUPT if absent. */
int procfs_status_field(const char *buf, size_t len, const char *key,
			char *out, size_t outlen);

/* The NSpid line of /proc/PID/status (or of a task's): the id in each
 * PID namespace from the reader's down to the process's own. *inner: the
 * innermost (the id the process knows itself by), *levels: how many.
 * Returns 0 or GS_ECORRUPT (no such line, or not numbers). */
int procfs_parse_nspid(const char *buf, size_t len, int32_t *inner, int *levels);

/* Read a whole small /proc file into buf (NUL-terminated). Returns bytes read
 * or a negative gs_err: GS_ENOPROC if it does not exist, GS_EPERM if denied. */
long procfs_read_file(const char *path, char *buf, size_t cap);
/* pread(fd, 0) variant for descriptors kept open across samples. */
long procfs_pread(int fd, char *buf, size_t cap);
/* The same in one system call for the small single-record files (stat,
 * syscall, schedstat) whose every read returns them whole. */
long procfs_pread_small(int fd, char *buf, size_t cap);

/* /proc/PID/task as a directory descriptor, or a negative gs_err; and one
 * file of thread `tid` under it ("stat", "syscall", "schedstat"). */
int procfs_task_dir(pid_t pid);
int procfs_task_open(int task_dir, pid_t tid, const char *name);

/* List thread ids of a process (sorted ascending). Returns count or negative. */
long procfs_list_tasks(pid_t pid, pid_t *tids, size_t max);
/* List the processes in /proc (thread-group leaders, sorted ascending);
 * count, GS_ERANGE when more than max, or another negative gs_err. */
long procfs_list_pids(pid_t *pids, size_t max);

#endif
