/* SPDX-License-Identifier: MIT */
/*
 * map.c - files mapped instead of read (ttlog_reader_map_files()).
 *
 * Reading a file copies its bytes from the page cache into fresh pages,
 * which the kernel first clears; a private read-only mapping uses the page
 * cache's own pages. The price is SIGBUS: when another process shortens a
 * mapped file, touching a page past the new end faults. So files are mapped
 * only once the program has asked for it, and this file's handler turns
 * such a fault into zero bytes and a count:
 *
 *     slots[]     one per mapping a reader holds: its start, its length,
 *                 and the lowest offset a fault was seen at (or none)
 *     handler     finds the slot whose range holds the faulting address,
 *                 maps anonymous zero pages from that page to the end of
 *                 the range (everything past a file's new end is gone, so
 *                 one fault covers the rest), notes the offset, returns;
 *                 the faulting read then sees zeros. A fault outside every
 *                 slot goes to the handler that was there before (the
 *                 default one ends the process, as without this file).
 *     reader      whose bytes were hit, or whose file is now shorter than
 *                 mapped (its end may lie inside a page, whose rest the
 *                 kernel shows as zeros without a fault; the slot keeps
 *                 the file open to ask), reports TTLOG_E_TRUNCATED, "the
 *                 file shrank while it was read", in place of whatever the
 *                 zeros made it find, and at the end of its events.
 *
 * A slot is claimed with a compare-and-swap on its owner word, filled, and
 * then published by storing its start with release order; the handler
 * loads the start with acquire order before the length. A slot is retired
 * by clearing its start before the range is unmapped, so the handler never
 * maps over an address another mapping may reuse. With every slot taken a
 * file is read as before: mapping is an optimisation, never a need.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/internal.h"
#include "reader/impl.h"
#include "ttlog_reader.h"

#define MAP_SLOTS 256u
#define NO_FAULT SIZE_MAX

struct map_slot {
	atomic_int owned;         /* claimed by a mapping */
	atomic_uintptr_t start;   /* 0: not (or no longer) published */
	atomic_size_t len;
	atomic_size_t fault_at;   /* the lowest page offset a fault was seen at */
	int fd;                   /* the file, kept open for its current size */
};

static struct map_slot slots[MAP_SLOTS];
static atomic_int installed;
static struct sigaction previous;
static uintptr_t page_size;       /* set before the handler is installed */

/* Async-signal-safe: called from the SIGBUS handler. Maps zero pages over
 * the part of slot s's range from the page of at on, and notes the page's
 * offset.
 * 0 if the mapping failed. */
static int map_zeros(struct map_slot *s, uintptr_t start, size_t len, uintptr_t at)
{
	uintptr_t from = at & ~(page_size - 1);
	if (from < start)
		from = start;
	/* mmap is not on POSIX's list of async-signal-safe functions, but on
	 * Linux it is a bare system call that touches no state of the C
	 * library (no lock, no buffer). */
	if (mmap((void *)from, start + len - from, PROT_READ,
		 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
		return 0;
	size_t off = from - start, seen = atomic_load(&s->fault_at);
	while (off < seen && !atomic_compare_exchange_weak(&s->fault_at, &seen, off))
		;
	return 1;
}

/* Async-signal-safe: the SIGBUS handler. Runs in signal context: mmap
 * (through map_zeros), sigaction, raise. */
static void on_sigbus(int sig, siginfo_t *info, void *context)
{
	(void)context;
	uintptr_t at = (uintptr_t)info->si_addr;
	int saved = errno;
	for (unsigned i = 0; info->si_code > 0 && i < MAP_SLOTS; i++) {
		uintptr_t start = atomic_load_explicit(&slots[i].start, memory_order_acquire);
		if (!start || at < start)
			continue;
		size_t len = atomic_load_explicit(&slots[i].len, memory_order_relaxed);
		if (at - start < len && map_zeros(&slots[i], start, len, at)) {
			errno = saved;
			return; /* the load is made again, from a zero page */
		}
	}
	/* Not ours: the disposition from before gets it, as if this handler
	 * had never been there. A fault recurs when this returns; a signal
	 * sent by a process is sent again. */
	sigaction(SIGBUS, &previous, NULL);
	if (info->si_code <= 0)
		raise(sig);
	errno = saved;
}

TTLOG_API int ttlog_reader_map_files(void)
{
	struct sigaction now, sa;
	if (sigaction(SIGBUS, NULL, &now) == 0 && (now.sa_flags & SA_SIGINFO) &&
	    now.sa_sigaction == on_sigbus)
		return TTLOG_OK; /* in place already */
	long page = sysconf(_SC_PAGESIZE);
	page_size = page > 0 ? (uintptr_t)page : 4096;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &previous) != 0)
		return TTLOG_E_INVALID;
	atomic_store(&installed, 1);
	return TTLOG_OK;
}

void *ttlog__reader_map(int fd, size_t size, int *slot)
{
	*slot = -1;
	if (!atomic_load(&installed) || size == 0)
		return NULL;
	unsigned i;
	for (i = 0; i < MAP_SLOTS; i++) {
		int free_slot = 0;
		if (atomic_compare_exchange_strong(&slots[i].owned, &free_slot, 1))
			break;
	}
	if (i == MAP_SLOTS)
		return NULL;
	void *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED) {
		atomic_store(&slots[i].owned, 0);
		return NULL;
	}
	/* Read ahead of the faults, as read() would. */
	(void)madvise(p, size, MADV_WILLNEED);
	atomic_store_explicit(&slots[i].fault_at, NO_FAULT, memory_order_relaxed);
	atomic_store_explicit(&slots[i].len, size, memory_order_relaxed);
	atomic_store_explicit(&slots[i].start, (uintptr_t)p, memory_order_release);
	slots[i].fd = fd;
	*slot = (int)i;
	return p;
}

void ttlog__reader_unmap(void *data, size_t size, int slot)
{
	if (slot < 0 || (unsigned)slot >= MAP_SLOTS)
		return;
	atomic_store_explicit(&slots[slot].start, 0, memory_order_release);
	munmap(data, size);
	close(slots[slot].fd);
	atomic_store(&slots[slot].owned, 0);
}

size_t ttlog__reader_map_fault(const struct ttlog_reader *r)
{
	size_t mapped = r->bytes ? r->bytes->mapped : r->mapped;
	int slot = r->bytes ? r->bytes->map_slot : r->map_slot;
	if (!mapped || slot < 0 || (unsigned)slot >= MAP_SLOTS)
		return NO_FAULT;
	/* The file's end may lie inside a page: the kernel shows the rest of
	 * that page as zeros, with no fault. So the size is asked too. */
	size_t gone = atomic_load(&slots[slot].fault_at);
	struct stat st;
	if (fstat(slots[slot].fd, &st) == 0 && st.st_size >= 0 && (uint64_t)st.st_size < mapped)
		gone = (size_t)st.st_size;
	return gone;
}

void ttlog__reader_drop_data(struct ttlog_reader *r)
{
	if (r->mapped)
		ttlog__reader_unmap(r->data, r->mapped, r->map_slot);
	else
		free(r->data);
	r->data = NULL;
	r->mapped = 0;
}
