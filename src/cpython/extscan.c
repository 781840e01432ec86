/*
 * extscan.c - an extension module's ABI tag and Py_mod_gil, from its file;
 * see extscan.h.
 */
#include "extscan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../target/elfsym.h"
#include "../util/error.h"

/* Include/moduleobject.h, 3.13+; 3.15 numbers slots anew (slots_generated.h:
 * Py_mod_create 84, Py_mod_exec 85, Py_mod_gil 87) and keeps the old ones for
 * the limited API; its PySlot {uint16 id, uint16 flags, uint32 0, value} has
 * the layout of PyModuleDef_Slot {int, void *} when read little-endian */
#define PY_MOD_GIL 4
#define PY_MOD_GIL_315 87
#define EXT_SLOT_MAX 255
#define SLOT_FLAGS_MAX 0x7	/* PySlot_OPTIONAL | _STATIC | _INTPTR */
#define EXT_SLOTS_MAX 32	/* entries of one slot array */
#define SLOT_SIZE 16

static uint32_t u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t u64(const uint8_t *p)
{
	return (uint64_t)u32(p) | (uint64_t)u32(p + 4) << 32;
}

void ext_tag_from_name(const char *filename, struct ext_info *out)
{
	const char *b = strrchr(filename, '/'), *p, *end;
	size_t n;

	b = b ? b + 1 : filename;
	out->tag[0] = '\0';
	out->ft_abi = -1;
	p = strstr(b, ".cpython-");
	if (p) {
		p++;
		end = strchr(p + 8, '-');
		if (!end)
			end = strchr(p, '.');
		n = end ? (size_t)(end - p) : strlen(p);
		if (n >= sizeof(out->tag))
			n = sizeof(out->tag) - 1;
		memcpy(out->tag, p, n);
		out->tag[n] = '\0';
		out->ft_abi = n > 0 && out->tag[n - 1] == 't';
		return;
	}
	p = strstr(b, ".abi3");
	if (p && (p[5] == '.' || p[5] == '\0')) {
		snprintf(out->tag, sizeof(out->tag), "abi3");
		out->ft_abi = 0;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Is addr among the n sorted addresses? */
static int relocated(const uint64_t *r, size_t n, uint64_t addr)
{
	return n && bsearch(&addr, r, n, sizeof(*r), cmp_u64) != NULL;
}

/* The slot id of entry i (its low 16 bits; the high ones are PySlot's
 * flags), or 0 when it is not a slot entry (or is the terminator). */
static unsigned slot_id(const uint8_t *p, size_t len, size_t i)
{
	uint32_t w;

	if (i + SLOT_SIZE > len || u32(p + i + 4))
		return 0;
	w = u32(p + i);
	if ((w >> 16) > SLOT_FLAGS_MAX || (w & 0xffff) > EXT_SLOT_MAX)
		return 0;
	return w & 0xffff;
}

static int is_gil_id(unsigned id)
{
	return id == PY_MOD_GIL || id == PY_MOD_GIL_315;
}

/* Py_mod_create or Py_mod_exec, old numbers or new */
static int is_fn_id(unsigned id)
{
	return id == 1 || id == 2 || id == 84 || id == 85;
}

/* Is the array holding the Py_mod_gil entry at `at` a slot array? Its
 * entries before and after it are slots, it ends with {0, 0}, and it has a
 * create or exec slot whose pointer the loader relocates. */
static int slot_array_ok(const uint8_t *p, size_t len, uint64_t vaddr,
			 const struct ext_relocs *r, size_t at)
{
	size_t start = at, i, k;
	int fn = 0;

	if (relocated(r->at, r->nat, vaddr + at + 8))
		return 0;	/* a pointer, not the constant */
	for (k = 0; k < EXT_SLOTS_MAX && start >= SLOT_SIZE &&
	     slot_id(p, len, start - SLOT_SIZE); k++)
		start -= SLOT_SIZE;
	/* pointed at: the start of what PyModuleDef.m_slots names */
	if (relocated(r->to, r->nto, vaddr + start))
		fn = 1;
	for (k = 0, i = start; k < EXT_SLOTS_MAX; k++, i += SLOT_SIZE) {
		unsigned id;

		if (i + SLOT_SIZE > len)
			return 0;
		if (!u32(p + i) && !u32(p + i + 4))
			return fn && u64(p + i + 8) == 0;	/* the end: {0} */
		id = slot_id(p, len, i);
		if (!id)
			return 0;
		if (is_fn_id(id) && relocated(r->at, r->nat, vaddr + i + 8))
			fn = 1;
	}
	return 0;
}

int ext_find_gil_slot(const uint8_t *p, size_t len, uint64_t vaddr, const struct ext_relocs *r,
		      uint64_t *value)
{
	int found = 0;
	size_t i;

	if (len < 2 * SLOT_SIZE)
		return 0;
	for (i = 0; i + 2 * SLOT_SIZE <= len; i += 8) {
		uint64_t v;

		if (!is_gil_id(slot_id(p, len, i)))
			continue;
		v = u64(p + i + 8);
		if (v > 1 || !slot_array_ok(p, len, vaddr, r, i))
			continue;
		if (!found || v == 1)
			*value = v;
		found = 1;
	}
	return found;
}

struct scan {
	struct ext_info *out;
	struct ext_relocs r;
	int is_ext, setgil;
	int found;
	uint64_t value;
};

static int on_sym(void *arg, const char *name, int defined)
{
	struct scan *sc = arg;

	/* PyInit_<name>, or 3.15's PyModExport_<name> (PEP 793) */
	if (defined && !sc->is_ext && !strncmp(name, "PyInit_", 7) && name[7]) {
		sc->is_ext = 1;
		snprintf(sc->out->module, sizeof(sc->out->module), "%s", name + 7);
	} else if (defined && !sc->is_ext && !strncmp(name, "PyModExport_", 12) && name[12]) {
		sc->is_ext = 1;
		snprintf(sc->out->module, sizeof(sc->out->module), "%s", name + 12);
	}
	if (!defined && !strcmp(name, "PyUnstable_Module_SetGIL"))
		sc->setgil = 1;
	return 0;
}

static int on_data(void *arg, const uint8_t *p, size_t len, uint64_t vaddr)
{
	struct scan *sc = arg;
	uint64_t v;

	if (ext_find_gil_slot(p, len, vaddr, &sc->r, &v)) {
		if (!sc->found || v == 1)
			sc->value = v;
		sc->found = 1;
	}
	return 0;
}

int ext_scan(struct elfsym *e, struct ext_info *out)
{
	struct scan sc;
	const uint8_t *img;
	size_t len;
	int ret;

	memset(&sc, 0, sizeof(sc));
	sc.out = out;
	out->module[0] = '\0';
	out->gil = EXT_GIL_UNKNOWN;
	ret = elfsym_foreach_dynsym(e, on_sym, &sc);
	if (ret < 0)
		return ret;
	if (!sc.is_ext)
		return 0;
	/* EI_CLASS ELFCLASS64, EI_DATA ELFDATA2LSB */
	if (elfsym_image(e, &img, &len) || len < 6 || img[4] != 2 || img[5] != 1)
		return 1;
	{
		uint64_t *at = NULL, *to = NULL;

		ret = elfsym_reloc_offsets(e, &at, &sc.r.nat, &to, &sc.r.nto);
		if (ret < 0)
			return ret;
		sc.r.at = at;
		sc.r.to = to;
		ret = elfsym_foreach_data(e, on_data, &sc);
		free(at);
		free(to);
		if (ret < 0)
			return ret;
	}
	if (sc.found)
		out->gil = sc.value == 1 ? EXT_GIL_NOT_USED : EXT_GIL_USED;
	else
		out->gil = sc.setgil ? EXT_GIL_SETGIL : EXT_GIL_UNDECLARED;
	return 1;
}

int ext_scan_mem(const void *buf, size_t len, struct ext_info *out)
{
	struct elfsym *e;
	int ret = elfsym_open_mem(buf, len, &e);

	if (ret)
		return ret;
	ret = ext_scan(e, out);
	elfsym_free(e);
	return ret;
}

const char *ext_gil_name(enum ext_gil g)
{
	switch (g) {
	case EXT_GIL_NOT_USED: return "not-used";
	case EXT_GIL_UNDECLARED: return "undeclared";
	case EXT_GIL_USED: return "used";
	case EXT_GIL_SETGIL: return "set-at-run-time";
	case EXT_GIL_UNKNOWN: break;
	}
	return "unknown";
}
