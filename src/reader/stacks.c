/* SPDX-License-Identifier: MIT */
/*
 * stacks.c - reads STCK and MODS chunks (docs/FORMAT.md, STCK and MODS) into
 * the stacks and modules that ttlog_reader_stacks() and
 * ttlog_reader_modules() return. Symbolising the addresses is the tools'
 * business; this only checks and keeps them.
 *
 * Trust: as in reader/open.c, every count and length is compared with the
 * bytes that remain before it is used, and every allocation is bounded by
 * bytes that exist in the chunk (a frame is 8 bytes of the chunk, a register
 * 16, a module at least 32), never by a count read from the file.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/internal.h"
#include "format/format.h"
#include "reader/stacks.h"

__attribute__((format(printf, 4, 5)))
static int problem(struct ttlog__stack_problem *pb, int status, size_t off, const char *fmt, ...)
{
	va_list ap;
	if (pb->status != TTLOG_OK)
		return -1; /* the first problem is the one reported */
	pb->status = status;
	pb->off = off;
	va_start(ap, fmt);
	vsnprintf(pb->what, sizeof pb->what, fmt, ap);
	va_end(ap);
	return -1;
}

static int nomem(struct ttlog__stack_problem *pb)
{
	pb->status = TTLOG_E_NOMEM; /* wins over any other problem: the reader gives up */
	return -1;
}

/* Keeps an allocation to free with the reader; frees it if that fails. */
static void *keep_block(struct ttlog__rstacks *s, size_t size)
{
	if (s->nblocks == s->blocks_cap) {
		size_t cap = s->blocks_cap ? s->blocks_cap * 2 : 8;
		void *p = realloc(s->blocks, cap * sizeof *s->blocks);
		if (!p)
			return NULL;
		s->blocks = p;
		s->blocks_cap = cap;
	}
	void *b = malloc(size ? size : 1);
	if (b)
		s->blocks[s->nblocks++] = b;
	return b;
}

static int grow(void **array, size_t *cap, size_t count, size_t elem)
{
	if (count < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 8;
	void *p = realloc(*array, ncap * elem);
	if (!p)
		return -1;
	*array = p;
	*cap = ncap;
	return 0;
}

/* ---- STCK ---------------------------------------------------------------- */

_Static_assert(sizeof(struct ttlog_register) <= TTLOG__FMT_STCK_REG_SIZE,
	       "a register's struct takes no more than its bytes in the file");

static const char *const x86_64_names[TTLOG__FMT_REG_X86_64_COUNT] = {
	"rip", "rsp", "rbp", "rax", "rbx", "rcx", "rdx", "rsi", "rdi",
	"r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15", "eflags",
};

static const char *const aarch64_names[TTLOG__FMT_REG_AARCH64_COUNT] = {
	"pc",  "sp",  "x0",  "x1",  "x2",  "x3",  "x4",  "x5",  "x6",  "x7",  "x8",  "x9",
	"x10", "x11", "x12", "x13", "x14", "x15", "x16", "x17", "x18", "x19", "x20", "x21",
	"x22", "x23", "x24", "x25", "x26", "x27", "x28", "x29", "x30", "pstate",
};

/* The register names of an architecture, or NULL for one without. */
static const char *const *register_names(uint32_t arch, uint32_t *count, const char **name)
{
	switch (arch) {
	case TTLOG__FMT_ARCH_X86_64:
		*count = TTLOG__FMT_REG_X86_64_COUNT;
		*name = "x86_64";
		return x86_64_names;
	case TTLOG__FMT_ARCH_AARCH64:
		*count = TTLOG__FMT_REG_AARCH64_COUNT;
		*name = "aarch64";
		return aarch64_names;
	default:
		*count = 0;
		*name = "unknown";
		return NULL;
	}
}

int ttlog__stck_parse(struct ttlog__rstacks *s, const unsigned char *p, size_t len,
		      size_t off, struct ttlog__stack_problem *pb)
{
	if (len < TTLOG__FMT_STCK_FIXED_SIZE)
		return problem(pb, TTLOG_E_CORRUPT, off,
			       "expected %u bytes of fixed STCK fields, found %zu in the chunk",
			       TTLOG__FMT_STCK_FIXED_SIZE, len);
	struct ttlog_stack st;
	memset(&st, 0, sizeof st);
	st.tid = ttlog__get_u32(p + TTLOG__FMT_STCK_TID_OFF);
	st.thread_index = ttlog__get_u32(p + TTLOG__FMT_STCK_THREAD_OFF);
	st.flags = ttlog__get_u32(p + TTLOG__FMT_STCK_FLAGS_OFF);
	uint32_t arch = ttlog__get_u32(p + TTLOG__FMT_STCK_ARCH_OFF);
	uint32_t nframes = ttlog__get_u32(p + TTLOG__FMT_STCK_NFRAMES_OFF);
	uint32_t nregs = ttlog__get_u32(p + TTLOG__FMT_STCK_NREGS_OFF);
	if (nframes > TTLOG__FMT_STCK_MAX_FRAMES)
		return problem(pb, TTLOG_E_CORRUPT, off + TTLOG__FMT_STCK_NFRAMES_OFF,
			       "expected at most %u frames in a STCK chunk, found %u",
			       TTLOG__FMT_STCK_MAX_FRAMES, (unsigned)nframes);
	if (nregs > TTLOG__FMT_STCK_MAX_REGS)
		return problem(pb, TTLOG_E_CORRUPT, off + TTLOG__FMT_STCK_NREGS_OFF,
			       "expected at most %u registers in a STCK chunk, found %u",
			       TTLOG__FMT_STCK_MAX_REGS, (unsigned)nregs);
	/* Both counts are bounded above, so this cannot overflow. */
	size_t need = (size_t)nframes * TTLOG__FMT_STCK_FRAME_SIZE + (size_t)nregs * TTLOG__FMT_STCK_REG_SIZE;
	size_t left = len - TTLOG__FMT_STCK_FIXED_SIZE;
	if (need > left)
		return problem(pb, TTLOG_E_CORRUPT, off + TTLOG__FMT_STCK_NFRAMES_OFF,
			       "expected %u frames and %u registers (%zu bytes) after the fixed "
			       "STCK fields, found %zu bytes in the chunk",
			       (unsigned)nframes, (unsigned)nregs, need, left);
	if (st.flags & ~TTLOG__FMT_STACK_FLAGS_KNOWN) /* reported; the stack is still used */
		problem(pb, TTLOG_E_CORRUPT, off + TTLOG__FMT_STCK_FLAGS_OFF,
			"expected STCK flags among 0x%x, found 0x%08x", TTLOG__FMT_STACK_FLAGS_KNOWN,
			(unsigned)st.flags);
	uint32_t known_regs;
	const char *const *names = register_names(arch, &known_regs, &st.arch);
	if (!names && nregs)
		problem(pb, TTLOG_E_VERSION, off + TTLOG__FMT_STCK_ARCH_OFF,
			"expected an architecture this reader knows (1 x86_64, 2 aarch64) for %u "
			"registers, found %u (the registers are left out)",
			(unsigned)nregs, (unsigned)arch);

	/* nframes * 8 + nregs * 16 bytes exist, and a struct ttlog_register
	 * is at most 16 bytes on the hosts ttlog runs on. */
	/* Revision 12: origin and the thread's name after the registers. */
	const unsigned char *tail = p + TTLOG__FMT_STCK_FIXED_SIZE + need;
	size_t tail_left = left - need, tail_at = off + TTLOG__FMT_STCK_FIXED_SIZE + need;
	uint32_t name_len = 0;
	const unsigned char *name = NULL;
	if (tail_left >= 4) {
		st.origin = ttlog__get_u32(tail);
		if (st.origin > TTLOG__FMT_STACK_ORIGIN_WATCHDOG)
			problem(pb, TTLOG_E_CORRUPT, tail_at,
				"expected a STCK origin of 0 to %u, found %u",
				TTLOG__FMT_STACK_ORIGIN_WATCHDOG, (unsigned)st.origin);
		if (tail_left >= 8) {
			name_len = ttlog__get_u32(tail + 4);
			if (name_len > TTLOG__FMT_STCK_NAME_MAX || name_len > tail_left - 8 ||
			    memchr(tail + 8, 0, name_len)) {
				problem(pb, TTLOG_E_CORRUPT, tail_at + 4,
					"expected a thread name of at most %u bytes without NUL in the "
					"%zu bytes left of the STCK chunk, found a length of %u (name "
					"left out)",
					TTLOG__FMT_STCK_NAME_MAX, tail_left - 8, (unsigned)name_len);
				name_len = 0;
			} else {
				name = tail + 8;
			}
		}
	}

	uint64_t *frames = keep_block(s, (size_t)nframes * sizeof *frames +
						 (size_t)nregs * sizeof(struct ttlog_register) +
						 name_len + 1);
	if (!frames)
		return nomem(pb);
	struct ttlog_register *regs = (struct ttlog_register *)(frames + nframes);
	const unsigned char *q = p + TTLOG__FMT_STCK_FIXED_SIZE;
	for (uint32_t i = 0; i < nframes; i++, q += TTLOG__FMT_STCK_FRAME_SIZE)
		frames[i] = ttlog__get_u64(q);
	size_t at = off + TTLOG__FMT_STCK_FIXED_SIZE + (size_t)nframes * TTLOG__FMT_STCK_FRAME_SIZE;
	for (uint32_t i = 0; i < nregs && names; i++, q += TTLOG__FMT_STCK_REG_SIZE,
		      at += TTLOG__FMT_STCK_REG_SIZE) {
		uint32_t id = ttlog__get_u32(q + TTLOG__FMT_STCK_REG_ID_OFF);
		uint32_t reserved = ttlog__get_u32(q + TTLOG__FMT_STCK_REG_RESERVED_OFF);
		if (id >= known_regs) {
			problem(pb, TTLOG_E_CORRUPT, at + TTLOG__FMT_STCK_REG_ID_OFF,
				"expected a %s register id below %u, found %u (register left out)",
				st.arch, (unsigned)known_regs, (unsigned)id);
			continue;
		}
		if (reserved)
			problem(pb, TTLOG_E_CORRUPT, at + TTLOG__FMT_STCK_REG_RESERVED_OFF,
				"expected a zero reserved field, found 0x%08x", (unsigned)reserved);
		regs[st.nregs].name = names[id];
		regs[st.nregs].value = ttlog__get_u64(q + TTLOG__FMT_STCK_REG_VALUE_OFF);
		st.nregs++;
	}
	if (name) {
		char *copy = (char *)(regs + nregs);
		memcpy(copy, name, name_len);
		copy[name_len] = '\0';
		st.name = copy;
	}
	st.nframes = nframes;
	st.frames = frames;
	st.regs = st.nregs ? regs : NULL;

	if (grow((void **)&s->stacks, &s->stacks_cap, s->nstacks, sizeof *s->stacks) != 0)
		return nomem(pb);
	/* Crash stacks go first, each after the crash stacks before it. */
	size_t slot = s->nstacks;
	if (st.flags & TTLOG__FMT_STACK_CRASH) {
		slot = s->ncrash++;
		memmove(s->stacks + slot + 1, s->stacks + slot,
			(s->nstacks - slot) * sizeof *s->stacks);
	}
	s->stacks[slot] = st;
	s->nstacks++;
	return pb->status == TTLOG_OK ? 0 : -1;
}

/* ---- MODS ---------------------------------------------------------------- */

int ttlog__mods_parse(struct ttlog__rstacks *s, const unsigned char *p, size_t len, size_t off,
		      struct ttlog__stack_problem *pb)
{
	if (len < TTLOG__FMT_MODS_FIXED_SIZE)
		return problem(pb, TTLOG_E_CORRUPT, off,
			       "expected %u bytes of fixed MODS fields, found %zu in the chunk",
			       TTLOG__FMT_MODS_FIXED_SIZE, len);
	uint32_t count = ttlog__get_u32(p + TTLOG__FMT_MODS_COUNT_OFF);
	uint32_t missing = ttlog__get_u32(p + TTLOG__FMT_MODS_MISSING_OFF);
	s->missing = missing > UINT32_MAX - s->missing ? UINT32_MAX : s->missing + missing;

	/* Strings and build-ids are copied into one block per chunk: an
	 * entry takes at least 32 bytes of the chunk and needs one byte more
	 * (the path's terminator), so len + len / 32 + 1 is enough. */
	char *store = keep_block(s, len + len / 32 + 1);
	if (!store)
		return nomem(pb);
	size_t used = 0;
	const unsigned char *q = p + TTLOG__FMT_MODS_FIXED_SIZE;
	size_t left = len - TTLOG__FMT_MODS_FIXED_SIZE;
	size_t at = off + TTLOG__FMT_MODS_FIXED_SIZE;
	/* count is only a loop bound: every entry needs bytes that exist. */
	for (uint32_t i = 0; i < count; i++) {
		size_t entry_at = at;
		if (left < TTLOG__FMT_MOD_FIXED_SIZE + 4)
			return problem(pb, TTLOG_E_CORRUPT, at,
				       "expected module entry %u of %u (at least %u bytes), found %zu "
				       "bytes left in the MODS chunk",
				       (unsigned)i + 1, (unsigned)count, TTLOG__FMT_MOD_FIXED_SIZE + 4, left);
		struct ttlog_module m;
		memset(&m, 0, sizeof m);
		m.bias = ttlog__get_u64(q + TTLOG__FMT_MOD_BIAS_OFF);
		m.start = ttlog__get_u64(q + TTLOG__FMT_MOD_START_OFF);
		m.end = ttlog__get_u64(q + TTLOG__FMT_MOD_END_OFF);
		uint32_t idlen = ttlog__get_u32(q + TTLOG__FMT_MOD_BUILD_ID_LEN_OFF);
		if (idlen > TTLOG__FMT_MOD_MAX_BUILD_ID)
			return problem(pb, TTLOG_E_CORRUPT, at + TTLOG__FMT_MOD_BUILD_ID_LEN_OFF,
				       "expected a build-id of at most %u bytes, found a length of %u",
				       TTLOG__FMT_MOD_MAX_BUILD_ID, (unsigned)idlen);
		size_t rest = left - TTLOG__FMT_MOD_FIXED_SIZE;
		if ((size_t)idlen + 4 > rest)
			return problem(pb, TTLOG_E_CORRUPT, at + TTLOG__FMT_MOD_BUILD_ID_LEN_OFF,
				       "expected a %u-byte build-id and a path length, found %zu bytes "
				       "left in the MODS chunk",
				       (unsigned)idlen, rest);
		const unsigned char *id = q + TTLOG__FMT_MOD_FIXED_SIZE;
		size_t path_at = at + TTLOG__FMT_MOD_FIXED_SIZE + idlen;
		uint32_t plen = ttlog__get_u32(id + idlen);
		rest -= (size_t)idlen + 4;
		if (plen > rest)
			return problem(pb, TTLOG_E_CORRUPT, path_at,
				       "expected a module path of %u bytes, found %zu bytes left in the "
				       "MODS chunk",
				       (unsigned)plen, rest);
		const unsigned char *path = id + idlen + 4;
		size_t entry = TTLOG__FMT_MOD_FIXED_SIZE + (size_t)idlen + 4 + plen;
		q += entry;
		left -= entry;
		at += entry;

		/* The entry is framed; now check what it says. */
		if (m.start > m.end) {
			problem(pb, TTLOG_E_CORRUPT, entry_at + TTLOG__FMT_MOD_END_OFF,
				"expected a module end at or above its start 0x%llx, found 0x%llx "
				"(module left out)",
				(unsigned long long)m.start, (unsigned long long)m.end);
			continue;
		}
		if (memchr(path, 0, plen)) {
			problem(pb, TTLOG_E_CORRUPT, path_at + 4,
				"expected a module path without NUL bytes (module left out)");
			continue;
		}
		if (idlen) {
			memcpy(store + used, id, idlen);
			m.build_id = (const uint8_t *)(store + used);
			m.build_id_len = idlen;
			used += idlen;
		}
		memcpy(store + used, path, plen);
		store[used + plen] = '\0';
		m.path = store + used;
		used += (size_t)plen + 1;
		if (grow((void **)&s->mods, &s->mods_cap, s->nmods, sizeof *s->mods) != 0)
			return nomem(pb);
		s->mods[s->nmods++] = m;
	}
	/* Bytes after the last entry are left for later versions. */
	return pb->status == TTLOG_OK ? 0 : -1;
}

void ttlog__rstacks_free(struct ttlog__rstacks *s)
{
	for (size_t i = 0; i < s->nblocks; i++)
		free(s->blocks[i]);
	free(s->blocks);
	free(s->stacks);
	free(s->mods);
	memset(s, 0, sizeof *s);
}
