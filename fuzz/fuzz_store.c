/* SPDX-License-Identifier: MIT */
/*
 * fuzz_store.c - libFuzzer target for stores: several files read as one
 * (ttlog_store_*), and a store cut into parts by time.
 *
 * The input is a byte of flags, then up to four files, each a
 * little-endian u32 length and that many bytes (a length past the end
 * takes what is left). They are written into a private directory under
 * names a writer gives: flag 1 chooses snapshots of two processes, else
 * segments of one stream (service, pid, the sequence 1, 2, ...) with a
 * snapshot of the same pid last, so that the files share clocks and
 * records; with flag 2 each file's checksums are made right first
 * (fuzz/fix_checksums.h), so that a mutation gets past them. Then the
 * store of the directory is read whole, and read again in parts
 * (ttlog_store_cut_times(), ttlog_store_open_part() of each) and checked:
 * an error message exactly when the status is not TTLOG_OK (a file's and
 * the store's); each event from a file with a reader; and, where the
 * whole read gave its events in time order and the parts found, file by
 * file, the problems it found (none, or the same), the parts one after
 * the other give the whole read's events (time, ticks, thread, site and
 * argument count) in the same order. A store without problems read
 * again with a file hook that keeps one thread (ttlog_reader_set_tid(), as
 * `ttlog view DIR --thread` does) gives the whole read's events of that
 * thread, in their order.
 * A broken promise aborts, which the fuzzer reports like a crash.
 *
 * Build with clang -fsanitize=fuzzer,address; fuzz/replay.c runs the same
 * function over fuzz/corpus/store without libFuzzer (FUZZ_STORE_TRACE=1
 * prints each input's files, events and cuts). The seeds pack files of
 * tests/support/mkseg.py: two segments of a stream (the second with a
 * wider clock) and a snapshot of the same records (stream-and-snapshot),
 * two segments with contexts (contexts), snapshots of two processes
 * (two-processes); and what the fuzzer found (parts-snapshot-after-its-
 * name: a snapshot whose events are later than its name says, which a
 * part left out by the name while the whole read kept it;
 * parts-damaged-segments-alike: two damaged segments with records alike
 * and a snapshot, where parts read through the index what the whole read
 * found past the damage, and the whole read left out one of two equal
 * segment records that a part without the snapshot kept;
 * parts-damaged-block-outside-its-times: a damaged file with a block
 * whose records lie outside its header's times, which a part's range
 * missed).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fix_checksums.h"
#include "ttlog_reader.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FILES 4
#define MAX_EVENTS 20000

static char dir[64];
static char names[MAX_FILES][160];
static size_t nnames;

static void remove_dir(void)
{
	for (size_t i = 0; i < nnames; i++)
		unlink(names[i]);
	rmdir(dir);
}

struct seen {
	int64_t time_ns;
	uint64_t ticks;
	uint32_t tid, site, nargs, kind;
};

static struct seen whole[MAX_EVENTS], parted[MAX_EVENTS];

/* Writes p[0..n) to path; with fix, its checksums made right first. */
static void write_file(const char *path, const uint8_t *p, size_t n, int fix)
{
	static unsigned char copy[1 << 20];
	if (fix && n <= sizeof copy) {
		memcpy(copy, p, n);
		fuzz_fix_checksums(copy, n);
		p = copy;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	size_t done = 0;
	while (done < n) {
		ssize_t w = write(fd, p + done, n - done);
		CHECK(w > 0);
		done += (size_t)w;
	}
	close(fd);
}

/* Reads store s to its end: the events (at most cap kept in out), checked
 * on the way. Returns how many; *clean says whether no file had a
 * problem, problems[i] (if not NULL) is file i's status, *ordered whether the events came in time order (not a promise:
 * a file may hold blocks whose times go back, or a segment records from
 * long before its name, which a whole read returns where the file or the
 * merge gives them, and the parts where their times are). */
static size_t drain(ttlog_store *s, struct seen *out, size_t cap, int *clean, int *problems,
		    int *ordered)
{
	struct ttlog_event ev;
	const struct ttlog_store_file *from;
	size_t n = 0;
	int64_t last = INT64_MIN;
	*ordered = 1;
	while (ttlog_store_next(s, &ev, &from)) {
		CHECK(from && from->reader);
		if (ev.time_ns < last)
			*ordered = 0;
		last = ev.time_ns;
		if (n < cap)
			out[n] = (struct seen){ev.time_ns, ev.ticks, ev.thread ? ev.thread->tid : 0,
					       ev.site ? ev.site->id : 0, ev.nargs, (uint32_t)ev.kind};
		n++;
	}
	int status = ttlog_store_status(s);
	CHECK((status == TTLOG_OK) == (ttlog_store_error(s) == NULL));
	const struct ttlog_store_file *const *files;
	size_t nf = ttlog_store_files(s, &files);
	*clean = status == TTLOG_OK;
	for (size_t i = 0; i < nf; i++) {
		CHECK((files[i]->status == TTLOG_OK) == (files[i]->error == NULL) ||
		      files[i]->status == TTLOG_E_NOMEM);
		if (files[i]->status != TTLOG_OK)
			*clean = 0;
		if (problems && i < MAX_FILES)
			problems[i] = files[i]->status;
	}
	return n;
}

/* The store's file hook of the one-thread read: tid in ctx. */
static void hook_tid(void *ctx, ttlog_reader *r)
{
	ttlog_reader_set_tid(r, *(const uint32_t *)ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir[0]) {
		snprintf(dir, sizeof dir, "/tmp/fuzz_store-XXXXXX");
		if (!mkdtemp(dir))
			abort();
		atexit(remove_dir);
	}
	for (size_t i = 0; i < nnames; i++)
		unlink(names[i]);
	nnames = 0;
	if (size < 1)
		return 0;
	int two_processes = data[0] & 1, fix = data[0] & 2;
	size_t off = 1;
	while (off + 4 <= size && nnames < MAX_FILES) {
		uint32_t len = (uint32_t)data[off] | (uint32_t)data[off + 1] << 8 |
			       (uint32_t)data[off + 2] << 16 | (uint32_t)data[off + 3] << 24;
		off += 4;
		if (len > size - off)
			len = (uint32_t)(size - off);
		size_t k = nnames;
		if (two_processes)
			snprintf(names[k], sizeof names[k],
				 "%s/ttlog-%d-20260101T00000%zu.000000000Z-fuzz.ttlog", dir,
				 k % 2 ? 7 : 4242, k);
		else if (k + 1 < MAX_FILES && off + len + 4 <= size)
			snprintf(names[k], sizeof names[k],
				 "%s/svc-4242-20260101T00000%zu.000000000Z-%06zu.ttseg", dir, k, k + 1);
		else
			snprintf(names[k], sizeof names[k],
				 "%s/ttlog-4242-20260101T00000%zu.500000000Z-fuzz.ttlog", dir, k);
		write_file(names[k], data + off, len, fix);
		nnames++;
		off += len;
	}
	if (!nnames)
		return 0;

	const char *src = dir;
	ttlog_store *s = NULL;
	(void)ttlog_store_open(&src, 1, NULL, &s);
	if (!s)
		return 0; /* out of memory */
	int clean_whole, ordered, whole_problems[MAX_FILES] = {0};
	size_t nw = drain(s, whole, MAX_EVENTS, &clean_whole, whole_problems, &ordered);
	ttlog_store_close(s);

	/* One thread through the file hook (as `view DIR --thread`): where
	 * no file had a problem, the whole read's events of that thread, in
	 * their order. */
	if (clean_whole && nw && nw <= MAX_EVENTS && whole[0].tid) {
		struct ttlog_store_options o;
		ttlog_store_options_init(&o);
		uint32_t tid = whole[0].tid;
		o.file_hook.fn = hook_tid;
		o.file_hook_ctx.ptr = &tid;
		s = NULL;
		(void)ttlog_store_open(&src, 1, &o, &s);
		if (!s)
			return 0;
		int clean_one, ordered_one;
		size_t n1 = drain(s, parted, MAX_EVENTS, &clean_one, NULL, &ordered_one);
		ttlog_store_close(s);
		CHECK(clean_one);
		size_t k = 0;
		for (size_t i = 0; i < nw; i++) {
			if (whole[i].tid != tid)
				continue;
			CHECK(k < n1 && memcmp(&parted[k], &whole[i], sizeof whole[i]) == 0);
			k++;
		}
		CHECK(k == n1);
		if (getenv("FUZZ_STORE_TRACE"))
			fprintf(stderr, "fuzz_store: thread %u alone: %zu events\n", tid, n1);
	}

	s = NULL;
	(void)ttlog_store_open(&src, 1, NULL, &s);
	if (!s)
		return 0;
	int64_t cuts[7];
	size_t m = ttlog_store_cut_times(s, 8, cuts);
	CHECK(m < 8);
	if (getenv("FUZZ_STORE_TRACE"))
		fprintf(stderr, "fuzz_store: %zu files, %zu events%s, %zu cuts\n", nnames, nw,
			clean_whole ? "" : " (a problem found)", m);
	for (size_t k = 1; k < m; k++)
		CHECK(cuts[k] > cuts[k - 1]);
	if (m) {
		/* Each file's first problem over the parts, which open the
		 * files again. */
		int part_problems[MAX_FILES] = {0};
		size_t np = 0;
		int opened_all = 1;
		for (size_t k = 0; k <= m; k++) {
			ttlog_store *p = NULL;
			int64_t since = k ? cuts[k - 1] : INT64_MIN;
			int64_t until = k < m ? cuts[k] - 1 : INT64_MAX;
			(void)ttlog_store_open_part(s, since, until, &p);
			if (!p) {
				opened_all = 0;
				continue;
			}
			int clean, part_ordered, problems[MAX_FILES] = {0};
			np += drain(p, parted + (np < MAX_EVENTS ? np : MAX_EVENTS),
				    np < MAX_EVENTS ? MAX_EVENTS - np : 0, &clean, problems,
				    &part_ordered);
			for (size_t i = 0; i < MAX_FILES; i++)
				if (part_problems[i] == TTLOG_OK)
					part_problems[i] = problems[i];
			CHECK(ttlog_store_follow(p, 0) < 0);
			ttlog_store_close(p);
		}
		/* A file with a problem is cut too: where the parts found what
		 * the whole read found, file by file, they read what it read. */
		if (opened_all && ordered &&
		    memcmp(whole_problems, part_problems, sizeof whole_problems) == 0) {
			CHECK(np == nw);
			size_t cmp = nw < MAX_EVENTS ? nw : MAX_EVENTS;
			CHECK(memcmp(whole, parted, cmp * sizeof *whole) == 0);
		}
	}
	/* The whole store again after the cut: as the first read. */
	int clean_again, ordered_again;
	size_t again = drain(s, parted, MAX_EVENTS, &clean_again, NULL, &ordered_again);
	if (clean_whole && clean_again)
		CHECK(again == nw);
	ttlog_store_close(s);
	return 0;
}
