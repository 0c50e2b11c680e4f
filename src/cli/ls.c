/* SPDX-License-Identifier: MIT */
/*
 * ls.c - `ttlog ls`: the snapshot files of a directory, newest first, one
 * line each (when, which process, why, crash signal, events, size), or one
 * JSON object per file.
 *
 * Each file is opened lazily (TTLOG_READER_LAZY): every chunk's checksum and
 * the file's structure are checked, but no event block is decoded, so a
 * directory of large snapshots lists quickly. A file that cannot be read is
 * listed all the same, with its problem in the STATUS column; the reader's
 * precise error follows on stderr and the exit status is 2.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "render/json_text.h"
#include "render/names.h"
#include "render/time_text.h"
#include "report.h"
#include "sigcode.h"
#include "ttlog_reader.h"

#define COMMAND "ls"
#define SNAPSHOT_SUFFIX ".ttlog"
#define SEGMENT_SUFFIX ".ttseg"   /* a stream's segment (FORMAT.md 17) */
/* A writer's temporary file (docs/FORMAT.md, "File names and publication"):
 * .ttlog-<pid>-<tid>-<counter>.tmp */
#define TEMP_PREFIX ".ttlog-"
#define TEMP_SUFFIX ".tmp"

/* What became of opening a file; the names are those of the STATUS column
 * and of the JSON member "status". */
enum entry_status {
	STATUS_OK,        /* valid and complete */
	STATUS_TRUNCATED, /* cut short: what is there is valid */
	STATUS_CORRUPT,   /* a chunk failed its checks */
	STATUS_VERSION,   /* written by a newer ttlog */
	STATUS_NOT_TTLOG, /* not a snapshot at all */
	STATUS_UNREADABLE,/* cannot be opened or read */
	STATUS_TEMPORARY, /* a writer's temporary file (--all) */
	STATUS_OPEN,      /* a segment without END: being written, or its writer died */
};
static const char *const status_names[] = {
	"ok", "truncated", "corrupt", "newer-version", "not-ttlog", "unreadable", "temporary",
	"open",
};
_Static_assert(sizeof status_names / sizeof status_names[0] == STATUS_OPEN + 1,
	       "one name per status");

/* One file of the listing. Strings are copies: the file's reader is closed
 * before the next one is opened, so that a large directory does not hold a
 * descriptor and a mapping per file. */
struct entry {
	char *path;
	const char *name;       /* points into path */
	enum entry_status status;
	char *error;            /* the reader's message, NULL when status is OK */
	int described;          /* the file's header could be read: the fields below */
	int64_t created_ns;
	uint32_t pid;
	char *executable, *hostname, *reason;
	char *trigger_rule;          /* a trigger's snapshot: the rule; "" otherwise */
	int64_t trigger_ns;
	int complete;
	uint64_t events;
	int crashed, signo;
	char *signal;           /* "SIGSEGV", or NULL for a number without a name */
	uint64_t size;          /* bytes, from stat() */
	int64_t mtime_ns;
	int64_t sort_ns;        /* created_ns, or mtime_ns when not described */
};

struct ls {
	int json, utc, all;
	const char *dir;
	int dir_is_default;
	struct entry *entries;
	size_t nentries, cap;
	struct render_buf line;
};

void cli_ls_usage(FILE *out)
{
	fputs("Usage: ttlog ls [OPTIONS] [DIR]\n"
	      "\n"
	      "Lists the snapshot files (*.ttlog) and stream segments (*.ttseg) in DIR,\n"
	      "newest first. Without DIR, lists the directory programs write to when\n"
	      "their configuration names none:\n"
	      "$TTLOG_DIR if it is set, else $XDG_RUNTIME_DIR/ttlog, else /tmp/ttlog-UID.\n"
	      "\n"
	      "Options:\n"
	      "  -o, --output FORMAT   text (the default) or json: one JSON object per file\n"
	      "                        and line\n"
	      "      --utc             show times in UTC instead of local time\n"
	      "  -a, --all             also list the temporary files of snapshots being\n"
	      "                        written (.ttlog-*.tmp; left behind only by a writer\n"
	      "                        that was killed), with status temporary\n"
	      "  -h, --help            show this help and exit\n"
	      "\n"
	      "Columns: CREATED (when the snapshot was written, to the second), PID and\n"
	      "  EXECUTABLE (base name) of the process, REASON (for a trigger's snapshot,\n"
	      "  `trigger: ` and the rule that fired), SIGNAL (the crash signal,\n"
	      "  or - when the process did not crash), EVENTS, SIZE (K, M, G: powers of\n"
	      "  1024), STATUS and FILE (DIR/NAME, ready for `ttlog view`). Text from the\n"
	      "  file is shown with control characters as \\xNN.\n"
	      "Order: newest first by the creation time recorded in the file; files whose\n"
	      "  header cannot be read are placed by their modification time, which their\n"
	      "  CREATED column then shows. Equal times: by name, last first.\n"
	      "Status: ok, truncated (cut short: the part there is valid), corrupt (a\n"
	      "  checksum or structure check failed), newer-version, not-ttlog, unreadable,\n"
	      "  temporary, open (a stream's segment that is being written, or whose\n"
	      "  writer died: valid up to its last whole chunk).\n"
	      "Files are not decoded: every chunk's checksum is checked, the events inside\n"
	      "  the blocks are not (`ttlog view` or `ttlog stats` read them). EVENTS is\n"
	      "  the count the file's END states, the events `view` and `stats` count;\n"
	      "  a file written before ttlog 0.4's format revision 9, or one without END\n"
	      "  (truncated, or a segment being written), is decoded to count them.\n"
	      "JSON lines: path, name, status, error (the reader's message or null),\n"
	      "  created (UTC) and created_ns, mtime_ns, pid, executable (the full path),\n"
	      "  hostname, reason, complete, events, crashed, signal, signo, trigger_rule and\n"
	      "  trigger_ns (a trigger's snapshot: the rule that fired and when; else null),\n"
	      "  size (bytes);\n"
	      "  what the file could not tell is null.\n"
	      "\n"
	      "Exit status: 0 success (an empty directory too), 1 usage error, 2 the\n"
	      "directory cannot be read, or some file is not a valid snapshot: every file\n"
	      "is listed first, then the reader's error for each bad one on stderr.\n",
	      out);
}

static int has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), m = strlen(suffix);
	return n > m && strcmp(name + n - m, suffix) == 0;
}

static enum entry_status status_of(int rc)
{
	switch (rc) {
	case TTLOG_OK:
		return STATUS_OK;
	case TTLOG_E_TRUNCATED:
		return STATUS_TRUNCATED;
	case TTLOG_E_CORRUPT:
		return STATUS_CORRUPT;
	case TTLOG_E_VERSION:
		return STATUS_VERSION;
	case TTLOG_E_NOT_TTLOG:
		return STATUS_NOT_TTLOG;
	default:
		return STATUS_UNREADABLE;
	}
}

/* The events of a file whose END does not count them (written before
 * format revision 9, or without END): its blocks decoded. `records` if
 * that fails. */
static uint64_t count_events(const char *path, uint64_t records)
{
	ttlog_reader *r = NULL;
	int rc = ttlog_reader_open_ex(path, 0, &r);
	uint64_t n = records;
	if (r && (rc == TTLOG_OK || rc == TTLOG_E_TRUNCATED || rc == TTLOG_E_CORRUPT))
		n = ttlog_reader_info(r)->events;
	ttlog_reader_close(r);
	return n;
}

/* Fills e from the file's header (its reader is closed right after). */
static void describe(struct entry *e, ttlog_reader *r)
{
	const struct ttlog_file_info *info = ttlog_reader_info(r);
	/* A file cut before its HEAD chunk has nothing to show: every real
	 * HEAD has a writer version and a creation time. */
	if (!info || (info->writer_version == 0 && info->created_ns == 0))
		return;
	e->described = 1;
	e->created_ns = info->created_ns;
	e->pid = info->pid;
	e->executable = render_xstrdup(info->executable);
	e->hostname = render_xstrdup(info->hostname);
	e->reason = render_xstrdup(info->reason);
	e->trigger_rule = render_xstrdup(info->trigger_rule);
	e->trigger_ns = info->trigger_ns;
	e->complete = info->complete;
	e->events = info->events;
	if (info->events_are_records)
		e->events = count_events(e->path, info->events);
	e->crashed = info->crashed;
	if (info->crashed) {
		const char *name = info->crash.signal_name;
		e->signo = info->crash.signo;
		if (!name || !*name)
			name = cli_signal_name(e->signo);
		e->signal = name ? render_xstrdup(name) : NULL;
	}
}

static void open_entry(struct entry *e)
{
	ttlog_reader *r = NULL;
	int rc = ttlog_reader_open_ex(e->path, TTLOG_READER_LAZY, &r);

	e->status = status_of(rc);
	if (rc == TTLOG_OK && ttlog_reader_info(r)->open)
		e->status = STATUS_OPEN;
	/* Only these leave a header worth showing (as `ttlog view` decides). */
	if (r && (rc == TTLOG_OK || rc == TTLOG_E_TRUNCATED || rc == TTLOG_E_CORRUPT))
		describe(e, r);
	if (rc != TTLOG_OK) {
		const char *error = r ? ttlog_reader_error(r) : NULL;
		if (error && *error) {
			e->error = render_xstrdup(error);
		} else {
			struct render_buf b = {0};
			render_buf_printf(&b, "%s: %s", e->path, ttlog_strerror(rc));
			e->error = b.data;
		}
	}
	ttlog_reader_close(r);
	e->sort_ns = e->described ? e->created_ns : e->mtime_ns;
}

/* "DIR/NAME", without doubling a '/' that DIR ends in. */
static char *join_path(const char *dir, const char *name)
{
	struct render_buf path = {0};
	render_buf_puts(&path, dir);
	if (path.len && path.data[path.len - 1] != '/')
		render_buf_putc(&path, '/');
	render_buf_puts(&path, name);
	return path.data;
}

/* Adds an entry for path (which it takes over), a file of the given stat. */
static struct entry *add_entry(struct ls *ls, char *path, const struct stat *st)
{
	if (ls->nentries == ls->cap) {
		ls->cap = ls->cap ? ls->cap * 2 : 32;
		ls->entries = render_xrealloc(ls->entries, ls->cap * sizeof *ls->entries);
	}
	struct entry *e = &ls->entries[ls->nentries++];
	memset(e, 0, sizeof *e);
	e->path = path;
	e->name = render_base_name(path);
	e->size = (uint64_t)st->st_size;
	e->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	return e;
}

/* Reads the directory into ls->entries; returns 0, or -1 after a message. */
static int read_directory(struct ls *ls)
{
	DIR *dir = opendir(ls->dir);
	if (!dir) {
		int err = errno;
		cli_sync_stdout();
		fprintf(stderr, "ttlog ls: %s: cannot read the directory: %s%s\n", ls->dir, strerror(err),
			err == ENOENT && ls->dir_is_default ? " (no snapshot was written there yet; "
							      "set TTLOG_DIR or give DIR)"
							    : "");
		return -1;
	}
	struct dirent *d;
	int status = 0;

	for (errno = 0; (d = readdir(dir)) != NULL; errno = 0) {
		const char *name = d->d_name;
		int temporary = strncmp(name, TEMP_PREFIX, strlen(TEMP_PREFIX)) == 0 &&
				has_suffix(name, TEMP_SUFFIX);
		/* Names starting with '.' are never snapshots (FORMAT.md, "File names and publication"). */
		if (temporary ? !ls->all
			      : name[0] == '.' || (!has_suffix(name, SNAPSHOT_SUFFIX) &&
						   !has_suffix(name, SEGMENT_SUFFIX)))
			continue;
		char *path = join_path(ls->dir, name);
		struct stat st;
		/* Gone since readdir() (a temporary removed), or not a file. */
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
			free(path);
			continue;
		}
		struct entry *e = add_entry(ls, path, &st);
		if (temporary) {
			e->status = STATUS_TEMPORARY;
			e->sort_ns = e->mtime_ns;
		} else {
			open_entry(e);
		}
	}
	if (errno != 0) {
		cli_sync_stdout();
		fprintf(stderr, "ttlog ls: %s: cannot read the directory: %s\n", ls->dir, strerror(errno));
		status = -1;
	}
	closedir(dir);
	return status;
}

/* Newest first; equal times by name, last first (names carry the time of
 * publication, to the nanosecond, after the pid). */
static int newest_first(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	if (x->sort_ns != y->sort_ns)
		return x->sort_ns < y->sort_ns ? 1 : -1;
	return -strcmp(x->name, y->name);
}

static void print_text(struct ls *ls)
{
	struct cli_table t;
	char tb[RENDER_TIME_BUF], sb[CLI_SIZE_BUF];

	/* Right-aligned: PID (1), EVENTS (5), SIZE (6). */
	cli_table_init(&t, 9, 1u << 1 | 1u << 5 | 1u << 6);
	t.min_width[1] = 7; /* Linux pids have at most 7 digits (pid_max <= 2^22) */
	const char *const heads[] = {"CREATED", "PID",  "EXECUTABLE", "REASON", "SIGNAL",
				     "EVENTS",  "SIZE", "STATUS",     "FILE"};
	for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++)
		cli_table_cell(&t, "%s", heads[i]);
	for (size_t i = 0; i < ls->nentries; i++) {
		const struct entry *e = &ls->entries[i];
		render_time_format(e->sort_ns, ls->utc ? RENDER_TIME_UTC : RENDER_TIME_LOCAL, tb);
		char *fraction = strchr(tb, '.');
		if (fraction)
			*fraction = '\0'; /* to the second */
		cli_table_cell(&t, "%s", tb);
		if (e->described) {
			cli_table_cell(&t, "%" PRIu32, e->pid);
			cli_table_text(&t, render_base_name(e->executable));
			if (e->trigger_rule && e->trigger_rule[0]) {
				/* A trigger's snapshot: the rule that fired. */
				size_t n = strlen(e->reason) + strlen(e->trigger_rule) + 3;
				char *both = render_xrealloc(NULL, n);
				snprintf(both, n, "%s: %s", e->reason, e->trigger_rule);
				cli_table_text(&t, both);
				free(both);
			} else {
				cli_table_text(&t, e->reason);
			}
			if (!e->crashed)
				cli_table_cell(&t, "-");
			else if (e->signal)
				cli_table_text(&t, e->signal);
			else
				cli_table_cell(&t, "signal %d", e->signo);
			cli_table_cell(&t, "%" PRIu64, e->events);
		} else {
			for (int c = 0; c < 5; c++)
				cli_table_cell(&t, "-");
		}
		cli_table_cell(&t, "%s", cli_report_size(e->size, sb));
		cli_table_cell(&t, "%s", status_names[e->status]);
		cli_table_text(&t, e->path);
	}
	cli_table_print(&t, "", &ls->line);
	cli_table_free(&t);
}

static void print_json(struct ls *ls)
{
	struct render_buf *b = &ls->line;
	char tb[RENDER_TIME_BUF];

	for (size_t i = 0; i < ls->nentries && !cli_stdout_failed(); i++) {
		const struct entry *e = &ls->entries[i];
		render_buf_reset(b);
		render_buf_puts(b, "{\"path\":");
		render_json_cstring(b, e->path);
		render_buf_puts(b, ",\"name\":");
		render_json_cstring(b, e->name);
		render_buf_printf(b, ",\"status\":\"%s\",\"error\":", status_names[e->status]);
		render_json_cstring(b, e->error); /* NULL: null */
		if (e->described) {
			render_buf_printf(b, ",\"created\":\"%s\",\"created_ns\":%" PRId64,
					  render_time_format(e->created_ns, RENDER_TIME_ISO, tb), e->created_ns);
		} else {
			render_buf_puts(b, ",\"created\":null,\"created_ns\":null");
		}
		render_buf_printf(b, ",\"mtime_ns\":%" PRId64, e->mtime_ns);
		if (e->described) {
			render_buf_printf(b, ",\"pid\":%" PRIu32 ",\"executable\":", e->pid);
			render_json_cstring(b, e->executable);
			render_buf_puts(b, ",\"hostname\":");
			render_json_cstring(b, e->hostname);
			render_buf_puts(b, ",\"reason\":");
			render_json_cstring(b, e->reason);
			render_buf_printf(b, ",\"complete\":%s,\"events\":%" PRIu64 ",\"crashed\":%s",
					  e->complete ? "true" : "false", e->events,
					  e->crashed ? "true" : "false");
			render_buf_puts(b, ",\"signal\":");
			render_json_cstring(b, e->crashed ? e->signal : NULL);
			if (e->crashed)
				render_buf_printf(b, ",\"signo\":%d", e->signo);
			else
				render_buf_puts(b, ",\"signo\":null");
			if (e->trigger_rule && e->trigger_rule[0]) {
				render_buf_puts(b, ",\"trigger_rule\":");
				render_json_cstring(b, e->trigger_rule);
				render_buf_printf(b, ",\"trigger_ns\":%" PRId64, e->trigger_ns);
			} else {
				render_buf_puts(b, ",\"trigger_rule\":null,\"trigger_ns\":null");
			}
		} else {
			render_buf_puts(b, ",\"pid\":null,\"executable\":null,\"hostname\":null,"
					"\"reason\":null,\"complete\":false,\"events\":null,"
					"\"crashed\":null,\"signal\":null,\"signo\":null,"
					"\"trigger_rule\":null,\"trigger_ns\":null");
		}
		render_buf_printf(b, ",\"size\":%" PRIu64 "}\n", e->size);
		render_buf_write(b, stdout);
	}
}

/* ---- Options ------------------------------------------------------------ */

enum { OPT_UTC = 256 };

#define SHORT_OPTIONS ":aho:"

static const struct option long_options[] = {
	{"output", required_argument, NULL, 'o'},
	{"utc", no_argument, NULL, OPT_UTC},
	{"all", no_argument, NULL, 'a'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* Parses the options into *ls; returns -1 when the program should exit with
 * *status (a usage error, or --help). */
static int parse_options(struct ls *ls, int argc, char **argv, int *status)
{
	int c;

	opterr = 0; /* the messages below say which command and where to get help */
	while ((c = getopt_long(argc, argv, SHORT_OPTIONS, long_options, NULL)) != -1) {
		switch (c) {
		case 'h':
			cli_ls_usage(stdout);
			*status = CLI_EXIT_OK;
			return -1;
		case 'o':
			if (strcmp(optarg, "text") == 0 || strcmp(optarg, "json") == 0) {
				ls->json = optarg[0] == 'j';
				break;
			}
			*status = cli_report_usage_error(COMMAND, "unknown output format '%s' (use "
								  "text or json)", optarg);
			return -1;
		case OPT_UTC:
			ls->utc = 1;
			break;
		case 'a':
			ls->all = 1;
			break;
		default:
			*status = cli_report_bad_option(COMMAND, c, argv, SHORT_OPTIONS);
			return -1;
		}
	}
	if (argc - optind > 1) {
		*status = cli_report_usage_error(COMMAND, "one DIR at most (got %d arguments)",
						 argc - optind);
		return -1;
	}
	return 0;
}

static void ls_free(struct ls *ls)
{
	for (size_t i = 0; i < ls->nentries; i++) {
		struct entry *e = &ls->entries[i];
		free(e->path);
		free(e->error);
		free(e->executable);
		free(e->hostname);
		free(e->reason);
		free(e->trigger_rule);
		free(e->signal);
	}
	free(ls->entries);
	render_buf_free(&ls->line);
}

int cli_ls_main(int argc, char **argv)
{
	struct ls ls = {0};
	char default_dir[4096];
	int status = CLI_EXIT_OK;

	if (parse_options(&ls, argc, argv, &status) != 0)
		goto out;
	if (optind < argc) {
		ls.dir = argv[optind];
	} else {
		int rc = ttlog_default_dir(default_dir, sizeof default_dir);
		if (rc != TTLOG_OK) {
			cli_sync_stdout();
			fprintf(stderr, "ttlog ls: cannot tell the default directory: %s\n",
				ttlog_strerror(rc));
			status = CLI_EXIT_DATA;
			goto out;
		}
		ls.dir = default_dir;
		ls.dir_is_default = 1;
	}
	if (read_directory(&ls) != 0) {
		status = CLI_EXIT_DATA;
		goto out;
	}
	if (ls.nentries > 1)
		qsort(ls.entries, ls.nentries, sizeof *ls.entries, newest_first);

	if (ls.json)
		print_json(&ls);
	else if (ls.nentries)
		print_text(&ls);
	else {
		cli_sync_stdout();
		fprintf(stderr, "ttlog ls: no snapshots in %s\n", ls.dir);
	}
	if (cli_stdout_failed())
		goto out; /* main() reports it, or stays quiet for a closed pipe */

	/* The details of each bad file, in the order of the listing. */
	for (size_t i = 0; i < ls.nentries; i++) {
		const struct entry *e = &ls.entries[i];
		if (!e->error)
			continue;
		cli_sync_stdout();
		fprintf(stderr, "ttlog ls: %s\n", e->error);
		status = CLI_EXIT_DATA;
	}
out:
	ls_free(&ls);
	return status;
}
