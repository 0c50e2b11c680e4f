/* SPDX-License-Identifier: MIT */
/*
 * fuzz_reader.c - libFuzzer target for the snapshot reader.
 *
 * Opens the input as a snapshot (through the in-memory entry point, so no
 * file is written), reads every piece of file and thread information,
 * iterates and formats every event twice (the second time after a rewind),
 * then counts them a third time without their arguments
 * (TTLOG_READER_NO_ARGS) and once more after ttlog_reader_release() (none),
 * and checks the reader's promises on the way: an error message exactly
 * when the status is not TTLOG_OK, as many events as info.events says
 * (fewer only in a damaged file with contexts),
 * strings terminated where str_len says, arguments of the site's types;
 * and, for a file read without a problem that ttlog_reader_cut_times()
 * cuts, that its parts read in order through a lazy reader of the same
 * bytes, going from part to part with ttlog_reader_resume(), give the
 * whole iteration's events with the same spans, depths and fields, or
 * that reader reports why not (log records out of time order).
 * A broken promise aborts, which the fuzzer reports like a crash.
 *
 * Then it does it all again on a copy whose header and chunk checksums have
 * been recomputed: a mutated byte almost always breaks a CRC, and without
 * this second round the parsers behind the CRC would rarely see one.
 *
 * Build with clang -fsanitize=fuzzer,address; fuzz/replay.c runs the same
 * function over a corpus without libFuzzer. The seed corpus,
 * fuzz/corpus/reader, is written by `test_reader --write-corpus DIR`
 * (tests/test_reader.c): valid files in several shapes and damaged ones;
 * stack.ttlog and bad-stack.ttlog (STCK and MODS, the second with a frame
 * count and a module path length too big for their chunks) come from a
 * crash of tests/progs/stack_crasher with its paths replaced. The larger
 * seeds are real files made machine-neutral by fuzz/make_seed.py: crashes
 * with spans, metrics and contexts, packed segments, zstd blocks
 * (crash-zstd: tests/progs/seal_crash 3000 crash; sampled-zstd, with an
 * SMPL chunk: tests/progs/sampled_snapshot; both TTLOG_COMPRESSION=zstd)
 * and an encrypted snapshot (crash-sealed: seal_crash 200 crash with
 * TTLOG_ENCRYPT_KEY), which this target, having no key, reads up to the
 * container's header.
 */
#include "common/internal.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/crc32c.h"
#include "fix_checksums.h"
#include "reader/impl.h"
#include "reader/reader_internal.h"
#include "format/format.h"
#include "ttlog.h"
#include "ttlog_reader.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_site(const struct ttlog_site_info *s)
{
	CHECK(s->id != 0);
	CHECK(s->level >= TTLOG_LEVEL_TRACE && s->level <= TTLOG_LEVEL_FATAL);
	CHECK(s->nargs <= 16);
	for (unsigned i = 0; i < s->nargs; i++)
		CHECK(s->arg_types[i] >= TTLOG_ARG_BOOL && s->arg_types[i] <= TTLOG_ARG_LD80);
	CHECK(s->format && s->file && s->function && s->target);
	(void)strlen(s->format);
	(void)strlen(s->target);
}

static uint64_t iterate(ttlog_reader *r)
{
	struct ttlog_event e;
	char text[512];
	uint64_t n = 0;
	while (ttlog_reader_next(r, &e)) {
		n++;
		check_site(e.site);
		CHECK(e.thread != NULL);
		CHECK(e.nargs == e.site->nargs);
		for (unsigned i = 0; i < e.nargs; i++) {
			const struct ttlog_arg *a = &e.args[i];
			CHECK(a->type == e.site->arg_types[i]);
			if (a->type != TTLOG_ARG_STR)
				continue;
			if (a->str_null) {
				CHECK(a->str == NULL && a->str_len == 0);
			} else {
				CHECK(a->str != NULL);
				CHECK(a->str[a->str_len] == '\0');
			}
		}
		/* Terminated where the length says; "%c" of 0 or "%s" of a string
		 * with a NUL in it may put NULs before that, as printf would. */
		size_t len = ttlog_event_format(&e, text, sizeof text);
		CHECK(text[len < sizeof text ? len : sizeof text - 1] == '\0');
	}
	CHECK(!ttlog_reader_next(r, &e));
	return n;
}

/* Folds the events of r's current range into the digest *h; counts them. */
static void digest(ttlog_reader *r, uint64_t *h, uint64_t *count)
{
	struct ttlog_event e;
	while (ttlog_reader_next(r, &e)) {
		const uint64_t parts[] = {ttlog_reader_event_key(r), (uint64_t)e.time_ns,
					  e.span ? e.span->id : 0, e.depth, e.nfields, (uint64_t)e.kind,
					  e.site->id};
		for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
			*h = (*h ^ parts[i]) * UINT64_C(0x100000001b3);
		++*count;
	}
}

/* A sound file that is cut: its parts, read in order by one lazy reader
 * of the same bytes that goes on from each to the next, are the whole. */
static void check_parts(ttlog_reader *r)
{
	int64_t cuts[8];
	size_t m = ttlog_reader_cut_times(r, 8, cuts);
	if (m == 0)
		return;
	for (size_t k = 1; k < m; k++)
		CHECK(cuts[k] > cuts[k - 1]);
	uint64_t whole = UINT64_C(0xcbf29ce484222325), parts = whole, whole_n = 0, parts_n = 0;
	ttlog_reader_rewind(r);
	digest(r, &whole, &whole_n);
	ttlog_reader *p = NULL;
	if (ttlog_reader_open_same(r, TTLOG_READER_LAZY, &p) != TTLOG_OK || !p) {
		ttlog_reader_close(p);
		return; /* out of memory */
	}
	for (size_t k = 0; k <= m; k++) {
		const int64_t since = k ? cuts[k - 1] : INT64_MIN, until = k < m ? cuts[k] - 1 : INT64_MAX;
		if (k == 0) {
			ttlog_reader_set_range(p, since, until, TTLOG_READER_ALL_LEVELS);
			ttlog_reader_rewind(p);
		} else {
			CHECK(ttlog_reader_resume(p, since, until, TTLOG_READER_ALL_LEVELS));
		}
		digest(p, &parts, &parts_n);
	}
	/* Or, in a file whose log records go back in time, which parts
	 * cannot place, a report of it. */
	CHECK((parts_n == whole_n && parts == whole) || ttlog_reader_status(p) != TTLOG_OK);
	ttlog_reader_close(p);
}

/* The events again without their arguments (TTLOG_READER_NO_ARGS): the
 * same sites, times and kinds, none with arguments or fields. */
static uint64_t iterate_bare(ttlog_reader *r)
{
	struct ttlog_event e;
	uint64_t n = 0;
	while (ttlog_reader_next(r, &e)) {
		n++;
		check_site(e.site);
		CHECK(e.thread != NULL);
		CHECK(e.nargs == 0 && e.nfields == 0);
		CHECK(e.kind != TTLOG_EVENT_SPAN_END || !e.span || e.span->name);
	}
	return n;
}

static void run(const uint8_t *data, size_t size)
{
	ttlog_reader *r = NULL;
	int status = ttlog__reader_open_memory(data, size, "fuzz", &r);
	if (!r) {
		CHECK(status == TTLOG_E_NOMEM);
		return;
	}
	CHECK(ttlog_reader_status(r) == status);
	CHECK((ttlog_reader_error(r) != NULL) == (status != TTLOG_OK));

	const struct ttlog_file_info *info = ttlog_reader_info(r);
	CHECK(info != NULL);
	(void)strlen(info->path);
	(void)strlen(info->executable);
	(void)strlen(info->hostname);
	(void)strlen(info->reason);
	(void)strlen(info->crash.signal_name);
	CHECK(!info->complete || status != TTLOG_E_TRUNCATED); /* END ends the file */

	size_t threads = ttlog_reader_thread_count(r);
	uint64_t per_thread = 0;
	for (size_t i = 0; i < threads; i++) {
		const struct ttlog_thread_info *t = ttlog_reader_thread(r, i);
		CHECK(t != NULL);
		CHECK(i == 0 || ttlog_reader_thread(r, i - 1)->index < t->index);
		(void)strlen(t->name);
		per_thread += t->events;
	}
	CHECK(ttlog_reader_thread(r, threads) == NULL);
	CHECK(per_thread == info->events);

	/* Stacks and modules: every frame, register and path readable. */
	const struct ttlog_stack *stacks = NULL;
	size_t nstacks = ttlog_reader_stacks(r, &stacks);
	CHECK((stacks != NULL) == (nstacks != 0));
	for (size_t i = 0; i < nstacks; i++) {
		uint64_t sum = 0;
		CHECK(i == 0 || !(stacks[i].flags & TTLOG_STACK_CRASH) ||
		      (stacks[i - 1].flags & TTLOG_STACK_CRASH)); /* crash stacks first */
		for (uint32_t k = 0; k < stacks[i].nframes; k++)
			sum += stacks[i].frames[k];
		for (uint32_t k = 0; k < stacks[i].nregs; k++)
			sum += strlen(stacks[i].regs[k].name) + stacks[i].regs[k].value;
		(void)strlen(stacks[i].arch);
		(void)sum;
	}
	const struct ttlog_module *mods = NULL;
	size_t nmods = ttlog_reader_modules(r, &mods);
	CHECK((mods != NULL) == (nmods != 0));
	for (size_t i = 0; i < nmods; i++) {
		CHECK(mods[i].start <= mods[i].end);
		CHECK((mods[i].build_id != NULL) == (mods[i].build_id_len != 0));
		CHECK(mods[i].build_id_len <= 64);
		(void)strlen(mods[i].path);
	}
	(void)ttlog_reader_modules_missing(r);

	/* Every event info.events counts is handed out once, and every
	 * record is decoded at most once, event or scope change. Only a
	 * damaged file with contexts may hand out fewer events. */
	uint64_t before = ttlog_reader_counters(r)->records_decoded;
	uint64_t n = iterate(r);
	uint64_t records = ttlog_reader_counters(r)->records_decoded - before;
	CHECK(n <= records);
	CHECK(n == info->events || (n < info->events && r->has_scopes && status != TTLOG_OK));
	ttlog_reader_rewind(r);
	CHECK(iterate(r) == n);
	CHECK(ttlog_reader_status(r) == status);
	if (status == TTLOG_OK)
		check_parts(r);
	r->flags |= TTLOG_READER_NO_ARGS; /* as if opened with it */
	ttlog_reader_rewind(r);
	CHECK(iterate_bare(r) == n);
	CHECK(ttlog_reader_status(r) == status);
	/* Released: no event, the rest as before. */
	ttlog_reader_release(r);
	CHECK(ttlog_reader_released(r));
	ttlog_reader_rewind(r);
	CHECK(iterate_bare(r) == 0);
	CHECK(ttlog_reader_status(r) == status);
	CHECK(ttlog_reader_info(r) == info && ttlog_reader_thread_count(r) == threads);
	ttlog_reader_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	run(data, size);
	unsigned char *copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	if (size)
		memcpy(copy, data, size);
	fuzz_fix_checksums(copy, size);
	run(copy, size);
	free(copy);
	return 0;
}
