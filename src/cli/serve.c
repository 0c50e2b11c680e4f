/* SPDX-License-Identifier: MIT */
/*
 * serve.c - `ttlog serve`: the options of the web viewer, checked here, and
 * the server (src/serve/) started with them. The command lends the server
 * its stack symboliser (stack_json.c) for the crash panel.
 *
 * A server on another address than loopback must have a token: given
 * with --token, or made here from 16 random bytes and printed.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "numbers.h"
#include "mapping.h"
#include "report.h"
#include "serve/serve.h"
#include "stack_json.h"
#include "time_args.h"

#define COMMAND "serve"

void cli_serve_usage(FILE *out)
{
	fputs("Usage: ttlog serve [OPTIONS] DIR|FILE|pid:PID...\n"
	      "\n"
	      "Serves a web viewer of snapshot files, stream segments and stream\n"
	      "directories: a timeline of processes, threads and spans, the events with\n"
	      "the filters of `ttlog view`, a trace's spans as a waterfall, metrics as\n"
	      "charts, the crash with its symbolised backtrace, SQL over the tables of\n"
	      "`ttlog query`, and the new events of a stream as they are written. Each\n"
	      "DIR is read as one store; each file in it is also listed on its own.\n"
	      "pid:PID (or a bare PID that names no file) is a running process in\n"
	      "shared-memory mode: each request reads a snapshot of its mapping, and\n"
	      "the live tail shows its new events as it runs.\n"
	      "The page is built into ttlog: it needs no network. Open the URL that is\n"
	      "printed on stdout. Stops on Ctrl-C (SIGINT) or SIGTERM.\n"
	      "\n"
	      "/metrics answers the metrics of the newest file of each process in\n"
	      "Prometheus' text format, labelled with service, host and pid, for a\n"
	      "Prometheus server to scrape.\n"
	      "\n"
	      "Options:\n"
	      "  -l, --listen ADDR:PORT  the address to listen on (default 127.0.0.1:8080);\n"
	      "                          PORT 0 picks a free port. A numeric IPv4 address,\n"
	      "                          or [IPv6]:PORT. Any address outside loopback needs\n"
	      "                          a token\n"
	      "  -t, --token TOKEN       every request must carry TOKEN (the header\n"
	      "                          'Authorization: Bearer TOKEN', or token=TOKEN in\n"
	      "                          the URL, which the printed URL has). Without it, a\n"
	      "                          server outside loopback makes a random token and\n"
	      "                          prints it in the URL\n"
	      "      --open              open the URL with xdg-open\n"
	      "      --port-file FILE    write the port listened on to FILE once listening\n"
	      "      --page-max N        events in one page of /api/events at most\n"
	      "                          (default 1000)\n"
	      "      --time-limit DURATION\n"
	      "                          time one request (an SQL statement too) may take,\n"
	      "                          1ms to 1h (default 5s; a number alone is seconds)\n"
	      "      --sql-rows N        rows of an SQL result at most (default 10000)\n"
	      "      --shm-dir DIR       the base directory of the mappings of pid:PID\n"
	      "                          (default $TTLOG_SHARED_DIR, else /dev/shm)\n"
	      "  -h, --help              show this help and exit\n"
	      "\n"
	      "Safety: the server only reads. Files are named in requests by their number\n"
	      "in the served set, never by a path. Without a token it answers only\n"
	      "requests whose Host header names the loopback address. The API is\n"
	      "described in docs/SERVE.md.\n"
	      "\n"
	      "Exit status: 0 stopped by a signal, 1 usage error, 2 cannot listen, a\n"
	      "DIR|FILE does not exist or a PID has no mapping.\n",
	      out);
}

enum { OPT_OPEN = 256, OPT_PORT_FILE, OPT_PAGE_MAX, OPT_TIME_LIMIT, OPT_SQL_ROWS, OPT_SHM_DIR };

static const struct option long_options[] = {
	{"listen", required_argument, NULL, 'l'},
	{"token", required_argument, NULL, 't'},
	{"open", no_argument, NULL, OPT_OPEN},
	{"port-file", required_argument, NULL, OPT_PORT_FILE},
	{"page-max", required_argument, NULL, OPT_PAGE_MAX},
	{"time-limit", required_argument, NULL, OPT_TIME_LIMIT},
	{"sql-rows", required_argument, NULL, OPT_SQL_ROWS},
	{"shm-dir", required_argument, NULL, OPT_SHM_DIR},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

#define SHORT_OPTIONS ":l:t:h"

/* "ADDR:PORT" or "[ADDR]:PORT" into host (a copy) and port. */
static int parse_listen(const char *s, char *host, size_t hostlen, unsigned *port)
{
	const char *colon;
	const char *h = s;
	size_t hl;
	if (*s == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return -1;
		h = s + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -1;
		hl = (size_t)(colon - s);
	}
	unsigned long p;
	if (hl == 0 || hl >= hostlen || cli_parse_count(colon + 1, 0, 65535, &p) != 0)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (unsigned)p;
	return 0;
}

static int is_loopback(const char *host)
{
	return strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0;
}

static int random_token(char out[33])
{
	unsigned char b[16];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, b, sizeof b);
	close(fd);
	if (n != (ssize_t)sizeof b)
		return -1;
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return 0;
}

int cli_serve_main(int argc, char **argv)
{
	struct serve_config cfg;
	memset(&cfg, 0, sizeof cfg);
	char host[64] = "127.0.0.1";
	cfg.port = 8080;
	unsigned long v;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, SHORT_OPTIONS, long_options, NULL)) != -1) {
		switch (c) {
		case 'l':
			if (parse_listen(optarg, host, sizeof host, &cfg.port) != 0)
				return cli_report_usage_error(COMMAND, "--listen takes ADDR:PORT or [ADDR]:PORT, "
						   "not '%s'", optarg);
			break;
		case 't':
			if (strlen(optarg) < 8 || strlen(optarg) > 256 || strpbrk(optarg, " \t\r\n&#%+"))
				return cli_report_usage_error(COMMAND, "--token must be 8 to 256 characters "
						   "without blanks, &, #, %% or +");
			cfg.token = optarg;
			break;
		case OPT_OPEN:
			cfg.open_browser = 1;
			break;
		case OPT_PORT_FILE:
			cfg.port_file = optarg;
			break;
		case OPT_PAGE_MAX:
			if (cli_parse_count(optarg, 1, 100000, &v) != 0)
				return cli_report_usage_error(COMMAND, "--page-max takes 1 to 100000");
			cfg.limits.page_max = (unsigned)v;
			break;
		case OPT_TIME_LIMIT: {
			int64_t ns;
			const char *why;
			if (cli_duration_parse(optarg, &ns, &why) != 0)
				return cli_report_usage_error(COMMAND, "bad duration '%s' for --time-limit: %s",
							      optarg, why);
			if (ns < 1000000 || ns > 3600 * 1000000000LL)
				return cli_report_usage_error(COMMAND, "--time-limit takes 1ms to 1h (a number "
							      "alone is seconds)");
			cfg.limits.time_ms = (unsigned)(ns / 1000000);
			break;
		}
		case OPT_SQL_ROWS:
			if (cli_parse_count(optarg, 1, 10000000, &v) != 0)
				return cli_report_usage_error(COMMAND, "--sql-rows takes 1 to 10000000");
			cfg.limits.sql_rows = (unsigned)v;
			break;
		case OPT_SHM_DIR:
			cfg.shm_base = optarg;
			break;
		case 'h':
			cli_serve_usage(stdout);
			return CLI_EXIT_OK;
		default:
			return cli_report_bad_option(COMMAND, c, argv, SHORT_OPTIONS);
		}
	}
	if (optind >= argc)
		return cli_report_usage_error(COMMAND, "expected one or more DIR|FILE|pid:PID");
	char token[33];
	if (!is_loopback(host) && !cfg.token) {
		if (random_token(token) != 0) {
			fprintf(stderr, "ttlog serve: cannot make a random token; give one with --token\n");
			return CLI_EXIT_DATA;
		}
		cfg.token = token;
		fprintf(stderr, "ttlog serve: %s is not loopback: every request must carry the token "
				"%s\n", host, token);
	}
	cfg.host = host;
	cfg.paths = argv + optind;
	cfg.npaths = (size_t)(argc - optind);
	cfg.stack_json = cli_stack_json;
	cfg.shm_base = cli_shm_base(cfg.shm_base);
	return serve_run(&cfg);
}
