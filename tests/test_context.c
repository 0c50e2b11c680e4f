/* SPDX-License-Identifier: MIT */
/*
 * test_context.c - thread contexts: pushed and popped around events,
 * nested, ended by the end of a C block (also an early return), kept per
 * thread, and still known for events whose push the ring has overwritten.
 *
 * Each test takes its own snapshot and looks at the fields the reader gives
 * the events it logged: a context is a field of source TTLOG_FIELD_CONTEXT.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "support/testutil.h"
#include "ttlog.h"
#include "ttlog_reader.h"

/* The context field `key` of an event, or NULL. */
static const struct ttlog_arg *context_of(const struct ttlog_event *ev, const char *key)
{
	for (unsigned i = 0; i < ev->nfields; i++)
		if (ev->fields[i].source == TTLOG_FIELD_CONTEXT && strcmp(ev->fields[i].key, key) == 0)
			return ev->fields[i].value;
	return NULL;
}

static unsigned context_count(const struct ttlog_event *ev)
{
	unsigned n = 0;
	for (unsigned i = 0; i < ev->nfields; i++)
		n += ev->fields[i].source == TTLOG_FIELD_CONTEXT;
	return n;
}

/* The next event whose format is `format`; fails the test if there is none. */
static void next_event(ttlog_reader *r, const char *format, struct ttlog_event *ev)
{
	while (ttlog_reader_next(r, ev))
		if (strcmp(ev->site->format, format) == 0)
			return;
	fail_msg("no event '%s' left", format);
}

static int handle(int id)
{
	TTLOG_CONTEXT("request_id", id);
	TTLOG_INFO("ctx: handling");
	if (id == 2)
		return -1; /* the early return pops the context too */
	{
		TTLOG_CONTEXT("user", "alice");
		TTLOG_INFO("ctx: inner");
	}
	TTLOG_INFO("ctx: after inner");
	return 0;
}

static void test_nesting_and_scopes(void **state)
{
	(void)state;
	assert_int_equal(ttlog_context_depth(), 0);
	TTLOG_INFO("ctx: before");
	TTLOG_CONTEXT_PUSH("service", "api");
	assert_int_equal(ttlog_context_depth(), 1);
	handle(1);
	handle(2);
	assert_int_equal(ttlog_context_depth(), 1);
	TTLOG_INFO("ctx: between");
	ttlog_context_pop();
	ttlog_context_pop(); /* one too many: ignored */
	assert_int_equal(ttlog_context_depth(), 0);
	TTLOG_INFO("ctx: after");

	ttlog_reader *r = tu_snapshot_open("context-nesting");
	assert_non_null(r);
	struct ttlog_event ev;
	next_event(r, "ctx: before", &ev);
	assert_int_equal(context_count(&ev), 0);

	next_event(r, "ctx: handling", &ev);
	assert_int_equal(context_count(&ev), 2);
	assert_int_equal(context_of(&ev, "request_id")->v.i, 1);
	assert_string_equal(context_of(&ev, "service")->str, "api");
	next_event(r, "ctx: inner", &ev);
	assert_int_equal(context_count(&ev), 3);
	assert_string_equal(context_of(&ev, "user")->str, "alice");
	assert_int_equal(context_of(&ev, "request_id")->v.i, 1);
	/* Innermost first: the order of the fields is the nesting, inside out. */
	assert_string_equal(ev.fields[ev.nfields - 3].key, "user");
	assert_string_equal(ev.fields[ev.nfields - 1].key, "service");
	next_event(r, "ctx: after inner", &ev);
	assert_int_equal(context_count(&ev), 2);
	assert_null(context_of(&ev, "user"));

	next_event(r, "ctx: handling", &ev);
	assert_int_equal(context_of(&ev, "request_id")->v.i, 2);
	next_event(r, "ctx: between", &ev);
	assert_int_equal(context_count(&ev), 1);
	assert_null(context_of(&ev, "request_id")); /* popped by the early return */
	next_event(r, "ctx: after", &ev);
	assert_int_equal(context_count(&ev), 0);
	ttlog_reader_close(r);
}

/* A key used by an inner context, or by the event itself, hides the outer
 * context's value. */
static void test_inner_key_wins(void **state)
{
	(void)state;
	TTLOG_CONTEXT("tenant", 7u);
	{
		TTLOG_CONTEXT("tenant", 8u);
		TTLOG_INFO("ctx: shadowed");
	}
	TTLOG_INFO("ctx: own tenant=%u", 9u);

	ttlog_reader *r = tu_snapshot_open("context-shadow");
	assert_non_null(r);
	struct ttlog_event ev;
	next_event(r, "ctx: shadowed", &ev);
	assert_int_equal(context_count(&ev), 1);
	assert_int_equal(context_of(&ev, "tenant")->v.u, 8);
	next_event(r, "ctx: own tenant=%u", &ev);
	assert_int_equal(context_count(&ev), 0);
	assert_int_equal(ev.nfields, 1);
	assert_int_equal(ev.fields[0].value->v.u, 9);
	ttlog_reader_close(r);
}

/*
 * The pushes are overwritten by the ring long before the snapshot, and
 * one context is popped after the wrap: the events still carry exactly the
 * contexts open when they were logged.
 */
static void test_contexts_survive_a_ring_wrap(void **state)
{
	(void)state;
	TTLOG_CONTEXT_PUSH("session", "s-1");
	TTLOG_CONTEXT_PUSH("job", 41);
	for (int i = 0; i < 200000; i++)
		TTLOG_DEBUG("ctx: fill %d", i);
	ttlog_context_pop(); /* job */
	TTLOG_INFO("ctx: last");
	ttlog_context_pop(); /* session */

	ttlog_reader *r = tu_snapshot_open("context-wrap");
	assert_non_null(r);
	assert_true(ttlog_reader_info(r)->overwritten > 100000); /* the pushes are gone */
	struct ttlog_event ev;
	unsigned fills = 0;
	while (ttlog_reader_next(r, &ev)) {
		if (strcmp(ev.site->format, "ctx: fill %d") == 0) {
			fills++;
			assert_int_equal(context_count(&ev), 2);
			assert_string_equal(context_of(&ev, "session")->str, "s-1");
			assert_int_equal(context_of(&ev, "job")->v.i, 41);
		} else if (strcmp(ev.site->format, "ctx: last") == 0) {
			assert_int_equal(context_count(&ev), 1);
			assert_string_equal(context_of(&ev, "session")->str, "s-1");
		}
	}
	assert_true(fills > 1000);
	assert_int_equal(ttlog_reader_status(r), TTLOG_OK);
	ttlog_reader_close(r);
}

static void *other_thread(void *arg)
{
	(void)arg;
	TTLOG_CONTEXT("worker", 2);
	TTLOG_INFO("ctx: on the other thread");
	return NULL;
}

/* Contexts belong to the thread that pushed them. */
static void test_contexts_are_per_thread(void **state)
{
	(void)state;
	TTLOG_CONTEXT("worker", 1);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, other_thread, NULL), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	TTLOG_INFO("ctx: on this thread");

	ttlog_reader *r = tu_snapshot_open("context-threads");
	assert_non_null(r);
	struct ttlog_event ev;
	int seen = 0;
	while (ttlog_reader_next(r, &ev)) {
		if (strcmp(ev.site->format, "ctx: on the other thread") == 0) {
			assert_int_equal(context_count(&ev), 1);
			assert_int_equal(context_of(&ev, "worker")->v.i, 2);
			seen |= 1;
		} else if (strcmp(ev.site->format, "ctx: on this thread") == 0) {
			assert_int_equal(context_count(&ev), 1);
			assert_int_equal(context_of(&ev, "worker")->v.i, 1);
			seen |= 2;
		}
	}
	assert_int_equal(seen, 3);
	ttlog_reader_close(r);
}

/* Deeper than TTLOG_SCOPES_MAX: every push and pop still balances. */
static void test_deep_nesting_balances(void **state)
{
	(void)state;
	for (int i = 0; i < TTLOG_SCOPES_MAX + 8; i++)
		TTLOG_CONTEXT_PUSH("level", i);
	assert_int_equal(ttlog_context_depth(), TTLOG_SCOPES_MAX + 8);
	TTLOG_INFO("ctx: deep");
	for (int i = 0; i < TTLOG_SCOPES_MAX + 8; i++)
		ttlog_context_pop();
	assert_int_equal(ttlog_context_depth(), 0);
	TTLOG_INFO("ctx: shallow");

	ttlog_reader *r = tu_snapshot_open("context-deep");
	assert_non_null(r);
	struct ttlog_event ev;
	next_event(r, "ctx: deep", &ev);
	assert_int_equal(context_count(&ev), 1); /* one key, the innermost value */
	assert_int_equal(context_of(&ev, "level")->v.i, TTLOG_SCOPES_MAX + 7);
	next_event(r, "ctx: shallow", &ev);
	assert_int_equal(context_count(&ev), 0);
	ttlog_reader_close(r);
}

static int setup(void **state)
{
	(void)state;
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	cfg.ring_size = 256 << 10; /* small, so that the wrap test wraps soon */
	return tu_start(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nesting_and_scopes),
		cmocka_unit_test(test_inner_key_wins),
		cmocka_unit_test(test_contexts_survive_a_ring_wrap),
		cmocka_unit_test(test_contexts_are_per_thread),
		cmocka_unit_test(test_deep_nesting_balances),
	};
	return cmocka_run_group_tests(tests, setup, tu_stop);
}
