/* SPDX-License-Identifier: MIT */
/*
 * trace_pipeline.c - three processes, A calls B calls C, for the test of
 * one request out of every process (tests/trace_dump.sh).
 *
 * Usage: trace_pipeline a|b|c
 *
 * `a` starts `b`, which starts `c` (this program again), each with a pipe
 * in each direction on its stdin and stdout. A request is one line,
 * "<traceparent> <fail>"; the reply is "ok" or "failed <tracestate>".
 * Each stage continues the trace it is given, logs DEBUG lines inside a
 * span of its own ("stage.a", ...), and calls the next one. `c` fails the
 * requests whose fail is 1 and replies with the tracestate member
 * ttlog=dump; a caller that finds it in a reply logs that, writes its own
 * snapshot of the request (ttlog_trace_dump(): reason trace-<id>) and
 * replies with ttlog=dump in turn.
 *
 * `a` sends three requests in traces of their own that succeed, then one
 * that fails; every stage also logs lines outside any span. Then `a`
 * writes "trace <32 hex digits of the failed request> <its dump file>"
 * to its stdout and waits for its stdin to close; closing it ends the
 * pipeline in order. The configuration comes from the environment
 * (TTLOG_SHARED_MEMORY, TTLOG_LEVEL, TTLOG_SERVICE, TTLOG_DIR).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ttlog.h"

static FILE *down_in, *down_out; /* the next stage's reply and request pipes */
static pid_t down_pid = -1;

static void start_next(const char *self, const char *role)
{
	int req[2], rep[2];
	if (pipe(req) != 0 || pipe(rep) != 0)
		exit(2);
	down_pid = fork();
	if (down_pid < 0)
		exit(2);
	if (down_pid == 0) {
		dup2(req[0], 0);
		dup2(rep[1], 1);
		close(req[0]);
		close(req[1]);
		close(rep[0]);
		close(rep[1]);
		char service[32];
		snprintf(service, sizeof service, "stage-%s", role);
		setenv("TTLOG_SERVICE", service, 1);
		execl(self, self, role, (char *)NULL);
		_exit(127);
	}
	close(req[0]);
	close(rep[1]);
	down_out = fdopen(req[1], "w");
	down_in = fdopen(rep[0], "r");
	if (!down_out || !down_in)
		exit(2);
}

/* Calls the next stage inside the current span; the reply into reply. */
static void call_next(int fail, char *reply, size_t size)
{
	char tp[TTLOG_TRACEPARENT_SIZE];
	if (ttlog_traceparent(tp, sizeof tp) != TTLOG_OK)
		exit(2);
	fprintf(down_out, "%s %d\n", tp, fail);
	fflush(down_out);
	if (!fgets(reply, (int)size, down_in))
		exit(2);
	reply[strcspn(reply, "\n")] = '\0';
}

/* One request in stage `role`; what to reply into reply. With dump, the
 * stage's own trace snapshot goes there. */
static void handle(const char *role, int fail, char *reply, size_t size, char *dump, size_t dsize)
{
	if (role[0] == 'a')
		TTLOG_SPAN_BEGIN("stage.a");
	else if (role[0] == 'b')
		TTLOG_SPAN_BEGIN("stage.b");
	else
		TTLOG_SPAN_BEGIN("stage.c");
	TTLOG_DEBUG("%s: request in, fail=%d", role, fail);
	if (role[0] == 'c') {
		TTLOG_DEBUG("c: working on it");
		if (fail) {
			TTLOG_ERROR("c: the request failed");
			char ts[128];
			ttlog_tracestate_dump(ts, sizeof ts, "vendor=x");
			snprintf(reply, size, "failed %s", ts);
		} else {
			snprintf(reply, size, "ok");
		}
		ttlog_span_end();
		return;
	}
	char got[512];
	call_next(fail, got, sizeof got);
	TTLOG_DEBUG("%s: reply from downstream: %s", role, got);
	const char *ts = strncmp(got, "failed ", 7) == 0 ? got + 7 : NULL;
	if (ts && ttlog_tracestate_wants_dump(ts)) {
		TTLOG_DEBUG("%s: downstream asks for a dump", role);
		if (ttlog_trace_dump(NULL, dump, dsize) != TTLOG_OK)
			snprintf(dump, dsize, "none");
		char out[512];
		ttlog_tracestate_dump(out, sizeof out, ts);
		snprintf(reply, size, "failed %s", out);
	} else {
		snprintf(reply, size, "ok");
	}
	ttlog_span_end();
}

int main(int argc, char **argv)
{
	if (argc != 2 || strlen(argv[1]) != 1 || !strchr("abc", argv[1][0])) {
		fprintf(stderr, "usage: trace_pipeline a|b|c\n");
		return 2;
	}
	const char *role = argv[1];
	signal(SIGPIPE, SIG_IGN);
	if (role[0] == 'a')
		setenv("TTLOG_SERVICE", "stage-a", 1);
	if (ttlog_init(NULL) != TTLOG_OK) {
		fprintf(stderr, "trace_pipeline %s: ttlog_init: %s\n", role, ttlog_init_error());
		return 2;
	}
	if (role[0] != 'c')
		start_next("/proc/self/exe", role[0] == 'a' ? "b" : "c");
	char dump[4096] = "none", reply[600];
	if (role[0] == 'a') {
		char tp[TTLOG_TRACEPARENT_SIZE], trace[33] = "";
		for (int i = 0; i < 4; i++) {
			int fail = i == 3;
			TTLOG_DEBUG("a: outside any request, round %d", i);
			/* Each request a new trace of its own. */
			ttlog_trace_continue(NULL);
			TTLOG_SPAN_BEGIN("request");
			if (fail && ttlog_traceparent(tp, sizeof tp) == TTLOG_OK)
				memcpy(trace, tp + 3, 32);
			handle(role, fail, reply, sizeof reply, dump, sizeof dump);
			TTLOG_DEBUG("a: request %d done: %s", i, reply);
			ttlog_span_end();
		}
		printf("trace %s %s\n", trace, dump);
		fflush(stdout);
		char line[16];
		while (fgets(line, sizeof line, stdin))
			;
	} else {
		char line[256];
		while (fgets(line, sizeof line, stdin)) {
			char tp[128];
			int fail = 0;
			if (sscanf(line, "%127s %d", tp, &fail) != 2 || ttlog_trace_continue(tp) != TTLOG_OK)
				return 2;
			TTLOG_DEBUG("%s: outside any span, before the request", role);
			handle(role, fail, reply, sizeof reply, dump, sizeof dump);
			ttlog_trace_continue(NULL);
			printf("%s\n", reply);
			fflush(stdout);
		}
	}
	if (down_out) {
		fclose(down_out);
		int st;
		waitpid(down_pid, &st, 0);
	}
	ttlog_shutdown();
	return 0;
}
