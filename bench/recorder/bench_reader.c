/* SPDX-License-Identifier: MIT */
/*
 * bench_reader.c - ttlog-bench-reader: how fast the `ttlog` command reads a
 * set of 10 M events: `ttlog view` to text and to JSON, `ttlog export
 * --format jsonl`, and two `ttlog query` statements, a GROUP BY over every
 * event and a one-second time range (which the reader answers from the
 * block headers' times without decoding the other blocks).
 *
 * First a child process (forked before ttlog is initialised, and gone
 * before anything is timed) writes a set of snapshots: 8 worker threads
 * with 8 MiB rings fill them completely with fresh events and a snapshot is
 * taken, again and again, until the files hold at least 10 M events
 * (--quick: 1 M). A full 8 x 8 MiB snapshot holds about 1.2 M of the
 * benchmark's events; the exact count of every file comes from the reader
 * API.
 *
 * Then each command is run 3 times with stdout to /dev/null (posix_spawn +
 * waitpid, wall-clock time including process start-up) and the MEDIAN time
 * is reported. The one-second range starts at the first event of the
 * middle file; a second run through a pipe gets its row count. The files
 * were just written, so they are read from the page cache: this measures
 * decoding and formatting, not the disk.
 *
 * Then the join of docs/QUERY.md (every log event with the span it ran
 * in) over one more file, written by another child: 8 threads log
 * requests, a span around three benchmark events each, until their 8 MiB
 * rings (--quick: 1 MiB) have wrapped, and one snapshot is taken. The
 * same file is viewed as text and as JSON: one file whose every event is
 * in a span (each part of it read on a thread of its own must follow the
 * spans through the file before it).
 *
 * Two floors put the viewer's speed in proportion, timed the same way:
 *   - the I/O floor: `cat` of the text `ttlog view` printed (kept in a file
 *     of the scratch directory) to /dev/null, the least any program that
 *     prints this text can take;
 *   - NanoLog's decompressor, when NanoLog was built (NANOLOG_DIR, see
 *     bench/README.md): ttlog-bench-nanolog-set logs the same number of
 *     the same events from 8 threads into a NanoLog log, and the time of
 *     `decompressor decompress LOG` (its time-ordered text) is reported.
 * And `ttlog view --last 1s` over a stream store whose last second is a
 * small part of it (the snapshots above are each written in well under a
 * second, so their last second is all of them): ttlog-bench-stream fill,
 * from this program's directory, writes 512 MiB (--quick: 128 MiB) of
 * segments at full speed and then 5 s at 10,000 events/s; reported with
 * the lines printed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ttlog.h>
#include <ttlog_reader.h>

#include "bench_common.h"

#define THREADS 8u
#define RING ((size_t)8 << 20)
#define MAX_FILES 200u
#define RUNS 3u

/* The child: writes snapshots until `target` events, reporting each file
 * as "EVENTS PATH\n" on fd. */
static void generate(const char *dir, uint64_t target, int fd)
{
	bench_ttlog_init(dir, RING, THREADS * RING);
	/* wraps = 0: one ring's worth of bytes at least, so every ring is
	 * completely overwritten with new events before each snapshot. */
	struct bench_pool *pool = bench_pool_start(THREADS, bench_events_to_wrap(RING, 0));
	FILE *out = fdopen(fd, "w");
	if (!out)
		bench_die("fdopen: %s", strerror(errno));
	uint64_t total = 0;
	for (unsigned k = 0; total < target && k < MAX_FILES; k++) {
		char path[PATH_MAX];
		bench_pool_fill(pool);
		int rc = ttlog_snapshot_path("bench", path, sizeof path);
		if (rc != TTLOG_OK)
			bench_die("ttlog_snapshot_path: %s", ttlog_strerror(rc));
		struct bench_file f;
		bench_read_file(path, &f);
		if (f.torn)
			bench_note("warning: %llu torn records in %s", (unsigned long long)f.torn, path);
		total += f.events;
		fprintf(out, "%llu %s\n", (unsigned long long)f.events, path);
	}
	if (fclose(out) != 0)
		bench_die("writing to the parent: %s", strerror(errno));
	bench_pool_stop(pool);
}

struct span_pool {
	uint64_t requests;
	pthread_barrier_t logged, taken;
};

static void *span_worker(void *arg)
{
	struct span_pool *p = arg;
	for (uint64_t k = 0; k < p->requests; k++) {
		TTLOG_SPAN_BEGIN("request");
		for (int j = 0; j < 3; j++)
			bench_log_event((int)((k * 3 + (uint64_t)j) & 0x7fffffff));
		TTLOG_SPAN_END();
	}
	pthread_barrier_wait(&p->logged);
	pthread_barrier_wait(&p->taken); /* alive while the snapshot is written */
	return NULL;
}

/* The child of the join: the file of spans, reported as "EVENTS PATH\n". */
static void generate_spans(const char *dir, size_t ring, int fd)
{
	bench_ttlog_init(dir, ring, THREADS * ring);
	struct span_pool p;
	p.requests = bench_events_to_wrap(ring, 0) / 3 + 1;
	pthread_t t[THREADS];
	if (pthread_barrier_init(&p.logged, NULL, THREADS + 1) != 0 ||
	    pthread_barrier_init(&p.taken, NULL, THREADS + 1) != 0)
		bench_die("pthread_barrier_init failed");
	for (unsigned i = 0; i < THREADS; i++) {
		int rc = pthread_create(&t[i], NULL, span_worker, &p);
		if (rc != 0)
			bench_die("pthread_create: %s", strerror(rc));
	}
	pthread_barrier_wait(&p.logged);
	char path[PATH_MAX];
	int rc = ttlog_snapshot_path("spans", path, sizeof path);
	pthread_barrier_wait(&p.taken);
	for (unsigned i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	if (rc != TTLOG_OK)
		bench_die("ttlog_snapshot_path: %s", ttlog_strerror(rc));
	struct bench_file f;
	bench_read_file(path, &f);
	dprintf(fd, "%llu %s\n", (unsigned long long)f.events, path);
}

/* What a generating child gets (bench_fork_pipe). */
struct child_arg {
	const char *dir;
	uint64_t target; /* generate: events */
	size_t ring;     /* generate_spans: ring size */
};

static void generate_child(void *arg, int fd)
{
	const struct child_arg *a = arg;
	generate(a->dir, a->target, fd);
}

static void generate_spans_child(void *arg, int fd)
{
	const struct child_arg *a = arg;
	generate_spans(a->dir, a->ring, fd);
}

/* Shows the file the CLI wrote its diagnostics to. */
static void show_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char buf[4096];
	size_t n;
	while (f && (n = fread(buf, 1, sizeof buf, f)) > 0)
		fwrite(buf, 1, n, stderr);
	if (f)
		fclose(f);
}

/*
 * Median wall-clock seconds of RUNS runs of argv, stdout to /dev/null.
 * stderr goes to a file in the scratch directory: `ttlog view` reports on
 * stderr, for every file of a JSON run, how many events the rings had
 * dropped before the snapshot (expected here: the rings wrapped), and that
 * would bury the benchmark's own messages. It is shown if the run fails.
 */
static double time_cli(char **argv, const char *what, const char *dir)
{
	double s[RUNS];
	char errpath[PATH_MAX];
	snprintf(errpath, sizeof errpath, "%s/view-stderr.txt", dir);
	for (unsigned r = 0; r < RUNS; r++) {
		int64_t t0 = bench_now_ns();
		int status = bench_run_quiet(argv, errpath);
		int64_t t1 = bench_now_ns();
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			show_file(errpath);
			bench_die("%s %s (%s) failed (status %#x)", argv[0], argv[1], what, status);
		}
		s[r] = (double)(t1 - t0) / 1e9;
	}
	bench_note("%s: %.3f %.3f %.3f s", what, s[0], s[1], s[2]);
	return bench_median(s, RUNS);
}

/* The lines of a file (the events `ttlog view` printed: one line each
 * here, the benchmark's messages having no newline). */
static unsigned long long count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		bench_die("%s: %s", path, strerror(errno));
	static char buf[1 << 16];
	unsigned long long lines = 0;
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		for (const char *p = buf; (p = memchr(p, '\n', (size_t)(buf + n - p))); p++)
			lines++;
	fclose(f);
	return lines;
}

int main(int argc, char **argv)
{
	struct bench_opts o;
	bench_parse(argc, argv,
		    "Writes snapshots of 8 threads x 8 MiB rings until they hold 10 M events\n"
		    "(--quick: 1 M), then times, with stdout to /dev/null (median of 3 runs\n"
		    "each): `ttlog view`, `ttlog view -o json`, `ttlog export --format jsonl`,\n"
		    "`ttlog query` of a GROUP BY level over every event and of a one-second\n"
		    "time range; then the join of docs/QUERY.md (log events with their spans)\n"
		    "over a snapshot of 8 threads x 8 MiB rings (--quick: 1 MiB) of requests\n"
		    "in spans; `cat` of the viewer's text (the I/O floor), `ttlog view\n"
		    "--last 1s` of a 512 MiB stream store (--quick: 128 MiB), and NanoLog's\n"
		    "decompressor on the same events when NanoLog\n"
		    "is built. Reports events per second and seconds.",
		    &o);
	bench_clear_ttlog_env();
	bench_find_cli(&o);
	const char *dir = bench_scratch_create(&o);
	uint64_t target = o.quick ? 1000000u : 10000000u;

	int64_t g0 = bench_now_ns();
	struct child_arg ga = {dir, target, 0};
	int gfd;
	pid_t pid = bench_fork_pipe(generate_child, &ga, &gfd);

	/* argv for the CLI: ttlog view [-o json] FILES... NULL */
	static char *files[MAX_FILES];
	unsigned nfiles = 0;
	uint64_t events = 0;
	FILE *in = fdopen(gfd, "r");
	if (!in)
		bench_die("fdopen: %s", strerror(errno));
	char line[PATH_MAX + 32];
	while (fgets(line, sizeof line, in)) {
		char *sp = strchr(line, ' ');
		size_t n = strlen(line);
		if (!sp || n < 2 || line[n - 1] != '\n' || nfiles == MAX_FILES)
			bench_die("bad report from the generator: %s", line);
		line[n - 1] = '\0';
		events += strtoull(line, NULL, 10);
		if (!(files[nfiles++] = strdup(sp + 1)))
			bench_die("out of memory");
	}
	fclose(in);
	int status = bench_wait(pid, 600);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		bench_die("generating the snapshots failed (status %#x)", status);
	if (events < target)
		bench_die("the snapshots hold %llu events, fewer than %llu", (unsigned long long)events,
			  (unsigned long long)target);
	bench_note("generated %u files, %llu events in %.1f s", nfiles, (unsigned long long)events,
		   (double)(bench_now_ns() - g0) / 1e9);

	char **args = calloc(nfiles + 6, sizeof *args);
	if (!args)
		bench_die("out of memory");
	args[0] = (char *)o.ttlog;
	args[1] = "view";
	args[2] = "--color=never";
	memcpy(args + 3, files, nfiles * sizeof *files);
	double text_s = time_cli(args, "text", dir);

	/* The I/O floor: the same text, from a file in the page cache. */
	char textpath[PATH_MAX];
	snprintf(textpath, sizeof textpath, "%s/view.txt", dir);
	status = bench_run_to_file(args, textpath, NULL);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		bench_die("ttlog view > %s failed (status %#x)", textpath, status);
	uint64_t text_bytes = bench_file_size(textpath);
	char *cat_args[] = {"/bin/cat", textpath, NULL};
	double cat_s = time_cli(cat_args, "cat of the text (I/O floor)", dir);
	unlink(textpath);

	/* The last second of a stream store. */
	char store[PATH_MAX], filler[PATH_MAX], self[PATH_MAX];
	ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
	if (sl <= 0)
		bench_die("readlink /proc/self/exe: %s", strerror(errno));
	self[sl] = '\0';
	char *slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	if (snprintf(filler, sizeof filler, "%s/ttlog-bench-stream", self) >= (int)sizeof filler ||
	    snprintf(store, sizeof store, "%s/store", dir) >= (int)sizeof store)
		bench_die("path too long: %s", self);
	char store_env[PATH_MAX + 16];
	snprintf(store_env, sizeof store_env, "TTLOG_STREAM=%s", store);
	char *fill_args[] = {filler, "fill", "--bytes", o.quick ? "134217728" : "536870912",
			     "--tail-seconds", "5", NULL};
	char fillout[PATH_MAX];
	snprintf(fillout, sizeof fillout, "%s/fill.json", dir);
	if (putenv(store_env) != 0)
		bench_die("putenv: %s", strerror(errno));
	status = bench_run_to_file(fill_args, fillout, NULL);
	unsetenv("TTLOG_STREAM");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		bench_die("%s fill failed (status %#x)", filler, status);
	char *last[] = {(char *)o.ttlog, "view", "--color=never", "--last", "1s", store, NULL};
	double last_s = time_cli(last, "view --last 1s of a stream store", dir);
	status = bench_run_to_file(last, textpath, NULL);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		bench_die("ttlog view --last 1s > %s failed (status %#x)", textpath, status);
	unsigned long long last_events = count_lines(textpath);
	unlink(textpath);
	char *rm_args[] = {"/bin/rm", "-rf", store, NULL};
	bench_run_to_file(rm_args, "/dev/null", NULL);
	unlink(fillout);

	args[2] = "-o";
	args[3] = "json";
	memcpy(args + 4, files, nfiles * sizeof *files);
	double json_s = time_cli(args, "json", dir);

	args[1] = "export";
	args[2] = "--format";
	args[3] = "jsonl";
	memcpy(args + 4, files, nfiles * sizeof *files);
	double export_s = time_cli(args, "jsonl", dir);

	args[1] = "query";
	args[2] = "-o";
	args[3] = "csv";
	args[4] = "SELECT level, count(*) FROM events GROUP BY level";
	memcpy(args + 5, files, nfiles * sizeof *files);
	args[5 + nfiles] = NULL;
	double group_s = time_cli(args, "GROUP BY level", dir);

	/* One second from the first event of the middle file. */
	ttlog_reader *r = NULL;
	if (ttlog_reader_open_ex(files[nfiles / 2], TTLOG_READER_LAZY, &r) != TTLOG_OK)
		bench_die("%s: %s", files[nfiles / 2], r ? ttlog_reader_error(r) : "cannot open");
	int64_t since = ttlog_reader_info(r)->first_ns;
	ttlog_reader_close(r);
	char range_sql[200];
	snprintf(range_sql, sizeof range_sql,
		 "SELECT count(*) FROM events WHERE ts >= %lld AND ts < %lld", (long long)since,
		 (long long)since + 1000000000ll);
	args[4] = range_sql;
	double range_s = time_cli(args, "one-second range", dir);
	char out[256];
	status = bench_run_output(args, out, sizeof out);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		bench_die("ttlog query (one-second range) failed (status %#x)", status);
	char *nl = strchr(out, '\n'); /* after the CSV header */
	unsigned long long range_events = nl ? strtoull(nl + 1, NULL, 10) : 0;

	/* The join of docs/QUERY.md over a file of spans. */
	struct child_arg sa = {dir, 0, o.quick ? RING / 8 : RING};
	int sfd;
	pid = bench_fork_pipe(generate_spans_child, &sa, &sfd);
	char sline[PATH_MAX + 32] = "";
	ssize_t got = 0, n;
	while (got < (ssize_t)sizeof sline - 1 &&
	       (n = read(sfd, sline + got, sizeof sline - 1 - (size_t)got)) > 0)
		got += n;
	close(sfd);
	sline[got] = '\0';
	status = bench_wait(pid, 600);
	char *ssp = strchr(sline, ' '), *snl = strchr(sline, '\n');
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !ssp || !snl)
		bench_die("writing the file of spans failed (status %#x): %s", status, sline);
	*snl = '\0';
	unsigned long long span_file_events = strtoull(sline, NULL, 10);
	const char *span_file = ssp + 1;
	char *jargs[] = {(char *)o.ttlog, "query", "-o", "csv",
			 "SELECT count(*) FROM spans s JOIN events e ON e.span_id = s.id "
			 "AND e.snapshot = s.snapshot AND e.kind = 'log'",
			 (char *)span_file, NULL};
	double join_s = time_cli(jargs, "join of events and spans", dir);
	status = bench_run_output(jargs, out, sizeof out);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		bench_die("ttlog query (join) failed (status %#x)", status);
	nl = strchr(out, '\n');
	unsigned long long join_rows = nl ? strtoull(nl + 1, NULL, 10) : 0;
	if (join_rows == 0)
		bench_die("the join found no rows: %s", out);
	bench_note("join: %llu rows of %llu events, file of %.1f MiB", join_rows, span_file_events,
		   (double)bench_file_size(span_file) / 1048576.0);
	char *svargs[] = {(char *)o.ttlog, "view", "--color=never", (char *)span_file, NULL};
	double span_text_s = time_cli(svargs, "view text of the file of spans", dir);
	char *sjargs[] = {(char *)o.ttlog, "view", "-o", "json", (char *)span_file, NULL};
	double span_json_s = time_cli(sjargs, "view -o json of the file of spans", dir);

	/* NanoLog's decompressor on the same events. */
	char nanolog_json[256];
#ifdef TTLOG_BENCH_NANOLOG_DECOMPRESSOR
	{
		char nlpath[PATH_MAX], nevents[32];
		snprintf(nlpath, sizeof nlpath, "%s/nanolog.bin", dir);
		snprintf(nevents, sizeof nevents, "%llu", (unsigned long long)events);
		char *set_args[] = {TTLOG_BENCH_NANOLOG_SET, nlpath, nevents, "8", NULL};
		char setout[PATH_MAX];
		snprintf(setout, sizeof setout, "%s/nanolog-set.json", dir);
		int64_t n0 = bench_now_ns();
		/* In the scratch directory: NanoLog opens a default log file in the
		 * working directory when the program starts. */
		status = bench_run_to_file(set_args, setout, dir);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			bench_die("%s failed (status %#x)", set_args[0], status);
		bench_note("NanoLog log of %llu events: %.1f MiB in %.1f s", (unsigned long long)events,
			   (double)bench_file_size(nlpath) / 1048576.0, (double)(bench_now_ns() - n0) / 1e9);
		char *dec_args[] = {TTLOG_BENCH_NANOLOG_DECOMPRESSOR, "decompress", nlpath, NULL};
		double nl_s = time_cli(dec_args, "NanoLog's decompressor", dir);
		snprintf(nanolog_json, sizeof nanolog_json,
			 ",\"nanolog_decompress_events_per_s\":%.0f,\"nanolog_decompress_s\":%.3f,"
			 "\"nanolog_bytes\":%llu",
			 (double)events / nl_s, nl_s, (unsigned long long)bench_file_size(nlpath));
		unlink(nlpath);
		unlink(setout);
	}
#else
	snprintf(nanolog_json, sizeof nanolog_json,
		 ",\"nanolog_decompress\":\"not built: NANOLOG_DIR not given (see bench/README.md)\"");
#endif

	printf("{\"bench\":\"reader\",\"events\":%llu,\"files\":%u,\"text_events_per_s\":%.0f,"
	       "\"json_events_per_s\":%.0f,\"text_s\":%.3f,\"json_s\":%.3f,"
	       "\"export_jsonl_events_per_s\":%.0f,\"export_jsonl_s\":%.3f,"
	       "\"query_group_s\":%.3f,\"query_range_s\":%.3f,\"query_range_events\":%llu,"
	       "\"query_join_s\":%.3f,\"join_rows\":%llu,\"join_file_events\":%llu,"
	       "\"join_file_bytes\":%llu,\"text_bytes\":%llu,\"cat_events_per_s\":%.0f,\"cat_s\":%.3f,"
	       "\"last_1s_s\":%.3f,\"last_1s_events\":%llu,\"spans_text_events_per_s\":%.0f,"
	       "\"spans_json_events_per_s\":%.0f%s}\n",
	       (unsigned long long)events, nfiles, (double)events / text_s, (double)events / json_s,
	       text_s, json_s, (double)events / export_s, export_s, group_s, range_s, range_events,
	       join_s, join_rows, span_file_events, (unsigned long long)bench_file_size(span_file),
	       (unsigned long long)text_bytes, (double)events / cat_s, cat_s, last_s, last_events,
	       (double)span_file_events / span_text_s, (double)span_file_events / span_json_s,
	       nanolog_json);
	for (unsigned i = 0; i < nfiles; i++)
		free(files[i]);
	free(args);
	bench_scratch_remove();
	return 0;
}
