/*
 * sysload.c - CPU used by other processes between two marks (sysload.h).
 */
#include "sysload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "procfs.h"
#include "../util/error.h"

int sysload_parse_proc_stat(const char *buf, size_t len, uint64_t *busy_ticks)
{
	/* "cpu  user nice system idle iowait irq softirq steal guest guest_nice";
	 * guest time is already counted in user */
	uint64_t v[8] = { 0 };
	const char *p = buf, *end = buf + len;
	int i;

	if (len < 4 || memcmp(buf, "cpu ", 4))
		return GS_ECORRUPT;
	p += 4;
	for (i = 0; i < 8; i++) {
		uint64_t x = 0;
		int digits = 0;

		while (p < end && *p == ' ')
			p++;
		while (p < end && *p >= '0' && *p <= '9' && digits < 19) {
			x = x * 10 + (uint64_t)(*p++ - '0');
			digits++;
		}
		if (!digits || (p < end && *p != ' ' && *p != '\n'))
			return GS_ECORRUPT;
		v[i] = x;
	}
	*busy_ticks = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
	return 0;
}

static int read_head(const char *path, char *buf, size_t cap, size_t *len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return GS_EIO;
	do
		n = read(fd, buf, cap - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return GS_EIO;
	buf[n] = '\0';
	*len = (size_t)n;
	return 0;
}

void sysload_mark(pid_t target, struct sysload_mark *m)
{
	char buf[4096], path[64];
	struct proc_stat st;
	struct rusage ru;
	struct timespec ts;
	size_t len;

	memset(m, 0, sizeof(*m));
	clock_gettime(CLOCK_MONOTONIC, &ts);
	m->t_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	/* the first line is all we need: one read, whatever the file's size */
	if (read_head("/proc/stat", buf, sizeof(buf), &len) ||
	    sysload_parse_proc_stat(buf, len, &m->busy_ticks))
		return;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)target);
	if (read_head(path, buf, sizeof(buf), &len) || procfs_parse_stat(buf, len, &st))
		return;
	m->target_ticks = st.utime + st.stime;
	if (getrusage(RUSAGE_SELF, &ru))
		return;
	m->self_ns = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ull +
		     (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull;
	m->ok = 1;
}

double sysload_others(const struct sysload_mark *a, const struct sysload_mark *b)
{
	long hz = sysconf(_SC_CLK_TCK), cpus = sysconf(_SC_NPROCESSORS_ONLN);
	double wall, busy, ours, share;

	if (!a->ok || !b->ok || hz <= 0 || cpus <= 0 || b->t_ns <= a->t_ns ||
	    b->busy_ticks < a->busy_ticks || b->target_ticks < a->target_ticks ||
	    b->self_ns < a->self_ns)
		return -1;
	wall = (double)(b->t_ns - a->t_ns) / 1e9;
	if (wall < SYSLOAD_MIN_S)
		return -1;
	busy = (double)(b->busy_ticks - a->busy_ticks) / (double)hz;
	ours = (double)(b->target_ticks - a->target_ticks) / (double)hz +
	       (double)(b->self_ns - a->self_ns) / 1e9;
	share = (busy - ours) / (wall * (double)cpus);
	return share < 0 ? 0 : share > 1 ? 1 : share;
}
