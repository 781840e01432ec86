/* group.c - a process tree sampled as one program; see group.h. */
#include "group.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../target/procfs.h"
#include "../util/error.h"

void group_init(struct group *g, pid_t root)
{
	memset(g, 0, sizeof(*g));
	g->root = root;
	g->self = getpid();
}

void group_init_select(struct group *g, const struct group_select *sel)
{
	group_init(g, 0);
	g->sel = sel;
}

static void member_free(struct group_member *m)
{
	if (m->sampled) {
		sampler_release(&m->s);
		process_release(&m->proc);
	}
	free(m);
}

void group_release(struct group *g)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		member_free(g->m[i]);
	ptree_release(&g->pt);
	memset(g, 0, sizeof(*g));
}

/* /proc/PID/cmdline as one printable line: arguments joined by spaces,
 * bytes outside printable ASCII as '?', cut to fit with "..." at the end. */
static void read_cmdline(pid_t pid, char *out, size_t len)
{
	char path[64], buf[GROUP_CMDLINE_MAX];
	ssize_t n;
	size_t i;
	int fd;

	out[0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	do
		n = read(fd, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return;
	while (n > 0 && buf[n - 1] == 0)
		n--;
	for (i = 0; i < (size_t)n && i + 1 < len; i++)
		out[i] = buf[i] == 0 ? ' ' : (buf[i] < 0x20 || buf[i] > 0x7e) ? '?' : buf[i];
	out[i] = 0;
	if ((size_t)n == sizeof(buf) && i >= 4)
		memcpy(out + i - 3, "...", 3);
}

static void read_exe(pid_t pid, char *out, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, out, len - 1);
	out[n > 0 ? n : 0] = 0;
}

/* Attach to m->pid if it runs Python; else m->err says why not. */
static void member_try(struct group *g, struct group_member *m)
{
	int ret;

	read_exe(m->pid, m->exe, sizeof(m->exe));
	read_cmdline(m->pid, m->cmdline, sizeof(m->cmdline));
	ret = process_attach(m->pid, &m->proc);
	if (!ret) {
		ret = sampler_init(&m->s, &m->proc);
		if (ret)
			process_release(&m->proc);
	}
	m->err = ret;
	m->sampled = !ret;
	m->tries++;
	if (m->sampled && g->torn_rereads)
		m->s.torn_rereads = g->torn_rereads;
}

static struct group_member *find(struct group *g, pid_t pid, uint64_t start)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		if (g->m[i]->pid == pid && g->m[i]->start == start && !g->m[i]->gone)
			return g->m[i];
	return NULL;
}

/* One process of the tree as the table shows it: known, or new. */
static void consider(struct group *g, const struct ptree_proc *p)
{
	struct group_member *m = find(g, p->pid, p->start);
	char exe[PATH_MAX];

	if (m) {
		m->ppid = p->ppid;
		/* not Python when tried: try again once it runs another
		 * program (a shell that exec'd python), and in its first
		 * scans (an interpreter still starting) */
		if (!m->sampled && (m->err == GS_ENOTPY || m->err == GS_EFAULT ||
				    m->err == GS_ECORRUPT)) {
			read_exe(m->pid, exe, sizeof(exe));
			if (strcmp(exe, m->exe) || m->tries < GROUP_RETRIES)
				member_try(g, m);
		}
		return;
	}
	if (g->n == GROUP_MAX) {
		g->dropped++;
		return;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		g->dropped++;
		return;
	}
	m->pid = p->pid;
	m->ppid = p->ppid;
	m->start = p->start;
	member_try(g, m);
	g->m[g->n++] = m;
}

static int live(const struct ptree_proc *p)
{
	return p->state != 'Z' && p->state != 'X';
}

/* Does the selection take process `pid`, not a member yet? */
static int selected(const struct group_select *sel, pid_t pid)
{
	char buf[PATH_MAX];
	const char *base;
	size_t i;

	for (i = 0; i < sel->npids; i++)
		if (sel->pids[i] == pid)
			return 1;
	if (sel->re) {
		read_cmdline(pid, buf, GROUP_CMDLINE_MAX);
		if (buf[0] && !regexec(sel->re, buf, 0, NULL, 0))
			return 1;
	}
	if (sel->all) {
		read_exe(pid, buf, sizeof(buf));
		base = strrchr(buf, '/');
		if (buf[0] && strstr(base ? base + 1 : buf, "python"))
			return 1;
	}
	return 0;
}

/* A selection's scan: members first (cheap), then who is newly selected. */
static void scan_select(struct group *g)
{
	const struct ptree_proc *p;
	size_t i;

	for (i = 0; i < g->pt.n; i++) {
		p = &g->pt.t[i];
		if (p->pid == g->self || !live(p))
			continue;
		if (find(g, p->pid, p->start) || selected(g->sel, p->pid))
			consider(g, p);
	}
}

int group_scan(struct group *g)
{
	const struct ptree_proc *p;
	size_t i;
	long ret;

	ret = ptree_read(&g->pt);
	if (!ret && g->root)
		ret = ptree_mark_tree(&g->pt, g->root, g->self);
	if (ret < 0)
		return (int)ret;
	/* who is gone: not in the table, or its pid now names another */
	for (i = 0; i < g->n; i++) {
		struct group_member *m = g->m[i];

		p = ptree_find(&g->pt, m->pid);
		if (!m->gone && (!p || p->start != m->start || !live(p)))
			m->gone = 1;
	}
	if (!g->root) {
		if (g->sel)
			scan_select(g);
		return 0;
	}
	/* the root first, then its descendants in pid order */
	p = ptree_find(&g->pt, g->root);
	if (p && live(p))
		consider(g, p);
	for (i = 0; i < g->pt.n; i++) {
		p = &g->pt.t[i];
		if (g->pt.in[i] && p->pid != g->root && live(p))
			consider(g, p);
	}
	return 0;
}

void group_forget(struct group *g, size_t i)
{
	if (i >= g->n)
		return;
	member_free(g->m[i]);
	memmove(&g->m[i], &g->m[i + 1], (g->n - i - 1) * sizeof(g->m[0]));
	g->m[--g->n] = NULL;
}

size_t group_live(const struct group *g)
{
	size_t i, n = 0;

	for (i = 0; i < g->n; i++)
		n += g->m[i]->sampled && !g->m[i]->gone;
	return n;
}
