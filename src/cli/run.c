/* SPDX-License-Identifier: MIT */
/*
 * run.c - `ttlog run [OPTIONS] -- CMD ARGS...`: runs an unmodified,
 * dynamically linked program with the preload shim libttlog-run.so
 * (src/run/), which records its stderr (and stdout) lines, syslog and
 * err/warn calls, and its crash, into ttlog's rings and snapshots.
 *
 * Before the program starts the command checks what the dynamic linker
 * would otherwise silently ignore: a program without PT_INTERP (statically
 * linked, static-pie included) never loads a preloaded library, and the
 * loader of a setuid or setgid program drops LD_PRELOAD. Both are refused.
 * A program for another ELF class or machine (a 32-bit one) could not
 * load the shim either. A "#!" script is checked through its interpreter. The ELF header and
 * program header table are read from the file with every offset and count
 * checked against its size.
 *
 * The options become environment variables of the program: the TTLOG_*
 * ones that ttlog_init() reads and the TTLOG_RUN_* ones of the shim
 * (src/run/shim.h). The command forks, the child executes the program, and
 * the command waits: it ignores SIGINT and SIGQUIT meanwhile (the terminal
 * sends them to the program too, as a shell's foreground job) and passes
 * SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2 on to the program. Afterwards it
 * names, on stderr, the snapshots that appeared in the snapshot directory
 * during the run from the program's process (or, with --follow-children,
 * from any process), and exits with the program's status, 128+N when
 * signal N ended it.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <regex.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "report.h"
#include "ttlog.h"

#define COMMAND "run"
#define SHIM_NAME "libttlog-run.so"
#define EXIT_RUN_FAILED 125 /* ttlog run's own error; the program did not run */
#define EXIT_CANNOT_RUN 126 /* refused, or not executable */
#define EXIT_NOT_FOUND 127
#define SCRIPT_DEPTH 4      /* #! interpreters followed */

#ifndef TTLOG_SONAME
#define TTLOG_SONAME "libttlog.so"
#endif
#ifndef TTLOG_RUN_SHIM_FROM_BIN
#define TTLOG_RUN_SHIM_FROM_BIN "../lib"
#endif

void cli_run_usage(FILE *out)
{
	fputs("Usage: ttlog run [OPTIONS] [--] CMD [ARGS...]\n"
	      "\n"
	      "Runs CMD, an unmodified dynamically linked program, with ttlog's preload\n"
	      "shim (" SHIM_NAME "): every line it writes to stderr (and to stdout with\n"
	      "--stdout), every syslog(3) and err(3)/warn(3) call becomes an event in\n"
	      "ttlog's rings, and a crash leaves a snapshot with the last events and a\n"
	      "backtrace. The program's output reaches its terminal or pipe unchanged and\n"
	      "in the same order. After the program ends, the snapshots it wrote are named\n"
	      "on stderr.\n"
	      "\n"
	      "Levels: stdout lines info; stderr lines warn, or the level of the first\n"
	      "--level-regex that matches; syslog by priority (emerg, alert, crit fatal;\n"
	      "err error; warning warn; notice, info info; debug debug); err(3) error,\n"
	      "warn(3) warn. Each event's field 'source' says stdout, stderr, syslog or\n"
	      "err.\n"
	      "\n"
	      "Statically linked programs and setuid or setgid ones are refused: the\n"
	      "dynamic linker would not load the shim into them.\n"
	      "\n"
	      "Options:\n"
	      "  -d, --dir DIR         where snapshots are written (TTLOG_DIR; default: the\n"
	      "                        library's, $XDG_RUNTIME_DIR/ttlog or /tmp/ttlog-UID)\n"
	      "      --shared-memory   keep the rings in a shared mapping, so that 'ttlog\n"
	      "                        snap PID' and 'ttlog recover' work (TTLOG_SHARED_MEMORY)\n"
	      "      --stream DIR      also stream the events to segment files in DIR\n"
	      "                        (TTLOG_STREAM)\n"
	      "      --service NAME    the service name in the files (TTLOG_SERVICE;\n"
	      "                        default: the program's base name)\n"
	      "      --stdout          capture stdout lines too (at level info)\n"
	      "  -l, --level-regex REGEX=LEVEL[,REGEX=LEVEL...]\n"
	      "                        levels of stderr lines: the first POSIX extended\n"
	      "                        regex that matches gives the level (trace, debug,\n"
	      "                        info, warn, error, fatal), e.g. 'ERROR:=error,WARN=warn';\n"
	      "                        a regex cannot contain ','\n"
	      "  -f, --follow-children  record the programs CMD executes too (the shim\n"
	      "                        stays in their LD_PRELOAD); without it they run\n"
	      "                        without the shim\n"
	      "      --instrument      preload libttlog-instrument.so too (found beside the\n"
	      "                        shim): a program built with -finstrument-functions\n"
	      "                        records a span per function call, named after the\n"
	      "                        function (TTLOG_INSTRUMENT_INCLUDE/_EXCLUDE: globs\n"
	      "                        of symbols or module paths); no effect on others\n"
	      "  -h, --help            show this help and exit\n"
	      "\n"
	      "Other TTLOG_* variables in the environment apply as usual ('ttlog help env').\n"
	      "The shim is looked for in TTLOG_RUN_SHIM, then beside the ttlog command\n"
	      "(a build tree), then in the library directory of its install prefix.\n"
	      "\n"
	      "Exit status: CMD's own, or 128+N when signal N ended it; 125 usage error or\n"
	      "ttlog run failed (the shim was not found); 126 CMD was refused (static,\n"
	      "setuid or setgid) or cannot be executed; 127 CMD was not found.\n",
	      out);
}

#define error_line(...) cli_report_error(COMMAND, __VA_ARGS__)

struct run_opts {
	const char *dir, *stream, *service, *level_regex;
	int shared_memory, capture_stdout, follow, instrument;
};

/* ---- Checking the level rules ----------------------------------------- */

static int check_level_regex(const char *spec)
{
	static const char *const levels[] = {"trace", "debug", "info", "warn", "warning",
					     "error", "fatal"};
	char *copy = strdup(spec);
	if (!copy) {
		error_line("out of memory");
		return -1;
	}
	int n = 0, bad = 0;
	char *save = NULL;
	for (char *item = strtok_r(copy, ",", &save); item && !bad; item = strtok_r(NULL, ",", &save)) {
		char *eq = strrchr(item, '=');
		if (!eq || eq == item) {
			cli_report_usage_error(COMMAND, "--level-regex: '%s' is not REGEX=LEVEL", item);
			bad = 1;
			break;
		}
		*eq = '\0';
		int known = 0;
		for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
			known |= strcmp(eq + 1, levels[i]) == 0;
		if (!known) {
			cli_report_usage_error(COMMAND,
					       "--level-regex: unknown level '%s' (trace, debug, info, "
					       "warn, error or fatal)", eq + 1);
			bad = 1;
			break;
		}
		regex_t re;
		int rc = regcomp(&re, item, REG_EXTENDED | REG_NOSUB);
		if (rc != 0) {
			char why[256];
			regerror(rc, &re, why, sizeof why);
			cli_report_usage_error(COMMAND, "--level-regex: '%s': %s", item, why);
			bad = 1;
			break;
		}
		regfree(&re);
		if (++n > 16) {
			cli_report_usage_error(COMMAND, "--level-regex: at most 16 rules");
			bad = 1;
		}
	}
	if (!bad && n == 0)
		bad = cli_report_usage_error(COMMAND, "--level-regex: no rule in '%s'", spec) != 0;
	free(copy);
	return bad ? -1 : 0;
}

/* ---- Finding and checking the program ---------------------------------- */

/* CMD as execvp() would find it. Returns 0, or an exit code after saying why. */
static int find_program(const char *cmd, char *out, size_t size)
{
	if (strchr(cmd, '/')) {
		if ((size_t)snprintf(out, size, "%s", cmd) >= size) {
			error_line("%s: path too long", cmd);
			return EXIT_NOT_FOUND;
		}
		if (access(out, F_OK) != 0) {
			error_line("%s: %s", cmd, strerror(errno));
			return errno == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN;
		}
		return 0;
	}
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path;;) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		int n = len ? snprintf(out, size, "%.*s/%s", (int)len, p, cmd) : snprintf(out, size, "%s", cmd);
		struct stat st;
		if (n > 0 && (size_t)n < size && stat(out, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(out, X_OK) == 0)
			return 0;
		if (!end)
			break;
		p = end + 1;
	}
	error_line("%s: command not found", cmd);
	return EXIT_NOT_FOUND;
}

/* Reads exactly n bytes at off; 0, or -1 (short file or error). */
static int read_at(int fd, void *buf, size_t n, off_t off)
{
	size_t done = 0;
	while (done < n) {
		ssize_t r = pread(fd, (char *)buf + done, n - done, off + (off_t)done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

/*
 * Whether the ELF file has a PT_INTERP program header. Returns 1 (yes),
 * 0 (no: statically linked), or -1 after saying on stderr why the file is
 * not an ELF file the command can read.
 */
static int elf_has_interp(int fd, const char *path, off_t file_size, unsigned *machine)
{
	unsigned char ident[EI_NIDENT];
	if (read_at(fd, ident, sizeof ident, 0) != 0) {
		error_line("%s: not an executable (too short for an ELF header)", path);
		return -1;
	}
	int is64 = ident[EI_CLASS] == ELFCLASS64;
	if (!is64 && ident[EI_CLASS] != ELFCLASS32) {
		error_line("%s: ELF class %u is neither 32- nor 64-bit", path, ident[EI_CLASS]);
		return -1;
	}
	uint64_t phoff;
	unsigned phnum, phentsize, want;
	if (is64) {
		Elf64_Ehdr eh;
		if (read_at(fd, &eh, sizeof eh, 0) != 0)
			goto truncated;
		phoff = eh.e_phoff, phnum = eh.e_phnum, phentsize = eh.e_phentsize;
		want = sizeof(Elf64_Phdr);
		*machine = eh.e_machine | (ELFCLASS64 << 16);
	} else {
		Elf32_Ehdr eh;
		if (read_at(fd, &eh, sizeof eh, 0) != 0)
			goto truncated;
		phoff = eh.e_phoff, phnum = eh.e_phnum, phentsize = eh.e_phentsize;
		want = sizeof(Elf32_Phdr);
		*machine = eh.e_machine | (ELFCLASS32 << 16);
	}
	if (phnum == 0)
		return 0;
	if (phentsize < want || phoff > (uint64_t)file_size ||
	    (uint64_t)phnum * phentsize > (uint64_t)file_size - phoff) {
		error_line("%s: damaged ELF file (program headers at %llu, %u of %u bytes, file of "
			   "%lld bytes)", path, (unsigned long long)phoff, phnum, phentsize,
			   (long long)file_size);
		return -1;
	}
	for (unsigned i = 0; i < phnum; i++) {
		uint32_t type;
		/* p_type is the first field of both layouts. */
		if (read_at(fd, &type, sizeof type, (off_t)(phoff + (uint64_t)i * phentsize)) != 0)
			goto truncated;
		if (type == PT_INTERP)
			return 1;
	}
	return 0;
truncated:
	error_line("%s: truncated ELF file", path);
	return -1;
}

/* The ELF class and machine of this command (class << 16 | e_machine),
 * which the shim, built with it, shares. */
static unsigned own_machine(void)
{
	static unsigned own;
	if (!own) {
#if UINTPTR_MAX > 0xffffffffu
		Elf64_Ehdr eh;
		unsigned cls = ELFCLASS64;
#else
		Elf32_Ehdr eh;
		unsigned cls = ELFCLASS32;
#endif
		int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && read_at(fd, &eh, sizeof eh, 0) == 0)
			own = eh.e_machine | (cls << 16);
		if (fd >= 0)
			close(fd);
	}
	return own;
}

/*
 * Refuses what the shim cannot be loaded into. Returns 0 (fine), or an
 * exit code after saying why.
 */
static int check_program(const char *path, int depth)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		error_line("%s: %s", path, strerror(errno));
		return errno == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN;
	}
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		error_line("%s: not a regular file", path);
		rc = EXIT_CANNOT_RUN;
	} else if (st.st_mode & (S_ISUID | S_ISGID)) {
		error_line("%s is set%s: the dynamic linker ignores LD_PRELOAD for it, so it "
			   "cannot be recorded (refused)", path,
			   (st.st_mode & S_ISUID) ? "uid" : "gid");
		rc = EXIT_CANNOT_RUN;
	} else if (access(path, X_OK) != 0) {
		error_line("%s: %s", path, strerror(errno));
		rc = EXIT_CANNOT_RUN;
	} else {
		char head[256] = {0};
		ssize_t n = pread(fd, head, sizeof head - 1, 0);
		if (n >= 2 && head[0] == '#' && head[1] == '!') {
			/* A script: its interpreter is what runs. */
			char *p = head + 2;
			while (*p == ' ' || *p == '\t')
				p++;
			size_t len = strcspn(p, " \t\n");
			p[len] = '\0';
			if (!*p || depth >= SCRIPT_DEPTH) {
				error_line("%s: a script without a usable interpreter line", path);
				rc = EXIT_CANNOT_RUN;
			} else {
				char interp[PATH_MAX];
				snprintf(interp, sizeof interp, "%s", p);
				rc = check_program(interp, depth + 1);
			}
		} else if (n >= 4 && memcmp(head, ELFMAG, SELFMAG) == 0) {
			unsigned machine = 0;
			int has = elf_has_interp(fd, path, st.st_size, &machine);
			if (has < 0) {
				rc = EXIT_CANNOT_RUN;
			} else if (own_machine() && machine != own_machine()) {
				error_line("%s is built for another machine or word size (ELF class %u, "
					   "machine %u) than ttlog (class %u, machine %u): the shim "
					   "cannot be loaded into it (refused)", path, machine >> 16,
					   machine & 0xffff, own_machine() >> 16, own_machine() & 0xffff);
				rc = EXIT_CANNOT_RUN;
			} else if (has == 0) {
				error_line("%s is statically linked (no PT_INTERP program header): no "
					   "preloaded library can be loaded into it, so it cannot be "
					   "recorded (refused)", path);
				rc = EXIT_CANNOT_RUN;
			}
		} else {
			error_line("%s: neither an ELF executable nor a #! script", path);
			rc = EXIT_CANNOT_RUN;
		}
	}
	close(fd);
	return rc;
}

/* ---- The shim ----------------------------------------------------------- */

static int find_shim(char *out, size_t size)
{
	const char *env = getenv("TTLOG_RUN_SHIM");
	if (env && *env) {
		if (!realpath(env, out) || access(out, R_OK) != 0) {
			error_line("TTLOG_RUN_SHIM=%s: %s", env, strerror(errno));
			return -1;
		}
		return 0;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0) {
		error_line("cannot tell where the ttlog command is (/proc/self/exe: %s); set "
			   "TTLOG_RUN_SHIM to the path of " SHIM_NAME, strerror(errno));
		return -1;
	}
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	const char *tries[] = {"", "/" TTLOG_RUN_SHIM_FROM_BIN};
	char candidate[PATH_MAX + 64];
	for (size_t i = 0; i < 2; i++) {
		snprintf(candidate, sizeof candidate, "%s%s/" SHIM_NAME, exe, tries[i]);
		if (access(candidate, R_OK) == 0 && realpath(candidate, out) && strlen(out) < size)
			return 0;
	}
	error_line(SHIM_NAME " was found neither in %s nor in %s/" TTLOG_RUN_SHIM_FROM_BIN
		   "; set TTLOG_RUN_SHIM to its path", exe, exe);
	return -1;
}

/*
 * The entries ttlog run adds to LD_PRELOAD: libttlog, then the shim.
 * libttlog comes first so that it is before the C library in the dynamic
 * linker's search order (as the shim's dependency it would come after
 * it): its pthread_create finds the C library's as the next one, and the
 * program's threads get their signal stacks from it. It is the file next
 * to the shim, else its soname, which the loader looks up as it would a
 * dependency.
 */
static void preload_list(const char *shim, char *out, size_t size)
{
	char lib[PATH_MAX + 64];
	const char *slash = strrchr(shim, '/');
	snprintf(lib, sizeof lib, "%.*s/" TTLOG_SONAME, (int)(slash ? slash - shim : 1),
		 slash ? shim : ".");
	if (access(lib, R_OK) != 0)
		snprintf(lib, sizeof lib, "%s", TTLOG_SONAME);
	snprintf(out, size, "%s:%s", lib, shim);
}

/*
 * --instrument: libttlog-instrument.so, the file beside the shim (both are
 * built into the same directory and installed into the same libdir), goes
 * after the shim in LD_PRELOAD; the shim takes it out for the program's
 * children with the rest, unless it follows them.
 */
#define INSTRUMENT_NAME "libttlog-instrument.so"
static int add_instrument(const char *shim, char *preload, size_t size)
{
	char lib[PATH_MAX + 64];
	const char *slash = strrchr(shim, '/');
	snprintf(lib, sizeof lib, "%.*s/" INSTRUMENT_NAME, (int)(slash ? slash - shim : 1),
		 slash ? shim : ".");
	if (access(lib, R_OK) != 0) {
		error_line("--instrument: %s: %s", lib, strerror(errno));
		return -1;
	}
	size_t used = strlen(preload);
	if ((size_t)snprintf(preload + used, size - used, ":%s", lib) >= size - used) {
		error_line("--instrument: the path %s is too long", lib);
		return -1;
	}
	return 0;
}

/* ---- Snapshots written during the run ----------------------------------- */

struct names {
	char **v;
	size_t n, cap;
};

static int is_snapshot_name(const char *name)
{
	size_t len = strlen(name);
	return strncmp(name, "ttlog-", 6) == 0 && len > 12 && strcmp(name + len - 6, ".ttlog") == 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The snapshot names in dir, sorted; none when it cannot be read. */
static void list_snapshots(const char *dir, struct names *out)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!is_snapshot_name(e->d_name))
			continue;
		if (out->n == out->cap) {
			size_t cap = out->cap ? 2 * out->cap : 64;
			char **v = realloc(out->v, cap * sizeof *v);
			if (!v)
				break;
			out->v = v, out->cap = cap;
		}
		if (!(out->v[out->n] = strdup(e->d_name)))
			break;
		out->n++;
	}
	closedir(d);
	if (out->n > 1)
		qsort(out->v, out->n, sizeof *out->v, cmp_names);
}

static void free_names(struct names *n)
{
	for (size_t i = 0; i < n->n; i++)
		free(n->v[i]);
	free(n->v);
	memset(n, 0, sizeof *n);
}

/* Names on stderr the snapshots that are in dir now and were not before. */
static void report_snapshots(const char *dir, struct names *before, pid_t pid, int any_pid)
{
	struct names after = {0};
	list_snapshots(dir, &after);
	char prefix[32];
	snprintf(prefix, sizeof prefix, "ttlog-%d-", (int)pid);
	for (size_t i = 0; i < after.n; i++) {
		const char *name = after.v[i];
		if (before->n && bsearch(&name, before->v, before->n, sizeof *before->v, cmp_names))
			continue;
		if (!any_pid && strncmp(name, prefix, strlen(prefix)) != 0)
			continue;
		fprintf(stderr, "ttlog run: snapshot written: %s/%s\n", dir, name);
	}
	free_names(&after);
}

/* ---- Running ------------------------------------------------------------ */

static volatile sig_atomic_t child_pid;

static void pass_on(int sig)
{
	if (child_pid > 0)
		kill((pid_t)child_pid, sig);
}

static int set_env(const char *name, const char *value)
{
	if (setenv(name, value, 1) != 0) {
		error_line("cannot set %s: %s", name, strerror(errno));
		return -1;
	}
	return 0;
}

/* preload: what goes at the end of LD_PRELOAD (preload_list()). */
static int child_env(const struct run_opts *o, const char *ours)
{
	const char *old = getenv("LD_PRELOAD");
	size_t size = strlen(ours) + (old ? strlen(old) : 0) + 2;
	char *preload = malloc(size);
	if (!preload) {
		error_line("out of memory");
		return -1;
	}
	/* After the entries already there: a sanitizer's runtime must stay first. */
	if (old && *old)
		snprintf(preload, size, "%s:%s", old, ours);
	else
		snprintf(preload, size, "%s", ours);
	int rc = set_env("LD_PRELOAD", preload) | set_env("TTLOG_RUN_PRELOAD", ours);
	free(preload);
	if (o->dir)
		rc |= set_env("TTLOG_DIR", o->dir);
	if (o->shared_memory)
		rc |= set_env("TTLOG_SHARED_MEMORY", "1");
	if (o->stream)
		rc |= set_env("TTLOG_STREAM", o->stream);
	if (o->service)
		rc |= set_env("TTLOG_SERVICE", o->service);
	if (o->capture_stdout)
		rc |= set_env("TTLOG_RUN_STDOUT", "1");
	else
		unsetenv("TTLOG_RUN_STDOUT");
	if (o->level_regex)
		rc |= set_env("TTLOG_RUN_LEVEL_REGEX", o->level_regex);
	else
		unsetenv("TTLOG_RUN_LEVEL_REGEX");
	if (o->follow)
		rc |= set_env("TTLOG_RUN_FOLLOW", "1");
	else
		unsetenv("TTLOG_RUN_FOLLOW");
	return rc ? -1 : 0;
}

int cli_run_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"dir", required_argument, NULL, 'd'},
		{"shared-memory", no_argument, NULL, 'M'},
		{"stream", required_argument, NULL, 'S'},
		{"service", required_argument, NULL, 'N'},
		{"stdout", no_argument, NULL, 'O'},
		{"level-regex", required_argument, NULL, 'l'},
		{"follow-children", no_argument, NULL, 'f'},
		{"instrument", no_argument, NULL, 'I'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static const char shortopts[] = "+:d:l:fh";
	struct run_opts o = {0};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o.dir = optarg;
			break;
		case 'M':
			o.shared_memory = 1;
			break;
		case 'S':
			o.stream = optarg;
			break;
		case 'N':
			o.service = optarg;
			break;
		case 'O':
			o.capture_stdout = 1;
			break;
		case 'l':
			o.level_regex = optarg;
			break;
		case 'f':
			o.follow = 1;
			break;
		case 'I':
			o.instrument = 1;
			break;
		case 'h':
			cli_run_usage(stdout);
			return CLI_EXIT_OK;
		default:
			cli_report_bad_option(COMMAND, c, argv, shortopts);
			return EXIT_RUN_FAILED;
		}
	}
	if (optind >= argc) {
		cli_report_usage_error(COMMAND, "no program to run (ttlog run [OPTIONS] -- CMD [ARGS...])");
		return EXIT_RUN_FAILED;
	}
	if (o.dir && !*o.dir) {
		cli_report_usage_error(COMMAND, "--dir: empty directory name");
		return EXIT_RUN_FAILED;
	}
	if (o.stream && !*o.stream) {
		cli_report_usage_error(COMMAND, "--stream: empty directory name");
		return EXIT_RUN_FAILED;
	}
	if (o.level_regex && check_level_regex(o.level_regex) != 0)
		return EXIT_RUN_FAILED;

	char **cmd = argv + optind;
	char path[PATH_MAX], shim[PATH_MAX];
	int rc = find_program(cmd[0], path, sizeof path);
	if (rc == 0)
		rc = check_program(path, 0);
	if (rc != 0)
		return rc;
	if (find_shim(shim, sizeof shim) != 0)
		return EXIT_RUN_FAILED;
	char preload[3 * PATH_MAX + 64];
	preload_list(shim, preload, sizeof preload);
	if (o.instrument && add_instrument(shim, preload, sizeof preload) != 0)
		return EXIT_RUN_FAILED;

	char dir[PATH_MAX];
	if (o.dir)
		snprintf(dir, sizeof dir, "%s", o.dir);
	else if (ttlog_default_dir(dir, sizeof dir) != TTLOG_OK)
		dir[0] = '\0';
	struct names before = {0};
	if (dir[0]) {
		list_snapshots(dir, &before);
	}

	fflush(NULL);
	struct sigaction ign = {.sa_handler = SIG_IGN}, pass = {.sa_handler = pass_on}, old_int, old_quit;
	sigemptyset(&ign.sa_mask);
	sigemptyset(&pass.sa_mask);
	pass.sa_flags = SA_RESTART;
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);

	pid_t pid = fork();
	if (pid < 0) {
		error_line("fork: %s", strerror(errno));
		free_names(&before);
		return EXIT_RUN_FAILED;
	}
	if (pid == 0) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGQUIT, &old_quit, NULL);
		signal(SIGPIPE, SIG_DFL); /* main() ignores it for the command itself */
		if (child_env(&o, preload) != 0)
			_exit(EXIT_RUN_FAILED);
		execv(path, cmd);
		int e = errno;
		error_line("%s: %s", path, strerror(e));
		_exit(e == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN);
	}
	child_pid = pid;
	int passed[] = {SIGTERM, SIGHUP, SIGUSR1, SIGUSR2};
	for (size_t i = 0; i < sizeof passed / sizeof passed[0]; i++)
		sigaction(passed[i], &pass, NULL);

	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			error_line("waitpid: %s", strerror(errno));
			free_names(&before);
			return EXIT_RUN_FAILED;
		}
	}
	child_pid = 0;
	if (dir[0])
		report_snapshots(dir, &before, pid, o.follow);
	free_names(&before);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_RUN_FAILED;
}
