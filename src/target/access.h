/*
 * access.h - why gilscope may not see or read a process, and what to do
 * about it: the facts about gilscope's own situation (its PID namespace,
 * whether /proc is that namespace's, CAP_SYS_PTRACE, Yama), read from the
 * OS, and the one-line advice made from them.
 *
 * Reading the facts touches the OS (access_facts_read); every text is made
 * from a struct access_facts alone, so each case is unit-tested without
 * containers.
 */
#ifndef GS_ACCESS_H
#define GS_ACCESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The inode number of the initial PID namespace (the kernel's
 * PROC_PID_INIT_INO): every other one has another. */
#define ACCESS_INIT_PIDNS_INO 0xEFFFFFFCu

/* Tri-state facts: 1 yes, 0 no, -1 could not tell. */
struct access_facts {
	int pidns_root;		/* gilscope is in the host's (initial) PID namespace */
	int cap_ptrace;		/* CAP_SYS_PTRACE is in gilscope's effective set */
	int other_user;		/* the process's /proc entry belongs to another uid */
	int euid_root;		/* gilscope runs with euid 0 */
	int ptrace_scope;	/* kernel.yama.ptrace_scope; -1 when Yama is absent */
	pid_t proc_self;	/* what /proc/self names (0: nothing) */
	pid_t self;		/* getpid() */
};

/* Gather the facts; `pid` is the process asked about (0: none). */
void access_facts_read(pid_t pid, struct access_facts *f);

/*
 * /proc belongs to gilscope's PID namespace (/proc/self names gilscope by
 * the pid getpid() gives)? Otherwise the pids in /proc and those the kernel
 * takes from gilscope (process_vm_readv, kill) name different processes.
 * Returns 0, or GS_EPROCNS with *f filled in for the message.
 */
int access_check_procfs(struct access_facts *f);

/* The lines (no "gilscope: ", no newline), into out. */
/* Not allowed to read process `pid` (GS_EPERM). */
void access_perm_text(const struct access_facts *f, pid_t pid, char *out, size_t len);
/* No process `pid` (GS_ENOPROC). */
void access_noproc_text(const struct access_facts *f, pid_t pid, char *out, size_t len);
/* /proc is another PID namespace's (GS_EPROCNS). */
void access_procfs_text(const struct access_facts *f, char *out, size_t len);
/* A note: process_vm_readv failed with errno `e` (ENOSYS, EPERM) where
 * /proc/PID/mem can be read, so gilscope reads through that instead. */
void access_vm_readv_text(int e, char *out, size_t len);

/* CapEff (or another "Cap...:" line) of a /proc status text as a bit mask.
 * Returns 0, or GS_ECORRUPT when absent or not hexadecimal. */
int access_parse_caps(const char *buf, size_t len, const char *key, uint64_t *out);

#endif
