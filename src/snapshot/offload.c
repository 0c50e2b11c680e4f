/* SPDX-License-Identifier: MIT */
/*
 * offload.c - the `ttlog-snapzip` thread: compresses one snapshot block
 * at a time for the writer (protocol in offload.h).
 *
 * The hand-over is two counters. The writer fills the job, then
 * increments `submitted` with release, LMM(zip:A), and wakes the thread
 * (futex on `submitted`). The thread loads `submitted` with acquire,
 * LMM(zip:B), compresses, and stores `done = submitted` with release,
 * LMM(zip:C), and wakes the writer (futex on `done`), which loads it with
 * acquire, LMM(zip:D), before it reads the job's output. Each side sleeps
 * in FUTEX_WAIT only after seeing the other's counter unchanged, and the
 * kernel re-checks the value, so no wake-up is lost. Nothing here takes a
 * lock or allocates after ttlog__offload_start(): the writer's half is
 * async-signal-safe.
 *
 * Stopping sets `quit` and bumps `submitted`; the thread sees it and ends.
 */
#define _GNU_SOURCE
#include "snapshot/offload.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <lz4.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "format/format.h"
#include "snapshot/compression.h"
#include "snapshot/emit.h"
#include "thread/start.h"

struct zip {
	_Atomic uint32_t submitted;
	_Atomic uint32_t done;
	_Atomic int quit;
	pthread_t thread;
	struct ttlog__emit_offload offload;
	struct ttlog__emit_job job;
	size_t size;                 /* bytes mapped, with the codec state after the struct */
	_Alignas(64) unsigned char tail[]; /* LZ4 state, then the zstd context */
};

/* Set while the thread runs; read by snapshots (any thread, signal
 * context): acquire, LMM(zipptr:B), pairs with the release store that
 * publishes a ready zip, LMM(zipptr:A). */
static struct zip *_Atomic running;

/* Runs in signal context. */
static void futex_wait(_Atomic uint32_t *addr, uint32_t val)
{
	syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

/* Runs in signal context. */
static void futex_wake(_Atomic uint32_t *addr)
{
	syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* The writer's half. Runs in signal context. */
static void zip_submit(void *ctx, struct ttlog__emit_job *job)
{
	struct zip *z = ctx;
	(void)job; /* always z->job */
	/* LMM(zip:A) pairs with LMM(zip:B): the job's contents first. */
	atomic_fetch_add_explicit(&z->submitted, 1, memory_order_release);
	futex_wake(&z->submitted);
}

/* Runs in signal context. */
static void zip_wait(void *ctx)
{
	struct zip *z = ctx;
	/* Relaxed: only the writer changes submitted. */
	uint32_t want = atomic_load_explicit(&z->submitted, memory_order_relaxed);
	for (;;) {
		/* LMM(zip:D) pairs with LMM(zip:C): the job's output. */
		uint32_t d = atomic_load_explicit(&z->done, memory_order_acquire);
		if (d == want)
			return;
		futex_wait(&z->done, d);
	}
}

static void *zip_main(void *arg)
{
	struct zip *z = arg;
	uint32_t seen = 0;
	for (;;) {
		/* LMM(zip:B) pairs with LMM(zip:A). */
		uint32_t s = atomic_load_explicit(&z->submitted, memory_order_acquire);
		if (s == seen) {
			futex_wait(&z->submitted, s);
			continue;
		}
		if (atomic_load_explicit(&z->quit, memory_order_relaxed))
			return NULL;
		ttlog__emit_compress(&z->job);
		seen = s;
		/* LMM(zip:C) pairs with LMM(zip:D). */
		atomic_store_explicit(&z->done, s, memory_order_release);
		futex_wake(&z->done);
	}
}

void ttlog__offload_stop(void)
{
	struct zip *z = atomic_load_explicit(&running, memory_order_acquire);
	if (!z)
		return;
	atomic_store_explicit(&running, NULL, memory_order_release);
	atomic_store_explicit(&z->quit, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&z->submitted, 1, memory_order_release);
	futex_wake(&z->submitted);
	pthread_join(z->thread, NULL);
	munmap(z, z->size);
}

int ttlog__offload_start(unsigned threads, const struct ttlog__compression *comp)
{
	/* A running thread may hold another codec's state: a fresh one. */
	ttlog__offload_stop();
	if (threads < 2)
		return 0;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t zstd_off = ((size_t)LZ4_sizeofState() + 63) & ~(size_t)63;
	size_t zstd_size = ttlog__zstd_reserve_size(comp);
	size_t size = (sizeof(struct zip) + zstd_off + zstd_size + page - 1) & ~(page - 1);
	struct zip *z = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (z == MAP_FAILED)
		return -1;
	z->size = size;
	z->job.lz4_state = z->tail;
	z->job.zstd = NULL;
	if (comp->codec == TTLOG__FMT_CODEC_ZSTD) {
		z->job.zstd = ttlog__zstd_prepare(z->tail + zstd_off, zstd_size, comp);
		if (!z->job.zstd) {
			munmap(z, size);
			return -1;
		}
	}
	z->offload.submit = zip_submit;
	z->offload.wait = zip_wait;
	z->offload.ctx = z;
	z->offload.job = &z->job;
	z->offload.pending = 0;

	/* The thread takes no asynchronous signal (a program's handler, the
	 * snapshot signal): it only computes. Faults stay deliverable so that
	 * a crash in it is a crash like any other. */
	sigset_t all, old;
	sigfillset(&all);
	int sync_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS};
	for (size_t i = 0; i < sizeof sync_signals / sizeof sync_signals[0]; i++)
		sigdelset(&all, sync_signals[i]);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	/* No signal stack from the program's budget (thread/start.h): the
	 * thread's stack use is small and fixed. */
	ttlog__thread_create_bare = 1;
	int rc = pthread_create(&z->thread, NULL, zip_main, z);
	ttlog__thread_create_bare = 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		munmap(z, size);
		return -1;
	}
	pthread_setname_np(z->thread, "ttlog-snapzip");
	atomic_store_explicit(&running, z, memory_order_release);
	return 0;
}

/* Runs in signal context. */
struct ttlog__emit_offload *ttlog__offload_get(void)
{
	struct zip *z = atomic_load_explicit(&running, memory_order_acquire);
	if (!z)
		return NULL;
	z->offload.pending = 0;
	return &z->offload;
}

void ttlog__offload_after_fork(void)
{
	/* The child has no copy of the thread; its memory stays mapped (a
	 * few hundred KiB), as the parent's other workspaces do. */
	atomic_store_explicit(&running, NULL, memory_order_relaxed);
}
