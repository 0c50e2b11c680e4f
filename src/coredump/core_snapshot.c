/* SPDX-License-Identifier: MIT */
/*
 * core_snapshot.c - `ttlog recover --core`: a snapshot file written from a
 * core dump of a process that linked ttlog in private mode
 * (ttlog__core_snapshot, ttlog_tools.h). Part of libttlog-read.
 *
 * The core is an ELF file (ET_CORE) whose PT_LOAD program headers say
 * which bytes of the file held which addresses of the process. The core
 * anchor (format/core_anchor.h, docs/CORE-FORMAT.md), a static struct of
 * libttlog's data, is found by scanning those bytes for its magic; an
 * anchor counts only when its `self` is the address it was found at, it is
 * filled (version 1) and its layout record matches this build's structs.
 * From it the recovery follows addresses: the ring list, each ring and its
 * data, the site descriptions and their strings, the calibration, the
 * process id, executable and host name.
 *
 * The core is hostile input: the ELF header, every program header and
 * every address is checked before use. An address is translated only when
 * the whole object it names lies in the dumped bytes of one PT_LOAD
 * segment (a truncated core has segments that end early: what is missing
 * is missing, and said so). Rings are read with the ring reader's own
 * checks (src/ring/ring.c), in place, from a read-only private mapping of
 * the core; site descriptions are copied, checked and re-pointed into the
 * mapping. Strings that the core does not hold (a description pointing
 * into the program's read-only data, once the library's text area was
 * full) are found in the program given with --exe, through the core's
 * NT_FILE note, which names the file and offset behind each mapping.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock/clock.h"
#include "common/internal.h"
#include "format/core_anchor.h"
#include "format/format.h"
#include "ring/ring.h"
#include "sites/desc.h"
#include "sites/sites.h"
#include "snapshot/writer.h"
#define TTLOG_TOOLS_UNSTABLE
#include "ttlog.h"
#include "ttlog_tools.h" /* ttlog__core_snapshot() */

#define MAX_RINGS 100000u
#define STRING_MAX 8192u

#if defined(__x86_64__)
#define NATIVE_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define NATIVE_MACHINE EM_AARCH64
#else
#define NATIVE_MACHINE EM_NONE
#endif

/* A PT_LOAD segment: addresses [vaddr, vaddr + avail) are at file offset
 * off (avail: what the file holds of p_filesz). */
struct seg {
	uint64_t vaddr, memsz, off, filesz, avail;
};

/* A file-backed mapping from NT_FILE: [start, end) is the file's bytes
 * from offset off. */
struct filemap {
	uint64_t start, end, off;
	const char *name;
};

struct ring_ref {
	struct ttlog__ring *ring;
	const unsigned char *data;
	uint32_t size, seg_size, nseg;
};

struct core {
	const char *path;
	const unsigned char *map;
	size_t size;
	struct seg *segs;
	size_t nsegs;
	int truncated;                  /* a segment's bytes run past the file's end */
	uint64_t truncated_at;          /* the first such segment's address */
	struct filemap *files;
	size_t nfiles;
	/* --exe: the program's bytes, for addresses in its file-backed mappings */
	const char *exe_path;
	const unsigned char *exe;
	size_t exe_size;
	struct ttlog__core_anchor a;    /* the checked copy */
	struct ring_ref *rings;
	size_t nrings, pos;
	struct ttlog__site_desc *sites; /* by id */
	unsigned char *checked, *valid; /* bit id */
	char *names;                    /* field names of the descriptions, gathered */
	uint32_t site_limit;
	struct ttlog__calibration cal;
	uint64_t dropped;
	char executable[PATH_MAX];
	char hostname[256];
	uint64_t sites_bad;
	char problem[512];              /* the first thing skipped */
	char note[512];
};

static void problem(struct core *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct core *c, const char *fmt, ...)
{
	if (c->problem[0])
		return;
	int n = snprintf(c->problem, sizeof c->problem, "%s: ", c->path);
	if (n < 0 || (size_t)n >= sizeof c->problem)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->problem + n, sizeof c->problem - (size_t)n, fmt, ap);
	va_end(ap);
}

static void say(char *err, size_t err_size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *err, size_t err_size, const char *fmt, ...)
{
	if (!err || !err_size)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, err_size, fmt, ap);
	va_end(ap);
}

/* ---- Addresses ------------------------------------------------------------ */

/* The bytes of [addr, addr + len) in the core, or NULL unless one segment
 * holds them all. */
static const unsigned char *in_core(const struct core *c, uint64_t addr, uint64_t len)
{
	for (size_t i = 0; i < c->nsegs; i++) {
		const struct seg *s = &c->segs[i];
		if (addr >= s->vaddr && addr - s->vaddr <= s->avail && len <= s->avail - (addr - s->vaddr))
			return c->map + s->off + (addr - s->vaddr);
	}
	return NULL;
}

/* The bytes of [addr, addr + len): from the core, else from the program
 * (--exe) when a mapping of it covers them. */
static const unsigned char *at(const struct core *c, uint64_t addr, uint64_t len)
{
	const unsigned char *p = in_core(c, addr, len);
	if (p || !c->exe)
		return p;
	for (size_t i = 0; i < c->nfiles; i++) {
		const struct filemap *f = &c->files[i];
		if (addr < f->start || addr >= f->end || len > f->end - addr)
			continue;
		uint64_t off = f->off + (addr - f->start);
		if (off <= c->exe_size && len <= c->exe_size - off)
			return c->exe + off;
	}
	return NULL;
}

static int read_u64(const struct core *c, uint64_t addr, uint64_t *v)
{
	const unsigned char *p = in_core(c, addr, 8);
	if (p)
		memcpy(v, p, 8);
	return p != NULL;
}

/* ---- The ELF file --------------------------------------------------------- */

static int parse_elf(struct core *c, char *err, size_t err_size)
{
	Elf64_Ehdr eh;
	if (c->size < 4 || memcmp(c->map, ELFMAG, SELFMAG) != 0) {
		say(err, err_size, "%s: not a core dump (not an ELF file)", c->path);
		return TTLOG_E_NOT_TTLOG;
	}
	if (c->size < sizeof eh) {
		say(err, err_size, "%s: truncated: %zu bytes, an ELF header needs %zu", c->path, c->size,
		    sizeof eh);
		return TTLOG_E_TRUNCATED;
	}
	memcpy(&eh, c->map, sizeof eh);
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_machine != NATIVE_MACHINE) {
		say(err, err_size, "%s: a core of another kind of machine (ELF class %u, data %u, machine %u); "
				   "read it on the machine type it comes from",
		    c->path, eh.e_ident[EI_CLASS], eh.e_ident[EI_DATA], eh.e_machine);
		return TTLOG_E_VERSION;
	}
	if (eh.e_type != ET_CORE) {
		say(err, err_size, "%s: not a core dump: ELF type %u (a core is type 4, ET_CORE); "
				   "give the program with --exe and its core with --core",
		    c->path, eh.e_type);
		return TTLOG_E_NOT_TTLOG;
	}
	uint64_t phnum = eh.e_phnum;
	if (phnum == PN_XNUM) { /* the real count is section header 0's sh_info */
		Elf64_Shdr sh;
		if (eh.e_shoff > c->size || sizeof sh > c->size - eh.e_shoff) {
			say(err, err_size, "%s: offset %llu: section header 0 (program header count) lies "
					   "past the end (%zu bytes)",
			    c->path, (unsigned long long)eh.e_shoff, c->size);
			return TTLOG_E_TRUNCATED;
		}
		memcpy(&sh, c->map + eh.e_shoff, sizeof sh);
		phnum = sh.sh_info;
	}
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || phnum == 0) {
		say(err, err_size, "%s: offset 54: program header size %u, count %llu: expected %zu-byte headers, "
				   "at least one",
		    c->path, eh.e_phentsize, (unsigned long long)phnum, sizeof(Elf64_Phdr));
		return TTLOG_E_CORRUPT;
	}
	if (eh.e_phoff > c->size || phnum > (c->size - eh.e_phoff) / sizeof(Elf64_Phdr)) {
		say(err, err_size, "%s: truncated: %llu program headers at offset %llu run past the end "
				   "(%zu bytes)",
		    c->path, (unsigned long long)phnum, (unsigned long long)eh.e_phoff, c->size);
		return TTLOG_E_TRUNCATED;
	}
	c->segs = calloc(phnum, sizeof *c->segs);
	if (!c->segs) {
		say(err, err_size, "%s: out of memory", c->path);
		return TTLOG_E_NOMEM;
	}
	const unsigned char *note = NULL;
	uint64_t note_len = 0;
	for (uint64_t i = 0; i < phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, c->map + eh.e_phoff + i * sizeof ph, sizeof ph);
		if (ph.p_type == PT_NOTE && ph.p_offset <= c->size && !note) {
			note = c->map + ph.p_offset;
			note_len = TTLOG__MIN(ph.p_filesz, c->size - ph.p_offset);
		}
		if (ph.p_type != PT_LOAD || ph.p_filesz == 0)
			continue;
		if (ph.p_vaddr + ph.p_filesz < ph.p_vaddr || ph.p_filesz > ph.p_memsz) {
			say(err, err_size, "%s: offset %llu: program header %llu: address %#llx + %llu bytes "
					   "wraps around, or holds more than its memory size",
			    c->path, (unsigned long long)(eh.e_phoff + i * sizeof ph), (unsigned long long)i,
			    (unsigned long long)ph.p_vaddr, (unsigned long long)ph.p_filesz);
			return TTLOG_E_CORRUPT;
		}
		struct seg *s = &c->segs[c->nsegs++];
		s->vaddr = ph.p_vaddr;
		s->memsz = ph.p_memsz;
		s->off = ph.p_offset;
		s->filesz = ph.p_filesz;
		if (ph.p_offset >= c->size)
			s->avail = 0;
		else
			s->avail = TTLOG__MIN(ph.p_filesz, c->size - ph.p_offset);
		if (s->avail < s->filesz && !c->truncated) {
			c->truncated = 1;
			c->truncated_at = ph.p_vaddr;
		}
	}
	/* NT_FILE: which file is behind each file-backed mapping (for --exe). */
	for (uint64_t p = 0; note && p + 12 <= note_len;) {
		uint32_t namesz, descsz, type;
		memcpy(&namesz, note + p, 4);
		memcpy(&descsz, note + p + 4, 4);
		memcpy(&type, note + p + 8, 4);
		uint64_t name_at = p + 12, desc_at = name_at + ((namesz + 3ull) & ~3ull);
		uint64_t next = desc_at + ((descsz + 3ull) & ~3ull);
		if (next > note_len)
			break;
		if (type == NT_FILE && descsz >= 16 && !c->files) {
			const unsigned char *d = note + desc_at;
			uint64_t count, page;
			memcpy(&count, d, 8);
			memcpy(&page, d + 8, 8);
			if (count > (descsz - 16) / 24 || page == 0 || page > (1u << 30))
				break;
			c->files = calloc(count ? count : 1, sizeof *c->files);
			if (!c->files)
				break;
			const char *names = (const char *)d + 16 + count * 24, *end = (const char *)d + descsz;
			for (uint64_t i = 0; i < count && names < end; i++) {
				struct filemap *f = &c->files[c->nfiles];
				uint64_t pg;
				memcpy(&f->start, d + 16 + i * 24, 8);
				memcpy(&f->end, d + 24 + i * 24, 8);
				memcpy(&pg, d + 32 + i * 24, 8);
				size_t n = strnlen(names, (size_t)(end - names));
				if (n == (size_t)(end - names))
					break;
				f->name = names;
				names += n + 1;
				if (f->end > f->start && pg <= UINT64_MAX / page) {
					f->off = pg * page;
					c->nfiles++;
				}
			}
		}
		p = next;
	}
	return TTLOG_OK;
}

/* ---- The anchor ----------------------------------------------------------- */

/* Finds the anchor: TTLOG_OK with c->a, or a code with the reason. */
static int find_anchor(struct core *c, char *err, size_t err_size)
{
	int unfilled = 0, other_layout = 0, found = 0;
	uint32_t other_version = 0;
	for (size_t i = 0; i < c->nsegs && !found; i++) {
		const struct seg *s = &c->segs[i];
		const unsigned char *base = c->map + s->off, *p = base;
		size_t left = (size_t)s->avail;
		while (!found && left >= sizeof(struct ttlog__core_anchor)) {
			const unsigned char *m = memmem(p, left, TTLOG__ANCHOR_MAGIC, TTLOG__ANCHOR_MAGIC_LEN);
			if (!m)
				break;
			uint64_t addr = s->vaddr + (uint64_t)(m - base);
			left -= (size_t)(m - p) + 1;
			p = m + 1;
			if (addr % 8 || (size_t)(base + s->avail - m) < sizeof(struct ttlog__core_anchor))
				continue;
			struct ttlog__core_anchor a;
			memcpy(&a, m, sizeof a);
			if (a.self != addr && a.version != 0)
				continue; /* a copy of the bytes elsewhere, not the anchor */
			if (a.version == 0) {
				unfilled = 1;
				continue;
			}
			if (a.version != TTLOG__ANCHOR_VERSION || a.size != sizeof a || a.pointer_size != 8 ||
			    a.ring_struct_size != sizeof(struct ttlog__ring) ||
			    a.ring_off_data != offsetof(struct ttlog__ring, data) ||
			    a.ring_off_size != offsetof(struct ttlog__ring, size) ||
			    a.ring_off_next != offsetof(struct ttlog__ring, next) ||
			    a.ring_off_state != offsetof(struct ttlog__ring, state) ||
			    a.ring_off_name != offsetof(struct ttlog__ring, name) ||
			    a.ring_off_head != offsetof(struct ttlog__ring, w.head) ||
			    a.ring_off_tail != offsetof(struct ttlog__ring, pub_tail) ||
			    a.site_desc_size != sizeof(struct ttlog__site_desc) ||
			    a.calibration_size != sizeof(struct ttlog__calibration) ||
			    a.site_capacity == 0 || a.site_capacity > TTLOG__MAX_SITES + 1) {
				other_layout = 1;
				other_version = a.writer_version;
				continue;
			}
			c->a = a;
			c->a.boot_id[sizeof c->a.boot_id - 1] = '\0';
			found = 1;
		}
	}
	if (found)
		return TTLOG_OK;
	if (other_layout) {
		say(err, err_size, "%s: the process used ttlog %u.%u.%u, whose memory layout this ttlog "
				   "(%s) cannot read (docs/CORE-FORMAT.md); use the ttlog of that version",
		    c->path, other_version / 10000, other_version / 100 % 100, other_version % 100,
		    ttlog_version_string());
		return TTLOG_E_VERSION;
	}
	if (unfilled) {
		say(err, err_size, "%s: the process linked ttlog but had not finished ttlog_init(): "
				   "nothing was logged into rings",
		    c->path);
		return TTLOG_E_NOT_INITIALIZED;
	}
	if (c->truncated) {
		say(err, err_size, "%s: truncated: the segment at %#llx runs past the end of the file "
				   "(%zu bytes), and no ttlog anchor is in what is there",
		    c->path, (unsigned long long)c->truncated_at, c->size);
		return TTLOG_E_TRUNCATED;
	}
	say(err, err_size, "%s: no ttlog anchor in the core: the process did not link ttlog (or a "
			   "ttlog without core anchors), or the core leaves out its data (coredump_filter)",
	    c->path);
	return TTLOG_E_NOT_TTLOG;
}

/* ---- What the anchor points at -------------------------------------------- */

static void collect_rings(struct core *c)
{
	uint64_t addr;
	if (!read_u64(c, c->a.ring_list, &addr)) {
		problem(c, "the ring list's head at %#llx is not in the core",
			(unsigned long long)c->a.ring_list);
		return;
	}
	size_t cap = 0;
	while (addr) {
		if (c->nrings >= MAX_RINGS) {
			problem(c, "more than %u rings in the list (a loop?): the rest is left out", MAX_RINGS);
			return;
		}
		const unsigned char *rp = addr % 8 ? NULL : in_core(c, addr, sizeof(struct ttlog__ring));
		if (!rp) {
			problem(c, "ring %zu at %#llx is not in the core: it and the rings after it are left out",
				c->nrings, (unsigned long long)addr);
			return;
		}
		for (size_t i = 0; i < c->nrings; i++)
			if ((const unsigned char *)c->rings[i].ring == rp) {
				problem(c, "ring %zu at %#llx was met before: the list loops",
					c->nrings, (unsigned long long)addr);
				return;
			}
		struct ttlog__ring r;
		memcpy(&r, rp, sizeof r);
		uint64_t next = (uint64_t)(uintptr_t)r.next;
		const unsigned char *data = NULL;
		const char *why = NULL;
		if (r.nseg < TTLOG__RING_MIN_SEGMENTS || r.nseg > TTLOG__RING_MAX_SEGMENTS)
			why = "segment count is not between 2 and 64";
		else if (r.seg_size == 0 || r.seg_size % 8 || (uint64_t)r.nseg * r.seg_size != r.size)
			why = "ring size is not segments x segment size (a multiple of 8)";
		else if (!(data = in_core(c, (uint64_t)(uintptr_t)r.data, r.size)))
			why = "its data is not in the core";
		if (why) {
			problem(c, "ring %zu at %#llx (data at %#llx, size %u, %u x %u): %s", c->nrings,
				(unsigned long long)addr, (unsigned long long)(uintptr_t)r.data, r.size, r.nseg,
				r.seg_size, why);
		} else {
			if (c->nrings == cap) {
				cap = cap ? 2 * cap : 16;
				struct ring_ref *n = realloc(c->rings, cap * sizeof *n);
				if (!n) {
					problem(c, "out of memory for %zu rings", cap);
					return;
				}
				c->rings = n;
			}
			struct ring_ref *ref = &c->rings[c->nrings++];
			ref->ring = (struct ttlog__ring *)(uintptr_t)rp;
			ref->data = data;
			ref->size = r.size;
			ref->seg_size = r.seg_size;
			ref->nseg = r.nseg;
		}
		addr = next;
	}
}

/* A string of the description: n bytes at addr, in the core or the
 * program. NULL if not there or too long. */
static const char *text_at(const struct core *c, const char *addr, uint32_t n)
{
	if (n > STRING_MAX)
		return NULL;
	if (n == 0)
		return "";
	return (const char *)at(c, (uint64_t)(uintptr_t)addr, n);
}

/* Checks the description of id in the core and makes c->sites[id] a copy
 * whose pointers point into the core (or the program). 0 if it cannot be. */
static int load_site(struct core *c, uint32_t id, const char **why)
{
	struct ttlog__site_desc d;
	const unsigned char *p = in_core(c, c->a.site_descs + (uint64_t)id * sizeof d, sizeof d);
	if (!p) {
		*why = "not in the core";
		return 0;
	}
	memcpy(&d, p, sizeof d);
	if (d.id != id) {
		*why = "holds another id (not registered when the core was made?)";
		return 0;
	}
	if (d.level > TTLOG_LEVEL_FATAL || d.nargs > TTLOG__FMT_MAX_ARGS || d.kind > TTLOG__FMT_KIND_MAX ||
	    (d.fields >> d.nargs) != 0) {
		*why = "level, argument count, kind or field bits out of range";
		return 0;
	}
	const uint8_t *types = d.nargs ? (const uint8_t *)at(c, (uint64_t)(uintptr_t)d.arg_types, d.nargs)
				       : (const uint8_t *)"";
	if (!types) {
		*why = "its argument types are not in the core (give the program with --exe)";
		return 0;
	}
	for (unsigned i = 0; i < d.nargs; i++)
		if (types[i] < TTLOG_ARG_BOOL || types[i] > TTLOG_ARG_LD80) {
			*why = "an argument type is unknown";
			return 0;
		}
	const char *format = text_at(c, d.format, d.format_len), *file = text_at(c, d.file, d.file_len);
	const char *function = text_at(c, d.function, d.function_len);
	const char *target = text_at(c, d.target, d.target_len);
	if (!format || !file || !function || !target) {
		*why = "a string is not in the core (give the program with --exe) or is longer than 8192 bytes";
		return 0;
	}
	/* Field names: copied into this description's own 1 KiB of c->names
	 * (16 names of at most 64 bytes), so that offsets from one base
	 * reach them. */
	char *names = c->names + (size_t)id * (TTLOG__SITE_DESC_MAX_FIELDS * TTLOG__FIELD_NAME_MAX);
	uint16_t off = 0;
	for (unsigned i = 0; i < d.nargs && i < TTLOG__SITE_DESC_MAX_FIELDS; i++) {
		if (!(d.fields & (1u << i)))
			continue;
		size_t n;
		const char *name = ttlog__site_desc_name(&d, i, &n);
		const char *src = n && n <= TTLOG__FIELD_NAME_MAX ? text_at(c, name, (uint32_t)n) : NULL;
		if (!src) {
			*why = "a field name is empty, too long or not in the core";
			return 0;
		}
		memcpy(names + off, src, n);
		d.name_off[i] = off;
		off = (uint16_t)(off + n);
	}
	d.names_base = names;
	d.arg_types = types;
	d.format = format;
	d.file = file;
	d.function = function;
	d.target = target;
	c->sites[id] = d;
	return 1;
}

static const struct ttlog__site_desc *src_site(void *ctx, uint32_t id)
{
	struct core *c = ctx;
	if (id == 0 || id >= c->site_limit)
		return NULL;
	unsigned char bit = (unsigned char)(1u << (id % 8));
	if (!(c->checked[id / 8] & bit)) {
		c->checked[id / 8] |= bit;
		const char *why = NULL;
		if (load_site(c, id, &why)) {
			c->valid[id / 8] |= bit;
		} else {
			c->sites_bad++;
			problem(c, "call site %u (description at %#llx): %s; its events are left out", id,
				(unsigned long long)(c->a.site_descs + (uint64_t)id * sizeof(struct ttlog__site_desc)),
				why);
		}
	}
	return c->valid[id / 8] & bit ? &c->sites[id] : NULL;
}

static struct ttlog__ring *src_ring_next(void *ctx, struct ttlog__ring *prev)
{
	struct core *c = ctx;
	if (!prev)
		c->pos = 0;
	else
		c->pos++;
	return c->pos < c->nrings ? c->rings[c->pos].ring : NULL;
}

static int src_read_begin(void *ctx, struct ttlog__ring *r, struct ttlog__ring_cursor *cur)
{
	struct core *c = ctx;
	const struct ring_ref *ref = &c->rings[c->pos];
	if (ref->ring != r)
		return 0;
	return ttlog__ring_read_begin_at(r, ref->data, ref->size, ref->seg_size, ref->nseg, cur);
}

static int64_t ns_of(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The process's tick source read here: same boot, and a clock this
 * process can read. 0 if not. */
static int local_ticks(const struct core *c, uint64_t *ticks)
{
	char boot[64];
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, boot, sizeof boot - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0 || !c->a.boot_id[0])
		return 0;
	boot[n] = '\0';
	boot[strcspn(boot, "\n")] = '\0';
	if (strcmp(boot, c->a.boot_id) != 0)
		return 0;
	if (c->cal.kind == TTLOG__FMT_CLOCK_MONOTONIC) {
		*ticks = (uint64_t)ns_of(CLOCK_MONOTONIC);
		return 1;
	}
#if defined(__x86_64__)
	if (c->cal.kind == TTLOG__FMT_CLOCK_TSC) {
#elif defined(__aarch64__)
	if (c->cal.kind == TTLOG__FMT_CLOCK_CNTVCT) {
#else
	if (0) {
#endif
		unsigned char b[8];
		TTLOG__STORE_TICKS(b);
		memcpy(ticks, b, 8);
		return 1;
	}
	return 0;
}

static void src_clock(void *ctx, int may_wait, struct ttlog__calibration *cal, int64_t *created,
		      uint64_t *now)
{
	struct core *c = ctx;
	(void)may_wait;
	*cal = c->cal;
	*created = ns_of(CLOCK_REALTIME);
	*now = 0;
	uint64_t a, b = 0;
	if (cal->kind == TTLOG__FMT_CLOCK_FAKE) {
		cal->tick1 = cal->tick0 + 1000000000u;
		cal->ns1 = cal->ns0 + 1000000000LL;
	} else if (local_ticks(c, &a)) {
		int64_t ns = ns_of(CLOCK_REALTIME);
		local_ticks(c, &b);
		cal->tick1 = a + (b - a) / 2;
		cal->ns1 = ns;
		*now = b;
	}
	if (cal->tick1 <= cal->tick0 || cal->ns1 <= cal->ns0) {
		/* Another boot: one tick per nanosecond, exact for the
		 * monotonic clock, an estimate for a CPU counter. */
		if (cal->kind != TTLOG__FMT_CLOCK_MONOTONIC && !c->note[0])
			snprintf(c->note, sizeof c->note,
				 "%s: the core is from another boot: event times assume one clock tick per "
				 "nanosecond (their order and the time of the first are right)",
				 c->path);
		cal->tick1 = cal->tick0 + 1000000000u;
		cal->ns1 = cal->ns0 + 1000000000LL;
	}
}

static uint64_t src_dropped(void *ctx)
{
	return ((struct core *)ctx)->dropped;
}

/* Reads what the anchor names besides rings and sites. */
static void read_process(struct core *c, int *pid)
{
	const unsigned char *p = in_core(c, c->a.calibration, sizeof c->cal);
	if (p) {
		memcpy(&c->cal, p, sizeof c->cal);
		if (c->cal.kind > TTLOG__FMT_CLOCK_FAKE) {
			problem(c, "clock kind %u is unknown: taken as CLOCK_MONOTONIC", c->cal.kind);
			c->cal.kind = TTLOG__FMT_CLOCK_MONOTONIC;
		}
	} else {
		problem(c, "the clock calibration at %#llx is not in the core: times are wrong",
			(unsigned long long)c->a.calibration);
		c->cal.kind = TTLOG__FMT_CLOCK_MONOTONIC;
	}
	c->cal.tick1 = 0;
	c->cal.ns1 = 0;
	int v = 0;
	p = in_core(c, c->a.pid, sizeof v);
	if (p)
		memcpy(&v, p, sizeof v);
	*pid = v > 0 ? v : 0;
	const unsigned char *e = in_core(c, c->a.executable, TTLOG__MIN(c->a.executable_max, sizeof c->executable));
	if (e)
		memcpy(c->executable, e, TTLOG__MIN(c->a.executable_max, sizeof c->executable));
	c->executable[sizeof c->executable - 1] = '\0';
	const unsigned char *h = in_core(c, c->a.hostname, TTLOG__MIN(c->a.hostname_max, sizeof c->hostname));
	if (h)
		memcpy(c->hostname, h, TTLOG__MIN(c->a.hostname_max, sizeof c->hostname));
	c->hostname[sizeof c->hostname - 1] = '\0';
	for (int i = 0; i < 3; i++) {
		uint64_t n;
		if (c->a.dropped[i] && read_u64(c, c->a.dropped[i], &n) && n < (1ull << 62))
			c->dropped += n;
	}
	uint64_t next = 0;
	const unsigned char *q = in_core(c, c->a.site_next_id, 4);
	uint32_t n32 = 0;
	if (q)
		memcpy(&n32, q, 4);
	next = q ? n32 : c->a.site_capacity;
	c->site_limit = (uint32_t)TTLOG__MIN(next, (uint64_t)c->a.site_capacity);
}

static const unsigned char *map_file(const char *path, size_t *size, int *err_no)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	const unsigned char *m = NULL;
	*err_no = 0;
	if (fd < 0 || fstat(fd, &sb) != 0) {
		*err_no = errno;
	} else if (!S_ISREG(sb.st_mode)) {
		*err_no = EINVAL;
	} else if (sb.st_size == 0) {
		m = (const unsigned char *)"";
		*size = 0;
	} else {
		void *p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED)
			*err_no = errno;
		else {
			m = p;
			*size = (size_t)sb.st_size;
		}
	}
	if (fd >= 0)
		close(fd);
	return m;
}

TTLOG_API int ttlog__core_snapshot(const char *core_path, const char *exe_path, const char *dir,
				   char *path, size_t path_size, char *err, size_t err_size)
{
	if (err && err_size)
		err[0] = '\0';
	if (path && path_size)
		path[0] = '\0';
	if (!core_path || !dir || !*dir)
		return TTLOG_E_INVALID;
	struct core *c = calloc(1, sizeof *c);
	if (!c) {
		say(err, err_size, "%s: out of memory", core_path);
		return TTLOG_E_NOMEM;
	}
	c->path = core_path;
	c->exe_path = exe_path;
	int rc, e;
	c->map = map_file(core_path, &c->size, &e);
	if (!c->map) {
		say(err, err_size, "%s: cannot read: %s", core_path,
		    e == EINVAL ? "not a regular file" : strerror(e));
		rc = TTLOG_E_OPEN;
		goto out;
	}
	if (exe_path) {
		c->exe = map_file(exe_path, &c->exe_size, &e);
		if (!c->exe) {
			say(err, err_size, "%s: cannot read: %s", exe_path,
			    e == EINVAL ? "not a regular file" : strerror(e));
			rc = TTLOG_E_OPEN;
			goto out;
		}
	}
	rc = parse_elf(c, err, err_size);
	if (rc == TTLOG_OK)
		rc = find_anchor(c, err, err_size);
	if (rc != TTLOG_OK)
		goto out;
	if (exe_path) { /* only the mappings of that program: its base name */
		const char *base = strrchr(exe_path, '/');
		base = base ? base + 1 : exe_path;
		size_t kept = 0;
		for (size_t i = 0; i < c->nfiles; i++) {
			const char *fb = strrchr(c->files[i].name, '/');
			fb = fb ? fb + 1 : c->files[i].name;
			if (strcmp(fb, base) == 0)
				c->files[kept++] = c->files[i];
		}
		c->nfiles = kept;
		if (!kept)
			snprintf(c->note, sizeof c->note, "%s: no mapping of %s is named in the core's file "
				 "list (NT_FILE): --exe is not used", core_path, base);
	}
	int pid;
	read_process(c, &pid);
	size_t nsites = c->site_limit ? c->site_limit : 1;
	c->sites = calloc(nsites, sizeof *c->sites);
	c->checked = calloc(nsites / 8 + 1, 2);
	c->names = malloc(nsites * (TTLOG__SITE_DESC_MAX_FIELDS * TTLOG__FIELD_NAME_MAX));
	if (!c->sites || !c->checked || !c->names) {
		say(err, err_size, "%s: out of memory for %zu call sites", core_path, nsites);
		rc = TTLOG_E_NOMEM;
		goto out;
	}
	c->valid = c->checked + nsites / 8 + 1;
	collect_rings(c);
	const struct ttlog__snapshot_source src = {
		.ctx = c,
		.ring_next = src_ring_next,
		.read_begin = src_read_begin,
		.site = src_site,
		.clock = src_clock,
		.dropped = src_dropped,
		.pid = pid,
		.names_pid = -1,
		.executable = c->executable,
		.hostname = c->hostname,
		.dir = dir,
		.window_ns = 0,
		.in_process = 0,
	};
	rc = ttlog__snapshot_write_source(&src, "core", path, path_size);
	if (rc != TTLOG_OK) {
		say(err, err_size, "%s: writing the snapshot into %s: %s", core_path, dir, ttlog_strerror(rc));
	} else if (c->truncated) {
		/* Whatever else was found missing, this is why. */
		const char *first = c->problem[0] ? strchr(c->problem, ' ') : NULL;
		say(err, err_size, "%s: truncated: the segment at %#llx runs past the end of the file (%zu "
				   "bytes)%s%s",
		    core_path, (unsigned long long)c->truncated_at, c->size,
		    first ? "; first thing missing:" : "", first ? first : "");
		rc = TTLOG_E_TRUNCATED;
	} else if (c->problem[0]) {
		say(err, err_size, "%s", c->problem);
		rc = TTLOG_E_CORRUPT;
	} else if (c->note[0]) {
		say(err, err_size, "%s", c->note); /* TTLOG_OK: a note */
	}
out:
	if (c->map && c->size)
		munmap((void *)c->map, c->size);
	if (c->exe && c->exe_size)
		munmap((void *)c->exe, c->exe_size);
	free(c->segs);
	free(c->files);
	free(c->rings);
	free(c->sites);
	free(c->checked);
	free(c->names);
	free(c);
	return rc;
}
