/*
 * swtrack.c - context-switch records from one perf ring per CPU.
 *
 * Each ring belongs to a dummy software event (it counts nothing) opened
 * for all tasks of one CPU with attr.context_switch: the kernel writes a
 * PERF_RECORD_SWITCH_CPU_WIDE for every switch out of and into a task on
 * that CPU, and with sample_id_all each record ends with the pid, tid and
 * time (CLOCK_MONOTONIC, as asked by use_clockid) of the task switched. We
 * consume the ring as the kernel's perf_event_mmap_page documents: read
 * data_head (acquire), the records up to it, then store data_tail
 * (release), so the kernel never overwrites what we have not read; when a
 * ring is full it drops records and says how many with PERF_RECORD_LOST.
 *
 * The bytes in the rings are the kernel's, but a record's size is checked
 * before it is used all the same: a bad one ends that ring's pass and
 * counts as lost.
 */
#include "swtrack.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "procfs.h"
#include "../util/error.h"

#define ONLINE_PATH "/sys/devices/system/cpu/online"
#define SW_MAX_CPUS 4096
#define SW_RING_MAX (256u * 1024u)	/* data bytes per CPU, at most */
#define SW_RING_MIN (16u * 1024u)
#define SW_TOTAL_MAX (16u * 1024u * 1024u)	/* all rings together */
#define SW_RECORD_MAX 256		/* what a record we read may be */

struct sw_ring {
	int fd;
	void *map;		/* the control page, then the data */
	size_t map_len;
};

/* the fields of PERF_RECORD_SWITCH(_CPU_WIDE)'s sample_id we asked for */
struct sw_id {
	uint32_t pid, tid;
	uint64_t time;
};

/* Parse a CPU list ("0-3,5,7-8") into cpus[]; how many, or -1. */
static long parse_cpus(const char *s, int *cpus, size_t cap)
{
	size_t n = 0;

	while (*s && *s != '\n') {
		char *end;
		unsigned long a = strtoul(s, &end, 10), b = a, c;

		if (end == s || a >= SW_MAX_CPUS)
			return -1;
		s = end;
		if (*s == '-') {
			b = strtoul(s + 1, &end, 10);
			if (end == s + 1 || b < a || b >= SW_MAX_CPUS)
				return -1;
			s = end;
		}
		for (c = a; c <= b; c++) {
			if (n >= cap)
				return -1;
			cpus[n++] = (int)c;
		}
		if (*s == ',')
			s++;
		else if (*s && *s != '\n')
			return -1;
	}
	return (long)n;
}

static int open_ring(struct sw_ring *r, int cpu, size_t data_bytes)
{
	struct perf_event_attr a;
	long page = sysconf(_SC_PAGESIZE);
	int fd;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_SOFTWARE;
	a.config = PERF_COUNT_SW_DUMMY;
	a.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME;
	a.sample_id_all = 1;
	a.context_switch = 1;
	a.use_clockid = 1;
	a.clockid = CLOCK_MONOTONIC;
	fd = (int)syscall(SYS_perf_event_open, &a, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return errno == EACCES || errno == EPERM ? GS_EPERM : GS_EUNSUPPORTED;
	r->map_len = (size_t)page + data_bytes;
	r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (r->map == MAP_FAILED) {
		int e = errno;

		close(fd);
		r->map = NULL;
		return e == EPERM ? GS_EPERM : GS_ENOMEM;
	}
	r->fd = fd;
	return 0;
}

const char *swtrack_strerror(int err)
{
	switch (err) {
	case GS_EPERM:
		return "perf events for every CPU are not allowed to gilscope";
	case GS_EUNSUPPORTED:
		return "no perf events here, or CPUs went offline or online";
	case GS_ENOMEM:
		return "out of memory for the rings";
	default:
		return gs_strerror(err);
	}
}

void swtrack_close(struct swtrack *t)
{
	size_t i;

	for (i = 0; t->rings && i < t->nrings; i++) {
		if (t->rings[i].map)
			munmap(t->rings[i].map, t->rings[i].map_len);
		if (t->rings[i].fd >= 0)
			close(t->rings[i].fd);
	}
	free(t->rings);
	free(t->scratch);
	if (t->online_fd >= 0)
		close(t->online_fd);
	memset(t, 0, sizeof(*t));
	t->online_fd = -1;
}

int swtrack_open(struct swtrack *t)
{
	long ncpu = -1, page = sysconf(_SC_PAGESIZE);
	size_t bytes = SW_RING_MAX, i;
	int ret = 0, *cpus = malloc(SW_MAX_CPUS * sizeof(*cpus));

	memset(t, 0, sizeof(*t));
	t->online_fd = open(ONLINE_PATH, O_RDONLY | O_CLOEXEC);
	if (cpus && t->online_fd >= 0 && page > 0 &&
	    procfs_pread(t->online_fd, t->online, sizeof(t->online)) > 0)
		ncpu = parse_cpus(t->online, cpus, SW_MAX_CPUS);
	if (ncpu <= 0) {
		free(cpus);
		swtrack_close(t);
		return cpus ? GS_EUNSUPPORTED : GS_ENOMEM;
	}
	while (bytes > SW_RING_MIN && bytes * (size_t)ncpu > SW_TOTAL_MAX)
		bytes /= 2;
	if (bytes < (size_t)page)
		bytes = (size_t)page;
	t->rings = calloc((size_t)ncpu, sizeof(*t->rings));
	t->scratch = malloc(SW_RECORD_MAX);
	if (!t->rings || !t->scratch) {
		free(cpus);
		swtrack_close(t);
		return GS_ENOMEM;
	}
	for (i = 0; i < (size_t)ncpu; i++)
		t->rings[i].fd = -1;
	t->nrings = (size_t)ncpu;
	t->ring_bytes = bytes;
	for (i = 0; i < (size_t)ncpu && !ret; i++)
		ret = open_ring(&t->rings[i], cpus[i], bytes);
	free(cpus);
	if (ret) {
		swtrack_close(t);
		return ret;
	}
	return 0;
}

/* Has the set of online CPUs changed since the rings were opened? */
static int cpus_changed(struct swtrack *t)
{
	char now[sizeof(t->online)];

	if (procfs_pread(t->online_fd, now, sizeof(now)) <= 0)
		return 1;
	return strcmp(now, t->online) != 0;
}

/* The records of one ring since the last pass. */
static void drain_ring(struct swtrack *t, struct sw_ring *r, struct sw_event *ev, size_t cap,
		       size_t *n, int *lost)
{
	struct perf_event_mmap_page *pg = r->map;
	const unsigned char *data = (const unsigned char *)r->map + (r->map_len - t->ring_bytes);
	uint64_t head = __atomic_load_n(&pg->data_head, __ATOMIC_ACQUIRE);
	uint64_t tail = pg->data_tail, mask = t->ring_bytes - 1;

	if (head - tail > t->ring_bytes) {
		*lost = 1;	/* cannot be: start afresh */
		tail = head;
	}
	while (tail < head) {
		struct perf_event_header h;
		const unsigned char *rec;
		size_t off = (size_t)(tail & mask), size;
		struct sw_id id;

		if (head - tail < sizeof(h)) {
			*lost = 1;
			break;
		}
		if (off + sizeof(h) <= t->ring_bytes) {
			memcpy(&h, data + off, sizeof(h));
		} else {
			size_t k = t->ring_bytes - off;

			memcpy(&h, data + off, k);
			memcpy((unsigned char *)&h + k, data, sizeof(h) - k);
		}
		size = h.size;
		if (size < sizeof(h) || size > SW_RECORD_MAX || size > head - tail) {
			*lost = 1;
			tail = head;
			break;
		}
		if (off + size <= t->ring_bytes) {
			rec = data + off;
		} else {
			size_t k = t->ring_bytes - off;

			memcpy(t->scratch, data + off, k);
			memcpy(t->scratch + k, data, size - k);
			rec = t->scratch;
		}
		switch (h.type) {
		case PERF_RECORD_SWITCH:
		case PERF_RECORD_SWITCH_CPU_WIDE:
			/* the sample_id is the record's last 16 bytes */
			if (size < sizeof(h) + sizeof(id)) {
				*lost = 1;
				break;
			}
			memcpy(&id, rec + size - sizeof(id), sizeof(id));
			t->records++;
			if (*n < cap)
				ev[(*n)++] = (struct sw_event){ (int32_t)id.pid, (int32_t)id.tid,
								id.time };
			else
				*lost = 1;
			break;
		case PERF_RECORD_LOST:
			t->lost++;
			*lost = 1;
			break;
		default:
			break;
		}
		tail += size;
	}
	__atomic_store_n(&pg->data_tail, tail, __ATOMIC_RELEASE);
}

int swtrack_drain(struct swtrack *t, struct sw_event *ev, size_t cap, size_t *n, int *lost)
{
	size_t i;

	*lost = 0;
	if (!t->rings)
		return GS_EUNSUPPORTED;
	for (i = 0; i < t->nrings; i++)
		drain_ring(t, &t->rings[i], ev, cap, n, lost);
	if (cpus_changed(t)) {
		*lost = 1;
		return GS_EUNSUPPORTED;
	}
	return 0;
}
