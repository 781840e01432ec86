/*
 * locate.c - find _PyRuntime and the version of the interpreter in a
 * process, from the ELF files it has mapped.
 *
 * Candidates are the executable (a static libpython, as in Debian's
 * python3.11) and any mapped libpython*.so. The version comes from the
 * Py_Version constant (3.11+), else from the file name (libpython3.10.so,
 * python3.9) refined by the version literal kept in the file.
 */
#include "locate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../target/elfsym.h"
#include "../util/error.h"

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* The minor version named in a file name: "libpython3.10.so.1.0" -> 10. */
static int minor_from_name(const char *name)
{
	const char *s = strstr(name, "python3.");
	int minor = 0;

	if (!s)
		return -1;
	s += 8;
	if (*s < '0' || *s > '9')
		return -1;
	while (*s >= '0' && *s <= '9' && minor < 1000)
		minor = minor * 10 + (*s++ - '0');
	return minor;
}

int py_version_from_bytes(const uint8_t *buf, size_t len, unsigned minor, uint32_t *hex)
{
	char pat[16];
	size_t plen, i;
	int n;

	n = snprintf(pat, sizeof(pat), "3.%u.", minor);
	if (n <= 0 || (size_t)n >= sizeof(pat) || len < (size_t)n + 2)
		return GS_ENOTPY;
	plen = (size_t)n;
	for (i = 1; i + plen < len; i++) {
		const uint8_t *s;
		unsigned micro = 0, level = 0xf, serial = 0;
		size_t j;

		/* The literal may be tail-merged into a longer string (a path
		 * ending in ".../3.9.18"), so it need not start after a NUL. */
		if ((buf[i - 1] >= '0' && buf[i - 1] <= '9') || buf[i - 1] == '.' ||
		    memcmp(buf + i, pat, plen))
			continue;
		s = buf + i + plen;
		j = 0;
		while (i + plen + j < len && s[j] >= '0' && s[j] <= '9' && j < 3)
			micro = micro * 10 + (s[j++] - '0');
		if (!j || i + plen + j >= len)
			continue;
		/* optional a1 / b2 / rc1, then optional "+", then NUL */
		if (s[j] == 'a' || s[j] == 'b' ||
		    (s[j] == 'r' && i + plen + j + 1 < len && s[j + 1] == 'c')) {
			level = s[j] == 'a' ? 0xa : s[j] == 'b' ? 0xb : 0xc;
			j += s[j] == 'r' ? 2 : 1;
			while (i + plen + j < len && s[j] >= '0' && s[j] <= '9')
				serial = serial * 10 + (s[j++] - '0');
		}
		if (i + plen + j < len && s[j] == '+')
			j++;
		if (i + plen + j >= len || s[j] != '\0' || micro > 99 || serial > 15)
			continue;
		*hex = (3u << 24) | (minor << 16) | (micro << 8) | (level << 4) | serial;
		return 0;
	}
	return GS_ENOTPY;
}

/* Open the ELF behind map entry e. */
static int open_elf(struct process *p, const struct map_entry *e, struct elfsym **out)
{
	char path[PATH_MAX + 64];
	int ret;

	ret = process_map_file_path(p, e, path, sizeof(path));
	if (ret)
		return ret;
	return elfsym_open_file(path, out);
}

static int try_candidate(struct process *p, const struct map_entry *e, struct py_found *f)
{
	struct elfsym *elf = NULL;
	uint64_t value, size, first, base, ver_addr;
	uint32_t hex = 0;
	int ret, minor;

	ret = open_elf(p, e, &elf);
	if (ret)
		return GS_ENOTPY;
	ret = elfsym_lookup(elf, "_PyRuntime", &value, &size);
	if (ret) {
		ret = GS_ENOTPY;
		goto out;
	}
	ret = elfsym_first_load_vaddr(elf, &first);
	if (ret)
		goto out;
	ret = maps_file_base(&p->maps, e->path, &base);
	if (ret)
		goto out;
	memset(&f->loc, 0, sizeof(f->loc));
	f->loc.runtime_addr = base + (value - first);
	f->loc.free_threaded = -1;
	if (!elfsym_lookup(elf, "PyCode_Type", &value, &size))
		f->loc.code_type = base + (value - first);

	if (!elfsym_lookup(elf, "Py_Version", &ver_addr, &size) &&
	    !elfsym_read_vaddr(elf, ver_addr, &hex, sizeof(hex)) && (hex >> 24) == 3) {
		f->loc.version_hex = hex;
	} else {
		const uint8_t *img;
		size_t len;

		minor = minor_from_name(base_name(e->path));
		if (minor < 0)
			minor = minor_from_name(base_name(p->exe));
		hex = 0;
		if (!elfsym_image(elf, &img, &len)) {
			if (minor >= 0)
				py_version_from_bytes(img, len, (unsigned)minor, &hex);
			for (minor = 0; !hex && minor <= 12; minor++)
				py_version_from_bytes(img, len, (unsigned)minor, &hex);
		}
		if (!hex) {
			ret = GS_EUNSUPPORTED;
			snprintf(f->version, sizeof(f->version), "unknown");
			goto out;
		}
		f->loc.version_hex = hex;
	}
	py_version_str(f->loc.version_hex, f->version, sizeof(f->version));
	snprintf(f->binary, sizeof(f->binary), "%s", e->path);
	if (strstr(base_name(e->path), "libpython"))
		snprintf(f->libpython, sizeof(f->libpython), "%s", e->path);
	if (f->loc.version_hex < 0x03090000)
		ret = GS_EUNSUPPORTED;
out:
	elfsym_free(elf);
	return ret;
}

int py_locate(struct process *p, struct py_found *found)
{
	const struct map_entry *exe = NULL;
	size_t i, j;
	int ret, best = GS_ENOTPY;

	memset(found, 0, sizeof(*found));
	/* the executable first: it holds the runtime in static builds */
	for (i = 0; i < p->maps.n; i++) {
		if (!strcmp(p->maps.v[i].path, p->exe)) {
			exe = &p->maps.v[i];
			break;
		}
	}
	if (exe) {
		ret = try_candidate(p, exe, found);
		if (ret != GS_ENOTPY)
			return ret;
	}
	for (i = 0; i < p->maps.n; i++) {
		const struct map_entry *e = &p->maps.v[i];
		int seen = 0;

		if (!strstr(base_name(e->path), "libpython") || e == exe)
			continue;
		for (j = 0; j < i; j++)
			if (!strcmp(p->maps.v[j].path, e->path))
				seen = 1;
		if (seen)
			continue;
		ret = try_candidate(p, e, found);
		if (ret == 0)
			return 0;
		if (ret != GS_ENOTPY)
			best = ret;
	}
	/* Python 2 and <3.7 have no _PyRuntime: name what we saw. */
	if (best == GS_ENOTPY) {
		int minor = minor_from_name(base_name(p->exe));

		for (i = 0; minor < 0 && i < p->maps.n; i++)
			if (strstr(base_name(p->maps.v[i].path), "libpython"))
				minor = minor_from_name(base_name(p->maps.v[i].path));
		/* Only versions that predate _PyRuntime (3.7) are known to
		 * lack it; a newer one may just not have mapped libpython yet. */
		if (minor >= 0 && minor < 7) {
			snprintf(found->version, sizeof(found->version), "3.%d", minor);
			return GS_EUNSUPPORTED;
		}
		if (strstr(base_name(p->exe), "python2") ||
		    strstr(base_name(p->exe), "libpython2")) {
			snprintf(found->version, sizeof(found->version), "2");
			return GS_EUNSUPPORTED;
		}
	}
	return best;
}
