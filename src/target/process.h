/*
 * process.h - a process we attached to: its pid, memory map, executable and a
 * live memory reader. Attaching stops nothing: gilscope only reads.
 */
#ifndef GS_PROCESS_H
#define GS_PROCESS_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "maps.h"
#include "reader.h"

struct process {
	pid_t pid;
	struct maps maps;
	char exe[PATH_MAX];	/* readlink of /proc/PID/exe, " (deleted)" stripped */
	int exe_deleted;
	struct reader *reader;	/* owned */
	/* /proc/PID/mem opened at attach: it keeps reading the address space
	 * of that moment, so it tells when the process exec'd (or exited) */
	int memfd, have_memfd;
	uint64_t probe_addr;	/* an address mapped at attach */
};

/*
 * Attach: check that /proc is our PID namespace's (else GS_EPROCNS), that
 * the process exists and that we may read it, read its maps, open a live
 * reader and prove it works with one read. On failure returns GS_ENOPROC,
 * GS_EPERM, or another gs_err; *p is left released.
 */
int process_attach(pid_t pid, struct process *p);
/* Re-read /proc/PID/maps (libraries come and go). */
int process_refresh_maps(struct process *p);
void process_release(struct process *p);
/* Does the process live in a PID namespace below the one our /proc shows
 * (its NSpid has more than one level: a container seen from the host, or
 * from a container around it)? process_attach checked that /proc is our
 * own namespace's, so "below ours" is what this tells: a target in our
 * own namespace (a sidecar, docker exec) is not nested, whatever the
 * host's pids are. */
int process_pidns_nested(const struct process *p);
/* Still there? (kill(pid, 0) and not a zombie) */
int process_alive(pid_t pid);
/* 1 when the address space we attached to is gone: the process exited, or
 * exec'd another program (the same pid, then alive); 0 otherwise. One
 * pread(2), cheap enough for every sample. */
int process_image_gone(struct process *p);

/* After process_image_gone: whether the pid now runs another program (it
 * exec'd) rather than exiting. */
int process_execd(pid_t pid);

/*
 * A path by which the ELF file behind map entry `e` can be opened from here,
 * even if it was deleted or lives in another mount namespace:
 * /proc/PID/map_files/START-END, else /proc/PID/root/PATH, else PATH.
 */
int process_map_file_path(const struct process *p, const struct map_entry *e,
			  char *out, size_t outlen);

#endif
