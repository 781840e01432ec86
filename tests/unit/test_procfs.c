/* test_procfs.c - /proc stat, syscall, schedstat and status parsers, and the
 * task listing. */
#include "unit.h"
#include "../../src/target/procfs.h"
#include "../../src/util/error.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define S(lit) (lit), (sizeof(lit) - 1)

static void t_stat(struct unit *u)
{
	struct proc_stat st;

	CHECK_EQ(u, procfs_parse_stat(S("4242 (python3) S 1 4242 4242 0 -1 4194560 "
				       "1234 0 5 0 371 29 0 0 20 0 3 0 123456 "
				       "31415926 4000 18446744073709551615 1 1 0 0 0 "
				       "0 0 16781312 2 0 0 0 17 5 0 0 0 0 0 1 2 3 4 5 "
				       "6 7 0\n"), &st), 0);
	CHECK_EQ(u, st.state, 'S');
	CHECK_STREQ(u, st.comm, "python3");
	CHECK_EQ(u, st.utime, 371);
	CHECK_EQ(u, st.stime, 29);
	CHECK_EQ(u, st.processor, 5);
	CHECK_EQ(u, st.ppid, 1);
	CHECK_EQ(u, st.pgrp, 4242);
	CHECK_EQ(u, st.starttime, 123456);

	/* comm with spaces and ')' : the last ')' ends it */
	CHECK_EQ(u, procfs_parse_stat(S("77 ((a) b)) R 1 2 3 4 5 6 7 8 9 10 "
				       "11 12 13 14 15 16 17 18 19 20 21 22 23 24 "
				       "25 26 27 28 29 30 31 32 33 34 35 3\n"), &st), 0);
	CHECK_STREQ(u, st.comm, "(a) b)");
	CHECK_EQ(u, st.state, 'R');
	CHECK_EQ(u, st.utime, 11);
	CHECK_EQ(u, st.stime, 12);
	CHECK_EQ(u, st.processor, 3);

	/* old kernels: no processor field */
	CHECK_EQ(u, procfs_parse_stat(S("7 (x) D 1 2 3 4 5 6 7 8 9 10 11 12"), &st), 0);
	CHECK_EQ(u, st.state, 'D');
	CHECK_EQ(u, st.processor, -1);
	CHECK_EQ(u, st.stime, 12);
	CHECK_EQ(u, st.starttime, 0);	/* absent */

	/* a parent or group that is no pid */
	CHECK_EQ(u, procfs_parse_stat(S("7 (x) S -1 2 3 4 5 6 7 8 9 10 11 12"), &st), GS_ECORRUPT);
	CHECK_EQ(u, procfs_parse_stat(S("7 (x) S 1 4294967296 3 4 5 6 7 8 9 10 11 12"), &st),
		 GS_ECORRUPT);
}

static void t_stat_states(struct unit *u)
{
	static const char states[] = "RSDTtZXIPKWx";
	char buf[128];
	struct proc_stat st;
	size_t i;

	for (i = 0; i < sizeof(states) - 1; i++) {
		int n = snprintf(buf, sizeof(buf),
				 "9 (t %c) %c 1 2 3 4 5 6 7 8 9 10 11 12\n",
				 states[i], states[i]);

		CHECK_EQ(u, procfs_parse_stat(buf, (size_t)n, &st), 0);
		CHECK_EQ(u, st.state, states[i]);
	}
}

static void t_stat_bad(struct unit *u)
{
	struct proc_stat st;
	char longcomm[200];
	int n;

	CHECK_EQ(u, procfs_parse_stat(S(""), &st), GS_ECORRUPT);
	CHECK_EQ(u, procfs_parse_stat(NULL, 0, &st), GS_ECORRUPT);
	CHECK_EQ(u, procfs_parse_stat(S("12 python S 1"), &st), GS_ECORRUPT);
	CHECK_EQ(u, procfs_parse_stat(S("12 (python S 1 2 3"), &st), GS_ECORRUPT);
	CHECK_EQ(u, procfs_parse_stat(S("12 (py) S 1 2 3"), &st), GS_ECORRUPT);
	CHECK_EQ(u, procfs_parse_stat(S("12 (py) SS 1 2 3 4 5 6 7 8 9 10 11 12"), &st),
		 GS_ECORRUPT);
	CHECK_EQ(u, procfs_parse_stat(S("12 (py) S 1 2 3 4 5 6 7 8 9 10 -11 12"), &st),
		 GS_ECORRUPT);
	CHECK_EQ(u, procfs_parse_stat(S("12 (py) S 1 2 3 4 5 6 7 8 9 10 "
				       "99999999999999999999 12"), &st), GS_ECORRUPT);
	/* an over-long comm is truncated, never overflows */
	memset(longcomm, 0, sizeof(longcomm));
	n = snprintf(longcomm, sizeof(longcomm), "1 (%0100d) S 1 2 3 4 5 6 7 8 9 10 11 12", 0);
	CHECK_EQ(u, procfs_parse_stat(longcomm, (size_t)n, &st), 0);
	CHECK_EQ(u, strlen(st.comm), sizeof(st.comm) - 1);
}

static void t_syscall(struct unit *u)
{
	struct proc_syscall sc;

	CHECK_EQ(u, procfs_parse_syscall(S("running\n"), &sc), 0);
	CHECK(u, sc.running);
	CHECK_EQ(u, sc.nr, -1);

	CHECK_EQ(u, procfs_parse_syscall(S("-1 0x7ffc1e0a1b28 0x7f3b9a2e4d2e\n"), &sc), 0);
	CHECK(u, !sc.running);
	CHECK_EQ(u, sc.nr, -1);
	CHECK_EQ(u, sc.sp, 0x7ffc1e0a1b28ull);
	CHECK_EQ(u, sc.pc, 0x7f3b9a2e4d2eull);
	CHECK_EQ(u, sc.args[0], 0);

	/* futex(uaddr, FUTEX_WAIT_BITSET|PRIVATE, val, timeout, NULL, ~0) */
	CHECK_EQ(u, procfs_parse_syscall(S("202 0x7f3b9a9c4e30 0x189 0x0 0x7ffc1e0a1c00 "
					  "0x0 0xffffffff 0x7ffc1e0a1b28 0x7f3b9a2e4d2e\n"),
					&sc), 0);
	CHECK(u, !sc.running);
	CHECK_EQ(u, sc.nr, 202);
	CHECK_EQ(u, sc.args[0], 0x7f3b9a9c4e30ull);
	CHECK_EQ(u, sc.args[1], 0x189);
	CHECK_EQ(u, sc.args[2], 0);
	CHECK_EQ(u, sc.args[3], 0x7ffc1e0a1c00ull);
	CHECK_EQ(u, sc.args[4], 0);
	CHECK_EQ(u, sc.args[5], 0xffffffffull);
	CHECK_EQ(u, sc.sp, 0x7ffc1e0a1b28ull);
	CHECK_EQ(u, sc.pc, 0x7f3b9a2e4d2eull);

	CHECK_EQ(u, procfs_parse_syscall(S("0 0x3 0x1 0x2 0x0 0x0 0x0 0x10 0x20"), &sc), 0);
	CHECK_EQ(u, sc.nr, 0);	/* read(2) on x86_64: 0 is a real number */
	CHECK_EQ(u, sc.args[0], 3);
	CHECK_EQ(u, sc.pc, 0x20);

	CHECK_EQ(u, procfs_parse_syscall(S(""), &sc), GS_ECORRUPT);
	CHECK_EQ(u, procfs_parse_syscall(NULL, 0, &sc), GS_ECORRUPT);
	CHECK_EQ(u, procfs_parse_syscall(S("runnin"), &sc), GS_ECORRUPT);
	CHECK_EQ(u, procfs_parse_syscall(S("-1 0x10"), &sc), GS_ECORRUPT);
	CHECK_EQ(u, procfs_parse_syscall(S("202 0x1 0x2 0x3"), &sc), GS_ECORRUPT);
	CHECK_EQ(u, procfs_parse_syscall(S("202 0x1 0x2 0x3 0x4 0x5 0x6 0x7 0xzz"), &sc),
		 GS_ECORRUPT);
	CHECK_EQ(u, procfs_parse_syscall(S("x 0x1 0x2"), &sc), GS_ECORRUPT);
	CHECK_EQ(u, procfs_parse_syscall(S("-1 0x 0x2"), &sc), GS_ECORRUPT);
	CHECK_EQ(u, procfs_parse_syscall(S("-1 0x10000000000000000 0x2"), &sc), GS_ECORRUPT);
}

static void t_schedstat(struct unit *u)
{
	struct proc_schedstat ss;

	CHECK_EQ(u, procfs_parse_schedstat(S("123456789 2345 67\n"), &ss), 0);
	CHECK_EQ(u, ss.run_ns, 123456789);
	CHECK_EQ(u, ss.wait_ns, 2345);
	CHECK_EQ(u, ss.slices, 67);
	CHECK_EQ(u, procfs_parse_schedstat(S("1 2"), &ss), GS_ECORRUPT);
	CHECK_EQ(u, procfs_parse_schedstat(S("1 -2 3"), &ss), GS_ECORRUPT);
	CHECK_EQ(u, procfs_parse_schedstat(S(""), &ss), GS_ECORRUPT);
}

static void t_status(struct unit *u)
{
	static const char status[] =
		"Name:\tpython3\n"
		"Umask:\t0022\n"
		"State:\tS (sleeping)\n"
		"Tgid:\t4242\n"
		"NStgid:\t4242\t1\n"
		"PPid:\t1\n"
		"Pid:\t4243\n"
		"TracerPid:\t0\n"
		"Uid:\t1000\t1000\t1000\t1000\n"
		"Threads:\t3   \n"
		"Empty:\n"
		"voluntary_ctxt_switches:\t150";
	char out[64];

	CHECK_EQ(u, procfs_status_field(S(status), "Name", out, sizeof(out)), 0);
	CHECK_STREQ(u, out, "python3");
	CHECK_EQ(u, procfs_status_field(S(status), "State", out, sizeof(out)), 0);
	CHECK_STREQ(u, out, "S (sleeping)");
	CHECK_EQ(u, procfs_status_field(S(status), "Tgid", out, sizeof(out)), 0);
	CHECK_STREQ(u, out, "4242");
	CHECK_EQ(u, procfs_status_field(S(status), "Pid", out, sizeof(out)), 0);
	CHECK_STREQ(u, out, "4243");	/* not PPid's or TracerPid's */
	CHECK_EQ(u, procfs_status_field(S(status), "Uid", out, sizeof(out)), 0);
	CHECK_STREQ(u, out, "1000\t1000\t1000\t1000");
	CHECK_EQ(u, procfs_status_field(S(status), "Threads", out, sizeof(out)), 0);
	CHECK_STREQ(u, out, "3");
	CHECK_EQ(u, procfs_status_field(S(status), "Empty", out, sizeof(out)), 0);
	CHECK_STREQ(u, out, "");
	CHECK_EQ(u, procfs_status_field(S(status), "voluntary_ctxt_switches", out,
					sizeof(out)), 0);
	CHECK_STREQ(u, out, "150");
	CHECK_EQ(u, procfs_status_field(S(status), "Uid", out, 5), 0);
	CHECK_STREQ(u, out, "1000");
	CHECK_EQ(u, procfs_status_field(S(status), "Nam", out, sizeof(out)), GS_ECORRUPT);
	CHECK_EQ(u, procfs_status_field(S(status), "VmRSS", out, sizeof(out)), GS_ECORRUPT);
	CHECK_EQ(u, procfs_status_field(S(status), "Name", out, 0), GS_ERANGE);
}

/* NSpid: one id per PID namespace, the reader's first, the process's own
 * last; a nested process has more than one. */
static void t_nspid(struct unit *u)
{
	static const char host[] = "Name:\tpython3\nTgid:\t20336\nNSpid:\t20336\n";
	static const char nested[] = "Tgid:\t20379\nNStgid:\t20336\t1\nNSpid:\t20379\t44\n"
				     "NSpgid:\t20334\t0\n";
	static const char deep[] = "NSpid:\t900\t31\t7\n";
	static const char *const bad[] = {
		"Name:\tx\n", "NSpid:\t\n", "NSpid:\tabc\n", "NSpid:\t12x\n", "NSpid:\t0\n",
		"NSpid:\t-4\n", "NSpid:\t99999999999\n",
	};
	int32_t inner = 0;
	int levels = 0;
	size_t i;

	CHECK_EQ(u, procfs_parse_nspid(host, sizeof(host) - 1, &inner, &levels), 0);
	CHECK_EQ(u, inner, 20336);
	CHECK_EQ(u, levels, 1);
	CHECK_EQ(u, procfs_parse_nspid(nested, sizeof(nested) - 1, &inner, &levels), 0);
	CHECK_EQ(u, inner, 44);
	CHECK_EQ(u, levels, 2);
	CHECK_EQ(u, procfs_parse_nspid(deep, sizeof(deep) - 1, &inner, &levels), 0);
	CHECK_EQ(u, inner, 7);
	CHECK_EQ(u, levels, 3);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!CHECK(u, procfs_parse_nspid(bad[i], strlen(bad[i]), &inner, &levels) != 0))
			printf("    accepted: %s", bad[i]);
	/* this process: not nested from its own /proc */
	{
		char buf[4096];
		long n = procfs_read_file("/proc/self/status", buf, sizeof(buf));

		CHECK(u, n > 0);
		CHECK_EQ(u, procfs_parse_nspid(buf, (size_t)n, &inner, &levels), 0);
		CHECK_EQ(u, inner, getpid());
	}
}

static void t_read_self(struct unit *u)
{
	char path[64], buf[4096], small[8];
	struct proc_stat st;
	long n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)getpid());
	n = procfs_read_file(path, buf, sizeof(buf));
	CHECK(u, n > 0);
	if (n > 0) {
		CHECK_EQ(u, strlen(buf), (size_t)n);
		CHECK_EQ(u, procfs_parse_stat(buf, (size_t)n, &st), 0);
		CHECK_EQ(u, st.state, 'R');
		CHECK(u, st.processor >= 0);
	}
	CHECK_EQ(u, procfs_read_file(path, small, sizeof(small)), GS_ERANGE);
	CHECK_EQ(u, procfs_read_file("/proc/does-not-exist/stat", buf, sizeof(buf)),
		 GS_ENOPROC);

	fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(u, fd >= 0);
	if (fd >= 0) {
		/* twice: the descriptor is reused from offset 0 */
		CHECK(u, procfs_pread(fd, buf, sizeof(buf)) > 0);
		n = procfs_pread(fd, buf, sizeof(buf));
		CHECK(u, n > 0 && procfs_parse_stat(buf, (size_t)n, &st) == 0);
		close(fd);
	}
}

static void t_list_tasks(struct unit *u)
{
	pid_t tids[256];
	long n, i;
	int found = 0;

	n = procfs_list_tasks(getpid(), tids, 256);
	CHECK(u, n >= 1);
	for (i = 0; i < n; i++) {
		found |= tids[i] == getpid();
		if (i)
			CHECK(u, tids[i - 1] < tids[i]);
	}
	CHECK(u, found);
	CHECK_EQ(u, procfs_list_tasks(getpid(), tids, 0), GS_ERANGE);
	/* pid_max is at most 2^22, so this one cannot exist */
	CHECK_EQ(u, procfs_list_tasks(0x7ffffff0, tids, 256), GS_ENOPROC);
	CHECK_EQ(u, procfs_list_tasks(-1, tids, 256), GS_ENOPROC);
}

static void t_list_pids(struct unit *u)
{
	static pid_t pids[1 << 16];
	char path[64], buf[1024];
	struct proc_stat st;
	long n, i;
	int found = 0;

	n = procfs_list_pids(pids, sizeof(pids) / sizeof(pids[0]));
	CHECK(u, n >= 1);
	for (i = 0; i < n; i++) {
		found |= pids[i] == getpid();
		if (i)
			CHECK(u, pids[i - 1] < pids[i]);
	}
	CHECK(u, found);
	CHECK_EQ(u, procfs_list_pids(pids, 0), GS_ERANGE);
	/* our own stat: our parent and group */
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)getpid());
	n = procfs_read_file(path, buf, sizeof(buf));
	CHECK(u, n > 0 && procfs_parse_stat(buf, (size_t)n, &st) == 0);
	CHECK_EQ(u, st.ppid, getppid());
	CHECK_EQ(u, st.pgrp, getpgrp());
	CHECK(u, st.starttime > 0);
}

UNIT_SUITE(procfs)
{
	UNIT_RUN(u, t_stat);
	UNIT_RUN(u, t_nspid);
	UNIT_RUN(u, t_stat_states);
	UNIT_RUN(u, t_stat_bad);
	UNIT_RUN(u, t_syscall);
	UNIT_RUN(u, t_schedstat);
	UNIT_RUN(u, t_status);
	UNIT_RUN(u, t_read_self);
	UNIT_RUN(u, t_list_tasks);
	UNIT_RUN(u, t_list_pids);
}
