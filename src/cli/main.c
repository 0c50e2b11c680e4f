/* SPDX-License-Identifier: MIT */
/*
 * main.c - the `ttlog` command: dispatches to a subcommand, prints the
 * command's help and version, and owns stdout (write errors are detected
 * here, at exit; a closed pipe ends the program quietly).
 *
 * Encrypted files: every command that reads files takes --key FILE (else
 * TTLOG_KEY), the private key of `ttlog keygen`. The option is taken out of
 * the command line here, before the command parses it, and given to the
 * reader library (ttlog_reader_set_key_file), which every later open uses;
 * the commands' help texts end with the same paragraph about it.
 */
#include <errno.h>
#include <signal.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ttlog.h"
#include "ttlog_reader.h"

/* errno of the first write error on stdout, 0 while there was none. */
static int stdout_errno;

int cli_stdout_failed(void)
{
	if (!ferror(stdout))
		return 0;
	if (stdout_errno == 0)
		stdout_errno = errno ? errno : EIO;
	return -1;
}

void cli_stdout_note_errno(int err)
{
	if (stdout_errno == 0 && err)
		stdout_errno = err;
}

void cli_sync_stdout(void)
{
	fflush(stdout);
	cli_stdout_failed();
}

static void usage(FILE *out)
{
	fputs("Usage: ttlog COMMAND [OPTIONS] [ARGUMENTS]\n"
	      "\n"
	      "Reads the snapshot files and stream segments written by programs that use\n"
	      "ttlog. Commands that take files also take a directory or a glob pattern.\n"
	      "\n"
	      "Commands:\n"
	      "  view         print the events of snapshot files, one line per event\n"
	      "  ls           list the snapshot files of a directory, newest first\n"
	      "  stats        statistics of snapshot files: events by level, thread and\n"
	      "               call site, time range and rate, losses, compression\n"
	      "  query        run SQL over snapshot files (SQLite)\n"
	      "  diff A B     what changed from A to B, ranked: new and gone sites,\n"
	      "               rates, argument distributions, span durations\n"
	      "  explain      what departed in the last window of a snapshot, ranked\n"
	      "  export       write the events of snapshot files as JSON lines, CSV,\n"
	      "               logfmt, a Chrome trace or an OTLP/JSON request\n"
	      "  tail         the last events of a directory of segments and snapshots,\n"
	      "               then (-f) the new ones as they are written\n"
	      "  top [PID]    live view of running processes: events/s per call site,\n"
	      "               errors, span p50/p99, ring use and losses per thread\n"
	      "  snap PID     take a snapshot of a running process, from its shared\n"
	      "               mapping or through its snapshot signal\n"
	      "  metrics PID  the live metrics of running processes in shared-memory mode,\n"
	      "               in the Prometheus text format (or --json); 'all' for every one\n"
	      "  serve        a web viewer of snapshot files and stream directories:\n"
	      "               timeline, events, traces, metrics, crash, SQL, live tail\n"
	      "  report FILE  the viewer's page as one self-contained HTML file with\n"
	      "               the data of FILE embedded (to attach to a ticket)\n"
	      "  ship clickhouse  insert events, spans, metrics and crashes into\n"
	      "               ClickHouse, exactly once; --follow ships a stream as it grows\n"
	      "  ship otlp    send logs, traces and metrics to an OpenTelemetry collector\n"
	      "               over OTLP/HTTP (protobuf or JSON), exactly once per file position\n"
	      "  recover      turn the shared mappings of processes that died (SIGKILL,\n"
	      "               the OOM killer) into snapshot files; list or remove them\n"
	      "  run CMD      run an unmodified program with its output, syslog calls\n"
	      "               and crash recorded (a preloaded shim)\n"
	      "  keygen       make a key pair for encrypted snapshots and segments\n"
	      "               (TTLOG_ENCRYPT_KEY; reading commands then take --key)\n"
	      "  help [CMD]   show this help, or the help of command CMD;\n"
	      "               'help env': the TTLOG_* variables programs read\n"
	      "\n"
	      "Global options:\n"
	      "  -h, --help     show this help and exit\n"
	      "  -V, --version  print the version of ttlog and exit\n"
	      "\n"
	      "Run 'ttlog COMMAND --help' for the options of a command.\n",
	      out);
}

/*
 * `ttlog help env`: the library's own description of its variables, so
 * that this text, the README's table and what ttlog_init() accepts come
 * from one table (src/core/config.c) and cannot disagree.
 */
static void env_help(FILE *out)
{
	fputs("Usage: ttlog help env\n"
	      "\n"
	      "The environment variables that ttlog_init() reads in a program that uses\n"
	      "ttlog, in the order it reads them. Each overrides the struct ttlog_config\n"
	      "field named with it, so that an operator can change a setting without a\n"
	      "rebuild.\n"
	      "A value it does not accept makes ttlog_init() fail with TTLOG_E_CONFIG, and\n"
	      "ttlog_init_error() names the variable and the value.\n",
	      out);
	const struct ttlog_config_var *v;
	for (size_t i = 0; (v = ttlog_config_var(i)) != NULL; i++)
		fprintf(out, "\n%s\n  field:    %s\n  default:  %s\n  accepts:  %s\n  %s\n", v->name,
			*v->field ? v->field : "(none)", v->default_value, v->values, v->summary);
}

/*
 * Flushes and closes stdout and turns a write error into an exit code. A
 * reader that went away (EPIPE: `ttlog view x | head`) is not an error
 * worth a message; it keeps the exit code the work so far earned.
 */
static int finish(int status)
{
	if (fflush(stdout) != 0)
		cli_stdout_failed();
	cli_stdout_failed();
	if (fclose(stdout) != 0 && stdout_errno == 0)
		stdout_errno = errno ? errno : EIO;
	if (stdout_errno == 0 || stdout_errno == EPIPE)
		return status;
	fprintf(stderr, "ttlog: error writing the output: %s\n", strerror(stdout_errno));
	return CLI_EXIT_DATA;
}

static int unknown_command(const char *name)
{
	if (name[0] == '-')
		fprintf(stderr, "ttlog: unknown option '%s'\n", name);
	else
		fprintf(stderr, "ttlog: unknown command '%s'\n", name);
	fputs("Run 'ttlog --help' for the list of commands.\n", stderr);
	return CLI_EXIT_USAGE;
}

/* The subcommands, in the order of the usage text; reads: it opens
 * snapshot files or segments, so it takes --key. */
static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	void (*usage)(FILE *out);
	int reads;
} commands[] = {
	{"view", cli_view_main, cli_view_usage, 1},
	{"ls", cli_ls_main, cli_ls_usage, 1},
	{"stats", cli_stats_main, cli_stats_usage, 1},
	{"query", cli_query_main, cli_query_usage, 1},
	{"diff", cli_diff_main, cli_diff_usage, 1},
	{"explain", cli_explain_main, cli_explain_usage, 1},
	{"export", cli_export_main, cli_export_usage, 1},
	{"tail", cli_tail_main, cli_tail_usage, 1},
	{"top", cli_top_main, cli_top_usage, 0},
	{"snap", cli_snap_main, cli_snap_usage, 0},
	{"metrics", cli_metrics_main, cli_metrics_usage, 0},
	{"serve", cli_serve_main, cli_serve_usage, 1},
	{"report", cli_htmlreport_main, cli_htmlreport_usage, 1},
	{"ship", cli_ship_main, cli_ship_usage, 1},
	{"recover", cli_recover_main, cli_recover_usage, 1},
	{"run", cli_run_main, cli_run_usage, 0},
	{"keygen", cli_keygen_main, cli_keygen_usage, 0},
};

/* The paragraph that ends the help of every command that reads files. */
static void key_usage(FILE *out)
{
	fputs("\n"
	      "Encrypted files (written with TTLOG_ENCRYPT_KEY; see 'ttlog keygen'):\n"
	      "  --key FILE     the private key that reads them (PREFIX.key of keygen);\n"
	      "                 default: the file named by TTLOG_KEY. Without it an\n"
	      "                 encrypted file is an error: 'encrypted; give --key'\n",
	      out);
}

/*
 * Takes --key FILE / --key=FILE out of argv (up to a "--"), else TTLOG_KEY,
 * and hands the key to the reader. Sets *help when the command line asks
 * for the help text. Returns -1 with *status on an error.
 */
static int take_key(const char *command, int *argc, char **argv, int *help, int *status)
{
	const char *path = NULL;
	int n = 1;
	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			while (i < *argc)
				argv[n++] = argv[i++];
			break;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
			*help = 1;
		if (strcmp(a, "--key") == 0) {
			if (i + 1 >= *argc) {
				fprintf(stderr, "ttlog %s: option '--key' needs a private key file\n"
						"Run 'ttlog %s --help' for usage.\n",
					command, command);
				*status = CLI_EXIT_USAGE;
				return -1;
			}
			path = argv[++i];
			continue;
		}
		if (strncmp(a, "--key=", 6) == 0) {
			path = a + 6;
			continue;
		}
		argv[n++] = argv[i];
	}
	argv[n] = NULL;
	*argc = n;
	const char *from = "--key";
	if (!path) {
		path = getenv("TTLOG_KEY");
		from = "TTLOG_KEY";
		if (path && !*path)
			path = NULL;
	}
	if (!path || *help)
		return 0;
	if (!*path) {
		fprintf(stderr, "ttlog %s: option '--key' needs a private key file, not ''\n",
			command);
		*status = CLI_EXIT_USAGE;
		return -1;
	}
	char err[512];
	if (ttlog_reader_set_key_file(path, err, sizeof err) != TTLOG_OK) {
		fprintf(stderr, "ttlog %s: %s: %s\n", command, from, err);
		*status = CLI_EXIT_USAGE;
		return -1;
	}
	return 0;
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	/* A closed pipe shows up as EPIPE from write(), handled by finish(). */
	signal(SIGPIPE, SIG_IGN);
	/* A command reads file after file into buffers of their size (the
	 * files it does not map: below), decompresses blocks and makes lines
	 * in buffers of its own, and with --jobs the next file while the last
	 * is still in use: glibc would map
	 * each such buffer afresh and have the kernel fault in and clear every
	 * page of it again. Kept in the heap instead, a freed buffer is used
	 * again as it is (docs/PERFORMANCE.md, "Reader: lines made on both
	 * cores"). */
	mallopt(M_MMAP_THRESHOLD, 512 << 20);
	mallopt(M_TRIM_THRESHOLD, 1024 << 20);
	mallopt(M_ARENA_MAX, 1); /* the threads' buffers, freed by others, reused too */
	/* Files are mapped rather than copied into fresh pages; a file that
	 * shrinks meanwhile is then reported, not a SIGBUS (GUIDE.md). */
	(void)ttlog_reader_map_files();

	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	const char *command = argv[1];
	const struct command *c = find_command(command);

	if (c && c->reads) {
		int n = argc - 1, help = 0, status = CLI_EXIT_OK;
		if (take_key(command, &n, argv + 1, &help, &status) != 0)
			return finish(status);
		status = c->run(n, argv + 1);
		if (help && status == CLI_EXIT_OK)
			key_usage(stdout);
		return finish(status);
	}
	if (c)
		return finish(c->run(argc - 1, argv + 1));
	if (strcmp(command, "-h") == 0 || strcmp(command, "--help") == 0 ||
	    strcmp(command, "help") == 0) {
		if (argc > 2 && strcmp(command, "help") == 0 && strcmp(argv[2], "env") == 0) {
			env_help(stdout);
			return finish(CLI_EXIT_OK);
		}
		if (argc > 2 && strcmp(command, "help") == 0 && strcmp(argv[2], "-h") != 0 &&
		    strcmp(argv[2], "--help") != 0) {
			if (!(c = find_command(argv[2])))
				return unknown_command(argv[2]);
			c->usage(stdout);
			if (c->reads)
				key_usage(stdout);
			return finish(CLI_EXIT_OK);
		}
		usage(stdout);
		return finish(CLI_EXIT_OK);
	}
	if (strcmp(command, "-V") == 0 || strcmp(command, "--version") == 0) {
		printf("ttlog %s\n", ttlog_version_string());
		return finish(CLI_EXIT_OK);
	}
	return unknown_command(command);
}
