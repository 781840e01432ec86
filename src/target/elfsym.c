/*
 * elfsym.c - symbol lookup, constant reads and build-id in ELF images,
 * through elfutils' libelf; see elfsym.h.
 *
 * The image may come from the target (its files, or memory) and is fuzzed,
 * so libelf's checks are not the only ones: every count is bounded and every
 * offset and size taken from a header is checked against the image before
 * bytes are copied from it.
 */
#include "elfsym.h"

#include "../util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Far above any real file (libpython: ~10 segments, ~40 sections). */
#define ELFSYM_MAX_PHDRS 4096
#define ELFSYM_MAX_SECTIONS (1u << 20)
#define ELFSYM_MAX_SYMS (1u << 24)
#define ELFSYM_MAX_BUILD_ID 64

struct elfsym {
	Elf *elf;
	const uint8_t *image;	/* the whole file */
	size_t size;
	void *map;		/* image is an mmap of the file, or NULL */
	uint8_t *copy;		/* image is our copy of the caller's bytes, or NULL */
	size_t nphdrs;
};

static pthread_once_t libelf_once = PTHREAD_ONCE_INIT;
static int libelf_ok;

static void libelf_init(void)
{
	libelf_ok = elf_version(EV_CURRENT) != EV_NONE;
}

void elfsym_free(struct elfsym *e)
{
	if (!e)
		return;
	if (e->elf)
		elf_end(e->elf);
	if (e->map)
		munmap(e->map, e->size);
	free(e->copy);
	free(e);
}

/* Takes e with image/size/map/copy set; frees it on failure. */
static int elfsym_begin(struct elfsym *e, struct elfsym **out)
{
	GElf_Ehdr ehdr;
	int ret = GS_ECORRUPT;

	pthread_once(&libelf_once, libelf_init);
	if (!libelf_ok) {
		ret = GS_EGENERIC;
		goto out;
	}
	/*
	 * libelf wants a writable pointer; it does not write to an image in
	 * the host's byte order, and file maps are private anyway.
	 */
	e->elf = elf_memory((char *)(uintptr_t)e->image, e->size);
	if (!e->elf || elf_kind(e->elf) != ELF_K_ELF || !gelf_getehdr(e->elf, &ehdr))
		goto out;
	if (elf_getphdrnum(e->elf, &e->nphdrs) || e->nphdrs > ELFSYM_MAX_PHDRS)
		goto out;
	*out = e;
	e = NULL;
	ret = 0;
out:
	elfsym_free(e);
	return ret;
}

int elfsym_open_mem(const void *buf, size_t len, struct elfsym **out)
{
	struct elfsym *e;

	*out = NULL;
	if (!len)
		return GS_CORRUPT("!len");
	e = calloc(1, sizeof(*e));
	if (!e)
		return GS_ENOMEM;
	/* A copy: libelf keeps pointing into the image until elfsym_free. */
	e->copy = malloc(len);
	if (!e->copy) {
		free(e);
		return GS_ENOMEM;
	}
	memcpy(e->copy, buf, len);
	e->image = e->copy;
	e->size = len;
	return elfsym_begin(e, out);
}

int elfsym_open_file(const char *path, struct elfsym **out)
{
	struct elfsym *e = NULL;
	struct stat st;
	void *map;
	int fd, ret;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == EACCES || errno == EPERM ? GS_EPERM : GS_EIO;
	ret = GS_EIO;
	if (fstat(fd, &st) < 0)
		goto out;
	ret = GS_ECORRUPT;
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uintmax_t)st.st_size > SIZE_MAX)
		goto out;
	/* Private and writable so nothing libelf might do reaches the file. */
	map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		ret = errno == ENOMEM ? GS_ENOMEM : GS_EIO;
		goto out;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		munmap(map, (size_t)st.st_size);
		ret = GS_ENOMEM;
		goto out;
	}
	e->map = map;
	e->image = map;
	e->size = (size_t)st.st_size;
	ret = elfsym_begin(e, out);
out:
	close(fd);
	return ret;
}

/* [off, off+len) lies inside the image. */
static int in_image(const struct elfsym *e, uint64_t off, uint64_t len)
{
	return off <= e->size && len <= e->size - off;
}

/* Search one symbol table; a global or weak definition beats a local one. */
static int search_symtab(struct elfsym *e, Elf_Scn *scn, const GElf_Shdr *sh,
			 const char *name, GElf_Sym *best, int *found)
{
	size_t entsize = gelf_fsize(e->elf, ELF_T_SYM, 1, EV_CURRENT);
	Elf_Data *data;
	size_t i, n;

	if (!entsize || sh->sh_entsize != entsize)
		return GS_CORRUPT("!entsize || sh->sh_entsize != entsize");
	data = elf_getdata(scn, NULL);
	if (!data || !data->d_buf)
		return GS_CORRUPT("!data || !data->d_buf");
	n = data->d_size / entsize;
	if (n > ELFSYM_MAX_SYMS)
		return GS_CORRUPT("n > ELFSYM_MAX_SYMS");
	/* Entry 0 is the reserved null symbol. */
	for (i = 1; i < n; i++) {
		GElf_Sym sym;
		const char *s;

		if (!gelf_getsym(data, (int)i, &sym))
			return GS_CORRUPT("!gelf_getsym(data, (int)i, &sym)");
		if (sym.st_shndx == SHN_UNDEF || !sym.st_name)
			continue;
		s = elf_strptr(e->elf, sh->sh_link, sym.st_name);
		if (!s || strcmp(s, name))
			continue;
		if (!*found || GELF_ST_BIND(sym.st_info) != STB_LOCAL) {
			*best = sym;
			*found = 1;
		}
		if (GELF_ST_BIND(sym.st_info) != STB_LOCAL)
			return 1;
	}
	return 0;
}

int elfsym_lookup(struct elfsym *e, const char *name, uint64_t *value, uint64_t *size)
{
	Elf_Scn *scn = NULL;
	GElf_Sym best;
	size_t nsec = 0;
	int found = 0, ret;

	memset(&best, 0, sizeof(best));
	while ((scn = elf_nextscn(e->elf, scn)) != NULL) {
		GElf_Shdr sh;

		if (++nsec > ELFSYM_MAX_SECTIONS)
			return GS_CORRUPT("++nsec > ELFSYM_MAX_SECTIONS");
		if (!gelf_getshdr(scn, &sh))
			return GS_CORRUPT("!gelf_getshdr(scn, &sh)");
		if (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM)
			continue;
		/* A broken table does not hide a symbol the other one has. */
		ret = search_symtab(e, scn, &sh, name, &best, &found);
		if (ret > 0)
			break;
	}
	if (!found)
		return GS_ENOTPY;
	if (value)
		*value = best.st_value;
	if (size)
		*size = best.st_size;
	return 0;
}

int elfsym_first_load_vaddr(struct elfsym *e, uint64_t *vaddr)
{
	GElf_Phdr first;
	size_t i;
	int found = 0;

	for (i = 0; i < e->nphdrs; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e->elf, (int)i, &ph))
			return GS_CORRUPT("!gelf_getphdr(e->elf, (int)i, &ph)");
		if (ph.p_type != PT_LOAD)
			continue;
		if (!found || ph.p_vaddr < first.p_vaddr)
			first = ph;
		found = 1;
	}
	if (!found)
		return GS_ENOTPY;
	/*
	 * The kernel maps the segment from the page holding p_offset, so the
	 * mapping seen in /proc/PID/maps starts at bias + p_vaddr - p_offset
	 * rounded to a page, and maps_file_base() subtracts that page's file
	 * offset. p_vaddr - p_offset is therefore what the caller must
	 * subtract; for the usual first segment (p_offset 0) it is p_vaddr.
	 * The ELF spec makes p_vaddr == p_offset modulo p_align, which is why
	 * this equals "p_vaddr rounded down to its alignment".
	 */
	if (first.p_offset <= first.p_vaddr &&
	    !((first.p_vaddr - first.p_offset) & 0xfff))
		*vaddr = first.p_vaddr - first.p_offset;
	else
		*vaddr = first.p_vaddr & ~(uint64_t)0xfff;
	return 0;
}

/*
 * Copy from [fileoff, fileoff+filesz) of the image, which backs virtual
 * addresses from `start`, with zeros beyond filesz (.bss).
 */
static int copy_backed(struct elfsym *e, uint64_t start, uint64_t fileoff,
		       uint64_t filesz, uint64_t vaddr, void *buf, size_t len)
{
	uint64_t off = vaddr - start;
	size_t n = 0;

	if (!in_image(e, fileoff, filesz))
		return GS_CORRUPT("!in_image(e, fileoff, filesz)");
	if (off < filesz) {
		n = filesz - off < len ? (size_t)(filesz - off) : len;
		memcpy(buf, e->image + fileoff + off, n);
	}
	memset((uint8_t *)buf + n, 0, len - n);
	return 0;
}

/* [vaddr, vaddr+len) inside [start, start+size). */
static int contains(uint64_t start, uint64_t size, uint64_t vaddr, size_t len)
{
	return vaddr >= start && vaddr - start <= size && len <= size - (vaddr - start);
}

int elfsym_read_vaddr(struct elfsym *e, uint64_t vaddr, void *buf, size_t len)
{
	Elf_Scn *scn = NULL;
	size_t i, nsec = 0;

	if (!len)
		return 0;
	for (i = 0; i < e->nphdrs; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e->elf, (int)i, &ph))
			return GS_CORRUPT("!gelf_getphdr(e->elf, (int)i, &ph)");
		if (ph.p_type != PT_LOAD || ph.p_filesz > ph.p_memsz)
			continue;
		if (contains(ph.p_vaddr, ph.p_memsz, vaddr, len))
			return copy_backed(e, ph.p_vaddr, ph.p_offset, ph.p_filesz,
					   vaddr, buf, len);
	}
	/* No program headers to go by (an object or debug file): sections. */
	while ((scn = elf_nextscn(e->elf, scn)) != NULL) {
		GElf_Shdr sh;

		if (++nsec > ELFSYM_MAX_SECTIONS || !gelf_getshdr(scn, &sh))
			return GS_CORRUPT("++nsec > ELFSYM_MAX_SECTIONS || !gelf_getshdr(scn, &sh)");
		if (!(sh.sh_flags & SHF_ALLOC) || !contains(sh.sh_addr, sh.sh_size, vaddr, len))
			continue;
		return copy_backed(e, sh.sh_addr, sh.sh_offset,
				   sh.sh_type == SHT_NOBITS ? 0 : sh.sh_size,
				   vaddr, buf, len);
	}
	return GS_EFAULT;
}

/* 1 if data holds a GNU build-id note (hex-encoded into out), 0 if not. */
static int scan_notes(Elf_Data *data, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t off = 0, next, name_off, desc_off, i;
	const uint8_t *p = data->d_buf;
	GElf_Nhdr nh;

	if (!p)
		return 0;
	while (off < data->d_size &&
	       (next = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > off) {
		off = next;
		if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
		    name_off > data->d_size || data->d_size - name_off < 4 ||
		    memcmp(p + name_off, "GNU", 4))
			continue;
		if (!nh.n_descsz || nh.n_descsz > ELFSYM_MAX_BUILD_ID ||
		    desc_off > data->d_size || data->d_size - desc_off < nh.n_descsz)
			return GS_CORRUPT("!nh.n_descsz || nh.n_descsz > ELFSYM_MAX_BUILD_ID || desc_off > data-...");
		if (outlen < 2 * (size_t)nh.n_descsz + 1)
			return GS_ERANGE;
		for (i = 0; i < nh.n_descsz; i++) {
			out[2 * i] = hex[p[desc_off + i] >> 4];
			out[2 * i + 1] = hex[p[desc_off + i] & 15];
		}
		out[2 * i] = '\0';
		return 1;
	}
	return 0;
}

int elfsym_build_id(struct elfsym *e, char *out, size_t outlen)
{
	Elf_Scn *scn = NULL;
	size_t i, nsec = 0;
	int ret;

	if (outlen)
		out[0] = '\0';
	for (i = 0; i < e->nphdrs; i++) {
		GElf_Phdr ph;
		Elf_Data *data;

		if (!gelf_getphdr(e->elf, (int)i, &ph))
			return GS_CORRUPT("!gelf_getphdr(e->elf, (int)i, &ph)");
		if (ph.p_type != PT_NOTE || !in_image(e, ph.p_offset, ph.p_filesz) ||
		    ph.p_offset > INT64_MAX)
			continue;
		/* Notes with 8-byte alignment pad name and desc to 8. */
		data = elf_getdata_rawchunk(e->elf, (int64_t)ph.p_offset, ph.p_filesz,
					    ph.p_align == 8 ? ELF_T_NHDR8 : ELF_T_NHDR);
		if (!data)
			continue;
		ret = scan_notes(data, out, outlen);
		if (ret)
			return ret > 0 ? 0 : ret;
	}
	/* Files without program headers still have .note.gnu.build-id. */
	while ((scn = elf_nextscn(e->elf, scn)) != NULL) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (++nsec > ELFSYM_MAX_SECTIONS || !gelf_getshdr(scn, &sh))
			return GS_CORRUPT("++nsec > ELFSYM_MAX_SECTIONS || !gelf_getshdr(scn, &sh)");
		if (sh.sh_type != SHT_NOTE)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		ret = scan_notes(data, out, outlen);
		if (ret)
			return ret > 0 ? 0 : ret;
	}
	return GS_ENOTPY;
}

int elfsym_image(struct elfsym *e, const uint8_t **buf, size_t *len)
{
	*buf = e->image;
	*len = e->size;
	return 0;
}

int elfsym_foreach_dynsym(struct elfsym *e,
			  int (*fn)(void *arg, const char *name, int defined), void *arg)
{
	size_t entsize = gelf_fsize(e->elf, ELF_T_SYM, 1, EV_CURRENT);
	Elf_Scn *scn = NULL;
	size_t nsec = 0;

	while ((scn = elf_nextscn(e->elf, scn)) != NULL) {
		Elf_Data *data;
		GElf_Shdr sh;
		size_t i, n;

		if (++nsec > ELFSYM_MAX_SECTIONS)
			return GS_CORRUPT("++nsec > ELFSYM_MAX_SECTIONS");
		if (!gelf_getshdr(scn, &sh))
			return GS_CORRUPT("!gelf_getshdr(scn, &sh)");
		if (sh.sh_type != SHT_DYNSYM)
			continue;
		if (!entsize || sh.sh_entsize != entsize)
			return GS_CORRUPT("dynsym entsize");
		data = elf_getdata(scn, NULL);
		if (!data || !data->d_buf)
			return GS_CORRUPT("dynsym data");
		n = data->d_size / entsize;
		if (n > ELFSYM_MAX_SYMS)
			return GS_CORRUPT("n > ELFSYM_MAX_SYMS");
		for (i = 1; i < n; i++) {
			GElf_Sym sym;
			const char *name;
			int ret;

			if (!gelf_getsym(data, (int)i, &sym))
				return GS_CORRUPT("!gelf_getsym");
			if (!sym.st_name)
				continue;
			name = elf_strptr(e->elf, sh.sh_link, sym.st_name);
			if (!name)
				continue;
			ret = fn(arg, name, sym.st_shndx != SHN_UNDEF);
			if (ret)
				return ret;
		}
		return 0;	/* one .dynsym per file */
	}
	return 0;
}

int elfsym_foreach_data(struct elfsym *e,
			int (*fn)(void *arg, const uint8_t *p, size_t len, uint64_t vaddr),
			void *arg)
{
	Elf_Scn *scn = NULL;
	size_t nsec = 0;

	while ((scn = elf_nextscn(e->elf, scn)) != NULL) {
		GElf_Shdr sh;
		int ret;

		if (++nsec > ELFSYM_MAX_SECTIONS)
			return GS_CORRUPT("++nsec > ELFSYM_MAX_SECTIONS");
		if (!gelf_getshdr(scn, &sh))
			return GS_CORRUPT("!gelf_getshdr(scn, &sh)");
		if (sh.sh_type != SHT_PROGBITS || !(sh.sh_flags & SHF_ALLOC) ||
		    (sh.sh_flags & SHF_EXECINSTR) || !sh.sh_size)
			continue;
		if (!in_image(e, sh.sh_offset, sh.sh_size))
			continue;	/* a header that lies: skip, do not trust */
		ret = fn(arg, e->image + sh.sh_offset, (size_t)sh.sh_size, sh.sh_addr);
		if (ret)
			return ret;
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int elfsym_reloc_offsets(struct elfsym *e, uint64_t **out, size_t *n, uint64_t **addends,
			 size_t *nadd)
{
	Elf_Scn *scn = NULL;
	uint64_t *v = NULL, *a = NULL;
	size_t nv = 0, na = 0, cap = 0, nsec = 0;

	*out = NULL;
	*n = 0;
	if (addends) {
		*addends = NULL;
		*nadd = 0;
	}
	while ((scn = elf_nextscn(e->elf, scn)) != NULL) {
		Elf_Data *data;
		GElf_Shdr sh;
		size_t i, cnt, esz;

		if (++nsec > ELFSYM_MAX_SECTIONS)
			goto corrupt;
		if (!gelf_getshdr(scn, &sh))
			goto corrupt;
		if ((sh.sh_type != SHT_RELA && sh.sh_type != SHT_REL) || !(sh.sh_flags & SHF_ALLOC))
			continue;
		esz = gelf_fsize(e->elf, sh.sh_type == SHT_RELA ? ELF_T_RELA : ELF_T_REL, 1,
				 EV_CURRENT);
		data = elf_getdata(scn, NULL);
		if (!esz || !data || !data->d_buf)
			goto corrupt;
		cnt = data->d_size / esz;
		if (cnt > ELFSYM_MAX_SYMS || nv + cnt > ELFSYM_MAX_SYMS)
			goto corrupt;
		if (nv + cnt > cap) {
			uint64_t *nvp, *nap = NULL;

			cap = nv + cnt;
			nvp = realloc(v, cap * sizeof(*v));
			if (nvp)
				v = nvp;
			if (nvp && addends) {
				nap = realloc(a, cap * sizeof(*a));
				if (nap)
					a = nap;
			}
			if (!nvp || (addends && !nap)) {
				free(v);
				free(a);
				return GS_ENOMEM;
			}
		}
		for (i = 0; i < cnt; i++) {
			GElf_Rela ra;
			GElf_Rel r;

			if (sh.sh_type == SHT_RELA) {
				if (!gelf_getrela(data, (int)i, &ra))
					goto corrupt;
				v[nv++] = ra.r_offset;
				if (addends)
					a[na++] = (uint64_t)ra.r_addend;
			} else {
				if (!gelf_getrel(data, (int)i, &r))
					goto corrupt;
				v[nv++] = r.r_offset;
			}
		}
	}
	if (nv)
		qsort(v, nv, sizeof(*v), cmp_u64);
	if (na)
		qsort(a, na, sizeof(*a), cmp_u64);
	*out = v;
	*n = nv;
	if (addends) {
		*addends = a;
		*nadd = na;
	} else {
		free(a);
	}
	return 0;
corrupt:
	free(v);
	free(a);
	return GS_CORRUPT("relocation sections");
}
