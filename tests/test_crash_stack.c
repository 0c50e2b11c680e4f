/* SPDX-License-Identifier: MIT */
/*
 * test_crash_stack.c - stacks, registers and modules in snapshots (STCK
 * and MODS chunks): a crash in a known function (in a child process,
 * tests/progs/stack_crasher.c), a stack overflow, a fault of the unwinder
 * itself, ttlog_snapshot_with_stack() from this process, and the reader's
 * checks of damaged STCK and MODS chunks.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/internal.h"
#include "reader/reader_internal.h"
#include "format/format.h"
#include "proc/stack.h"
#include "ring/ring.h"
#include "snapshot/writer.h"
#include "thread/thread.h"
#include "support/testutil.h"
#include "ttlog_reader.h"

#define TIMEOUT_S 60
#define FN_SPAN 256 /* bytes from a function's start within which its pcs must lie */

struct outcome {
	int status;
	char output[16384];
	char *dir;
	char **snaps;
	int nsnaps;
	ttlog_reader *r;
};

/* Runs stack_crasher MODE, expects death by SIGSEGV and one snapshot, and
 * opens it. */
static void run_crash(const char *mode, struct outcome *o)
{
	memset(o, 0, sizeof *o);
	o->dir = tu_tmpdir(mode);
	assert_non_null(o->dir);
	char prog[4096];
	snprintf(prog, sizeof prog, "%s", tu_prog("stack_crasher"));
	char *argv[] = {prog, o->dir, (char *)mode, NULL};
	if (tu_run(argv, TIMEOUT_S, &o->status, o->output, sizeof o->output) != 0)
		fail_msg("stack_crasher %s timed out; output:\n%s", mode, o->output);
	if (!WIFSIGNALED(o->status) || WTERMSIG(o->status) != SIGSEGV)
		fail_msg("expected death by SIGSEGV, got status 0x%x; output:\n%s", o->status,
			 o->output);
	o->nsnaps = tu_list_snapshots(o->dir, &o->snaps);
	if (o->nsnaps != 1)
		fail_msg("%s: expected 1 snapshot, found %d; output:\n%s", mode, o->nsnaps, o->output);
	int rc = ttlog_reader_open(o->snaps[0], &o->r);
	if (rc != TTLOG_OK)
		fail_msg("%s: %s", ttlog_strerror(rc), o->r ? ttlog_reader_error(o->r) : "");
}

static void free_outcome(struct outcome *o)
{
	ttlog_reader_close(o->r);
	tu_free_list(o->snaps, o->nsnaps);
	free(o->dir);
}

/* The address the child printed as "name=0x...". */
static uint64_t printed_address(const struct outcome *o, const char *name)
{
	char key[64];
	snprintf(key, sizeof key, "%s=", name);
	const char *p = strstr(o->output, key);
	if (!p)
		fail_msg("no %s in the output:\n%s", key, o->output);
	return strtoull(p + strlen(key), NULL, 16);
}

static int within(uint64_t pc, uint64_t fn)
{
	return fn <= pc && pc < fn + FN_SPAN;
}

static const struct ttlog_stack *the_crash_stack(ttlog_reader *r)
{
	const struct ttlog_stack *stacks = NULL;
	size_t n = ttlog_reader_stacks(r, &stacks);
	assert_int_equal(n, 1);
	assert_non_null(stacks);
	const struct ttlog_stack *st = &stacks[0];
	assert_true(st->flags & TTLOG_STACK_CRASH);
	assert_true(st->flags & TTLOG_STACK_PC_FIRST);
	assert_true(st->nframes >= 1);
	assert_int_equal(st->tid, ttlog_reader_info(r)->crash.tid);
	return st;
}

static uint64_t reg(const struct ttlog_stack *st, const char *name, int *found)
{
	*found = 0;
	for (uint32_t i = 0; i < st->nregs; i++) {
		if (strcmp(st->regs[i].name, name) == 0) {
			*found = 1;
			return st->regs[i].value;
		}
	}
	return 0;
}

static const struct ttlog_module *module_of(ttlog_reader *r, uint64_t pc)
{
	const struct ttlog_module *mods = NULL;
	size_t n = ttlog_reader_modules(r, &mods);
	for (size_t i = 0; i < n; i++)
		if (mods[i].start <= pc && pc < mods[i].end)
			return &mods[i];
	return NULL;
}

static void test_crash_in_known_function(void **state)
{
	(void)state;
	struct outcome o;
	run_crash("segv", &o);
	uint64_t crash_fn = printed_address(&o, "crash_fn");
	uint64_t caller_fn = printed_address(&o, "caller_fn");
	const struct ttlog_stack *st = the_crash_stack(o.r);
	if (!within(st->frames[0], crash_fn))
		fail_msg("frames[0] 0x%llx is not in crash_fn at 0x%llx",
			 (unsigned long long)st->frames[0], (unsigned long long)crash_fn);
	int caller_seen = 0;
	for (uint32_t i = 1; i < st->nframes; i++)
		caller_seen |= within(st->frames[i], caller_fn);
	assert_true(caller_seen);
	assert_false(st->flags & TTLOG_STACK_FAULTED);

#if defined(__x86_64__)
	int found;
	assert_string_equal(st->arch, "x86_64");
	assert_int_equal(reg(st, "rip", &found), st->frames[0]);
	assert_true(found);
	reg(st, "rsp", &found);
	assert_true(found);
	reg(st, "rbp", &found);
	assert_true(found);
	reg(st, "r15", &found);
	assert_true(found);
#elif defined(__aarch64__)
	int found;
	assert_string_equal(st->arch, "aarch64");
	assert_int_equal(reg(st, "pc", &found), st->frames[0]);
	assert_true(found);
	reg(st, "x29", &found);
	assert_true(found);
#endif

	/* The module of the faulting pc is the program, with a build-id. */
	const struct ttlog_module *m = module_of(o.r, st->frames[0]);
	assert_non_null(m);
	char exe[PATH_MAX];
	assert_non_null(realpath(tu_prog("stack_crasher"), exe));
	assert_string_equal(m->path, exe);
	assert_non_null(m->build_id);
	assert_true(m->build_id_len > 0);
	assert_true(m->bias <= m->start);
	assert_int_equal(ttlog_reader_modules_missing(o.r), 0);
	free_outcome(&o);
}

static void test_stack_overflow(void **state)
{
	(void)state;
	struct outcome o;
	run_crash("overflow", &o);
	uint64_t recurse_fn = printed_address(&o, "recurse_fn");
	const struct ttlog_stack *st = the_crash_stack(o.r);
	assert_true(within(st->frames[0], recurse_fn));
	/* Thousands of frames: the capture stops at its cap and says so. */
	assert_int_equal(st->nframes, 128);
	assert_true(st->flags & TTLOG_STACK_TRUNCATED);
	for (uint32_t i = 1; i < st->nframes; i++)
		assert_true(within(st->frames[i], recurse_fn));
	free_outcome(&o);
}

static void test_unwinder_fault_keeps_the_snapshot(void **state)
{
	(void)state;
#if defined(__x86_64__)
	struct outcome o;
	run_crash("corrupt", &o);
	uint64_t corrupt_fn = printed_address(&o, "corrupt_fn");
	const struct ttlog_stack *st = the_crash_stack(o.r);
	assert_true(within(st->frames[0], corrupt_fn));
	/* libunwind checks the stack memory it reads: the walk ends after the
	 * faulting pc (with no fault of its own, or with one caught). */
	assert_true(st->nframes <= 2);
	int found;
	assert_int_equal(reg(st, "rip", &found), st->frames[0]);
	assert_true(found);
	assert_true(ttlog_reader_info(o.r)->complete);
	assert_true(ttlog_reader_info(o.r)->complete);
	free_outcome(&o);
#else
	skip();
#endif
}

static void test_fault_inside_the_unwinder(void **state)
{
	(void)state;
	struct outcome o;
	run_crash("fault", &o);
	uint64_t crash_fn = printed_address(&o, "crash_fn");
	const struct ttlog_stack *st = the_crash_stack(o.r);
	/* The fault after the first frame was caught: that frame is kept, the
	 * flag says why there are no more, and the snapshot is complete. */
	assert_true(st->flags & TTLOG_STACK_FAULTED);
	assert_int_equal(st->nframes, 1);
	assert_true(within(st->frames[0], crash_fn));
	assert_true(ttlog_reader_info(o.r)->complete);
	assert_int_equal(ttlog_reader_status(o.r), TTLOG_OK);
	free_outcome(&o);
}

/* ---- On demand ----------------------------------------------------------- */

static char ondemand_path[4096];

static __attribute__((noinline)) int snapshot_here(void)
{
	int rc = ttlog_snapshot_with_stack_path("with-stack", ondemand_path, sizeof ondemand_path);
	asm volatile("");
	return rc;
}

static __attribute__((noinline)) int outer_here(void)
{
	int rc = snapshot_here();
	asm volatile("");
	return rc;
}

static void test_snapshot_with_stack(void **state)
{
	(void)state;
	TTLOG_INFO("before the snapshot with stack %d", 1);
	assert_int_equal(outer_here(), TTLOG_OK);
	ttlog_reader *r = NULL;
	int rc = ttlog_reader_open(ondemand_path, &r);
	if (rc != TTLOG_OK)
		fail_msg("%s", r ? ttlog_reader_error(r) : ttlog_strerror(rc));
	assert_false(ttlog_reader_info(r)->crashed);
	const struct ttlog_stack *stacks = NULL;
	assert_int_equal(ttlog_reader_stacks(r, &stacks), 1);
	const struct ttlog_stack *st = &stacks[0];
	assert_int_equal(st->flags & (TTLOG_STACK_PC_FIRST | TTLOG_STACK_CRASH), 0);
	assert_int_equal(st->nregs, 0);
	assert_null(st->regs);
	assert_int_equal(st->tid, (uint32_t)gettid());
	if (!within(st->frames[0], (uint64_t)(uintptr_t)snapshot_here))
		fail_msg("frames[0] 0x%llx is not in snapshot_here at %p",
			 (unsigned long long)st->frames[0], (void *)snapshot_here);
	/* Then the function that called it. */
	assert_true(st->nframes >= 2);
	assert_true(within(st->frames[1], (uint64_t)(uintptr_t)outer_here));
	assert_non_null(module_of(r, st->frames[0]));
	assert_int_equal(tu_count_format(r, "before the snapshot with stack %d"), 1);
	ttlog_reader_close(r);
}

static void test_plain_snapshot_has_no_stack(void **state)
{
	(void)state;
	ttlog_reader *r = tu_snapshot_open("plain");
	assert_non_null(r);
	const struct ttlog_stack *stacks = (const struct ttlog_stack *)1;
	assert_int_equal(ttlog_reader_stacks(r, &stacks), 0);
	assert_null(stacks);
	assert_int_equal(ttlog_reader_modules(r, NULL), 0);
	ttlog_reader_close(r);
}

/* ---- Damaged chunks ------------------------------------------------------ */

struct file {
	unsigned char *data;
	size_t size;
	size_t stck, mods; /* chunk offsets */
	uint64_t events;
};

static void load_file(struct file *f)
{
	memset(f, 0, sizeof *f);
	TTLOG_INFO("event for the damage tests %d", 2);
	assert_int_equal(snapshot_here(), TTLOG_OK);
	FILE *fp = fopen(ondemand_path, "rb");
	assert_non_null(fp);
	f->data = malloc(1 << 24);
	f->size = fread(f->data, 1, 1 << 24, fp);
	fclose(fp);
	unlink(ondemand_path);
	ttlog_reader *r = NULL;
	assert_int_equal(ttlog__reader_open_memory(f->data, f->size, "good", &r), TTLOG_OK);
	f->events = ttlog_reader_info(r)->events;
	assert_true(f->events > 0);
	ttlog_reader_close(r);
	for (size_t off = TTLOG__FMT_FILE_HEADER_SIZE; off + TTLOG__FMT_CHUNK_HEADER_SIZE <= f->size;) {
		uint32_t type = ttlog__get_u32(f->data + off);
		if (type == TTLOG__FMT_CHUNK_STCK)
			f->stck = off;
		if (type == TTLOG__FMT_CHUNK_MODS && !f->mods)
			f->mods = off;
		off += TTLOG__FMT_CHUNK_HEADER_SIZE + ttlog__get_u32(f->data + off + TTLOG__FMT_CH_LENGTH_OFF);
	}
	assert_true(f->stck && f->mods);
}

/* Re-seals a chunk after its payload was edited. */
static void reseal(struct file *f, size_t chunk)
{
	unsigned char *h = f->data + chunk;
	uint32_t len = ttlog__get_u32(h + TTLOG__FMT_CH_LENGTH_OFF);
	ttlog__put_u32(h + TTLOG__FMT_CH_CRC_OFF,
		       ttlog__chunk_crc(h, h + TTLOG__FMT_CHUNK_HEADER_SIZE, len));
}

/* Opens the damaged file: the error must contain `expected`, and every
 * event must still be there. */
static ttlog_reader *expect_damage(struct file *f, const char *expected)
{
	ttlog_reader *r = NULL;
	int rc = ttlog__reader_open_memory(f->data, f->size, "damaged", &r);
	assert_non_null(r);
	assert_int_equal(rc, TTLOG_E_CORRUPT);
	const char *err = ttlog_reader_error(r);
	if (!strstr(err, expected) || !strstr(err, "damaged: offset "))
		fail_msg("expected an error with \"%s\", got \"%s\"", expected, err);
	assert_int_equal(ttlog_reader_info(r)->events, f->events);
	struct ttlog_event ev;
	uint64_t n = 0;
	while (ttlog_reader_next(r, &ev) == 1)
		n++;
	assert_int_equal(n, f->events);
	return r;
}

static void test_damaged_stck(void **state)
{
	(void)state;
	struct file f;
	load_file(&f);
	unsigned char *p = f.data + f.stck + TTLOG__FMT_CHUNK_HEADER_SIZE;
	uint32_t nframes = ttlog__get_u32(p + TTLOG__FMT_STCK_NFRAMES_OFF);

	/* More frames than any writer keeps. */
	ttlog__put_u32(p + TTLOG__FMT_STCK_NFRAMES_OFF, 5000);
	reseal(&f, f.stck);
	ttlog_reader *r = expect_damage(&f, "expected at most 1024 frames in a STCK chunk, found 5000");
	assert_int_equal(ttlog_reader_stacks(r, NULL), 0);
	ttlog_reader_close(r);

	/* More frames than the chunk holds. */
	ttlog__put_u32(p + TTLOG__FMT_STCK_NFRAMES_OFF, 1000);
	reseal(&f, f.stck);
	r = expect_damage(&f, "expected 1000 frames and 0 registers (8000 bytes) after the fixed STCK");
	assert_int_equal(ttlog_reader_stacks(r, NULL), 0);
	assert_true(ttlog_reader_modules(r, NULL) > 0); /* MODS is a chunk of its own */
	ttlog_reader_close(r);

	/* A register count the chunk has no room for. */
	ttlog__put_u32(p + TTLOG__FMT_STCK_NFRAMES_OFF, nframes);
	ttlog__put_u32(p + TTLOG__FMT_STCK_NREGS_OFF, 3);
	reseal(&f, f.stck);
	r = expect_damage(&f, "registers");
	ttlog_reader_close(r);
	free(f.data);
}

static void test_damaged_mods(void **state)
{
	(void)state;
	struct file f;
	load_file(&f);
	unsigned char *p = f.data + f.mods + TTLOG__FMT_CHUNK_HEADER_SIZE;
	unsigned char *e = p + TTLOG__FMT_MODS_FIXED_SIZE; /* the first entry */
	uint32_t count = ttlog__get_u32(p + TTLOG__FMT_MODS_COUNT_OFF);
	uint32_t idlen = ttlog__get_u32(e + TTLOG__FMT_MOD_BUILD_ID_LEN_OFF);
	unsigned char *plen = e + TTLOG__FMT_MOD_FIXED_SIZE + idlen;
	uint32_t path_len = ttlog__get_u32(plen);
	assert_true(count >= 1 && path_len >= 2);

	/* A path length beyond the chunk (an unterminated string). */
	ttlog__put_u32(plen, 0x7fffffff);
	reseal(&f, f.mods);
	ttlog_reader *r = expect_damage(&f, "expected a module path of 2147483647 bytes");
	assert_int_equal(ttlog_reader_modules(r, NULL), 0);
	assert_int_equal(ttlog_reader_stacks(r, NULL), 1); /* STCK is a chunk of its own */
	ttlog_reader_close(r);
	ttlog__put_u32(plen, path_len);

	/* A build-id longer than the format allows. */
	ttlog__put_u32(e + TTLOG__FMT_MOD_BUILD_ID_LEN_OFF, 65);
	reseal(&f, f.mods);
	r = expect_damage(&f, "expected a build-id of at most 64 bytes, found a length of 65");
	ttlog_reader_close(r);
	ttlog__put_u32(e + TTLOG__FMT_MOD_BUILD_ID_LEN_OFF, idlen);

	/* More entries than the chunk holds: the ones that are there are kept. */
	ttlog__put_u32(p + TTLOG__FMT_MODS_COUNT_OFF, count + 5);
	reseal(&f, f.mods);
	r = expect_damage(&f, "expected module entry");
	assert_int_equal(ttlog_reader_modules(r, NULL), count);
	ttlog_reader_close(r);
	ttlog__put_u32(p + TTLOG__FMT_MODS_COUNT_OFF, count);

	/* A NUL inside a path: that module is left out, the others kept. */
	plen[4 + 1] = '\0';
	reseal(&f, f.mods);
	r = expect_damage(&f, "expected a module path without NUL bytes");
	assert_int_equal(ttlog_reader_modules(r, NULL), count - 1);
	ttlog_reader_close(r);
	free(f.data);
}

/* ---- Stacks of other threads (format revision 13) ------------------------ */

/* The STCK chunk at off whose tid is tid, or 0. */
static size_t find_stck(const struct file *f, uint32_t tid)
{
	for (size_t off = TTLOG__FMT_FILE_HEADER_SIZE; off + TTLOG__FMT_CHUNK_HEADER_SIZE <= f->size;) {
		uint32_t type = ttlog__get_u32(f->data + off);
		if (type == TTLOG__FMT_CHUNK_STCK &&
		    ttlog__get_u32(f->data + off + TTLOG__FMT_CHUNK_HEADER_SIZE + TTLOG__FMT_STCK_TID_OFF) == tid)
			return off;
		off += TTLOG__FMT_CHUNK_HEADER_SIZE + ttlog__get_u32(f->data + off + TTLOG__FMT_CH_LENGTH_OFF);
	}
	return 0;
}

/* Two stacks as the watchdog and ttlog snap --stacks write them: one of a
 * thread without a ring (tid 4242), one of this thread, whose ring the
 * writer finds by tid. Both carry their origin and name; then the name and
 * the origin are damaged, and the stacks are still read. */
static void test_stacks_of_other_threads(void **state)
{
	(void)state;
	struct ttlog__stack *st = calloc(2, sizeof *st);
	assert_non_null(st);
	TTLOG_INFO("event before the stacks of other threads %d", 3);
	uint32_t self = (uint32_t)syscall(SYS_gettid);
	st[0].tid = 4242;
	st[0].thread_index = 0xffffffffu;
	st[0].flags = TTLOG__FMT_STACK_PC_FIRST;
	st[0].nframes = 2;
	st[0].frames[0] = 0x1000;
	st[0].frames[1] = 0x2000;
	st[0].origin = TTLOG__FMT_STACK_ORIGIN_WATCHDOG;
	strcpy(st[0].name, "stalled-one");
	st[1].tid = self;
	st[1].thread_index = 0xffffffffu;
	st[1].nframes = 1;
	st[1].frames[0] = 0x3000;
	st[1].origin = TTLOG__FMT_STACK_ORIGIN_PTRACE;
	strcpy(st[1].name, "me");
	char path[PATH_MAX];
	assert_int_equal(ttlog__snapshot_write_stacks(TTLOG__WS_NORMAL, "stacks", st, 2, path, sizeof path),
			 TTLOG_OK);
	free(st);

	ttlog_reader *r = NULL;
	assert_int_equal(ttlog_reader_open(path, &r), TTLOG_OK);
	const struct ttlog_stack *got = NULL;
	assert_int_equal(ttlog_reader_stacks(r, &got), 2);
	assert_int_equal(got[0].tid, 4242);
	assert_int_equal(got[0].thread_index, 0xffffffffu);
	assert_int_equal(got[0].origin, TTLOG_STACK_ORIGIN_WATCHDOG);
	assert_string_equal(got[0].name, "stalled-one");
	assert_int_equal(got[0].nframes, 2);
	assert_int_equal(got[0].frames[1], 0x2000);
	assert_int_equal(got[1].tid, self);
	assert_int_equal(got[1].thread_index, ttlog__ring_self()->index);
	assert_int_equal(got[1].origin, TTLOG_STACK_ORIGIN_PTRACE);
	assert_string_equal(got[1].name, "me");
	assert_true(ttlog_reader_modules(r, NULL) > 0); /* this process's, for both */
	ttlog_reader_close(r);

	struct file f;
	memset(&f, 0, sizeof f);
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	f.data = malloc(1 << 24);
	f.size = fread(f.data, 1, 1 << 24, fp);
	fclose(fp);
	unlink(path);
	assert_int_equal(ttlog__reader_open_memory(f.data, f.size, "good", &r), TTLOG_OK);
	f.events = ttlog_reader_info(r)->events;
	ttlog_reader_close(r);
	size_t chunk = find_stck(&f, 4242);
	assert_true(chunk > 0);
	/* origin after 2 frames, no registers; the name's length after it */
	unsigned char *tail = f.data + chunk + TTLOG__FMT_CHUNK_HEADER_SIZE + TTLOG__FMT_STCK_FIXED_SIZE +
			      2 * TTLOG__FMT_STCK_FRAME_SIZE;
	assert_int_equal(ttlog__get_u32(tail), TTLOG__FMT_STACK_ORIGIN_WATCHDOG);
	assert_int_equal(ttlog__get_u32(tail + 4), strlen("stalled-one"));

	ttlog__put_u32(tail + 4, 65);
	reseal(&f, chunk);
	r = expect_damage(&f, "expected a thread name of at most 64 bytes");
	assert_int_equal(ttlog_reader_stacks(r, &got), 2);
	assert_null(got[0].name);
	assert_int_equal(got[0].nframes, 2);
	ttlog_reader_close(r);
	ttlog__put_u32(tail + 4, (uint32_t)strlen("stalled-one"));

	ttlog__put_u32(tail, 9);
	reseal(&f, chunk);
	r = expect_damage(&f, "expected a STCK origin of 0 to 2, found 9");
	assert_int_equal(ttlog_reader_stacks(r, &got), 2);
	assert_string_equal(got[0].name, "stalled-one");
	ttlog_reader_close(r);
	free(f.data);
}

static int setup(void **state)
{
	(void)state;
	return tu_start(NULL);
}

int main(void)
{
	tu_let_crashes_through();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crash_in_known_function),
		cmocka_unit_test(test_stack_overflow),
		cmocka_unit_test(test_unwinder_fault_keeps_the_snapshot),
		cmocka_unit_test(test_fault_inside_the_unwinder),
		cmocka_unit_test(test_snapshot_with_stack),
		cmocka_unit_test(test_plain_snapshot_has_no_stack),
		cmocka_unit_test(test_damaged_stck),
		cmocka_unit_test(test_damaged_mods),
		cmocka_unit_test(test_stacks_of_other_threads),
	};
	return cmocka_run_group_tests(tests, setup, tu_stop);
}
