/*
 * modules.c - the list of loaded modules (path, load bias, address range,
 * GNU build-id) for the MODS chunk.
 *
 * Two lists are reserved at init. A refresh (normal context, under
 * `refresh_lock`) fills the list that is not current and then publishes it
 * by storing its number in `current` (release; pairs with the acquire load
 * in ttlog__modules_current()), so the crash handler, which may interrupt a
 * refresh on its own thread or run beside one on another, always reads a
 * complete list. The list it reads is rewritten only by the second refresh
 * after it was replaced, which a dying process does not wait for.
 *
 * dl_iterate_phdr() is not async-signal-safe (it takes the loader's lock),
 * so it is never called from the crash path: a module loaded after the last
 * refresh is missing from a crash snapshot's list (its frames then fall
 * outside every module, which a reader can see).
 */
#define _GNU_SOURCE
#include "crash/modules.h"

#include <elf.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include "common/internal.h"
#include "core/state.h"

static struct ttlog__module_list *lists[2];
static _Atomic int current = -1;        /* index into lists[], -1: none yet */
static pthread_mutex_t refresh_lock = PTHREAD_MUTEX_INITIALIZER;

struct fill {
	struct ttlog__module_list *list;
	int first;                      /* the next callback is the first (the program) */
	int unchanged;                  /* the counters match the current list: stop */
	const struct ttlog__module_list *old;
};

/* Copies the GNU build-id from the module's PT_NOTE segments, if any. */
static void find_build_id(const struct dl_phdr_info *info, struct ttlog__module *m)
{
	for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		size_t align = ph->p_align == 8 ? 8 : 4;
		const unsigned char *p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
		size_t left = ph->p_memsz;
		while (left >= sizeof(ElfW(Nhdr))) {
			ElfW(Nhdr) nh;
			memcpy(&nh, p, sizeof nh);
			size_t name = (nh.n_namesz + align - 1) & ~(align - 1);
			size_t desc = (nh.n_descsz + align - 1) & ~(align - 1);
			size_t size = sizeof nh + name;
			if (name > left || desc > left || size > left - desc)
				break;
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    memcmp(p + sizeof nh, "GNU", 4) == 0 && nh.n_descsz > 0 &&
			    nh.n_descsz <= TTLOG_FMT_MOD_MAX_BUILD_ID) {
				memcpy(m->build_id, p + size, nh.n_descsz);
				m->build_id_len = nh.n_descsz;
				return;
			}
			p += size + desc;
			left -= size + desc;
		}
	}
}

static int add_module(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct fill *f = arg;
	struct ttlog__module_list *l = f->list;
	int first = f->first;
	f->first = 0;
	if (first && size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs) {
		l->adds = info->dlpi_adds;
		l->subs = info->dlpi_subs;
		if (f->old && f->old->adds == l->adds && f->old->subs == l->subs) {
			f->unchanged = 1;
			return 1; /* stops the iteration */
		}
	}
	const char *path = info->dlpi_name ? info->dlpi_name : "";
	if (first && path[0] == '\0')
		path = ttlog__g.executable;
	size_t len = strlen(path);
	if (l->count >= TTLOG__MAX_MODULES || len > PATH_MAX || len > sizeof l->paths - l->paths_len) {
		l->missing++;
		return 0;
	}
	uint64_t lo = UINT64_MAX, hi = 0;
	for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uint64_t a = info->dlpi_addr + ph->p_vaddr;
		lo = TTLOG_MIN(lo, a);
		hi = TTLOG_MAX(hi, a + ph->p_memsz);
	}
	if (lo > hi)
		return 0; /* nothing mapped: nothing a pc can be in */
	struct ttlog__module *m = &l->mods[l->count++];
	memset(m, 0, sizeof *m);
	m->bias = info->dlpi_addr;
	m->start = lo;
	m->end = hi;
	m->path_off = l->paths_len;
	m->path_len = (uint32_t)len;
	memcpy(l->paths + l->paths_len, path, len);
	l->paths_len += (uint32_t)len;
	find_build_id(info, m);
	return 0;
}

/* Reads the list into the spare slot and publishes it. Caller holds the lock. */
static void refresh_locked(int force)
{
	int cur = atomic_load_explicit(&current, memory_order_relaxed);
	int next = cur == 0 ? 1 : 0;
	struct fill f = {lists[next], 1, 0, force || cur < 0 ? NULL : lists[cur]};
	f.list->count = f.list->missing = f.list->paths_len = 0;
	f.list->adds = f.list->subs = 0;
	dl_iterate_phdr(add_module, &f);
	if (f.unchanged)
		return;
	/* Release: the list's contents before its number; pairs with the
	 * acquire in ttlog__modules_current(). */
	atomic_store_explicit(&current, next, memory_order_release);
}

int ttlog__modules_init(void)
{
	pthread_mutex_lock(&refresh_lock);
	for (int i = 0; i < 2; i++) {
		if (lists[i])
			continue;
		void *m = mmap(NULL, sizeof *lists[i], PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED) {
			pthread_mutex_unlock(&refresh_lock);
			return TTLOG_E_NOMEM;
		}
		lists[i] = m;
	}
	refresh_locked(1); /* the executable's path may have changed since last time */
	pthread_mutex_unlock(&refresh_lock);
	return TTLOG_OK;
}

void ttlog__modules_refresh(void)
{
	pthread_mutex_lock(&refresh_lock);
	if (lists[0] && lists[1])
		refresh_locked(0);
	pthread_mutex_unlock(&refresh_lock);
}

/* Runs in signal context. */
const struct ttlog__module_list *ttlog__modules_current(void)
{
	int cur = atomic_load_explicit(&current, memory_order_acquire);
	return cur < 0 ? NULL : lists[cur];
}
