/* SPDX-License-Identifier: MIT */
/*
 * retention.c - removing old snapshot files so that a directory stays
 * within its limits (see retention.h, and docs/DESIGN.md for the policy).
 *
 * Everything in this file runs in signal context: pruning follows every
 * snapshot, the crash handler's included, so that a program whose workers
 * crash over and over (forked children that never call ttlog_init()) cannot
 * fill the disk either. Hence no opendir/readdir (they allocate), no
 * malloc, no stdio: the directory is read with the getdents64 system call
 * into a buffer reserved at init.
 *
 * One pass over the directory counts the snapshot files and their bytes and
 * keeps, in a bounded table, the VICTIMS files that would be removed first
 * (the smallest removal keys). Files are then removed from that table, in
 * order, while the directory is over a limit. If it still is and the table
 * was full, another pass takes the next VICTIMS files: only keys after the
 * last one tried, so a file that could not be removed is not tried again
 * and every pass makes progress. Most prunes remove one file in one pass.
 *
 * Several processes may prune one directory at once: each may remove a
 * file the other already did (ENOENT: counted as gone, not as ours), and
 * together they may remove one file more than needed. Nothing worse.
 *
 * Only the files of this process's user (its effective uid) are counted or
 * removed: in a directory others can write to, a file of theirs named like
 * a snapshot (a name dated in the future sorts as the newest) would make
 * the limits remove our own files instead.
 */
#define _GNU_SOURCE
#include "snapshot/retention.h"

#include <dirent.h> /* DT_* only: the directory is read with getdents64 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/internal.h"
#include "common/state.h"
#include "format/format.h"

#define VICTIMS 64                 /* removal candidates kept per pass */
#define NAME_CAP 160               /* longer names are not the writer's */
#define DIRENT_BUF (32u << 10)
#define MAX_PASSES 100000          /* a guard only: each pass advances `after` */

/* What getdents64 returns, one after another (linux/dirent.h). */
struct dirent64_raw {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* A file's place in the removal order: non-crash before crash, then older
 * before newer, then by name (two files of one nanosecond). */
struct victim {
	int crash;
	uint64_t size;
	char name[NAME_CAP];
	const char *stamp;         /* into name */
};

struct prune_ws {
	_Atomic int busy;
	int nvictims;
	struct victim victims[VICTIMS]; /* sorted by key, smallest first */
	struct victim after;            /* the last key tried by the previous pass */
	int have_after;
	_Alignas(8) unsigned char dents[DIRENT_BUF];
};

static struct prune_ws *workspaces[2];

int ttlog__retention_init(void)
{
	if (workspaces[0])
		return TTLOG_OK;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t size = (sizeof(struct prune_ws) + page - 1) & ~(page - 1);
	for (int i = 0; i < 2; i++) {
		void *m = mmap(NULL, size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (m == MAP_FAILED) {
			if (i == 1) {
				munmap(workspaces[0], size);
				workspaces[0] = NULL;
			}
			return TTLOG_E_NOMEM;
		}
		workspaces[i] = m;
	}
	return TTLOG_OK;
}

/* Whether s[0..n) are all digits. Runs in signal context. */
static int is_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* Runs in signal context. */
int ttlog__retention_is_snapshot_name(const char *name, const char **stamp)
{
	/* ttlog-<pid>-YYYYMMDDTHHMMSS.nnnnnnnnnZ-<reason>[-N].ttlog, as
	 * final_name() in writer.c makes it; reason is [A-Za-z0-9._-]+. */
	size_t len = strlen(name);
	if (len >= NAME_CAP || strncmp(name, "ttlog-", 6) != 0)
		return 0;
	const char *p = name + 6;
	size_t digits = 0;
	while (p[digits] >= '0' && p[digits] <= '9')
		digits++;
	if (digits == 0 || digits > 10 || p[digits] != '-')
		return 0;
	const char *t = p + digits + 1;
	if ((size_t)(t - name) + TTLOG__STAMP_LEN + 1 + 1 + 6 > len)
		return 0; /* no room for the stamp, '-', one reason byte, ".ttlog" */
	if (!is_digits(t, 8) || t[8] != 'T' || !is_digits(t + 9, 6) || t[15] != '.' ||
	    !is_digits(t + 16, 9) || t[25] != 'Z' || t[26] != '-')
		return 0;
	const char *reason = t + TTLOG__STAMP_LEN + 1, *end = name + len - 6;
	if (strcmp(end, ".ttlog") != 0)
		return 0;
	for (const char *r = reason; r < end; r++) {
		char c = *r;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	if (stamp)
		*stamp = t;
	return 1;
}

/*
 * Whether the file is a crash snapshot: HEAD flag CRASH (docs/FORMAT.md,
 * section 6). Only the bytes up to the flags are read and the CRC is not
 * checked; a file too short or not a snapshot counts as not a crash, so it
 * goes first. Runs in signal context.
 */
static int is_crash_file(int dfd, const char *name)
{
	enum { HEAD_AT = TTLOG__FMT_FILE_HEADER_SIZE,
	       FLAGS_AT = HEAD_AT + TTLOG__FMT_CHUNK_HEADER_SIZE + TTLOG__FMT_HEAD_FLAGS_OFF,
	       NEED = FLAGS_AT + 4 };
	unsigned char buf[NEED];
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	size_t got = 0;
	while (got < sizeof buf) {
		ssize_t n = read(fd, buf + got, sizeof buf - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	return got == sizeof buf && memcmp(buf, TTLOG__FMT_MAGIC, TTLOG__FMT_MAGIC_LEN) == 0 &&
	       ttlog__get_u32(buf + HEAD_AT + TTLOG__FMT_CH_TYPE_OFF) == TTLOG__FMT_CHUNK_HEAD &&
	       ttlog__get_u32(buf + HEAD_AT + TTLOG__FMT_CH_LENGTH_OFF) >= TTLOG__FMT_HEAD_FIXED_SIZE &&
	       (ttlog__get_u32(buf + FLAGS_AT) & TTLOG__FMT_HEAD_FLAG_CRASH);
}

/* <0, 0, >0 as a is removed before, with, after b. Runs in signal context. */
static int key_cmp(int a_crash, const char *a_stamp, const char *a_name, const struct victim *b)
{
	if (a_crash != b->crash)
		return a_crash < b->crash ? -1 : 1;
	int c = memcmp(a_stamp, b->stamp, TTLOG__STAMP_LEN);
	return c ? c : strcmp(a_name, b->name);
}

/* Puts a candidate into the sorted table if it is among the VICTIMS
 * smallest keys seen. Runs in signal context. */
static void offer(struct prune_ws *ws, int crash, const char *name, const char *stamp,
		  uint64_t size)
{
	int n = ws->nvictims;
	if (n == VICTIMS && key_cmp(crash, stamp, name, &ws->victims[n - 1]) >= 0)
		return;
	int at = n < VICTIMS ? n : VICTIMS - 1; /* the last slot is dropped when full */
	while (at > 0 && key_cmp(crash, stamp, name, &ws->victims[at - 1]) < 0) {
		ws->victims[at] = ws->victims[at - 1];
		ws->victims[at].stamp = ws->victims[at].name + (ws->victims[at - 1].stamp -
								 ws->victims[at - 1].name);
		at--;
	}
	struct victim *v = &ws->victims[at];
	v->crash = crash;
	v->size = size;
	memcpy(v->name, name, strlen(name) + 1);
	v->stamp = v->name + (stamp - name);
	if (n < VICTIMS)
		ws->nvictims = n + 1;
}

/*
 * One pass: counts the snapshot files in the directory and their bytes,
 * and fills the table with the next removal candidates. 0, or -1 if the
 * directory cannot be read. Runs in signal context.
 */
static int scan(struct prune_ws *ws, int dfd, const char *keep, uint64_t *files, uint64_t *bytes)
{
	*files = 0;
	*bytes = 0;
	ws->nvictims = 0;
	if (lseek(dfd, 0, SEEK_SET) != 0)
		return -1;
	uid_t uid = geteuid();
	for (;;) {
		long n = syscall(SYS_getdents64, dfd, ws->dents, sizeof ws->dents);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		for (long off = 0; off < n;) {
			const struct dirent64_raw *d = (const void *)(ws->dents + off);
			off += d->d_reclen;
			const char *stamp;
			if ((d->d_type != DT_REG && d->d_type != DT_UNKNOWN) ||
			    !ttlog__retention_is_snapshot_name(d->d_name, &stamp))
				continue;
			struct stat st;
			if (fstatat(dfd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
				continue; /* gone meanwhile, a symlink, a directory... */
			/* Another user's file, named like a snapshot, is neither
			 * counted nor removed: planted in a shared directory (dated
			 * in the future, say), it would make us delete our own. */
			if (st.st_uid != uid)
				continue;
			uint64_t size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
			++*files;
			*bytes += size;
			if (keep && strcmp(d->d_name, keep) == 0)
				continue;
			/* Before opening the file: if even as a non-crash file it
			 * comes after every table entry, it does not matter which. */
			if (ws->nvictims == VICTIMS &&
			    key_cmp(0, stamp, d->d_name, &ws->victims[VICTIMS - 1]) >= 0)
				continue;
			int crash = is_crash_file(dfd, d->d_name);
			if (ws->have_after && key_cmp(crash, stamp, d->d_name, &ws->after) <= 0)
				continue; /* tried by an earlier pass */
			offer(ws, crash, d->d_name, stamp, size);
		}
	}
}

/* Runs in signal context. */
unsigned ttlog__retention_prune(enum ttlog__workspace which, const char *dir, const char *keep,
				uint32_t max_files, uint64_t max_bytes)
{
	struct prune_ws *ws = workspaces[which];
	if (!ws || (max_files == TTLOG__NO_MAX_SNAPSHOTS && max_bytes == TTLOG__NO_MAX_SNAPSHOT_BYTES))
		return 0;
	int expected = 0;
	/* LMM(prune:B) pairs with LMM(prune:A): taken like the writer's
	 * workspace (writer.c, LMM(ws:B)); a failed attempt touches nothing. */
	if (!atomic_compare_exchange_strong_explicit(&ws->busy, &expected, 1, memory_order_acquire,
						     memory_order_relaxed))
		return 0;
	int saved_errno = errno;
	unsigned removed = 0;
	ws->have_after = 0;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		goto out;
	for (int pass = 0; pass < MAX_PASSES; pass++) {
		uint64_t files, bytes;
		if (scan(ws, dfd, keep, &files, &bytes) != 0)
			break;
		int i = 0;
		for (; i < ws->nvictims && (files > max_files || bytes > max_bytes); i++) {
			const struct victim *v = &ws->victims[i];
			if (unlinkat(dfd, v->name, 0) == 0) {
				removed++;
			} else if (errno != ENOENT) {
				continue; /* not ours to remove (EACCES, EBUSY...): skipped */
			}
			/* Removed, by us or by another process meanwhile. */
			files--;
			bytes -= v->size < bytes ? v->size : bytes;
		}
		if (files <= max_files && bytes <= max_bytes)
			break;
		if (ws->nvictims < VICTIMS)
			break; /* every candidate was tried: the rest is `keep` */
		/* The next pass starts after the last key tried. Copying the
		 * entry keeps its stamp pointing into its own name. */
		const struct victim *last = &ws->victims[i - 1];
		ws->after = *last;
		ws->after.stamp = ws->after.name + (last->stamp - last->name);
		ws->have_after = 1;
	}
	close(dfd);
out:
	atomic_fetch_add_explicit(&ttlog__g.snapshots_pruned, removed, memory_order_relaxed);
	/* LMM(prune:A) pairs with LMM(prune:B): this use is over before the next. */
	atomic_store_explicit(&ws->busy, 0, memory_order_release);
	errno = saved_errno;
	return removed;
}
