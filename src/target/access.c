/*
 * access.c - gilscope's own situation (PID namespace, its /proc, capability,
 * Yama) and the advice it gives when it cannot see or read a process.
 *
 * Containers are where these errors are met most, and there the advice is
 * not `sudo`: it is a flag of docker or a field of a Kubernetes pod. Which
 * one depends on facts only gilscope can see from where it runs, so the
 * texts are chosen from them, not written once for every case.
 */
#include "access.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "procfs.h"
#include "../util/error.h"

#define CAP_SYS_PTRACE_BIT 19	/* linux/capability.h */
#define PROC_SUPER_MAGIC_ 0x9fa0	/* linux/magic.h */

/* How to give a container the capability, for every text that needs it. */
#define ADD_CAP "docker run --cap-add SYS_PTRACE, or docker exec --privileged; " \
	"Kubernetes: securityContext.capabilities.add: [SYS_PTRACE]"

int access_parse_caps(const char *buf, size_t len, const char *key, uint64_t *out)
{
	char val[32], *end;
	unsigned long long v;

	if (procfs_status_field(buf, len, key, val, sizeof(val)) || !val[0])
		return GS_CORRUPT("no capability line in status");
	errno = 0;
	v = strtoull(val, &end, 16);
	if (errno || *end || val[0] == '-' || val[0] == '+')
		return GS_CORRUPT("a capability mask that is not hexadecimal");
	*out = (uint64_t)v;
	return 0;
}

void access_facts_read(pid_t pid, struct access_facts *f)
{
	char buf[4096], path[64];
	struct stat st;
	uint64_t caps;
	long n;

	memset(f, 0, sizeof(*f));
	f->self = getpid();
	f->euid_root = geteuid() == 0;
	/* the namespace file of the initial PID namespace has a fixed inode
	 * number; /proc/self/ns/pid is ours whichever /proc this is */
	if (stat("/proc/self/ns/pid", &st) == 0)
		f->pidns_root = st.st_ino == ACCESS_INIT_PIDNS_INO;
	else
		f->pidns_root = -1;
	n = readlink("/proc/self", buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		f->proc_self = (pid_t)strtol(buf, NULL, 10);
	}
	n = procfs_read_file("/proc/self/status", buf, sizeof(buf));
	f->cap_ptrace = -1;
	if (n > 0 && !access_parse_caps(buf, (size_t)n, "CapEff", &caps))
		f->cap_ptrace = (int)((caps >> CAP_SYS_PTRACE_BIT) & 1);
	f->ptrace_scope = -1;
	n = procfs_read_file("/proc/sys/kernel/yama/ptrace_scope", buf, sizeof(buf));
	if (n > 0 && buf[0] >= '0' && buf[0] <= '9')
		f->ptrace_scope = (int)strtol(buf, NULL, 10);
	f->other_user = -1;
	if (pid > 0) {
		snprintf(path, sizeof(path), "/proc/%d", (int)pid);
		if (stat(path, &st) == 0)
			f->other_user = st.st_uid != geteuid();
	}
}

int access_check_procfs(struct access_facts *f)
{
	char buf[32];
	struct statfs sf;
	ssize_t n;

	memset(f, 0, sizeof(*f));
	f->self = getpid();
	if (statfs("/proc", &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC_)
		return 0;	/* no /proc at all: the reads of it will say so */
	n = readlink("/proc/self", buf, sizeof(buf) - 1);
	if (n < 0 && errno != ENOENT)
		return 0;	/* unreadable: other checks say so */
	if (n > 0) {
		buf[n] = '\0';
		f->proc_self = (pid_t)strtol(buf, NULL, 10);
	}
	if (f->proc_self == f->self)
		return 0;
	access_facts_read(0, f);
	return GS_EPROCNS;
}

/* "; kernel.yama.ptrace_scope is N here", or nothing without Yama. */
static void scope_note(const struct access_facts *f, char *out, size_t len)
{
	if (f->ptrace_scope >= 0)
		snprintf(out, len, "; kernel.yama.ptrace_scope is %d here", f->ptrace_scope);
	else if (len)
		out[0] = '\0';
}

void access_perm_text(const struct access_facts *f, pid_t pid, char *out, size_t len)
{
	const char *owner = f->other_user == 1 ? " (it belongs to another user)" : "";
	char scope[64];

	scope_note(f, scope, sizeof(scope));
	if (f->ptrace_scope >= 3) {
		snprintf(out, len, "not allowed to read process %d: kernel.yama.ptrace_scope is "
			 "%d, which forbids reading another process's memory to everyone, root "
			 "included, until the next boot", (int)pid, f->ptrace_scope);
	} else if (f->cap_ptrace == 1) {
		snprintf(out, len, "not allowed to read process %d%s although gilscope has "
			 "CAP_SYS_PTRACE: a security module (AppArmor, SELinux) refuses ptrace "
			 "here, or the process is in a user namespace where gilscope's capability "
			 "does not count; run gilscope from the host as root%s", (int)pid, owner,
			 scope);
	} else if (f->pidns_root == 0) {
		/* in a container: what to add to it */
		snprintf(out, len, "not allowed to read process %d%s: gilscope %s CAP_SYS_PTRACE "
			 "in its container: add it (" ADD_CAP ")%s", (int)pid, owner,
			 f->cap_ptrace == 0 ? "runs without" : "needs", scope);
	} else if (f->euid_root) {
		snprintf(out, len, "not allowed to read process %d%s: gilscope runs as root but "
			 "without CAP_SYS_PTRACE (a capability bounding set or a container took "
			 "it): run it with the capability (sudo gilscope ... from a full root "
			 "shell; in a container: " ADD_CAP ")%s", (int)pid, owner, scope);
	} else if (f->ptrace_scope == 2) {
		snprintf(out, len, "not allowed to read process %d%s: kernel.yama.ptrace_scope "
			 "is 2, so only root or CAP_SYS_PTRACE may read it: sudo gilscope ... (in "
			 "a container: " ADD_CAP "), or sysctl kernel.yama.ptrace_scope=0 to let "
			 "a user read their own processes", (int)pid, owner);
	} else if (f->ptrace_scope == 1) {
		snprintf(out, len, "not allowed to read process %d%s: run gilscope as root or "
			 "with CAP_SYS_PTRACE (sudo gilscope ...; in a container: " ADD_CAP "), "
			 "or as the process's own user with kernel.yama.ptrace_scope 0 (it is 1 "
			 "now: sysctl kernel.yama.ptrace_scope=0), or let gilscope start the "
			 "program (gilscope diagnose -- python app.py)", (int)pid, owner);
	} else {
		snprintf(out, len, "not allowed to read process %d%s: run gilscope as root or "
			 "with CAP_SYS_PTRACE (sudo gilscope ...; in a container: " ADD_CAP "), "
			 "or as the process's own user%s", (int)pid, owner, scope);
	}
}

void access_noproc_text(const struct access_facts *f, pid_t pid, char *out, size_t len)
{
	if (f->pidns_root == 0)
		snprintf(out, len, "no process with pid %d in gilscope's PID namespace: gilscope "
			 "runs in a container, whose pids are not the host's: give the pid this "
			 "container sees (ps -ef here), and if the process is not there, share "
			 "its PID namespace (docker run --pid=container:NAME; Kubernetes: "
			 "shareProcessNamespace: true, or kubectl debug --target=CONTAINER)",
			 (int)pid);
	else
		snprintf(out, len, "no process with pid %d: check the pid (ps -ef | grep "
			 "python); it may have exited", (int)pid);
}

void access_procfs_text(const struct access_facts *f, char *out, size_t len)
{
	char known[32] = "nothing";

	if (f->proc_self > 0)
		snprintf(known, sizeof(known), "pid %d", (int)f->proc_self);
	snprintf(out, len, "/proc here belongs to another PID namespace than gilscope's (its "
		 "/proc/self is %s, gilscope is pid %d to itself), so its pids would name "
		 "other processes: mount a /proc of gilscope's own PID namespace (unshare "
		 "--pid --fork --mount-proc; a container has one), or run gilscope outside "
		 "this namespace", known, (int)f->self);
}

void access_vm_readv_text(int e, char *out, size_t len)
{
	snprintf(out, len, "process_vm_readv is %s here (%s: a seccomp profile blocks it%s); "
		 "gilscope reads through /proc/PID/mem instead, at a higher cost per sample. "
		 "To allow it: docker run --security-opt seccomp=unconfined, or a seccomp "
		 "profile that allows process_vm_readv (docker's default does once "
		 "--cap-add SYS_PTRACE is given)",
		 e == ENOSYS ? "not available" : "refused", e == ENOSYS ? "ENOSYS" : "EPERM",
		 e == ENOSYS ? ", or the kernel was built without it" : "");
}
