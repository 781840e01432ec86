/* test_access.c - gilscope's advice when it cannot see or read a process
 * (target/access.h): the text chosen for each situation, and the facts. */
#include "unit.h"
#include "../../src/target/access.h"
#include "../../src/util/error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* One line, every word asked for there, none of the others. */
static void check_text(struct unit *u, const char *text, const char *const *has,
		       const char *const *hasnt)
{
	size_t i;

	CHECK(u, !strchr(text, '\n'));
	CHECK(u, strlen(text) < 700);	/* cmd_report_error's buffer: 768 */
	for (i = 0; has && has[i]; i++)
		if (!CHECK(u, strstr(text, has[i]) != NULL))
			fprintf(stderr, "    missing %s in: %s\n", has[i], text);
	for (i = 0; hasnt && hasnt[i]; i++)
		if (!CHECK(u, strstr(text, hasnt[i]) == NULL))
			fprintf(stderr, "    unexpected %s in: %s\n", hasnt[i], text);
}

static const struct access_facts host_user = {
	.pidns_root = 1, .cap_ptrace = 0, .other_user = 1, .euid_root = 0,
	.ptrace_scope = -1, .proc_self = 100, .self = 100,
};

static void t_perm_container(struct unit *u)
{
	struct access_facts f = host_user;
	char buf[768];

	/* in a container, root without the capability: what to add there */
	f.pidns_root = 0;
	f.euid_root = 1;
	f.other_user = 0;
	access_perm_text(&f, 1, buf, sizeof(buf));
	check_text(u, buf, (const char *const[]){ "process 1:", "runs without CAP_SYS_PTRACE",
		   "--cap-add SYS_PTRACE", "securityContext.capabilities.add: [SYS_PTRACE]",
		   "docker exec --privileged", NULL },
		   (const char *const[]){ "another user", "ptrace_scope", "sudo", NULL });
	/* Yama present: its setting is shown */
	f.ptrace_scope = 1;
	f.other_user = 1;
	access_perm_text(&f, 7, buf, sizeof(buf));
	check_text(u, buf, (const char *const[]){ "process 7 (it belongs to another user)",
		   "kernel.yama.ptrace_scope is 1", "--cap-add SYS_PTRACE", NULL }, NULL);
	/* the capability could not be read: no claim it is missing */
	f.cap_ptrace = -1;
	access_perm_text(&f, 7, buf, sizeof(buf));
	check_text(u, buf, (const char *const[]){ "needs CAP_SYS_PTRACE", NULL },
		   (const char *const[]){ "runs without", NULL });
}

static void t_perm_host(struct unit *u)
{
	struct access_facts f = host_user;
	char buf[768];

	access_perm_text(&f, 42, buf, sizeof(buf));
	check_text(u, buf, (const char *const[]){ "process 42 (it belongs to another user)",
		   "sudo gilscope", "CAP_SYS_PTRACE", "--cap-add SYS_PTRACE", NULL },
		   (const char *const[]){ "ptrace_scope", NULL });
	/* Yama 1: the same user needs 0, or gilscope to start the program */
	f.ptrace_scope = 1;
	access_perm_text(&f, 42, buf, sizeof(buf));
	check_text(u, buf, (const char *const[]){ "it is 1 now", "sysctl kernel.yama.ptrace_scope=0",
		   "gilscope diagnose -- python", NULL }, NULL);
	/* Yama 2: the same user is not enough */
	f.ptrace_scope = 2;
	access_perm_text(&f, 42, buf, sizeof(buf));
	check_text(u, buf, (const char *const[]){ "ptrace_scope is 2", "only root or CAP_SYS_PTRACE",
		   NULL }, NULL);
	/* Yama 0: shown, as the setting it is */
	f.ptrace_scope = 0;
	access_perm_text(&f, 42, buf, sizeof(buf));
	check_text(u, buf, (const char *const[]){ "kernel.yama.ptrace_scope is 0", NULL }, NULL);
	/* root that lost the capability: sudo alone does not help */
	f.euid_root = 1;
	f.ptrace_scope = -1;
	access_perm_text(&f, 42, buf, sizeof(buf));
	check_text(u, buf, (const char *const[]){ "runs as root but without CAP_SYS_PTRACE",
		   "--cap-add SYS_PTRACE", NULL }, NULL);
	/* Yama 3: nothing will do until a reboot, whatever else holds */
	f.ptrace_scope = 3;
	f.cap_ptrace = 1;
	access_perm_text(&f, 42, buf, sizeof(buf));
	check_text(u, buf, (const char *const[]){ "ptrace_scope is 3", "until the next boot", NULL },
		   (const char *const[]){ "--cap-add", NULL });
	/* the capability is there and still refused: not the capability */
	f.ptrace_scope = -1;
	f.pidns_root = 0;
	access_perm_text(&f, 42, buf, sizeof(buf));
	check_text(u, buf, (const char *const[]){ "although gilscope has CAP_SYS_PTRACE",
		   "security module", NULL }, (const char *const[]){ "--cap-add", NULL });
}

static void t_noproc(struct unit *u)
{
	struct access_facts f = host_user;
	char buf[768];

	access_noproc_text(&f, 4242, buf, sizeof(buf));
	check_text(u, buf, (const char *const[]){ "no process with pid 4242:", "ps -ef", NULL },
		   (const char *const[]){ "namespace", "shareProcessNamespace", NULL });
	/* in a PID namespace of its own: the pid may be the host's */
	f.pidns_root = 0;
	access_noproc_text(&f, 4242, buf, sizeof(buf));
	check_text(u, buf, (const char *const[]){ "no process with pid 4242 in gilscope's PID "
		   "namespace", "not the host's", "--pid=container:", "shareProcessNamespace: true",
		   "kubectl debug --target=", NULL }, NULL);
	/* could not tell: the plain text */
	f.pidns_root = -1;
	access_noproc_text(&f, 4242, buf, sizeof(buf));
	check_text(u, buf, NULL, (const char *const[]){ "shareProcessNamespace", NULL });
}

static void t_procfs(struct unit *u)
{
	struct access_facts f = host_user;
	char buf[768];

	f.proc_self = 9456;
	f.self = 1;
	access_procfs_text(&f, buf, sizeof(buf));
	check_text(u, buf, (const char *const[]){ "/proc/self is pid 9456", "pid 1 to itself",
		   "--mount-proc", NULL }, NULL);
	f.proc_self = 0;
	access_procfs_text(&f, buf, sizeof(buf));
	check_text(u, buf, (const char *const[]){ "/proc/self is nothing", NULL }, NULL);
}

static void t_vm_readv(struct unit *u)
{
	char buf[768];

	access_vm_readv_text(ENOSYS, buf, sizeof(buf));
	check_text(u, buf, (const char *const[]){ "ENOSYS", "seccomp", "/proc/PID/mem",
		   "seccomp=unconfined", "process_vm_readv", NULL }, NULL);
	access_vm_readv_text(EPERM, buf, sizeof(buf));
	check_text(u, buf, (const char *const[]){ "EPERM", "seccomp", NULL },
		   (const char *const[]){ "ENOSYS", NULL });
}

static void t_parse_caps(struct unit *u)
{
	const char st[] = "Name:\tx\nCapInh:\t0000000000000000\nCapEff:\t000001fffeffffff\n";
	const char bad[] = "CapEff:\tzz\n";
	uint64_t v = 0;

	CHECK_EQ(u, access_parse_caps(st, sizeof(st) - 1, "CapEff", &v), 0);
	CHECK_EQ(u, v, 0x000001fffeffffffull);
	CHECK_EQ(u, (v >> 19) & 1, 1);	/* CAP_SYS_PTRACE */
	CHECK_EQ(u, access_parse_caps(st, sizeof(st) - 1, "CapInh", &v), 0);
	CHECK_EQ(u, v, 0);
	CHECK_EQ(u, access_parse_caps(st, sizeof(st) - 1, "CapAmb", &v), GS_ECORRUPT);
	CHECK_EQ(u, access_parse_caps(bad, sizeof(bad) - 1, "CapEff", &v), GS_ECORRUPT);
}

/* This process: /proc is its namespace's, and the facts are read. */
static void t_self(struct unit *u)
{
	struct access_facts f;

	CHECK_EQ(u, access_check_procfs(&f), 0);
	access_facts_read(getpid(), &f);
	CHECK_EQ(u, f.self, getpid());
	CHECK_EQ(u, f.proc_self, getpid());
	CHECK_EQ(u, f.other_user, 0);
	CHECK_EQ(u, f.euid_root, geteuid() == 0);
	CHECK(u, f.pidns_root == 0 || f.pidns_root == 1);
	CHECK(u, f.cap_ptrace == 0 || f.cap_ptrace == 1);
	CHECK(u, f.ptrace_scope >= -1 && f.ptrace_scope <= 3);
	CHECK(u, (f.ptrace_scope >= 0) == !access("/proc/sys/kernel/yama/ptrace_scope", F_OK));
}

UNIT_SUITE(access)
{
	UNIT_RUN(u, t_perm_container);
	UNIT_RUN(u, t_perm_host);
	UNIT_RUN(u, t_noproc);
	UNIT_RUN(u, t_procfs);
	UNIT_RUN(u, t_vm_readv);
	UNIT_RUN(u, t_parse_caps);
	UNIT_RUN(u, t_self);
}
