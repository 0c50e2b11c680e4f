/* SPDX-License-Identifier: MIT */
/*
 * modules.c - the list of loaded modules (path, load bias, address range,
 * GNU build-id) for the MODS chunk.
 *
 * Three lists are reserved at init. Two take turns for the refreshes: a
 * refresh (normal context, under `refresh_lock`) fills the list that is not
 * current with dl_iterate_phdr() and then publishes it by storing its
 * number in `current` (LMM(current:R), below). The list a reader got is
 * rewritten only by the second refresh after it was replaced, which a dying
 * process does not wait for.
 *
 * dl_iterate_phdr() is not async-signal-safe (it takes the loader's lock),
 * so the crash path cannot call it. Instead, ttlog__modules_at_crash() walks
 * the dynamic linker's link map (_r_debug.r_map, the list debuggers read)
 * without a lock (found as debuggers find it: find_debug()), through every
 * namespace (r_next, glibc 2.35), and builds the third list, CRASH_LIST,
 * from it: a module the current list already has (same bias, same path) is
 * copied from it; any other is described from its ELF header and program
 * headers in memory, with the same code the refresh uses (describe()); a
 * module of the current list that is no longer in the link map (dlclose)
 * is left out. A module loaded after the last refresh is therefore in a
 * crash snapshot's list, and so are those of other namespaces (dlmopen),
 * which dl_iterate_phdr() does not report (it lists its caller's only).
 *
 * CRASH_LIST has one writer: only the thread that owns the crash
 * (src/crash/crash.c claims `crash_owner` with a compare-and-swap before it
 * calls ttlog__modules_at_crash(); a second crashing thread waits and never
 * gets here) writes it, and only that thread's snapshot writer reads it,
 * after the call returned. Same thread, so no barrier is needed for it; no
 * refresh ever touches it.
 *
 * Reading loader memory at crash time: the process is crashing and its
 * memory may be corrupt, so every read of the link map, of a module's path
 * and of its ELF headers and notes goes through checked_read(), which copies
 * with process_vm_readv() on this very process: an unmapped or unreadable
 * source makes the system call fail with EFAULT instead of raising a
 * signal. (POSIX does not list it, being Linux's own, but glibc's wrapper
 * is the bare system call: no lock, no memory, so safe in a handler.) This
 * rather than the sigsetjmp guard of src/proc/stack.c, because that guard
 * catches only the signals ttlog handles (a program may leave SIGBUS out,
 * and a read past the end of a truncated library file raises SIGBUS),
 * needs the crash handler to be installed, and would have to unblock the
 * fault signals around the walk. The price is a system call per read: two
 * per module (its entry, its name) and a few more per new module, some
 * 30 us per crash for a small program (docs/DESIGN.md).
 * ttlog__modules_init() checks once that the call works here (a seccomp
 * filter may refuse it); if it does not, the crash path keeps the last
 * refresh's list, as before.
 *
 * Limits of the walk: the ELF header of a module that was not in the last
 * refresh is looked for at its load bias (true of every shared object whose
 * first PT_LOAD maps file offset 0 at address 0, which is what the linkers
 * produce); the header is then checked against the link map (its
 * PT_DYNAMIC must be the entry's l_ld). A module that fails a check is
 * counted in `missing`. A link map that is being changed (r_state not
 * RT_CONSISTENT), or that cannot be followed (unreadable entry, l_prev not
 * the previous entry, more than TTLOG__MODULES_WALK_MAX entries) makes the
 * crash path keep the last refresh's list.
 */
#define _GNU_SOURCE
#include "proc/modules.h"

#include <elf.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/internal.h"
#include "common/state.h"

#define CRASH_LIST 2
#define NAMESPACES_MAX 64u       /* glibc has 16 (DL_NNS) */
#define PHNUM_MAX 256u           /* program headers of a module read at crash time */
#define NOTE_MAX 2048u           /* bytes of a PT_NOTE segment searched at crash time */

#if __ELF_NATIVE_CLASS == 64
#define HOST_ELFCLASS ELFCLASS64
#else
#define HOST_ELFCLASS ELFCLASS32
#endif
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_ELFDATA ELFDATA2LSB
#else
#define HOST_ELFDATA ELFDATA2MSB
#endif

static struct ttlog__module_list *lists[3];
static _Atomic int current = -1;        /* index into lists[0..1], -1: none yet */
static pthread_mutex_t refresh_lock = PTHREAD_MUTEX_INITIALIZER;
static int checked_reads;               /* process_vm_readv works here (set at init) */
static uint64_t debug_addr;             /* the loader's r_debug (set at init) */
static size_t page_size;

/* The crash path's scratch memory; its one user is the crash owner (or a
 * test calling ttlog__modules_walk()). */
static ElfW(Phdr) crash_phdrs[PHNUM_MAX];
static unsigned char crash_note[NOTE_MAX];
static char crash_path[PATH_MAX + 1];

/* glibc's r_debug_extended (glibc 2.35, r_version 2), declared here so that
 * older headers build too: the namespaces after the first are chained by
 * r_next. */
struct debug_ns {
	struct r_debug base;
	const struct debug_ns *r_next;
};

/* ---- Checked reads (crash path) ------------------------------------------ */

struct walker {
	pid_t pid;                       /* ours: process_vm_readv reads this process */
};

/* Copies len bytes at addr into dst, all or nothing: 0, or -1 if any of
 * them is unmapped or unreadable (EFAULT, no signal). Runs in signal context. */
static int checked_read(const struct walker *w, void *dst, uint64_t addr, size_t len)
{
	if (len == 0)
		return 0;
	struct iovec local = {dst, len};
	struct iovec remote = {(void *)(uintptr_t)addr, len};
	return process_vm_readv(w->pid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -1;
}

/*
 * Copies the NUL-terminated string at addr into buf (cap bytes, room for
 * the NUL included) a page at a time, so that a short string at the end of
 * the last readable page is still read. Its length, or -1 if it is
 * unreadable or does not fit. Runs in signal context.
 */
static long checked_string(const struct walker *w, char *buf, size_t cap, uint64_t addr)
{
	size_t got = 0;
	while (got < cap) {
		uint64_t at = addr + got;
		size_t n = TTLOG__MIN(page_size - (size_t)(at % page_size), cap - got);
		if (checked_read(w, buf + got, at, n) != 0)
			return -1;
		const char *nul = memchr(buf + got, '\0', n);
		if (nul)
			return nul - buf;
		got += n;
	}
	return -1;
}

/* ---- Describing a module (shared by both paths) --------------------------- */

/*
 * Where describe() gets the bytes of a PT_NOTE segment (len of them at
 * addr): a pointer to at most *len bytes, *len lowered to what it returns,
 * or NULL. In normal context the loader vouches for the memory; at crash
 * time it is copied with a checked read.
 */
typedef const unsigned char *(*note_source)(const struct walker *w, uint64_t addr, size_t *len);

static const unsigned char *notes_in_place(const struct walker *w, uint64_t addr, size_t *len)
{
	(void)w;
	(void)len;
	return (const unsigned char *)(uintptr_t)addr;
}

/* Runs in signal context. */
static const unsigned char *notes_checked(const struct walker *w, uint64_t addr, size_t *len)
{
	size_t n = TTLOG__MIN(*len, sizeof crash_note);
	if (checked_read(w, crash_note, addr, n) != 0)
		return NULL;
	*len = n;
	return crash_note;
}

/* Copies the GNU build-id from a note segment's bytes (p, left), whose
 * notes are aligned to `align`, if it has one. Runs in signal context. */
static void find_build_id(struct ttlog__module *m, const unsigned char *p, size_t left, size_t align)
{
	while (left >= sizeof(ElfW(Nhdr))) {
		ElfW(Nhdr) nh;
		memcpy(&nh, p, sizeof nh);
		size_t name = ((size_t)nh.n_namesz + align - 1) & ~(align - 1);
		size_t desc = ((size_t)nh.n_descsz + align - 1) & ~(align - 1);
		size_t size = sizeof nh + name;
		if (name > left || desc > left || size > left - desc)
			return;
		if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && memcmp(p + sizeof nh, "GNU", 4) == 0 &&
		    nh.n_descsz > 0 && nh.n_descsz <= TTLOG__FMT_MOD_MAX_BUILD_ID) {
			memcpy(m->build_id, p + size, nh.n_descsz);
			m->build_id_len = nh.n_descsz;
			return;
		}
		p += size + desc;
		left -= size + desc;
	}
}

/*
 * Fills m (all but the path) from a module's load bias and program headers:
 * the range its PT_LOAD segments cover and the build-id of its PT_NOTE
 * segments, whose bytes come from `notes`. -1 if nothing is mapped (no
 * PT_LOAD, or a segment whose end overflows). Runs in signal context (with
 * notes_checked; the refresh passes notes_in_place).
 */
static int describe(struct ttlog__module *m, uint64_t bias, const ElfW(Phdr) *phdr, size_t phnum,
		    note_source notes, const struct walker *w)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	memset(m, 0, sizeof *m);
	for (size_t i = 0; i < phnum; i++) {
		const ElfW(Phdr) *ph = &phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uint64_t a = bias + ph->p_vaddr;
		if (ph->p_memsz > UINT64_MAX - a)
			return -1;
		lo = TTLOG__MIN(lo, a);
		hi = TTLOG__MAX(hi, a + ph->p_memsz);
	}
	if (lo > hi)
		return -1;
	m->bias = bias;
	m->start = lo;
	m->end = hi;
	for (size_t i = 0; i < phnum && m->build_id_len == 0; i++) {
		const ElfW(Phdr) *ph = &phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		size_t len = ph->p_memsz;
		const unsigned char *p = notes(w, bias + ph->p_vaddr, &len);
		if (p)
			find_build_id(m, p, len, ph->p_align == 8 ? 8 : 4);
	}
	return 0;
}

/* Adds m with its path to l; counted in `missing` if there is no room.
 * Runs in signal context. */
static void append(struct ttlog__module_list *l, const struct ttlog__module *m, const char *path,
		   size_t len)
{
	if (l->count >= TTLOG__MAX_MODULES || len > PATH_MAX || len > sizeof l->paths - l->paths_len) {
		l->missing++;
		return;
	}
	struct ttlog__module *e = &l->mods[l->count++];
	*e = *m;
	e->path_off = l->paths_len;
	e->path_len = (uint32_t)len;
	memcpy(l->paths + l->paths_len, path, len);
	l->paths_len += (uint32_t)len;
}

/* ---- The refresh (normal context) ----------------------------------------- */

struct fill {
	struct ttlog__module_list *list;
	int first;                      /* the next callback is the first (the program) */
	int unchanged;                  /* the counters match the current list: stop */
	const struct ttlog__module_list *old;
};

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
	struct ttlog__module m;
	if (describe(&m, info->dlpi_addr, info->dlpi_phdr, info->dlpi_phnum, notes_in_place, NULL) == 0)
		append(l, &m, path, strlen(path));
	/* else nothing mapped: nothing a pc can be in */
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
	/* LMM(current:R) Release: the list's contents before its number; pairs
	 * with LMM(current:A) in ttlog__modules_current(). */
	atomic_store_explicit(&current, next, memory_order_release);
}

/*
 * The loader's own r_debug, as debuggers find it: the DT_DEBUG entry of the
 * program's dynamic section, which the loader fills at start-up. Not
 * &_r_debug: a program that uses _r_debug itself may hold a copy of it
 * (an R_X86_64_COPY relocation in a PIE built by gcc), taken while the
 * program was being loaded and never updated (r_state stays RT_ADD), and
 * our reference would bind to that copy. &_r_debug only if the program
 * has no DT_DEBUG. A dl_iterate_phdr() callback; the program comes first.
 */
static int find_debug(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	uint64_t *found = arg;
	for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_DYNAMIC)
			continue;
		const ElfW(Dyn) *d = (const ElfW(Dyn) *)(uintptr_t)(info->dlpi_addr + ph->p_vaddr);
		size_t n = ph->p_memsz / sizeof *d;
		for (size_t k = 0; k < n && d[k].d_tag != DT_NULL; k++)
			if (d[k].d_tag == DT_DEBUG && d[k].d_un.d_ptr != 0)
				*found = d[k].d_un.d_ptr;
	}
	return 1; /* the program only */
}

int ttlog__modules_init(void)
{
	pthread_mutex_lock(&refresh_lock);
	for (int i = 0; i < 3; i++) {
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
	page_size = (size_t)sysconf(_SC_PAGESIZE);
	/* Whether the crash path can read loader memory safely here: one
	 * checked read of a variable of ours (a seccomp filter may refuse
	 * process_vm_readv with EPERM or ENOSYS). */
	struct walker w = {getpid()};
	uint64_t probe = 1, copy = 0;
	checked_reads = checked_read(&w, &copy, (uintptr_t)&probe, sizeof probe) == 0 && copy == probe;
	uint64_t found = 0;
	dl_iterate_phdr(find_debug, &found);
	debug_addr = found ? found : (uintptr_t)&_r_debug;
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
	/* LMM(current:A) Acquire: the list's contents after its number; pairs
	 * with LMM(current:R) in refresh_locked(). */
	int cur = atomic_load_explicit(&current, memory_order_acquire);
	return cur < 0 ? NULL : lists[cur];
}

/* ---- The link-map walk (crash path) --------------------------------------- */

/*
 * Describes the module whose link-map entry has load bias `bias` and
 * dynamic section `ld` from the ELF header at `bias` and the program
 * headers it points to. -1 if they are unreadable, not a well-formed ELF
 * header of this machine's class and byte order, or not this entry's
 * (its PT_DYNAMIC is not at `ld`). Runs in signal context.
 */
static int read_module(const struct walker *w, struct ttlog__module *m, uint64_t bias, uint64_t ld)
{
	ElfW(Ehdr) eh;
	if (checked_read(w, &eh, bias, sizeof eh) != 0)
		return -1;
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != HOST_ELFCLASS ||
	    eh.e_ident[EI_DATA] != HOST_ELFDATA || eh.e_phentsize != sizeof(ElfW(Phdr)) ||
	    eh.e_phnum == 0 || eh.e_phnum > PHNUM_MAX || eh.e_phoff > UINT64_MAX - bias)
		return -1;
	/* The headers are mapped with the ELF header: the first PT_LOAD starts
	 * at file offset 0, which is where the header was found. */
	if (checked_read(w, crash_phdrs, bias + eh.e_phoff, eh.e_phnum * sizeof crash_phdrs[0]) != 0)
		return -1;
	int dynamic_matches = ld == 0;
	for (size_t i = 0; i < eh.e_phnum; i++)
		if (crash_phdrs[i].p_type == PT_DYNAMIC && bias + crash_phdrs[i].p_vaddr == ld)
			dynamic_matches = 1;
	if (!dynamic_matches)
		return -1;
	return describe(m, bias, crash_phdrs, eh.e_phnum, notes_checked, w);
}

/* The module of `old` with this bias and path, or NULL. Runs in signal context. */
static const struct ttlog__module *find_old(const struct ttlog__module_list *old, uint64_t bias,
					    const char *path, size_t len)
{
	uint32_t n = old ? TTLOG__MIN(old->count, TTLOG__MAX_MODULES) : 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct ttlog__module *m = &old->mods[i];
		/* Bounded even if a refresh rewrote the list under us (see the
		 * file's comment: only a second refresh can). */
		if (m->bias == bias && m->path_len == len && m->path_off <= sizeof old->paths &&
		    len <= sizeof old->paths - m->path_off && memcmp(old->paths + m->path_off, path, len) == 0)
			return m;
	}
	return NULL;
}

/*
 * Appends to `out` the modules of the link-map chain starting at `head`
 * (one namespace): those `old` has are copied from it, the others read from
 * memory; an unreadable or malformed module is counted in out->missing.
 * `program`: the first entry is the program (its empty name is its path).
 * The number of modules read from memory, or -1 if the chain cannot be
 * followed. Runs in signal context.
 */
static int walk_chain(const struct walker *w, struct ttlog__module_list *out,
		      const struct ttlog__module_list *old, uint64_t head, int program)
{
	int added = 0;
	uint64_t prev = 0;
	for (uint32_t n = 0; head != 0; n++) {
		struct link_map lm; /* <link.h>'s part: the fields shared with debuggers */
		if (n >= TTLOG__MODULES_WALK_MAX || checked_read(w, &lm, head, sizeof lm) != 0 ||
		    (uint64_t)(uintptr_t)lm.l_prev != prev)
			return -1;
		long len = lm.l_name ? checked_string(w, crash_path, sizeof crash_path, (uintptr_t)lm.l_name)
				     : 0;
		if (len == 0)
			crash_path[0] = '\0';
		const char *path = crash_path;
		if (n == 0 && program && len == 0) {
			path = ttlog__g.executable;
			len = (long)strlen(path);
		}
		if (len < 0) {
			out->missing++; /* a name we cannot read: we cannot tell which module */
		} else {
			const struct ttlog__module *m = find_old(old, lm.l_addr, path, (size_t)len);
			struct ttlog__module fresh;
			if (m) {
				append(out, m, path, (size_t)len);
			} else if (read_module(w, &fresh, lm.l_addr, (uintptr_t)lm.l_ld) == 0) {
				append(out, &fresh, path, (size_t)len);
				added++;
			} else {
				out->missing++;
			}
		}
		prev = head;
		head = (uintptr_t)lm.l_next;
	}
	return added;
}

/* Empties out, keeping old's loader counters. Runs in signal context. */
static void reset_list(struct ttlog__module_list *out, const struct ttlog__module_list *old)
{
	out->count = out->missing = out->paths_len = 0;
	out->adds = old ? old->adds : 0;
	out->subs = old ? old->subs : 0;
}

/* Runs in signal context. */
int ttlog__modules_walk(struct ttlog__module_list *out, const struct ttlog__module_list *old,
			const void *head)
{
	struct walker w = {getpid()};
	reset_list(out, old);
	if (!checked_reads)
		return -1;
	return walk_chain(&w, out, old, (uintptr_t)head, 0);
}

/* Runs in signal context. */
const struct ttlog__module_list *ttlog__modules_at_crash(void)
{
	const struct ttlog__module_list *old = ttlog__modules_current();
	struct ttlog__module_list *out = lists[CRASH_LIST];
	if (!old || !out || !checked_reads)
		return old;
	struct walker w = {getpid()};
	reset_list(out, old);
	uint64_t at = debug_addr;
	for (uint32_t ns = 0; at != 0; ns++) {
		struct debug_ns d;
		if (ns >= NAMESPACES_MAX || checked_read(&w, &d.base, at, sizeof d.base) != 0 ||
		    d.base.r_version < 1 || d.base.r_state != RT_CONSISTENT)
			return old;
		d.r_next = NULL;
		if (d.base.r_version >= 2 && checked_read(&w, &d, at, sizeof d) != 0)
			return old;
		if (walk_chain(&w, out, old, (uintptr_t)d.base.r_map, ns == 0) < 0)
			return old;
		/* A dlopen or dlclose on another thread during the walk: what was
		 * read may mix the lists before and after it. */
		struct r_debug again;
		if (checked_read(&w, &again, at, sizeof again) != 0 || again.r_state != RT_CONSISTENT)
			return old;
		at = (uintptr_t)d.r_next;
	}
	return out;
}
