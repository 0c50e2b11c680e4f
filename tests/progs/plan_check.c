/* SPDX-License-Identifier: MIT */
/*
 * plan_check.c - for tests/printf_random.sh: every event of a snapshot
 * formatted through the plan the reader made of its site's format, and
 * again without it (the format read from its text, as for an event a
 * program made itself) and with its site replaced by a copy (so that the
 * plan is not its site's and is left alone). The three must give the same
 * bytes and the same length in buffers of 0, 1 and 3 bytes, half the
 * text, the text exactly, one byte more, and 64 KiB.
 *
 * Usage: plan_check FILE
 * Prints "EVENTS events, PLANNED with a plan, DIFFERENT differ" and exits
 * with 1 if any differs or the file cannot be read, else 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ttlog_reader.h"

#define BIG 65536

/* ev formatted into size bytes of buf; 0 if the text, length or the byte
 * after the buffer differ from want (want_len bytes). */
static int same(const struct ttlog_event *ev, char *buf, size_t size, const char *want,
		size_t want_len)
{
	memset(buf, 'x', size + 1);
	size_t n = ttlog_event_format(ev, buf, size);
	if (n != want_len || buf[size] != 'x')
		return 0;
	if (size == 0)
		return 1;
	size_t keep = want_len < size - 1 ? want_len : size - 1;
	return memcmp(buf, want, keep) == 0 && buf[keep] == '\0';
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: plan_check FILE\n");
		return 2;
	}
	ttlog_reader *r = NULL;
	int rc = ttlog_reader_open(argv[1], &r);
	if (rc != TTLOG_OK) {
		fprintf(stderr, "plan_check: %s: %s\n", argv[1],
			r && ttlog_reader_error(r) ? ttlog_reader_error(r) : ttlog_strerror(rc));
		ttlog_reader_close(r);
		return 1;
	}
	static char want[BIG + 1], got[BIG + 1];
	unsigned long long events = 0, planned = 0, different = 0;
	struct ttlog_event ev;
	while (ttlog_reader_next(r, &ev)) {
		events++;
		planned += ev.format_plan != NULL;
		struct ttlog_event plain = ev, replaced = ev;
		struct ttlog_site_info own = *ev.site;
		plain.format_plan = NULL;
		replaced.site = &own;
		size_t len = ttlog_event_format(&plain, want, BIG);
		if (len >= BIG) {
			fprintf(stderr, "plan_check: event %llu: a message of %zu bytes\n", events, len);
			different++;
			continue;
		}
		const size_t sizes[] = {0, 1, 3, len / 2, len, len + 1, BIG};
		const struct ttlog_event *ways[] = {&ev, &replaced};
		const char *const names[] = {"through its plan", "with its site replaced"};
		for (size_t w = 0; w < 2; w++) {
			size_t i = 0;
			while (i < sizeof sizes / sizeof sizes[0] &&
			       same(ways[w], got, sizes[i], want, len))
				i++;
			if (i == sizeof sizes / sizeof sizes[0])
				continue;
			if (different < 10)
				fprintf(stderr,
					"plan_check: event %llu, format \"%s\": differs %s in a "
					"%zu-byte buffer\n",
					events, ev.site->format, names[w], sizes[i]);
			different++;
			break;
		}
	}
	rc = ttlog_reader_status(r);
	ttlog_reader_close(r);
	printf("%llu events, %llu with a plan, %llu differ\n", events, planned, different);
	return rc == TTLOG_OK && different == 0 ? 0 : 1;
}
