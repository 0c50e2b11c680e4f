/* SPDX-License-Identifier: MIT */
/*
 * test_symbolize.c - the stack symboliser of `ttlog view` (src/cli/symbolize.c)
 * on this very process: its modules are listed with dl_iterate_phdr, as the
 * crash handler records them (path, load bias, range of the PT_LOAD
 * segments, build-id from the PT_NOTE segments), and addresses of functions
 * of this file must come back as their names, this file and their lines.
 * Then what must not happen: a rebuilt binary (another build-id at the
 * recorded path) giving lines, an address outside every module or a file
 * that is not ELF making it crash. And separate debug files: this program,
 * stripped of its debug information, has lines again only when the
 * directory with its debug file is given.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <link.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/symbolize.h"
#include "support/testutil.h"

#define MAX_MODULES 128
#define MAX_ID 64

/* ---- Functions whose addresses are looked up ------------------------------ */

static void *volatile captured_return; /* return address of capture()'s last call */
static volatile unsigned captured_line; /* the line of that call */

static __attribute__((noinline)) void capture(unsigned line)
{
	captured_return = __builtin_return_address(0);
	captured_line = line;
	__asm__ volatile("" ::: "memory"); /* not a tail call: a real return address */
}

static const unsigned known_function_line = __LINE__ + 1;
static __attribute__((noinline)) void known_function(void)
{
	capture(__LINE__);
	__asm__ volatile("" ::: "memory");
}

static __attribute__((always_inline)) inline void inlined_callee(void)
{
	capture(__LINE__);
}

static volatile unsigned inlined_call_line;
static __attribute__((noinline)) void calls_inlined(void)
{
	inlined_callee(); inlined_call_line = __LINE__;
	__asm__ volatile("" ::: "memory");
}

/* ---- This process's modules --------------------------------------------- */

struct modules {
	struct ttlog_module m[MAX_MODULES];
	char path[MAX_MODULES][PATH_MAX];
	uint8_t id[MAX_MODULES][MAX_ID];
	size_t n;
};

/* The GNU build-id among the notes of a loaded PT_NOTE segment. */
static void read_build_id(const unsigned char *p, size_t size, uint8_t *id, uint32_t *len)
{
	size_t off = 0;
	while (off + sizeof(ElfW(Nhdr)) <= size) {
		const ElfW(Nhdr) *nh = (const void *)(p + off);
		size_t name_at = off + sizeof *nh;
		size_t desc_at = name_at + ((nh->n_namesz + 3u) & ~3u);
		size_t next = desc_at + ((nh->n_descsz + 3u) & ~3u);
		if (next > size)
			return;
		if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
		    memcmp(p + name_at, "GNU", 4) == 0 && nh->n_descsz <= MAX_ID) {
			memcpy(id, p + desc_at, nh->n_descsz);
			*len = nh->n_descsz;
			return;
		}
		off = next;
	}
}

static int add_object(struct dl_phdr_info *info, size_t size, void *data)
{
	struct modules *ms = data;
	(void)size;
	if (ms->n == MAX_MODULES)
		return 1;
	size_t i = ms->n;
	struct ttlog_module *m = &ms->m[i];
	uint64_t lo = UINT64_MAX, hi = 0;
	uint32_t idlen = 0;

	if (info->dlpi_name && info->dlpi_name[0]) {
		snprintf(ms->path[i], PATH_MAX, "%s", info->dlpi_name);
	} else {
		ssize_t n = readlink("/proc/self/exe", ms->path[i], PATH_MAX - 1);
		ms->path[i][n > 0 ? n : 0] = '\0';
	}
	for (int k = 0; k < info->dlpi_phnum; k++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[k];
		uint64_t a = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD) {
			if (a < lo)
				lo = a;
			if (a + ph->p_memsz > hi)
				hi = a + ph->p_memsz;
		} else if (ph->p_type == PT_NOTE && !idlen) {
			read_build_id((const unsigned char *)(uintptr_t)a, ph->p_memsz, ms->id[i], &idlen);
		}
	}
	if (lo >= hi)
		return 0;
	m->path = ms->path[i];
	m->bias = info->dlpi_addr;
	m->start = lo;
	m->end = hi;
	m->build_id = idlen ? ms->id[i] : NULL;
	m->build_id_len = idlen;
	ms->n++;
	return 0;
}

static struct modules *own_modules(void)
{
	struct modules *ms = calloc(1, sizeof *ms);
	assert_non_null(ms);
	dl_iterate_phdr(add_object, ms);
	assert_true(ms->n >= 2);
	return ms;
}

/* The module that contains addr. */
static struct ttlog_module *module_of(struct modules *ms, uint64_t addr)
{
	for (size_t i = 0; i < ms->n; i++)
		if (addr >= ms->m[i].start && addr < ms->m[i].end)
			return &ms->m[i];
	fail_msg("no module contains 0x%" PRIx64, addr);
	return NULL;
}

static uint64_t addr_of(void (*fn)(void))
{
	return (uint64_t)(uintptr_t)fn;
}

static const char *base_name(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;
	return slash ? slash + 1 : path;
}

static void assert_this_file(const struct cli_sym_frame *f)
{
	assert_non_null(f->file);
	assert_string_equal(base_name(f->file), "test_symbolize.c");
}

/* Every note of s joined, for the checks on what it says. */
static void notes_text(struct cli_sym *s, char *out, size_t cap)
{
	const char *n;
	out[0] = '\0';
	while ((n = cli_sym_next_note(s)) != NULL) {
		strncat(out, n, cap - strlen(out) - 1);
		strncat(out, "\n", cap - strlen(out) - 1);
	}
}

/* ---- Running binutils ---------------------------------------------------- */

/* The full path of a program on PATH (static buffer), or NULL. */
static const char *find_tool(const char *name)
{
	static char buf[PATH_MAX];
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/bin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");
		snprintf(buf, sizeof buf, "%.*s/%s", (int)len, path, name);
		if (len && access(buf, X_OK) == 0)
			return buf;
		path += len + (path[len] == ':');
	}
	return NULL;
}

/* Runs a binutils program (argv[0] a name on PATH); 0 if it succeeded. */
static int run_tool(const char *const *args)
{
	char tool[PATH_MAX], out[4096];
	char *argv[8];
	int status;
	const char *t = find_tool(args[0]);
	if (!t)
		return -1;
	snprintf(tool, sizeof tool, "%s", t);
	argv[0] = tool;
	for (int i = 1; i < 8; i++)
		if (!(argv[i] = (char *)args[i]))
			break;
	if (tu_run(argv, 120, &status, out, sizeof out) != 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "%s failed: %s\n", args[0], out);
		return -1;
	}
	return 0;
}

static void copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	ssize_t n;
	assert_true(in >= 0 && out >= 0);
	while ((n = read(in, buf, sizeof buf)) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	assert_int_equal(n, 0);
	close(in);
	close(out);
}

static void write_file(const char *path, const void *bytes, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes, len), (ssize_t)len);
	close(fd);
}

/* ---- Tests --------------------------------------------------------------- */

static void test_function_and_line(void **state)
{
	struct modules *ms = own_modules();
	struct cli_sym_frame f[8];
	(void)state;
	struct cli_sym *s = cli_sym_open(ms->m, ms->n, NULL, 0, 0);
	assert_non_null(s);

	uint64_t a = addr_of(known_function);
	struct ttlog_module *m = module_of(ms, a);
	assert_int_equal(cli_sym_lookup(s, a, 0, f, 8), 1);
	assert_string_equal(f[0].module, m->path);
	assert_int_equal(f[0].offset, a - m->bias);
	assert_non_null(f[0].function);
	assert_string_equal(f[0].function, "known_function");
	assert_this_file(&f[0]);
	/* The entry of a function is on the line of its declarator (or the
	 * brace after it). */
	assert_in_range(f[0].line, known_function_line, known_function_line + 2);
	assert_int_equal(f[0].inlined, 0);
	assert_null(cli_sym_next_note(s));
	cli_sym_close(s);
	free(ms);
}

static void test_return_address_is_the_call(void **state)
{
	struct modules *ms = own_modules();
	struct cli_sym_frame f[8];
	(void)state;
	struct cli_sym *s = cli_sym_open(ms->m, ms->n, NULL, 0, 0);
	assert_non_null(s);

	known_function();
	uint64_t ret = (uint64_t)(uintptr_t)captured_return;
	assert_int_equal(cli_sym_lookup(s, ret, 1, f, 8), 1);
	assert_string_equal(f[0].function, "known_function");
	assert_this_file(&f[0]);
	assert_int_equal(f[0].line, captured_line);
	/* The offset is the return address's own, not the looked-up one. */
	assert_int_equal(f[0].offset, ret - module_of(ms, ret)->bias);
	cli_sym_close(s);
	free(ms);
}

static void test_inlined_frames(void **state)
{
	struct modules *ms = own_modules();
	struct cli_sym_frame f[8];
	(void)state;
	struct cli_sym *s = cli_sym_open(ms->m, ms->n, NULL, 0, 0);
	assert_non_null(s);

	calls_inlined();
	uint64_t ret = (uint64_t)(uintptr_t)captured_return;
	assert_int_equal(cli_sym_lookup(s, ret, 1, f, 8), 2);
	assert_string_equal(f[0].function, "inlined_callee");
	assert_int_equal(f[0].inlined, 1);
	assert_this_file(&f[0]);
	assert_int_equal(f[0].line, captured_line);
	assert_string_equal(f[1].function, "calls_inlined");
	assert_int_equal(f[1].inlined, 0);
	assert_this_file(&f[1]);
	assert_int_equal(f[1].line, inlined_call_line);
	/* Both are the same address. */
	assert_int_equal(f[0].offset, f[1].offset);

	/* Room for one frame: the innermost. */
	assert_int_equal(cli_sym_lookup(s, ret, 1, f, 1), 1);
	assert_string_equal(f[0].function, "inlined_callee");
	cli_sym_close(s);
	free(ms);
}

static void test_libc_and_nowhere(void **state)
{
	struct modules *ms = own_modules();
	struct cli_sym_frame f[8];
	(void)state;
	struct cli_sym *s = cli_sym_open(ms->m, ms->n, NULL, 0, 0);
	assert_non_null(s);

	/* A libc function that no sanitizer intercepts. */
	void *fn = dlsym(RTLD_DEFAULT, "gnu_get_libc_version");
	assert_non_null(fn);
	uint64_t a = (uint64_t)(uintptr_t)fn;
	struct ttlog_module *m = module_of(ms, a);
	assert_true(cli_sym_lookup(s, a, 0, f, 8) >= 1);
	assert_string_equal(base_name(f[0].module), "libc.so.6");
	assert_int_equal(f[0].offset, a - m->bias);
	/* An exported function: .dynsym names it, with or without debug
	 * information for libc on this machine. */
	assert_non_null(f[0].function);
	size_t len = strlen(f[0].function);
	/* or its alias __gnu_get_libc_version, at the same address */
	assert_true(len >= 20 && strcmp(f[0].function + len - 20, "gnu_get_libc_version") == 0);

	/* No module: nothing but the address, and no crash. */
	uint64_t nowhere = 8;
	for (size_t i = 0; i < ms->n; i++)
		assert_false(nowhere >= ms->m[i].start && nowhere < ms->m[i].end);
	memset(f, 0xff, sizeof f);
	assert_int_equal(cli_sym_lookup(s, nowhere, 1, f, 8), 1);
	assert_null(f[0].module);
	assert_null(f[0].function);
	assert_null(f[0].file);
	assert_int_equal(f[0].line, 0);
	assert_int_equal(cli_sym_lookup(s, nowhere, 0, f, 0), 0);
	assert_null(cli_sym_next_note(s));
	cli_sym_close(s);

	/* No modules at all. */
	s = cli_sym_open(NULL, 0, NULL, 0, 0);
	assert_non_null(s);
	assert_int_equal(cli_sym_lookup(s, addr_of(known_function), 0, f, 8), 1);
	assert_null(f[0].module);
	cli_sym_close(s);
	free(ms);
}

static void test_cxx_names_demangled(void **state)
{
	struct cli_sym_frame f[8];
	(void)state;
	/* A C++ library with an exported function of a known name. */
	void *h = dlopen("libstdc++.so.6", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		skip();
	void *fn = dlsym(h, "_ZNSt9exceptionD1Ev");
	assert_non_null(fn);
	struct modules *ms = own_modules(); /* now with libstdc++ */
	struct cli_sym *s = cli_sym_open(ms->m, ms->n, NULL, 0, 0);
	assert_non_null(s);
	assert_true(cli_sym_lookup(s, (uint64_t)(uintptr_t)fn, 0, f, 8) >= 1);
	assert_non_null(f[0].function);
	/* From .dynsym, demangled; with libstdc++'s debug information
	 * installed, the DWARF name may be the short "~exception". */
	if (strcmp(f[0].function, "~exception") != 0)
		assert_string_equal(f[0].function, "std::exception::~exception()");
	cli_sym_close(s);
	free(ms);
	dlclose(h);
}

/* The program's module, pointed at another file. */
static struct ttlog_module *retarget_self(struct modules *ms, const char *path)
{
	struct ttlog_module *self = module_of(ms, addr_of(known_function));
	snprintf((char *)self->path, PATH_MAX, "%s", path);
	return self;
}

static void test_rebuilt_binary_gives_no_lines(void **state)
{
	struct modules *ms = own_modules();
	struct cli_sym_frame f[8];
	char notes[4096], copy[PATH_MAX];
	(void)state;
	char *dir = tu_tmpdir("rebuilt");
	assert_non_null(dir);

	/* Another ELF file (libc) where this program was. */
	void *fn = dlsym(RTLD_DEFAULT, "gnu_get_libc_version");
	assert_non_null(fn);
	snprintf(copy, sizeof copy, "%s/test_symbolize", dir);
	copy_file(module_of(ms, (uint64_t)(uintptr_t)fn)->path, copy);
	struct ttlog_module *self = retarget_self(ms, copy);
	assert_true(self->build_id_len > 0);

	struct cli_sym *s = cli_sym_open(ms->m, ms->n, NULL, 0, 0);
	assert_non_null(s);
	uint64_t a = addr_of(known_function);
	assert_int_equal(cli_sym_lookup(s, a, 0, f, 8), 1);
	assert_string_equal(f[0].module, copy);
	assert_int_equal(f[0].offset, a - self->bias);
	assert_null(f[0].function);
	assert_null(f[0].file);
	/* Said once, however many frames are in the module. */
	assert_int_equal(cli_sym_lookup(s, a + 1, 0, f, 8), 1);
	notes_text(s, notes, sizeof notes);
	assert_non_null(strstr(notes, "build-id mismatch"));
	assert_non_null(strstr(notes, copy));
	assert_ptr_equal(strchr(notes, '\n'), notes + strlen(notes) - 1); /* one note */
	cli_sym_close(s);

	/* A file cut short, and one that is not ELF: still no crash, and the
	 * same fallback, with or without a build-id to check. */
	static const char not_elf[] = "#!/bin/sh\nexit 0\n";
	char head[200];
	int fd = open("/proc/self/exe", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, head, sizeof head), (ssize_t)sizeof head);
	close(fd);
	for (int round = 0; round < 4; round++) {
		if (round % 2 == 0)
			write_file(copy, head, sizeof head);
		else
			write_file(copy, not_elf, sizeof not_elf - 1);
		self->build_id_len = round < 2 ? self->build_id_len : 0;
		s = cli_sym_open(ms->m, ms->n, NULL, 0, 0);
		assert_non_null(s);
		assert_int_equal(cli_sym_lookup(s, a, 0, f, 8), 1);
		assert_string_equal(f[0].module, copy);
		assert_null(f[0].file);
		assert_non_null(cli_sym_next_note(s));
		cli_sym_close(s);
	}

	/* Paths that are not regular files: a device that never ends and a
	 * directory are not read. */
	static const char *const odd[] = {"/dev/zero", "/"};
	self->build_id_len = 0;
	for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
		struct ttlog_module saved = *self;
		self->path = odd[i];
		s = cli_sym_open(ms->m, ms->n, NULL, 0, 0);
		assert_non_null(s);
		assert_int_equal(cli_sym_lookup(s, a, 0, f, 8), 1);
		assert_string_equal(f[0].module, odd[i]);
		assert_null(f[0].function);
		assert_non_null(cli_sym_next_note(s));
		cli_sym_close(s);
		*self = saved;
	}

	/* A file that is not there. */
	unlink(copy);
	s = cli_sym_open(ms->m, ms->n, NULL, 0, 0);
	assert_non_null(s);
	assert_int_equal(cli_sym_lookup(s, a, 0, f, 8), 1);
	assert_null(f[0].function);
	notes_text(s, notes, sizeof notes);
	assert_non_null(strstr(notes, "not found"));
	cli_sym_close(s);
	free(dir);
	free(ms);
}

/* Makes DIR/.build-id/xx/rest.debug, the debug information of this
 * program, with objcopy; its path in out. */
static void make_debug_file(const char *dir, const struct ttlog_module *self, char *out, size_t cap)
{
	char exe[PATH_MAX];
	/* The tools' own /proc/self/exe would be the tools. */
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	char hex[2 * MAX_ID + 1], sub[PATH_MAX];
	for (uint32_t i = 0; i < self->build_id_len; i++)
		snprintf(hex + 2 * i, 3, "%02x", self->build_id[i]);
	snprintf(sub, sizeof sub, "%s/.build-id", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	snprintf(sub, sizeof sub, "%s/.build-id/%.2s", dir, hex);
	assert_int_equal(mkdir(sub, 0755), 0);
	snprintf(out, cap, "%s/%s.debug", sub, hex + 2);
	const char *args[] = {"objcopy", "--only-keep-debug", exe, out, NULL};
	assert_int_equal(run_tool(args), 0);
}

/* Looks up known_function with these debug directories; returns how many
 * notes were made. */
static int lookup_known(struct modules *ms, const char *dir, struct cli_sym_frame *f)
{
	const char *dirs[] = {dir};
	int notes = 0;
	struct cli_sym *s = cli_sym_open(ms->m, ms->n, dirs, dir ? 1 : 0, 0);
	assert_non_null(s);
	assert_int_equal(cli_sym_lookup(s, addr_of(known_function), 0, f, 8), 1);
	for (const char *n; (n = cli_sym_next_note(s)) != NULL; notes++)
		fprintf(stderr, "note: %s\n", n);
	/* The strings die with s: keep only what the tests compare. */
	f->function = f->function && strcmp(f->function, "known_function") == 0 ? "known_function" : NULL;
	f->file = f->file && strcmp(base_name(f->file), "test_symbolize.c") == 0 ? "test_symbolize.c" : NULL;
	f->module = NULL;
	cli_sym_close(s);
	return notes;
}

static void test_debug_dir(void **state)
{
	struct modules *ms = own_modules();
	struct cli_sym_frame f[8];
	char stripped[PATH_MAX], dbgdir[PATH_MAX], debug[PATH_MAX], byname_dir[PATH_MAX];
	char byname[2 * PATH_MAX], other[PATH_MAX];
	(void)state;

	if (!find_tool("objcopy") || !find_tool("strip")) {
		free(ms);
		skip();
	}
	char *dir = tu_tmpdir("debugdir");
	assert_non_null(dir);
	snprintf(stripped, sizeof stripped, "%s/stripped", dir);
	snprintf(dbgdir, sizeof dbgdir, "%s/debug", dir);
	assert_int_equal(mkdir(dbgdir, 0755), 0);
	const char *strip[] = {"strip", "-g", "-o", stripped, module_of(ms, addr_of(known_function))->path,
			       NULL};
	assert_int_equal(run_tool(strip), 0);
	struct ttlog_module *self = retarget_self(ms, stripped);
	assert_true(self->build_id_len >= 2);
	make_debug_file(dbgdir, self, debug, sizeof debug);

	/* Without the directory: the name from the symbol table, which
	 * strip -g keeps, and no line. */
	assert_int_equal(lookup_known(ms, NULL, f), 0);
	assert_string_equal(f[0].function, "known_function");
	assert_null(f[0].file);
	assert_int_equal(f[0].line, 0);

	/* With it: found by build-id. */
	assert_int_equal(lookup_known(ms, dbgdir, f), 0);
	assert_string_equal(f[0].function, "known_function");
	assert_non_null(f[0].file);
	assert_in_range(f[0].line, known_function_line, known_function_line + 2);

	/* By name: DIR/stripped.debug. */
	snprintf(byname_dir, sizeof byname_dir, "%s/byname", dir);
	assert_int_equal(mkdir(byname_dir, 0755), 0);
	snprintf(byname, sizeof byname, "%s/stripped.debug", byname_dir);
	assert_int_equal(rename(debug, byname), 0);
	assert_int_equal(lookup_known(ms, dbgdir, f), 0);
	assert_null(f[0].file);
	assert_int_equal(lookup_known(ms, byname_dir, f), 0);
	assert_non_null(f[0].file);
	assert_in_range(f[0].line, known_function_line, known_function_line + 2);

	/* The binary at the path was rebuilt (another ELF is there), but the
	 * debug file of the recorded build is in the directory: it is used,
	 * and a note says so. */
	assert_int_equal(rename(byname, debug), 0);
	void *fn = dlsym(RTLD_DEFAULT, "gnu_get_libc_version");
	assert_non_null(fn);
	snprintf(other, sizeof other, "%s/rebuilt", dir);
	copy_file(module_of(ms, (uint64_t)(uintptr_t)fn)->path, other);
	retarget_self(ms, other);
	assert_int_equal(lookup_known(ms, NULL, f), 1);
	assert_null(f[0].file);
	assert_int_equal(lookup_known(ms, dbgdir, f), 1);
	assert_string_equal(f[0].function, "known_function");
	assert_non_null(f[0].file);
	assert_in_range(f[0].line, known_function_line, known_function_line + 2);
	free(dir);
	free(ms);
}

int main(void)
{
	/* Debug files come from the disk only: no network lookups. */
	unsetenv("DEBUGINFOD_URLS");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_function_and_line),
		cmocka_unit_test(test_return_address_is_the_call),
		cmocka_unit_test(test_inlined_frames),
		cmocka_unit_test(test_libc_and_nowhere),
		cmocka_unit_test(test_cxx_names_demangled),
		cmocka_unit_test(test_rebuilt_binary_gives_no_lines),
		cmocka_unit_test(test_debug_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
