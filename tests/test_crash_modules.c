/* SPDX-License-Identifier: MIT */
/*
 * test_crash_modules.c - the crash path's module list (src/proc/modules.c):
 * the link-map walk that brings the last refresh's list up to date without
 * dl_iterate_phdr(). In this process, without a crash (the walk is the
 * same code in and out of a signal handler):
 *   - the walk finds what a refresh finds, module for module;
 *   - a plugin dlopen'ed after the refresh is found, described from its ELF
 *     headers in memory exactly as dl_iterate_phdr() describes it, and left
 *     out again once dlclose'd;
 *   - the walk uses the loader's r_debug even when this program holds a
 *     stale copy of _r_debug, and reaches other namespaces (dlmopen);
 *   - fake link maps with bogus entries (unmapped or non-ELF memory,
 *     malformed ELF headers, unreadable names) skip and count the module;
 *     broken chains (unreadable, cyclic, l_prev wrong) abandon the walk;
 *     none of them crashes.
 * The plugin is build/tests/progs/crash_plugin.so (tests/progs/plugin/).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cmocka.h>

#include "proc/modules.h"
#include "support/testutil.h"

static struct ttlog__module_list *scratch; /* ttlog__modules_walk()'s output */
static unsigned char *unmapped;            /* a page with no access */
static size_t page;

static const char *plugin_path(void)
{
	return tu_prog("crash_plugin.so");
}

/* The first module of l whose path ends with suffix, or NULL. */
static const struct ttlog__module *by_path(const struct ttlog__module_list *l, const char *suffix)
{
	size_t n = strlen(suffix);
	for (uint32_t i = 0; l && i < l->count; i++) {
		const struct ttlog__module *m = &l->mods[i];
		if (m->path_len >= n && memcmp(l->paths + m->path_off + m->path_len - n, suffix, n) == 0)
			return m;
	}
	return NULL;
}

static const struct ttlog__module *by_bias_and_path(const struct ttlog__module_list *l,
						    const struct ttlog__module_list *from,
						    const struct ttlog__module *want)
{
	for (uint32_t i = 0; i < l->count; i++) {
		const struct ttlog__module *m = &l->mods[i];
		if (m->bias == want->bias && m->path_len == want->path_len &&
		    memcmp(l->paths + m->path_off, from->paths + want->path_off, m->path_len) == 0)
			return m;
	}
	return NULL;
}

static void assert_same_module(const struct ttlog__module *a, const struct ttlog__module *b)
{
	assert_int_equal(a->bias, b->bias);
	assert_int_equal(a->start, b->start);
	assert_int_equal(a->end, b->end);
	assert_int_equal(a->build_id_len, b->build_id_len);
	assert_memory_equal(a->build_id, b->build_id, a->build_id_len);
}

static struct link_map *plugin_link_map(void *handle)
{
	struct link_map *lm = NULL;
	assert_int_equal(dlinfo(handle, RTLD_DI_LINKMAP, &lm), 0);
	assert_non_null(lm);
	return lm;
}

static int plugin_loaded(void)
{
	void *h = dlopen(plugin_path(), RTLD_NOW | RTLD_NOLOAD);
	if (h)
		dlclose(h);
	return h != NULL;
}

static int setup(void **state)
{
	(void)state;
	/* The walk reads with process_vm_readv(); a sandbox may refuse it, and
	 * the crash path then keeps the refreshed list (nothing to test). */
	uint64_t probe = 7, copy = 0;
	struct iovec local = {&copy, sizeof copy}, remote = {&probe, sizeof probe};
	if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) != (ssize_t)sizeof copy) {
		fprintf(stderr, "process_vm_readv refused here (%s)\n", strerror(errno));
		return -1;
	}
	page = (size_t)sysconf(_SC_PAGESIZE);
	scratch = mmap(NULL, sizeof *scratch, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unmapped = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (scratch == MAP_FAILED || unmapped == MAP_FAILED)
		return -1;
	return tu_start(NULL);
}

static int teardown(void **state)
{
	munmap(scratch, sizeof *scratch);
	munmap(unmapped, page);
	return tu_stop(state);
}

/* Without a dlopen since the refresh, the crash list is the refreshed list. */
static void test_walk_finds_what_the_refresh_finds(void **state)
{
	(void)state;
	ttlog__modules_refresh();
	const struct ttlog__module_list *cur = ttlog__modules_current();
	const struct ttlog__module_list *crash = ttlog__modules_at_crash();
	assert_non_null(cur);
	assert_non_null(crash);
	assert_ptr_not_equal(crash, cur); /* the walk was done, not abandoned */
	assert_int_equal(crash->missing, 0);
	assert_int_equal(crash->count, cur->count);
	for (uint32_t i = 0; i < cur->count; i++) {
		const struct ttlog__module *m = by_bias_and_path(crash, cur, &cur->mods[i]);
		if (!m)
			fail_msg("module %.*s of the refresh is not in the crash list",
				 (int)cur->mods[i].path_len, cur->paths + cur->mods[i].path_off);
		assert_same_module(m, &cur->mods[i]);
	}
}

/* A plugin loaded after the refresh: only the walk sees it, and describes it
 * from memory as the next refresh does from dl_iterate_phdr(). dlclose'd,
 * it is gone from the walk's list. */
static void test_dlopen_after_refresh(void **state)
{
	(void)state;
	assert_false(plugin_loaded());
	ttlog__modules_refresh();
	assert_null(by_path(ttlog__modules_current(), "/crash_plugin.so"));

	void *h = dlopen(plugin_path(), RTLD_NOW | RTLD_LOCAL);
	assert_non_null(h);
	const struct ttlog__module_list *crash = ttlog__modules_at_crash();
	assert_ptr_not_equal(crash, ttlog__modules_current());
	const struct ttlog__module *found = by_path(crash, "/crash_plugin.so");
	assert_non_null(found);
	assert_int_equal(found->bias, plugin_link_map(h)->l_addr);
	assert_true(found->build_id_len >= 8); /* -Wl,--build-id: sha1 (20 bytes) by default */
	struct ttlog__module from_memory = *found;

	ttlog__modules_refresh();
	const struct ttlog__module *refreshed = by_path(ttlog__modules_current(), "/crash_plugin.so");
	assert_non_null(refreshed);
	assert_same_module(&from_memory, refreshed);

	assert_int_equal(dlclose(h), 0);
	if (plugin_loaded())
		skip(); /* still mapped (something else holds it): nothing to check */
	crash = ttlog__modules_at_crash();
	assert_null(by_path(crash, "/crash_plugin.so"));
	assert_int_equal(crash->missing, 0);
}

/*
 * This program uses _r_debug itself, so gcc gives it a copy of it (a copy
 * relocation in a PIE) that the loader filled while it was loading and no
 * longer updates: its r_state says RT_ADD for ever. The crash path must use
 * the loader's own r_debug (the program's DT_DEBUG) and still walk. With a
 * compiler that makes no copy, both are the same and the test still holds.
 */
static void test_program_with_its_own_r_debug(void **state)
{
	(void)state;
	const struct r_debug *loaders = NULL;
	for (const ElfW(Dyn) *d = _DYNAMIC; d->d_tag != DT_NULL; d++)
		if (d->d_tag == DT_DEBUG)
			loaders = (const struct r_debug *)(uintptr_t)d->d_un.d_ptr;
	assert_non_null(loaders);
	assert_int_equal(loaders->r_state, RT_CONSISTENT);
	if (loaders != &_r_debug)
		print_message("this program's _r_debug is a copy (r_state %d)\n", (int)_r_debug.r_state);
	ttlog__modules_refresh();
	assert_ptr_not_equal(ttlog__modules_at_crash(), ttlog__modules_current());
}

/* A module in another namespace (dlmopen), reached through r_next. */
static void test_dlmopen_namespace(void **state)
{
	(void)state;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	skip(); /* a sanitized plugin cannot start a second runtime in a new namespace */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
	skip();
#endif
#endif
	void *h = dlmopen(LM_ID_NEWLM, plugin_path(), RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		print_message("dlmopen: %s\n", dlerror());
		skip();
	}
	const struct ttlog__module_list *crash = ttlog__modules_at_crash();
	assert_ptr_not_equal(crash, ttlog__modules_current());
	const struct ttlog__module *found = by_path(crash, "/crash_plugin.so");
	assert_non_null(found);
	assert_int_equal(found->bias, plugin_link_map(h)->l_addr);
	assert_true(found->build_id_len >= 8);
	assert_int_equal(crash->missing, 0);
	dlclose(h);
}

/* Links fake entries a[0..n-1] into a chain (l_next and l_prev). */
static void chain(struct link_map *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		a[i].l_prev = i ? &a[i - 1] : NULL;
		a[i].l_next = i + 1 < n ? &a[i + 1] : NULL;
	}
}

/* Bogus modules are skipped and counted; the good one after them is read. */
static void test_bogus_modules_are_counted(void **state)
{
	(void)state;
	void *h = dlopen(plugin_path(), RTLD_NOW | RTLD_LOCAL);
	assert_non_null(h);
	const struct link_map *real = plugin_link_map(h);
	ttlog__modules_refresh();
	const struct ttlog__module *refreshed = by_path(ttlog__modules_current(), "/crash_plugin.so");
	assert_non_null(refreshed);

	/* Not ELF: zeros. ELF-looking headers with a bad e_phentsize, too many
	 * program headers, or program headers in unmapped memory. */
	static ElfW(Ehdr) zeros, bad_phentsize, bad_phnum, phdrs_unmapped;
	ElfW(Ehdr) good;
	memcpy(&good, (const void *)real->l_addr, sizeof good);
	bad_phentsize = good;
	bad_phentsize.e_phentsize = 12;
	bad_phnum = good;
	bad_phnum.e_phnum = 0xffff;
	phdrs_unmapped = good;
	phdrs_unmapped.e_phoff = (uintptr_t)unmapped - (uintptr_t)&phdrs_unmapped;

	struct link_map e[9];
	memset(e, 0, sizeof e);
	static char names[6][32] = {"/fake/unmapped.so", "/fake/zeros.so", "/fake/phentsize.so",
				    "/fake/phnum.so", "/fake/phdrs.so", "/fake/other-ld.so"};
	const void *headers[5] = {unmapped, &zeros, &bad_phentsize, &bad_phnum, &phdrs_unmapped};
	for (int i = 0; i < 5; i++) {
		e[i].l_addr = (uintptr_t)headers[i];
		e[i].l_name = names[i];
	}
	/* The real plugin's header, but another entry's dynamic section. */
	e[5].l_addr = real->l_addr;
	e[5].l_name = names[5];
	e[5].l_ld = (ElfW(Dyn) *)(uintptr_t)0x1000;
	/* The real plugin, with an unreadable name. */
	e[6].l_addr = real->l_addr;
	e[6].l_name = (char *)unmapped;
	e[6].l_ld = real->l_ld;
	/* The real plugin. */
	e[7] = (struct link_map){.l_addr = real->l_addr, .l_name = real->l_name, .l_ld = real->l_ld};
	/* A name that ends exactly at the end of a readable page. */
	char *edge = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(edge != MAP_FAILED);
	assert_int_equal(mprotect(edge + page, page, PROT_NONE), 0);
	size_t real_len = strlen(real->l_name);
	memcpy(edge + page - real_len - 1, real->l_name, real_len + 1);
	e[8] = (struct link_map){.l_addr = real->l_addr, .l_name = edge + page - real_len - 1,
				 .l_ld = real->l_ld};
	chain(e, 9);

	int added = ttlog__modules_walk(scratch, NULL, &e[0]);
	assert_int_equal(added, 2);
	assert_int_equal(scratch->missing, 7);
	assert_int_equal(scratch->count, 2);
	for (uint32_t i = 0; i < 2; i++) {
		const struct ttlog__module *m = &scratch->mods[i];
		assert_int_equal(m->path_len, real_len);
		assert_memory_equal(scratch->paths + m->path_off, real->l_name, real_len);
		assert_same_module(m, refreshed);
	}

	/* With the refreshed list as `old`, the real entries are copied from it. */
	assert_int_equal(ttlog__modules_walk(scratch, ttlog__modules_current(), &e[0]), 0);
	assert_int_equal(scratch->count, 2);
	assert_int_equal(scratch->missing, 7);

	munmap(edge, 2 * page);
	dlclose(h);
}

/* A chain that cannot be followed abandons the walk, whatever it found. */
static void test_broken_chains_are_abandoned(void **state)
{
	(void)state;
	static char name[] = "/fake/x.so";
	struct link_map e[3];
	memset(e, 0, sizeof e);
	for (int i = 0; i < 3; i++) {
		e[i].l_addr = (uintptr_t)unmapped;
		e[i].l_name = name;
	}

	chain(e, 3);
	assert_int_equal(ttlog__modules_walk(scratch, NULL, &e[0]), 0);
	assert_int_equal(scratch->missing, 3); /* the intact chain, for reference */

	assert_int_equal(ttlog__modules_walk(scratch, NULL, unmapped), -1);

	chain(e, 3);
	e[2].l_next = (struct link_map *)(void *)unmapped;
	assert_int_equal(ttlog__modules_walk(scratch, NULL, &e[0]), -1);

	chain(e, 3);
	e[2].l_next = &e[0]; /* a cycle back to the head */
	assert_int_equal(ttlog__modules_walk(scratch, NULL, &e[0]), -1);

	chain(e, 3);
	e[2].l_next = &e[1]; /* a cycle into the middle */
	assert_int_equal(ttlog__modules_walk(scratch, NULL, &e[0]), -1);

	chain(e, 3);
	e[1].l_prev = NULL; /* not the entry before it */
	assert_int_equal(ttlog__modules_walk(scratch, NULL, &e[0]), -1);

	/* A chain longer than the walk follows (each entry consistent). */
	size_t n = TTLOG__MODULES_WALK_MAX + 1;
	struct link_map *many = calloc(n, sizeof *many);
	assert_non_null(many);
	for (size_t i = 0; i < n; i++)
		many[i].l_addr = (uintptr_t)unmapped; /* no name: read as "" */
	chain(many, n);
	assert_int_equal(ttlog__modules_walk(scratch, NULL, &many[0]), -1);
	chain(many, n - 1); /* at the bound: followed to its end */
	assert_int_equal(ttlog__modules_walk(scratch, NULL, &many[0]), 0);
	assert_int_equal(scratch->missing, n - 1);
	free(many);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_walk_finds_what_the_refresh_finds),
		cmocka_unit_test(test_dlopen_after_refresh),
		cmocka_unit_test(test_program_with_its_own_r_debug),
		cmocka_unit_test(test_dlmopen_namespace),
		cmocka_unit_test(test_bogus_modules_are_counted),
		cmocka_unit_test(test_broken_chains_are_abandoned),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
