/* SPDX-License-Identifier: MIT */
/*
 * live.c - real-time buffer inspection: a program serves the last events of
 * its own rings on a debug endpoint, with ttlog_live_foreach()
 * (ttlog_reader.h; link libttlog-read: pkg-config ttlog-read).
 *
 *   ./live [--port N] [--workers N]      (port 0, the default: any free one)
 *   curl 'http://127.0.0.1:PORT/debug/events?level=warn&grep=timeout&last=20'
 *   curl 'http://127.0.0.1:PORT/quit'
 *
 * Worker threads log made-up requests all the time; the main thread
 * answers HTTP/1.0 requests one at a time on 127.0.0.1 only:
 *   /debug/events   the events now in the rings, oldest first, one line
 *                   each; parameters: level=LEVEL (that level and above),
 *                   grep=TEXT (in the message), thread=TID, last=N (the
 *                   newest N of those, default 100); a last line counts
 *                   what was read, shown and lost
 *   /quit           ends the program
 * A bad parameter gets "400 Bad Request" with the reason. The loop is kept
 * small on purpose: a real program would put the handler into its own
 * HTTP server. ttlog_live_foreach() is not async-signal-safe: call it from
 * a normal thread, as here, never from a signal handler.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ttlog.h"
#include "ttlog_reader.h"

#define MAX_LAST 10000

static atomic_int stopping;

static void *worker(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	char name[16];
	snprintf(name, sizeof name, "worker-%u", id);
	pthread_setname_np(pthread_self(), name);
	for (unsigned n = 0; !atomic_load(&stopping); n++) {
		unsigned ms = (n * 7919u + id * 104729u) % 400u;
		TTLOG_DEBUG("request id=%u path=%s", n, n % 3 ? "/api/items" : "/api/users");
		if (ms > 380)
			TTLOG_ERROR("request id=%u failed: upstream timeout after %u ms", n, ms);
		else if (ms > 300)
			TTLOG_WARN("request id=%u slow: %u ms", n, ms);
		else
			TTLOG_INFO("request id=%u done in %u ms", n, ms);
		usleep(2000);
	}
	return NULL;
}

/* ---- The endpoint -------------------------------------------------------- */

struct line {
	char *text;
};

/* The newest `last` matching events, kept in a ring of lines. */
struct collect {
	struct line *lines;
	size_t last, count; /* count: every event handed over */
};

static const char *const level_names[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"};

static int on_event(const struct ttlog_event *ev, const char *message, void *ctx)
{
	struct collect *c = ctx;
	char stamp[32];
	time_t sec = (time_t)(ev->time_ns / 1000000000);
	struct tm tm;
	gmtime_r(&sec, &tm);
	strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
	int level = ev->site ? ev->site->level : 0;
	struct line *l = &c->lines[c->count % c->last];
	free(l->text);
	if (asprintf(&l->text, "%s.%06ld %-5s [%u %s] %s\n", stamp,
		     (long)(ev->time_ns % 1000000000 / 1000),
		     level >= 0 && level <= TTLOG_LEVEL_FATAL ? level_names[level] : "?",
		     ev->thread->tid, ev->thread->name, message) < 0)
		l->text = NULL;
	c->count++;
	return 0;
}

static void reply(int fd, const char *status, const char *body)
{
	char head[160];
	int n = snprintf(head, sizeof head,
			 "HTTP/1.0 %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n\r\n",
			 status, strlen(body));
	if (write(fd, head, (size_t)n) < 0 || write(fd, body, strlen(body)) < 0)
		return; /* the client left */
}

/* Decodes %XX and '+' in place. 0 if an escape is broken. */
static int url_decode(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (*s == '+') {
			*o++ = ' ';
		} else if (*s == '%') {
			unsigned v;
			if (!s[1] || !s[2] || sscanf(s + 1, "%2x", &v) != 1 || v == 0)
				return 0;
			*o++ = (char)v;
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return 1;
}

static void serve_events(int fd, char *query)
{
	struct ttlog_live_filter f;
	ttlog_live_filter_init(&f);
	size_t last = 100;
	char err[256] = "";
	for (char *save = NULL, *kv = query ? strtok_r(query, "&", &save) : NULL; kv && !err[0];
	     kv = strtok_r(NULL, "&", &save)) {
		char *v = strchr(kv, '=');
		if (!v) {
			snprintf(err, sizeof err, "parameter '%s' has no value\n", kv);
			break;
		}
		*v++ = '\0';
		if (!url_decode(v)) {
			snprintf(err, sizeof err, "parameter '%s': broken %%-escape\n", kv);
		} else if (strcmp(kv, "level") == 0) {
			int lv = -1;
			for (int i = 0; i <= TTLOG_LEVEL_FATAL; i++)
				if (strcasecmp(v, level_names[i]) == 0)
					lv = i;
			if (lv < 0)
				snprintf(err, sizeof err, "level '%s': expected trace, debug, info, warn, "
					 "error or fatal\n", v);
			else
				f.level_mask = TTLOG_READER_ALL_LEVELS & ~((1u << lv) - 1);
		} else if (strcmp(kv, "grep") == 0) {
			f.contains = v;
		} else if (strcmp(kv, "thread") == 0 || strcmp(kv, "last") == 0) {
			char *end;
			errno = 0;
			unsigned long n = strtoul(v, &end, 10);
			int is_last = kv[0] == 'l';
			if (!*v || *end || errno || n == 0 || n > (is_last ? MAX_LAST : UINT32_MAX))
				snprintf(err, sizeof err, "%s '%s': expected a whole number from 1 to %lu\n",
					 kv, v, is_last ? (unsigned long)MAX_LAST : (unsigned long)UINT32_MAX);
			else if (is_last)
				last = n;
			else
				f.tid = (uint32_t)n;
		} else {
			snprintf(err, sizeof err, "unknown parameter '%s' (level, grep, thread, last)\n", kv);
		}
	}
	if (err[0]) {
		reply(fd, "400 Bad Request", err);
		return;
	}
	struct collect c = {calloc(last, sizeof(struct line)), last, 0};
	if (!c.lines) {
		reply(fd, "500 Internal Server Error", "out of memory\n");
		return;
	}
	struct ttlog_live_stats st;
	int rc = ttlog_live_foreach(&f, on_event, &c, &st);
	size_t shown = c.count < last ? c.count : last, size = 256;
	for (size_t i = 0; i < last; i++)
		size += c.lines[i].text ? strlen(c.lines[i].text) : 0;
	char *body = malloc(size), *p = body;
	if (body) {
		for (size_t i = c.count - shown; i < c.count; i++) {
			const char *t = c.lines[i % last].text;
			size_t n = t ? strlen(t) : 0;
			memcpy(p, t, n);
			p += n;
		}
		snprintf(p, 256,
			 "# %llu events in %llu rings, %llu matched, %zu shown; lost: %llu overwritten, "
			 "%llu torn, %llu dropped%s%s\n",
			 (unsigned long long)st.events, (unsigned long long)st.threads,
			 (unsigned long long)st.matched, shown, (unsigned long long)st.overwritten,
			 (unsigned long long)st.torn, (unsigned long long)st.dropped,
			 rc == TTLOG_OK ? "" : "; error: ", rc == TTLOG_OK ? "" : ttlog_strerror(rc));
		reply(fd, rc == TTLOG_OK ? "200 OK" : "500 Internal Server Error", body);
	} else {
		reply(fd, "500 Internal Server Error", "out of memory\n");
	}
	free(body);
	for (size_t i = 0; i < last; i++)
		free(c.lines[i].text);
	free(c.lines);
}

/* One request: "GET /path?query HTTP/1.x". 1 when it asked to quit. */
static int handle(int fd)
{
	char req[4096];
	size_t len = 0;
	while (len < sizeof req - 1) {
		ssize_t got = read(fd, req + len, sizeof req - 1 - len);
		if (got <= 0)
			break;
		len += (size_t)got;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
	}
	req[len] = '\0';
	char *sp = strchr(req, ' '), *target = sp ? sp + 1 : NULL;
	char *end = target ? strpbrk(target, " \r\n") : NULL;
	if (strncmp(req, "GET ", 4) != 0 || !end) {
		reply(fd, "400 Bad Request", "expected: GET /debug/events or GET /quit\n");
		return 0;
	}
	*end = '\0';
	char *query = strchr(target, '?');
	if (query)
		*query++ = '\0';
	if (strcmp(target, "/debug/events") == 0) {
		serve_events(fd, query);
	} else if (strcmp(target, "/quit") == 0) {
		reply(fd, "200 OK", "bye\n");
		return 1;
	} else {
		reply(fd, "404 Not Found", "endpoints: /debug/events, /quit\n");
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long port = 0, workers = 3;
	for (int i = 1; i < argc; i++) {
		char *end = NULL;
		unsigned long *to = strcmp(argv[i], "--port") == 0      ? &port
				    : strcmp(argv[i], "--workers") == 0 ? &workers
									: NULL;
		if (to && i + 1 < argc)
			*to = strtoul(argv[++i], &end, 10);
		if (!to || !end || *end || (to == &port && port > 65535) ||
		    (to == &workers && (workers == 0 || workers > 64))) {
			fprintf(stderr, "usage: live [--port 0..65535] [--workers 1..64]\n");
			return 2;
		}
	}
	struct ttlog_config config;
	ttlog_config_init(&config);
	int rc = ttlog_init(&config);
	if (rc != TTLOG_OK) {
		fprintf(stderr, "live: ttlog_init: %s: %s\n", ttlog_strerror(rc), ttlog_init_error());
		return 1;
	}
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t alen = sizeof a;
	int one = 1;
	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 16) != 0 ||
	    getsockname(s, (struct sockaddr *)&a, &alen) != 0) {
		fprintf(stderr, "live: cannot listen on 127.0.0.1:%lu: %s\n", port, strerror(errno));
		return 1;
	}
	pthread_t t[64];
	for (unsigned long i = 0; i < workers; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i) != 0) {
			fprintf(stderr, "live: cannot start a worker thread\n");
			return 1;
		}
	printf("listening on 127.0.0.1:%u\n", ntohs(a.sin_port));
	fflush(stdout);
	for (int quit = 0; !quit;) {
		int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "live: accept: %s\n", strerror(errno));
			break;
		}
		quit = handle(c);
		close(c);
	}
	atomic_store(&stopping, 1);
	for (unsigned long i = 0; i < workers; i++)
		pthread_join(t[i], NULL);
	close(s);
	return 0;
}
