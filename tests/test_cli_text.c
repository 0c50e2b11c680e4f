/* SPDX-License-Identifier: MIT */
/*
 * test_cli_text.c - the hand-made number and time texts of the ttlog
 * command (src/render/) against the printf formats they replace:
 * render_u64_text() and render_i64_text() against "%llu" and "%lld", and
 * render_time_text() (which keeps the date of the last second of each
 * style) against the snprintf of a broken-down time that the command used
 * before.
 *
 * Times are checked in order (many per second, as events come), out of
 * order, before 1970, with the three styles interleaved so that each keeps
 * its own second, and in a local time zone with a half-hour offset.
 * And the parts of a text line kept in a render_event_cache against the
 * same parts made for each line.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "render/event_json.h"
#include "render/event_line.h"
#include "render/json_text.h"
#include "render/text_buf.h"
#include "render/time_text.h"

static uint64_t next_random(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

static void check_u64(uint64_t v)
{
	char want[32], got[RENDER_INT_BUF];
	snprintf(want, sizeof want, "%" PRIu64, v);
	size_t n = render_u64_text(v, got);
	assert_string_equal(got, want);
	assert_int_equal(n, strlen(want));
}

static void check_i64(int64_t v)
{
	char want[32], got[RENDER_INT_BUF];
	snprintf(want, sizeof want, "%" PRId64, v);
	size_t n = render_i64_text(v, got);
	assert_string_equal(got, want);
	assert_int_equal(n, strlen(want));
}

static void test_integers(void **state)
{
	(void)state;
	uint64_t s = 12345;

	/* Every length: around each power of ten and of two. */
	for (uint64_t p = 1, k = 0; k < 20; k++, p *= 10)
		for (int d = -2; d <= 2; d++)
			check_u64(p + (uint64_t)d);
	for (int b = 0; b < 64; b++)
		for (int d = -2; d <= 2; d++)
			check_u64((UINT64_C(1) << b) + (uint64_t)d);
	check_u64(0);
	check_u64(UINT64_MAX);
	check_i64(0);
	check_i64(-1);
	check_i64(INT64_MAX);
	check_i64(INT64_MIN);
	for (int i = 0; i < 1000000; i++) {
		uint64_t r = next_random(&s);
		uint64_t v = r >> (r & 63); /* every length about as often */
		check_u64(v);
		check_i64((int64_t)v);
		check_i64(-(int64_t)(v >> 1));
	}
	/* Into a buffer: the text and its NUL, nothing after. */
	struct render_buf b = {0};
	render_buf_puts(&b, "x=");
	render_buf_put_u64(&b, 18446744073709551615u);
	render_buf_putc(&b, ' ');
	render_buf_put_i64(&b, INT64_MIN);
	assert_string_equal(b.data, "x=18446744073709551615 -9223372036854775808");
	assert_int_equal(b.len, strlen(b.data));
	render_buf_free(&b);
}

/* The text the command printed before: snprintf of the broken-down time. */
static void reference_time(int64_t ns, enum render_time_style style, char *out)
{
	int64_t sec = ns / 1000000000, nsec = ns % 1000000000;
	if (nsec < 0) {
		nsec += 1000000000;
		sec--;
	}
	time_t t = (time_t)sec;
	struct tm tm;
	if (!(style == RENDER_TIME_LOCAL ? localtime_r(&t, &tm) : gmtime_r(&t, &tm))) {
		snprintf(out, RENDER_TIME_BUF, "@%" PRId64, ns);
		return;
	}
	snprintf(out, RENDER_TIME_BUF, "%04d-%02d-%02d%c%02d:%02d:%02d.%09d%s", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, style == RENDER_TIME_ISO ? 'T' : ' ', tm.tm_hour, tm.tm_min,
		 tm.tm_sec, (int)nsec, style == RENDER_TIME_ISO ? "Z" : "");
}

static void check_time(int64_t ns, enum render_time_style style)
{
	char want[RENDER_TIME_BUF], got[RENDER_TIME_BUF], again[RENDER_TIME_BUF];
	reference_time(ns, style, want);
	size_t n = render_time_text(ns, style, got);
	if (strcmp(got, want) != 0 || n != strlen(want))
		fail_msg("time %" PRId64 " style %d: \"%s\", expected \"%s\"", ns, (int)style, got,
			 want);
	assert_string_equal(render_time_format(ns, style, again), want);
}

static void check_times(void)
{
	uint64_t s = 777;
	const enum render_time_style styles[] = {RENDER_TIME_LOCAL, RENDER_TIME_UTC, RENDER_TIME_ISO};

	/* In order, a few hundred per second, across second, minute, day and
	 * year boundaries, the styles taking turns. */
	int64_t ns = INT64_C(1767225598) * 1000000000; /* 2025-12-31T23:59:58Z */
	for (int i = 0; i < 100000; i++) {
		ns += (int64_t)(next_random(&s) % 20000000);
		check_time(ns, styles[i % 3]);
	}
	/* Anywhere, in any order, before 1970 too. */
	for (int i = 0; i < 100000; i++) {
		int64_t t = (int64_t)(next_random(&s) % (UINT64_C(1) << 62)) - (INT64_C(1) << 61);
		check_time(t, styles[i % 3]);
		check_time(t + 1, styles[i % 3]); /* the same second, mostly */
	}
	check_time(0, RENDER_TIME_ISO);
	check_time(-1, RENDER_TIME_ISO);
	check_time(INT64_MAX, RENDER_TIME_UTC);
	check_time(INT64_MIN, RENDER_TIME_UTC);
}

static void test_times_utc(void **state)
{
	(void)state;
	setenv("TZ", "UTC0", 1);
	tzset();
	check_times();
}

/* A zone half an hour off whole hours, with summer time: the local date
 * and time come from localtime_r per second, not from UTC plus an offset. */
static void test_times_local(void **state)
{
	(void)state;
	setenv("TZ", "NST3:30NDT,M3.2.0,M11.1.0", 1);
	tzset();
	check_times();
}

/* json_text.h's rules, one character at a time. */
static void reference_json(struct render_buf *b, const char *s, size_t len)
{
	render_buf_putc(b, '"');
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		size_t n = render_utf8_length(s + i, len - i);
		if (c == '"' || c == '\\') {
			render_buf_putc(b, '\\');
			render_buf_putc(b, (char)c);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			render_buf_printf(b, "\\u%04x", c);
			i++;
		} else if (n == 0) {
			render_buf_printf(b, "\\udc%02x", c); /* lossless: surrogateescape */
			i++;
		} else {
			render_buf_put(b, s + i, n);
			i += n;
		}
	}
	render_buf_putc(b, '"');
}

/* event_line.h's rules for text, one character at a time: printable
 * ASCII, tab and well-formed UTF-8 as they are, any other byte as \xNN. */
static void reference_text(struct render_buf *b, const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		size_t n = c >= 0x80 ? render_utf8_length(s + i, len - i) : 0;
		if ((c >= 0x20 && c < 0x7f) || c == '\t') {
			render_buf_putc(b, (char)c);
			i++;
		} else if (n) {
			render_buf_put(b, s + i, n);
			i += n;
		} else {
			render_buf_printf(b, "\\x%02x", c);
			i++;
		}
	}
}

/* Random strings of ordinary and special bytes and UTF-8 sequences (whole,
 * cut short and ill-formed), at every alignment, through `escape` against
 * `reference`. */
static void check_strings(void (*escape)(struct render_buf *, const char *, size_t),
			  void (*reference)(struct render_buf *, const char *, size_t))
{
	static const char *const pieces[] = {
		"a", "Z", " ", "~", "\"", "\\", "\t", "\n", "\x01", "\x1f", "\x7f", "/",
		"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xc3", "\xe2\x82", "\xed\xa0\x80",
		"\xc0\xaf", "\xf4\x90\x80\x80", "\x80", "\xff", "plain text run ",
	};
	const size_t npieces = sizeof pieces / sizeof pieces[0];
	struct render_buf want = {0}, got = {0};
	char text[128];
	uint64_t s = 4242;

	for (int i = 0; i < 300000; i++) {
		size_t off = next_random(&s) % 8, len = 0;
		int count = (int)(next_random(&s) % 12);
		/* Mostly plain, so that the eight-byte path runs and stops. */
		for (int k = 0; k < count; k++) {
			uint64_t r = next_random(&s);
			const char *p = pieces[r % 4 == 0 ? r / 4 % npieces : npieces - 1];
			size_t n = strlen(p);
			if (off + len + n >= sizeof text)
				break;
			memcpy(text + off + len, p, n);
			len += n;
		}
		/* A NUL inside, now and then. */
		if (len && next_random(&s) % 16 == 0)
			text[off + next_random(&s) % len] = '\0';
		render_buf_reset(&want);
		render_buf_reset(&got);
		render_buf_puts(&got, "x"); /* appended, not written over */
		render_buf_puts(&want, "x");
		reference(&want, text + off, len);
		escape(&got, text + off, len);
		assert_int_equal(got.len, want.len);
		assert_memory_equal(got.data, want.data, want.len + 1);
	}
	render_buf_free(&want);
	render_buf_free(&got);
}

static void test_json_strings(void **state)
{
	(void)state;
	check_strings(render_json_string, reference_json);
}

static void test_text_strings(void **state)
{
	(void)state;
	check_strings(render_line_text, reference_text);
}

/* One text line of ev, with the cache c or without one (NULL). */
static void line_of(struct render_buf *b, const struct ttlog_event *ev,
		    const struct render_line_style *style, struct render_event_cache *c)
{
	static const struct render_buf msg = {(char *)"hello", 5, 6};
	render_buf_reset(b);
	render_event_line(b, ev, &msg, style, c);
}

/*
 * The thread's and site's parts of a text line from the cache are the
 * bytes made without it: in runs of one thread and site (the last key
 * kept), alternating, past the table's growth (more than 32 keys), and
 * after a reset with the same addresses holding other threads and sites,
 * as the next file's reader may reuse the last one's memory.
 */
static void test_line_parts_cached(void **state)
{
	(void)state;
	enum { NT = 40, NS = 40 };
	static struct ttlog_thread_info threads[NT];
	static struct ttlog_site_info sites[NS];
	static char names[NT][16], files[NS][32];
	struct render_line_style style;
	render_line_style_init(&style, RENDER_TIME_UTC, 0, 1);
	struct render_event_cache cache = {0};
	struct render_buf with = {0}, without = {0};
	uint64_t rnd = 7;

	for (int file = 0; file < 2; file++) {
		for (int i = 0; i < NT; i++) {
			threads[i] = (struct ttlog_thread_info){.index = (uint32_t)i,
								 .tid = (uint32_t)(1000 * file + i)};
			snprintf(names[i], sizeof names[i], i == 3 ? "ctl\001%d" : "w%d-%d", file, i);
			threads[i].name = i == 5 ? "" : names[i];
		}
		for (int i = 0; i < NS; i++) {
			snprintf(files[i], sizeof files[i], "/src/f%d/part%d.c", file, i);
			sites[i] = (struct ttlog_site_info){.id = (uint32_t)i, .level = i % 6,
							    .line = (uint32_t)(100 * file + i),
							    .file = i == 7 ? NULL : files[i]};
		}
		render_event_cache_reset(&cache);
		for (int k = 0; k < 2000; k++) {
			struct ttlog_event ev = {0};
			ev.time_ns = 1764982800123456789 + k;
			ev.kind = TTLOG_EVENT_LOG;
			/* Runs of a few events, then a jump to any thread and site. */
			int t = k < 500 ? (k / 7) % 3 : (int)(next_random(&rnd) % NT);
			int si = k < 500 ? (k / 5) % 4 : (int)(next_random(&rnd) % NS);
			if (k == 1999) /* the next file begins with the same addresses */
				t = si = 0;
			ev.thread = k % 97 == 50 ? NULL : &threads[t];
			ev.site = &sites[si];
			line_of(&with, &ev, &style, &cache);
			line_of(&without, &ev, &style, NULL);
			if (with.len != without.len || memcmp(with.data, without.data, with.len) != 0)
				fail_msg("file %d event %d: cached \"%s\", made \"%s\"", file, k, with.data,
					 without.data);
		}
	}
	assert_true(cache.used > 64); /* the table grew */
	render_buf_free(&with);
	render_buf_free(&without);
	render_event_cache_free(&cache);
}

/* The JSON object of ev with a cache kept across events (with) and with
 * one emptied before each (fresh, which makes every part anew). */
static void json_both(struct render_buf *with, struct render_buf *fresh,
		      const struct ttlog_event *ev, struct render_event_cache *kept,
		      struct render_event_cache *once)
{
	struct render_buf msg = {0};
	render_buf_puts(&msg, "a \"message\"");
	render_buf_reset(with);
	render_buf_reset(fresh);
	render_event_json(with, ev, &msg, kept);
	render_event_cache_reset(once);
	once->service = kept->service;
	once->big_as_string = kept->big_as_string;
	render_event_json(fresh, ev, &msg, once);
	render_buf_free(&msg);
}

/* The parts of a JSON object that the cache keeps (thread, site, level,
 * field keys, the end of a log event, the digits of time_ns' seconds) are
 * the bytes made anew, across files, services and kinds of events; and
 * time_ns is the event's time. */
/* The hex ids of a span's events: trace_id, span_id and parent_span_id are
 * printf's %016 PRIx64 of each half, for ids with every digit value in
 * every place. */
static void expect_hex_member(const char *json, const char *name, const char *want)
{
	const char *at = strstr(json, name);
	assert_non_null(at);
	at += strlen(name);
	if (strncmp(at, want, strlen(want)) != 0)
		fail_msg("%s: %.40s, expected %s", name, at, want);
}

static void test_json_span_ids(void **state)
{
	(void)state;
	struct ttlog_site_info site = {.id = 1, .level = TTLOG_LEVEL_INFO, .line = 1, .file = "a.c"};
	struct ttlog_thread_info thread = {.tid = 1, .name = "t"};
	struct render_buf out = {0}, msg = {0};
	render_buf_puts(&msg, "end op 5ns");
	uint64_t rnd = 5;
	for (int i = 0; i < 20000; i++) {
		uint64_t r = next_random(&rnd);
		/* First every digit in every place, then random ids. */
		uint64_t id = i < 16 ? UINT64_C(0x0123456789abcdef) * (uint64_t)(i + 1) : r;
		uint64_t digits = i < 16 ? UINT64_C(0x1111111111111111) * (uint64_t)i : r >> 3;
		struct ttlog_span span = {.trace_hi = digits, .trace_lo = ~id, .id = id,
					  .parent = r ^ digits, .name = "op", .duration_ns = 5};
		struct ttlog_event ev = {.time_ns = 1, .thread = &thread, .site = &site,
					 .kind = TTLOG_EVENT_SPAN_END, .span = &span};
		render_buf_reset(&out);
		render_event_json(&out, &ev, &msg, NULL);
		char want[40];
		snprintf(want, sizeof want, "\"%016" PRIx64 "%016" PRIx64 "\"", span.trace_hi,
			 span.trace_lo);
		expect_hex_member(out.data, "\"trace_id\":", want);
		snprintf(want, sizeof want, "\"%016" PRIx64 "\"", span.id);
		expect_hex_member(out.data, "\"span_id\":", want);
		snprintf(want, sizeof want, "\"%016" PRIx64 "\"", span.parent);
		if (span.parent)
			expect_hex_member(out.data, "\"parent_span_id\":", want);
	}
	render_buf_free(&out);
	render_buf_free(&msg);
}

static void test_json_parts_cached(void **state)
{
	(void)state;
	enum { NT = 6, NS = 5 };
	static struct ttlog_thread_info threads[NT];
	static struct ttlog_site_info sites[NS];
	static const char *keys[NS][6];
	static char key_text[NS][6][16];
	struct ttlog_arg args[6];
	struct ttlog_field fields[8];
	struct ttlog_span span = {.trace_hi = 1, .trace_lo = 2, .id = 3, .parent = 0,
				  .name = "op", .duration_ns = 1500};
	struct render_event_cache kept = {0}, once = {0};
	struct render_buf with = {0}, fresh = {0};
	static const char *const services[] = {NULL, "", "shop \"api\"", "billing"};
	static const int64_t times[] = {
		-1500000001, -1, 0, 1, 999999999, 1000000000, 1000000001, 9007199254740991,
		9007199254740992, 9007199254740993, 1764982800999999999, 1764982801000000000,
		INT64_MAX, INT64_MIN};
	uint64_t rnd = 11;

	for (int file = 0; file < 8; file++) {
		kept.service = services[file % 4];
		kept.big_as_string = file / 4;
		for (int i = 0; i < NT; i++) {
			threads[i] = (struct ttlog_thread_info){.index = (uint32_t)i,
								 .tid = (uint32_t)(1000 * file + i)};
			threads[i].name = i == 2 ? "" : "worker";
		}
		for (int i = 0; i < NS; i++) {
			sites[i] = (struct ttlog_site_info){.id = (uint32_t)i, .level = i % 6,
							    .line = (uint32_t)(100 * file + i),
							    .file = "/src/a.c"};
			for (int k = 0; k < 6; k++) {
				/* The same addresses in every file, other texts. */
				snprintf(key_text[i][k], sizeof key_text[i][k], "k%d_%d%s", file, k,
					 k == 4 ? "\"" : "");
				keys[i][k] = key_text[i][k];
			}
		}
		render_event_cache_reset(&kept);
		for (int e = 0; e < 3000; e++) {
			struct ttlog_event ev = {0};
			uint64_t r = next_random(&rnd);
			if (e % 500 == 499) /* another service, without a reset */
				kept.service = services[(file + e / 500) % 4];
			ev.time_ns = e < (int)(sizeof times / sizeof times[0])
					     ? times[e]
					     : 1764982800000000000 + (int64_t)(e * 7919) * 100003 +
						       (int64_t)(r % 3);
			ev.thread = &threads[r % NT];
			int si = e < 1500 ? (e / 9) % NS : (int)((r >> 8) % NS);
			ev.site = &sites[si];
			ev.nargs = (unsigned)(r >> 16) % 7;
			for (unsigned a = 0; a < ev.nargs; a++) {
				args[a] = (struct ttlog_arg){.type = a % 3 == 0   ? TTLOG_ARG_I64
								     : a % 3 == 1 ? TTLOG_ARG_F64
										  : TTLOG_ARG_STR};
				args[a].v.i = (int64_t)(r >> a);
				if (a % 3 == 1)
					args[a].v.d = (double)(e % 1000) / 8;
				args[a].str = "path";
				args[a].str_len = 4;
			}
			ev.args = args;
			ev.fields = fields;
			/* Site fields, then a context field with a key of its own. */
			ev.nfields = ev.nargs;
			for (unsigned f = 0; f < ev.nfields; f++)
				fields[f] = (struct ttlog_field){keys[si][f], &args[f], TTLOG_FIELD_FORMAT};
			if ((r >> 24) % 3 == 0)
				fields[ev.nfields++] = (struct ttlog_field){e % 2 ? "ctx" : "req",
									    &args[0], TTLOG_FIELD_CONTEXT};
			int kind = (int)((r >> 32) % 8);
			ev.kind = kind == 0 ? TTLOG_EVENT_SPAN_BEGIN
				  : kind == 1 ? TTLOG_EVENT_SPAN_END
					      : TTLOG_EVENT_LOG;
			ev.span = kind <= 2 ? &span : NULL;
			ev.flags = kind == 3 ? TTLOG_EVENT_PROMOTED : 0;
			json_both(&with, &fresh, &ev, &kept, &once);
			if (with.len != fresh.len || memcmp(with.data, fresh.data, with.len) != 0)
				fail_msg("file %d event %d: cached %s, made %s", file, e, with.data,
					 fresh.data);
			/* The service, made by hand. */
			char service[64] = "";
			if (kept.service && *kept.service) {
				struct render_buf q = {0};
				render_json_cstring(&q, kept.service);
				snprintf(service, sizeof service, ",\"service\":%s}", q.data);
				render_buf_free(&q);
				assert_true(with.len > strlen(service));
				assert_string_equal(with.data + with.len - strlen(service), service);
			} else {
				assert_null(strstr(with.data, "\"service\""));
			}
			/* time_ns, read back: the digits of the seconds kept. */
			const char *at = strstr(with.data, "\"time_ns\":");
			assert_non_null(at);
			at += strlen("\"time_ns\":");
			int quoted = *at == '"';
			assert_int_equal(quoted,
					 file / 4 && (ev.time_ns > 9007199254740992 ||
						      ev.time_ns < -9007199254740992));
			char want[32];
			snprintf(want, sizeof want, "%" PRId64 "%s", ev.time_ns, quoted ? "\"" : ",");
			if (strncmp(at + quoted, want, strlen(want)) != 0)
				fail_msg("event %d: time_ns %" PRId64 " printed as %.24s", e, ev.time_ns,
					 at);
		}
	}
	render_buf_free(&with);
	render_buf_free(&fresh);
	render_event_cache_free(&kept);
	render_event_cache_free(&once);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_times_utc),
		cmocka_unit_test(test_times_local),
		cmocka_unit_test(test_json_strings),
		cmocka_unit_test(test_text_strings),
		cmocka_unit_test(test_line_parts_cached),
		cmocka_unit_test(test_json_parts_cached),
		cmocka_unit_test(test_json_span_ids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
