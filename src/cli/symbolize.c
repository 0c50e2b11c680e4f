/* SPDX-License-Identifier: MIT */
/*
 * symbolize.c - addresses of a snapshot's stacks to functions and lines,
 * with elfutils' libdwfl (see symbolize.h for what is returned).
 *
 * Each recorded module gets its own Dwfl handle, made the first time an
 * address falls in it, with the module reported at its recorded load bias
 * (dwfl_report_elf). One handle per module keeps a bad file from
 * affecting the others and lets a module be opened lazily: a backtrace of
 * twenty frames usually touches three or four of the hundred modules a
 * process maps.
 *
 * Which file is used for a module:
 *   1. the file at the recorded path, if it is ELF and its build-id is the
 *      recorded one (or the snapshot recorded none, so there is nothing to
 *      check against);
 *   2. else a file found by the recorded build-id, in each --debug-dir and
 *      then /usr/lib/debug: .build-id/xx/rest (a copy of the binary) or
 *      .build-id/xx/rest.debug (a separate debug file, which keeps the
 *      program headers and the symbol table, so it serves as the module);
 *   3. else none: the module's frames are "module+offset", and a note says
 *      why once. A rebuilt binary must not give the lines of another build.
 * Debug information for the chosen file is found by libdwfl's standard
 * search (the file itself, .gnu_debuglink, .build-id directories), with
 * the --debug-dir directories put first in its search path; libdwfl checks
 * each separate debug file it finds against the module's build-id.
 *
 * C++ names are demangled with the C++ runtime's __cxa_demangle when
 * libstdc++ can be loaded at run time (dlopen): the command itself is C and
 * does not link it. Without it names stay mangled, or the DWARF short name
 * is used.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "symbolize.h"

/* The standard places libdwfl looks for debug files by name: next to the
 * file, in its .debug directory, under /usr/lib/debug. */
#define STANDARD_DEBUG_PATH ":.debug:/usr/lib/debug"
#define SYSTEM_DEBUG_DIR "/usr/lib/debug"

struct sym_module {
	char *path;               /* recorded path ("" if none) */
	uint64_t bias, start, end;
	uint8_t *build_id;        /* NULL if none was recorded */
	uint32_t build_id_len;
	int state;                /* 0 not opened yet, 1 ready, -1 unusable */
	Dwfl *dwfl;
	Dwfl_Module *dm;
	uint64_t low, high;       /* what libdwfl says the module spans */
	int scan_units;           /* -1 not known yet; 1: no .debug_aranges, look
				     for an address's unit in every unit */
};

typedef char *(*demangle_fn)(const char *mangled, char *buf, size_t *len, int *status);

struct cli_sym {
	struct sym_module *mods;
	size_t nmods;
	char **dirs;              /* --debug-dir directories, as given */
	size_t ndirs;
	unsigned flags;
	char *debuginfo_path;     /* libdwfl's search path: the dirs, then the standard */
	Dwfl_Callbacks callbacks; /* points at debuginfo_path; outlives every handle */

	/* Strings handed out (demangled names, notes), freed on close. */
	char **owned;
	size_t nowned, capowned;
	/* Notes, as indexes into owned; taken in order by cli_sym_next_note(). */
	size_t *notes;
	size_t nnotes, capnotes, notes_taken;

	int demangler_tried;
	demangle_fn demangle;
};

/* ---- Owned strings and notes -------------------------------------------- */

/* Keeps str (malloc'd) until close; returns it, or NULL (and frees it)
 * when memory runs out. */
static char *own(struct cli_sym *s, char *str)
{
	if (!str)
		return NULL;
	if (s->nowned == s->capowned) {
		size_t cap = s->capowned ? s->capowned * 2 : 16;
		char **p = realloc(s->owned, cap * sizeof *p);
		if (!p) {
			free(str);
			return NULL;
		}
		s->owned = p;
		s->capowned = cap;
	}
	s->owned[s->nowned++] = str;
	return str;
}

static void add_note(struct cli_sym *s, const char *format, ...)
	__attribute__((format(printf, 2, 3)));
static void add_note(struct cli_sym *s, const char *format, ...)
{
	char *text = NULL;
	va_list ap;

	va_start(ap, format);
	int n = vasprintf(&text, format, ap);
	va_end(ap);
	if (n < 0)
		return; /* a note is not worth failing for */
	if (s->nnotes == s->capnotes) {
		size_t cap = s->capnotes ? s->capnotes * 2 : 8;
		size_t *p = realloc(s->notes, cap * sizeof *p);
		if (!p) {
			free(text);
			return;
		}
		s->notes = p;
		s->capnotes = cap;
	}
	if (!own(s, text))
		return;
	s->notes[s->nnotes++] = s->nowned - 1;
}

const char *cli_sym_next_note(struct cli_sym *s)
{
	if (!s || s->notes_taken >= s->nnotes)
		return NULL;
	return s->owned[s->notes[s->notes_taken++]];
}

/* ---- Names -------------------------------------------------------------- */

/* A demangled copy of a C++ name (owned), or the name itself. */
static const char *demangled(struct cli_sym *s, const char *name)
{
	if (!name || name[0] != '_' || name[1] != 'Z')
		return name;
	if (!s->demangler_tried) {
		s->demangler_tried = 1;
		/* Loaded on first use: C programs never pay for it. The handle
		 * is kept for the life of the process, as the function is. */
		void *h = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);
		if (h)
			*(void **)&s->demangle = dlsym(h, "__cxa_demangle");
	}
	if (!s->demangle)
		return name;
	int status = -1;
	char *out = s->demangle(name, NULL, NULL, &status);
	if (status != 0 || !out) {
		free(out);
		return name;
	}
	const char *kept = own(s, out);
	return kept ? kept : name;
}

/* The source-level name of a function DIE (following abstract origins and
 * specifications): the demangled linkage name when there is one and it can
 * be demangled, else DW_AT_name, else the linkage name; NULL if none. */
static const char *die_function_name(struct cli_sym *s, Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *linkage = NULL, *name = NULL;

	if (dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) ||
	    dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr))
		linkage = dwarf_formstring(&attr);
	if (linkage) {
		const char *d = demangled(s, linkage);
		if (d != linkage)
			return d;
	}
	if (dwarf_attr_integrate(die, DW_AT_name, &attr))
		name = dwarf_formstring(&attr);
	return name ? name : linkage;
}

/* Where an inlined call is: its DW_AT_call_file (an index into its unit's
 * file table) and DW_AT_call_line. */
static void call_site(Dwarf_Die *inlined, const char **file, unsigned *line)
{
	Dwarf_Attribute attr;
	Dwarf_Word idx, ln;
	Dwarf_Die cu;
	Dwarf_Files *files;
	size_t nfiles;

	*file = NULL;
	*line = 0;
	if (dwarf_formudata(dwarf_attr(inlined, DW_AT_call_line, &attr), &ln) == 0 &&
	    ln <= UINT32_MAX)
		*line = (unsigned)ln;
	if (dwarf_formudata(dwarf_attr(inlined, DW_AT_call_file, &attr), &idx) == 0 &&
	    dwarf_diecu(inlined, &cu, NULL, NULL) &&
	    dwarf_getsrcfiles(&cu, &files, &nfiles) == 0 && idx < nfiles)
		*file = dwarf_filesrc(files, idx, NULL, NULL);
	if (!*file)
		*line = 0;
}

/* ---- Opening a module ---------------------------------------------------- */

enum file_check { FILE_OK, FILE_MISSING, FILE_NOT_ELF, FILE_MISMATCH };

#define MAX_BUILD_ID 64 /* bytes shown; a SHA-1 build-id has 20 */
#define BUILD_ID_HEX (2 * MAX_BUILD_ID + 1)

static void hex_text(const uint8_t *bytes, size_t len, char out[BUILD_ID_HEX])
{
	size_t n = len < MAX_BUILD_ID ? len : MAX_BUILD_ID;
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", bytes[i]);
}

/*
 * Opens path and checks that it is an ELF file with build-id `want` (any
 * build-id, or none, when want_len is 0). On FILE_OK *fd is the open file.
 * The file's build-id goes to found_hex (if not NULL; "" if none).
 */
static enum file_check open_checked(const char *path, const uint8_t *want, uint32_t want_len,
				    int *fd, char found_hex[BUILD_ID_HEX])
{
	enum file_check result = FILE_NOT_ELF;
	const void *id = NULL;

	struct stat st;

	/* The path comes from the snapshot: only a regular file is read (a
	 * FIFO would block, and libelf reads a device such as /dev/zero
	 * until its end). O_NONBLOCK keeps open() itself from waiting. */
	*fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (*fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? FILE_MISSING : FILE_NOT_ELF;
	if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(*fd);
		*fd = -1;
		return FILE_NOT_ELF;
	}
	/* ELF_C_READ reads what it needs with pread: a file cut short is an
	 * error from libelf, never a fault on a mapping. */
	Elf *elf = elf_begin(*fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF)
		goto out;
	ssize_t len = dwelf_elf_gnu_build_id(elf, &id);
	if (len < 0)
		goto out;
	if (found_hex)
		hex_text(id, (size_t)len, found_hex);
	if (want_len && ((size_t)len != want_len || memcmp(id, want, want_len) != 0)) {
		result = FILE_MISMATCH;
		goto out;
	}
	result = FILE_OK;
out:
	elf_end(elf);
	if (result != FILE_OK) {
		close(*fd);
		*fd = -1;
	}
	return result;
}

/* Looks for the module's file by its recorded build-id in dir: a copy of
 * the binary (.build-id/xx/rest) or its debug file (.build-id/xx/rest.debug).
 * Returns an open file and sets *found (malloc'd), or -1. */
static int open_by_build_id_in(const struct sym_module *m, const char *dir, char **found)
{
	static const char *const suffixes[] = {"", ".debug"};
	char hex[BUILD_ID_HEX];

	hex_text(m->build_id, m->build_id_len, hex);
	for (size_t k = 0; k < sizeof suffixes / sizeof suffixes[0]; k++) {
		char *path = NULL;
		int fd;
		if (asprintf(&path, "%s/.build-id/%.2s/%s%s", dir, hex, hex + 2, suffixes[k]) < 0)
			return -1;
		if (open_checked(path, m->build_id, m->build_id_len, &fd, NULL) == FILE_OK) {
			*found = path;
			return fd;
		}
		free(path);
	}
	return -1;
}

static int open_by_build_id(struct cli_sym *s, const struct sym_module *m, char **found)
{
	int fd = -1;

	/* Two bytes at least: the directory name takes the first. */
	if (m->build_id_len < 2)
		return -1;
	for (size_t i = 0; i < s->ndirs && fd < 0; i++)
		fd = open_by_build_id_in(m, s->dirs[i], found);
	if (fd < 0)
		fd = open_by_build_id_in(m, SYSTEM_DEBUG_DIR, found);
	return fd;
}

static const char *const check_text[] = {
	[FILE_MISSING] = "file not found",
	[FILE_NOT_ELF] = "not a readable ELF file",
	[FILE_MISMATCH] = "build-id mismatch",
};

/* Gets the module ready for lookups; returns 0 if it cannot be (its frames
 * are module+offset). Tried once per module. */
static int module_ready(struct cli_sym *s, struct sym_module *m)
{
	enum file_check check = FILE_MISSING;
	char *chosen = NULL, found[BUILD_ID_HEX] = "", want[BUILD_ID_HEX], why[2 * BUILD_ID_HEX + 64];
	int fd = -1;

	if (m->state)
		return m->state > 0;
	m->state = -1;
	if (s->flags & CLI_SYM_NO_FILES)
		return 0;

	/* Paths that are not absolute name no file ("linux-vdso.so.1"). */
	int has_file = m->path[0] == '/';
	if (has_file) {
		check = open_checked(m->path, m->build_id, m->build_id_len, &fd, found);
		if (check == FILE_OK && !(chosen = strdup(m->path))) {
			close(fd);
			return 0;
		}
	}
	if (fd < 0) {
		why[0] = '\0';
		if (check == FILE_MISMATCH) {
			hex_text(m->build_id, m->build_id_len, want);
			snprintf(why, sizeof why, " (the snapshot has %s, the file %s%s)", want,
				 *found ? "" : "no build-id", found);
		}
		fd = open_by_build_id(s, m, &chosen);
		if (fd < 0) {
			if (has_file)
				add_note(s, "%s for %s%s: its frames are shown as module+offset",
					 check_text[check], m->path, why);
			return 0;
		}
		if (has_file)
			add_note(s, "%s for %s%s: symbols from %s, found by build-id",
				 check_text[check], m->path, why, chosen);
	}

	m->dwfl = dwfl_begin(&s->callbacks);
	if (!m->dwfl) {
		close(fd);
		goto fail;
	}
	dwfl_report_begin(m->dwfl);
	/* add_p_vaddr: runtime address = ELF virtual address + bias, which
	 * is what the snapshot recorded (ignored for ET_EXEC, whose
	 * addresses are absolute). On success the fd belongs to libdwfl. */
	m->dm = dwfl_report_elf(m->dwfl, m->path[0] ? m->path : chosen, chosen, fd,
				(GElf_Addr)m->bias, true);
	if (!m->dm)
		close(fd);
	dwfl_report_end(m->dwfl, NULL, NULL);
	if (!m->dm) {
		add_note(s, "cannot read %s (%s): its frames are shown as module+offset", chosen,
			 dwfl_errmsg(-1));
		goto fail;
	}
	Dwarf_Addr low = 0, high = 0;
	dwfl_module_info(m->dm, NULL, &low, &high, NULL, NULL, NULL, NULL);
	m->low = low;
	m->high = high;
	free(chosen);
	m->state = 1;
	return 1;
fail:
	free(chosen);
	if (m->dwfl)
		dwfl_end(m->dwfl);
	m->dwfl = NULL;
	m->dm = NULL;
	return 0;
}

/* ---- Lookups ------------------------------------------------------------- */

static struct sym_module *find_module(struct cli_sym *s, uint64_t address)
{
	for (size_t i = 0; i < s->nmods; i++)
		if (address >= s->mods[i].start && address < s->mods[i].end)
			return &s->mods[i];
	return NULL;
}

/*
 * The compilation unit whose code holds pc. libdwfl finds it through
 * .debug_aranges, which clang does not emit (and libdw 0.188 does not make
 * up for): then every unit is asked (dwarf_haspc), in a module that has
 * DWARF but no aranges at all.
 */
static Dwarf_Die *find_unit(struct sym_module *m, Dwarf_Addr pc, Dwarf_Addr *bias)
{
	Dwarf_Die *cu = dwfl_module_addrdie(m->dm, pc, bias);
	if (cu)
		return cu;
	if (m->scan_units < 0) {
		Dwarf_Aranges *ar = NULL;
		size_t n = 0;
		Dwarf *dw = dwfl_module_getdwarf(m->dm, bias);
		m->scan_units = dw && (dwarf_getaranges(dw, &ar, &n) != 0 || n == 0);
	}
	if (!m->scan_units)
		return NULL;
	while ((cu = dwfl_module_nextcu(m->dm, cu, bias)) != NULL)
		if (dwarf_haspc(cu, pc - *bias) > 0)
			return cu;
	return NULL;
}

static int is_function_tag(int tag)
{
	return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
	       tag == DW_TAG_entry_point;
}

/*
 * Fills out[] for pc in a ready module: the chain of functions around pc
 * from the DWARF scopes (an inlined call's caller is where its
 * DW_AT_call_file/line say), with the line table's line for the innermost
 * one; or, without DWARF, the symbol table's name. out[0] has module and
 * offset set already.
 */
static size_t describe(struct cli_sym *s, struct sym_module *m, Dwarf_Addr pc,
		       struct cli_sym_frame *out, size_t max)
{
	GElf_Off sym_off = 0;
	GElf_Sym sym;
	const char *symname = dwfl_module_addrinfo(m->dm, pc, &sym_off, &sym, NULL, NULL, NULL);
	const char *file = NULL;
	unsigned line = 0;
	int lineno = 0;

	Dwarf_Addr dwbias = 0;
	Dwarf_Die *cu = find_unit(m, pc, &dwbias);

	Dwfl_Line *dl = dwfl_module_getsrc(m->dm, pc);
	if (dl) {
		file = dwfl_lineinfo(dl, NULL, &lineno, NULL, NULL, NULL);
	} else if (cu) {
		/* The unit was found without aranges: its own line table. */
		Dwarf_Line *l = dwarf_getsrc_die(cu, pc - dwbias);
		if (l && (file = dwarf_linesrc(l, NULL, NULL)) != NULL && dwarf_lineno(l, &lineno) != 0)
			file = NULL;
	}
	if (file)
		line = lineno > 0 ? (unsigned)lineno : 0;

	/* dwarf_getscopes gives the innermost scope at pc; the chain of DIEs
	 * that contain it (dwarf_getscopes_die) goes through each inlined
	 * call to the function that holds it. */
	Dwarf_Die *inner = NULL, *chain = NULL;
	int nchain = 0;
	if (cu && dwarf_getscopes(cu, pc - dwbias, &inner) > 0)
		nchain = dwarf_getscopes_die(&inner[0], &chain);
	free(inner);

	struct cli_sym_frame base = out[0];
	size_t k = 0;
	for (int i = 0; i < nchain && k < max; i++) {
		int tag = dwarf_tag(&chain[i]);
		if (!is_function_tag(tag))
			continue;
		struct cli_sym_frame *f = &out[k++];
		*f = base;
		f->function = die_function_name(s, &chain[i]);
		f->file = file;
		f->line = file ? line : 0;
		if (tag != DW_TAG_inlined_subroutine)
			break;
		f->inlined = 1;
		call_site(&chain[i], &file, &line);
	}
	free(chain);

	if (k == 0) {
		out[0].file = file;
		out[0].line = file ? line : 0;
		k = 1;
	}
	/* The real function: the symbol table knows it when DWARF does not
	 * (a library without debug information). */
	if (!out[k - 1].function && symname && *symname)
		out[k - 1].function = demangled(s, symname);
	return k;
}

size_t cli_sym_lookup(struct cli_sym *s, uint64_t address, int is_return,
		      struct cli_sym_frame *out, size_t max)
{
	if (!max)
		return 0;
	memset(&out[0], 0, sizeof out[0]);
	struct sym_module *m = s ? find_module(s, address) : NULL;
	if (!m)
		return 1;
	out[0].module = m->path;
	out[0].offset = address - m->bias;
	if (!module_ready(s, m))
		return 1;
	/* A return address is the instruction after the call, which may
	 * belong to the next line or even the next function. */
	Dwarf_Addr pc = is_return && address > 0 ? address - 1 : address;
	if (pc < m->low || pc >= m->high)
		return 1; /* the recorded range and the file disagree */
	return describe(s, m, pc, out, max);
}

/* ---- Life ---------------------------------------------------------------- */

static int same_module(const struct sym_module *m, const struct ttlog_module *src)
{
	uint32_t idlen = src->build_id ? src->build_id_len : 0;
	return m->bias == src->bias && m->start == src->start && m->end == src->end &&
	       strcmp(m->path, src->path ? src->path : "") == 0 && m->build_id_len == idlen &&
	       (!idlen || memcmp(m->build_id, src->build_id, idlen) == 0);
}

int cli_sym_reuse(struct cli_sym *s, const struct ttlog_module *modules, size_t nmodules)
{
	if (!s || s->nmods != nmodules)
		return 0;
	for (size_t i = 0; i < nmodules; i++)
		if (!same_module(&s->mods[i], &modules[i]))
			return 0;
	s->notes_taken = 0;
	return 1;
}

struct cli_sym *cli_sym_open(const struct ttlog_module *modules, size_t nmodules,
			     const char *const *debug_dirs, size_t ndebug_dirs, unsigned flags)
{
	struct cli_sym *s = calloc(1, sizeof *s);
	size_t pathlen = sizeof STANDARD_DEBUG_PATH;

	if (!s)
		return NULL;
	s->flags = flags;
	elf_version(EV_CURRENT);

	if (nmodules && !(s->mods = calloc(nmodules, sizeof *s->mods)))
		goto fail;
	for (size_t i = 0; i < nmodules; i++) {
		const struct ttlog_module *src = &modules[i];
		struct sym_module *m = &s->mods[s->nmods++];
		m->bias = src->bias;
		m->start = src->start;
		m->end = src->end;
		m->scan_units = -1;
		if (!(m->path = strdup(src->path ? src->path : "")))
			goto fail;
		if (src->build_id && src->build_id_len) {
			if (!(m->build_id = malloc(src->build_id_len)))
				goto fail;
			memcpy(m->build_id, src->build_id, src->build_id_len);
			m->build_id_len = src->build_id_len;
		}
	}

	if (ndebug_dirs && !(s->dirs = calloc(ndebug_dirs, sizeof *s->dirs)))
		goto fail;
	for (size_t i = 0; i < ndebug_dirs; i++) {
		/* libdwfl looks by build-id only in absolute directories. */
		char *abs = realpath(debug_dirs[i], NULL);
		if (!abs && !(abs = strdup(debug_dirs[i])))
			goto fail;
		s->dirs[s->ndirs++] = abs;
		pathlen += strlen(abs) + 1;
	}
	if (!(s->debuginfo_path = malloc(pathlen)))
		goto fail;
	s->debuginfo_path[0] = '\0';
	for (size_t i = 0; i < s->ndirs; i++) {
		/* A ':' would split the directory in two: such a directory is
		 * searched by build-id only (open_by_build_id). */
		if (strchr(s->dirs[i], ':'))
			continue;
		strcat(s->debuginfo_path, s->dirs[i]);
		strcat(s->debuginfo_path, ":");
	}
	strcat(s->debuginfo_path, STANDARD_DEBUG_PATH);

	s->callbacks.find_elf = dwfl_build_id_find_elf;
	s->callbacks.find_debuginfo = dwfl_standard_find_debuginfo;
	s->callbacks.section_address = dwfl_offline_section_address;
	s->callbacks.debuginfo_path = &s->debuginfo_path;
	return s;
fail:
	cli_sym_close(s);
	return NULL;
}

void cli_sym_close(struct cli_sym *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nmods; i++) {
		if (s->mods[i].dwfl)
			dwfl_end(s->mods[i].dwfl);
		free(s->mods[i].path);
		free(s->mods[i].build_id);
	}
	free(s->mods);
	for (size_t i = 0; i < s->ndirs; i++)
		free(s->dirs[i]);
	free(s->dirs);
	free(s->debuginfo_path);
	for (size_t i = 0; i < s->nowned; i++)
		free(s->owned[i]);
	free(s->owned);
	free(s->notes);
	free(s);
}
