/* SPDX-License-Identifier: MIT */
/*
 * store_args.c - directories and glob patterns as file arguments: expanded
 * to files, or opened as one store (see store_args.h).
 */
#include <dirent.h>
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "render/text_buf.h"
#include "store_args.h"

int cli_store_arg(const char *arg)
{
	struct stat st;
	if (stat(arg, &st) == 0)
		return S_ISDIR(st.st_mode);
	return strpbrk(arg, "*?[") != NULL;
}

/* Whether path is a bundle (FORMAT.md 22: the snapshots of several
 * processes, as `ttlog snap --trace ID --all` writes them): its file header
 * is whole and has the incompatible flag BUNDLE. Read as a store, so that
 * every member is merged by time. */
static int is_bundle(const char *path)
{
	unsigned char h[24];
	FILE *f = fopen(path, "rbe");
	if (!f)
		return 0;
	size_t n = fread(h, 1, sizeof h, f);
	fclose(f);
	if (n != sizeof h || memcmp(h, "\x89TTLOG\r\n", 8) != 0)
		return 0;
	uint32_t incompat = (uint32_t)h[12] | (uint32_t)h[13] << 8 | (uint32_t)h[14] << 16 |
			    (uint32_t)h[15] << 24;
	return (incompat & 0x4u) != 0; /* BUNDLE */
}

int cli_store_args(char *const *args, int n)
{
	for (int i = 0; i < n; i++)
		if (cli_store_arg(args[i]) || is_bundle(args[i]))
			return 1;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int store_name(const char *name)
{
	size_t n = strlen(name);
	return name[0] != '.' && n > 6 &&
	       (strcmp(name + n - 6, ".ttseg") == 0 || strcmp(name + n - 6, ".ttlog") == 0);
}

static void push(char ***list, int *n, const char *s)
{
	*list = render_xrealloc(*list, (size_t)(*n + 1) * sizeof **list);
	size_t len = strlen(s) + 1;
	char *copy = render_xrealloc(NULL, len);
	memcpy(copy, s, len);
	(*list)[(*n)++] = copy;
}

int cli_store_expand(char *const *args, int n, const char *who, char ***out, int *bad)
{
	char **list = NULL;
	int count = 0;
	for (int i = 0; i < n; i++) {
		if (!cli_store_arg(args[i])) {
			push(&list, &count, args[i]);
			continue;
		}
		int first = count;
		struct stat st;
		if (stat(args[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			DIR *d = opendir(args[i]);
			struct dirent *de;
			while (d && (de = readdir(d))) {
				if (!store_name(de->d_name))
					continue;
				struct render_buf p = {0};
				render_buf_puts(&p, args[i]);
				if (p.len && p.data[p.len - 1] != '/')
					render_buf_putc(&p, '/');
				render_buf_puts(&p, de->d_name);
				render_buf_putc(&p, '\0');
				push(&list, &count, p.data);
				render_buf_free(&p);
			}
			if (d)
				closedir(d);
		} else {
			glob_t g;
			if (glob(args[i], 0, NULL, &g) == 0) {
				for (size_t k = 0; k < g.gl_pathc; k++)
					push(&list, &count, g.gl_pathv[k]);
				globfree(&g);
			}
		}
		if (count == first && who) {
			cli_sync_stdout();
			fprintf(stderr, "%s: %s: no *.ttseg or *.ttlog file\n", who, args[i]);
			*bad = 1;
		}
		if (count - first > 1)
			qsort(list + first, (size_t)(count - first), sizeof *list, by_name);
	}
	*out = list;
	return count;
}

void cli_store_free_list(char **list, int n)
{
	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

static int relative(const struct cli_time *t)
{
	return t->kind == CLI_TIME_OF_DAY || t->kind == CLI_TIME_BEFORE_END;
}

int64_t cli_store_name_time(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	/* YYYYMMDDTHHMMSS.nnnnnnnnnZ, after a '-'. */
	static const char shape[] = "dddddddddTdddddd.dddddddddZ";
	size_t n = strlen(base), w = sizeof shape - 1;
	for (size_t i = 0; i + w <= n; i++) {
		size_t k = 0;
		for (; k < w; k++) {
			char c = base[i + k];
			if (shape[k] == 'd' ? !(c >= '0' && c <= '9') && !(k == 0 && c == '-')
					    : c != shape[k])
				break;
		}
		if (k < w || base[i] != '-')
			continue;
		const char *p = base + i + 1;
		struct tm tm = {0};
		int v[6] = {0};
		static const int at[6] = {0, 4, 6, 9, 11, 13}, len[6] = {4, 2, 2, 2, 2, 2};
		for (int j = 0; j < 6; j++)
			for (int d = 0; d < len[j]; d++)
				v[j] = v[j] * 10 + (p[at[j] + d] - '0');
		tm.tm_year = v[0] - 1900;
		tm.tm_mon = v[1] - 1;
		tm.tm_mday = v[2];
		tm.tm_hour = v[3];
		tm.tm_min = v[4];
		tm.tm_sec = v[5];
		time_t t = timegm(&tm);
		if (t == (time_t)-1)
			return 0;
		int64_t ns = 0;
		for (int d = 0; d < 9; d++)
			ns = ns * 10 + (p[16 + d] - '0');
		return (int64_t)t * 1000000000 + ns;
	}
	return 0;
}

/* Each file of the store reads only the blocks of the --thread it names,
 * when that is one thread id of the file (cli_filter_push_thread()); the
 * events are filtered one by one all the same. Called on the threads of the
 * store's parts too: it only reads f. */
static void push_thread(void *ctx, ttlog_reader *r)
{
	cli_filter_push_thread(ctx, r);
}

ttlog_store *cli_store_open(struct cli_filter *f, char *const *args, int n, const char *who,
			    int64_t floor_ns)
{
	struct ttlog_store_options o;
	ttlog_store_options_init(&o);
	o.service = f->service;
	if (f->nthreads) {
		o.file_hook.fn = push_thread;
		o.file_hook_ctx.ptr = f;
	}
	o.level_mask = cli_filter_levels(f);
	o.flags = cli_filter_reader_flags(f);
	ttlog_store *s = NULL;
	int64_t end = 0;
	if (relative(&f->since) || relative(&f->until)) {
		/* The end of the store: its newest files' last event. */
		if (ttlog_store_end((const char *const *)args, (size_t)n, &o, &end) ==
		    TTLOG_E_NOMEM)
			end = 0;
	}
	f->since_ns = INT64_MIN;
	f->until_ns = INT64_MAX;
	if (f->since.kind != CLI_TIME_UNSET)
		f->since_ns = cli_time_resolve(&f->since, end, f->utc);
	if (f->until.kind != CLI_TIME_UNSET)
		f->until_ns = cli_time_resolve(&f->until, end, f->utc);
	if (f->since_ns < floor_ns)
		f->since_ns = floor_ns;
	o.since_ns = f->since_ns;
	o.until_ns = f->until_ns;
	int rc = ttlog_store_open((const char *const *)args, (size_t)n, &o, &s);
	if (!s) {
		cli_sync_stdout();
		fprintf(stderr, "%s: %s\n", who, ttlog_strerror(rc));
	}
	return s;
}

/* The service in a segment's name (FORMAT.md 18: SERVICE-PID-TIME-SEQ.ttseg),
 * as a length at the start of base; 0 if base is not such a name. */
static size_t name_service_len(const char *base)
{
	size_t n = strlen(base);
	if (n <= 6 || strcmp(base + n - 6, ".ttseg") != 0)
		return 0;
	size_t end = n - 6;
	for (int dashes = 0; dashes < 3; dashes++) {
		while (end > 0 && base[end - 1] != '-')
			end--;
		if (end <= 1)
			return 0;
		end--; /* the dash */
	}
	return end;
}

/* The service as a segment's name spells it (FORMAT.md 18). */
static void name_form(const char *service, struct render_buf *out)
{
	size_t n = 0;
	for (const char *p = service; *p && n < 64; p++, n++)
		render_buf_putc(out, ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
				      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-')
					     ? *p
					     : '_');
	if (!n)
		render_buf_puts(out, "ttlog");
}

static void add_service(struct render_buf *list, const char *name, size_t len)
{
	/* list holds ", "-separated names; each once. */
	for (size_t at = 0; at < list->len;) {
		const char *sep = strstr(list->data + at, ", ");
		size_t l = sep ? (size_t)(sep - (list->data + at)) : list->len - at;
		if (l == len && memcmp(list->data + at, name, len) == 0)
			return;
		at += l + 2;
	}
	if (list->len)
		render_buf_puts(list, ", ");
	render_buf_put(list, name, len);
}

int cli_store_check_service(const char *who, char *const *args, int n, const char *service)
{
	if (!service)
		return CLI_EXIT_OK;
	char **files;
	int bad = 0;
	int nf = cli_store_expand(args, n, NULL, &files, &bad);
	struct render_buf want = {0}, names = {0};
	name_form(service, &want);
	int found = 0;
	/* Segments by their names: no segment is read. */
	for (int i = 0; i < nf && !found; i++) {
		const char *base = strrchr(files[i], '/');
		base = base ? base + 1 : files[i];
		size_t len = name_service_len(base);
		if (len)
			found = len == want.len && memcmp(base, want.data, len) == 0;
		if (len && !found)
			add_service(&names, base, len);
	}
	/* Then the other files (snapshots) by their HEAD. */
	for (int i = 0; i < nf && !found; i++) {
		const char *base = strrchr(files[i], '/');
		if (name_service_len(base ? base + 1 : files[i]))
			continue;
		ttlog_reader *r = NULL;
		ttlog_reader_open_ex(files[i], TTLOG_READER_LAZY, &r);
		const struct ttlog_file_info *fi = r ? ttlog_reader_info(r) : NULL;
		if (fi && (fi->writer_version || fi->created_ns)) {
			found = strcmp(fi->service, service) == 0;
			if (*fi->service)
				add_service(&names, fi->service, strlen(fi->service));
			else
				add_service(&names, "(none)", 6);
		}
		ttlog_reader_close(r);
	}
	int status = CLI_EXIT_OK;
	if (nf && !found) {
		cli_sync_stdout();
		fprintf(stderr, "%s: no file in ", who);
		for (int i = 0; i < n; i++)
			fprintf(stderr, "%s%s", i ? ", " : "", args[i]);
		fprintf(stderr, " is of service %s (services: %s)\n", service,
			names.len ? names.data : "none readable");
		status = CLI_EXIT_USAGE;
	}
	render_buf_free(&want);
	render_buf_free(&names);
	cli_store_free_list(files, nf);
	return status;
}

int cli_store_report(const ttlog_store *s, const char *who)
{
	if (ttlog_store_status(s) == TTLOG_OK)
		return CLI_EXIT_OK;
	if (cli_stdout_failed())
		return CLI_EXIT_DATA;
	cli_sync_stdout();
	const struct ttlog_store_file *const *files;
	size_t n = ttlog_store_files(s, &files);
	int any = 0;
	for (size_t i = 0; i < n; i++) {
		if (files[i]->status == TTLOG_OK)
			continue;
		any = 1;
		if (files[i]->error && *files[i]->error)
			fprintf(stderr, "%s: %s\n", who, files[i]->error);
		else
			fprintf(stderr, "%s: %s: %s\n", who, files[i]->path,
				ttlog_strerror(files[i]->status));
	}
	if (!any && ttlog_store_error(s))
		fprintf(stderr, "%s: %s\n", who, ttlog_store_error(s));
	return CLI_EXIT_DATA;
}
