/* SPDX-License-Identifier: MIT */
/*
 * test_cpp_wrappers.cpp - <ttlog.hpp>: ttlog::span and ttlog::context end
 * with their scope (also when an exception leaves it) and name what they
 * were given at run time; stream lines read back as the text operator<<
 * made, at their level, and format nothing when the level is filtered out.
 */
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iomanip>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/testutil.h"
#include "ttlog.hpp"
#include "ttlog_reader.h"

static int failures;

#define CHECK(cond)                                                                 \
	do {                                                                        \
		if (!(cond)) {                                                      \
			std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
			failures++;                                                 \
		}                                                                   \
	} while (0)

/* A type whose operator<< counts its calls: it must not run when the
 * line's level is filtered out. */
struct counted {
	int *calls;
};
static std::ostream &operator<<(std::ostream &os, const counted &c)
{
	++*c.calls;
	return os << "counted";
}

struct seen {
	int kind;
	int level;
	std::string text;
	std::string ctx; /* the context fields, "key=value;..." */
	unsigned depth;
};

static std::vector<seen> collect()
{
	std::vector<seen> out;
	ttlog_reader *r = tu_snapshot_open("cpp-wrappers");
	if (!r) {
		failures++;
		return out;
	}
	struct ttlog_event ev;
	while (ttlog_reader_next(r, &ev)) {
		char buf[512];
		ttlog_event_format(&ev, buf, sizeof buf);
		seen s{ev.kind, ev.site->level, buf, "", ev.depth};
		if (ev.kind != TTLOG_EVENT_LOG)
			s.text = ev.span ? ev.span->name : ""; /* a span's name */
		for (unsigned i = 0; i < ev.nfields; i++) {
			if (ev.fields[i].source != TTLOG_FIELD_CONTEXT)
				continue;
			const struct ttlog_arg *a = ev.fields[i].value;
			char v[128];
			if (a->type == TTLOG_ARG_STR)
				std::snprintf(v, sizeof v, "%.*s", (int)a->str_len, a->str);
			else if (a->type == TTLOG_ARG_F64)
				std::snprintf(v, sizeof v, "%g", a->v.d);
			else if (a->type == TTLOG_ARG_U64)
				std::snprintf(v, sizeof v, "%llu", (unsigned long long)a->v.u);
			else
				std::snprintf(v, sizeof v, "%lld", (long long)a->v.i);
			s.ctx += std::string(ev.fields[i].key) + "=" + v + ";";
		}
		if (s.text.rfind("cw.", 0) == 0)
			out.push_back(s);
	}
	ttlog_reader_close(r);
	return out;
}

enum class color : short { red = -2 };

static void inner(const std::string &name, int n)
{
	ttlog::span s(name);
	ttlog::context c("cw.n", n);
	ttlog::info() << "cw.inner n=" << n << " hex=" << std::hex << 255 << std::endl;
	if (n == 2)
		throw std::runtime_error("leaves the scope");
}

int main()
{
	if (tu_start(nullptr) != 0)
		return 1;
	char name[32];
	{
		std::snprintf(name, sizeof name, "cw.span.%d", 7);
		ttlog::span outer(name);
		std::memset(name, 'x', sizeof name - 1); /* the name was copied */
		std::string key = "cw.user";
		ttlog::context c1(key, std::string("alice"));
		ttlog::context c2("cw.ratio", 0.25);
		ttlog::context c3("cw.color", color::red);
		ttlog::context c4("cw.big", 18446744073709551615ull);
		ttlog::context c5("cw.cstr", "lit");
		CHECK(ttlog_span_depth() == 1);
		CHECK(ttlog_context_depth() == 5);
		inner("cw.inner_span", 1);
		try {
			inner("cw.inner_span", 2);
		} catch (const std::exception &) {
		}
		CHECK(ttlog_span_depth() == 1);
		CHECK(ttlog_context_depth() == 5);
		TTLOG_STREAM(TTLOG_LEVEL_WARN) << "cw.warn " << 1.5 << ' ' << std::string("s");
	}
	CHECK(ttlog_span_depth() == 0);
	CHECK(ttlog_context_depth() == 0);
	ttlog::span ended("cw.ended");
	ended.end();
	CHECK(ttlog_span_depth() == 0);

	/* A filtered level formats nothing. */
	int calls = 0;
	ttlog_set_level(TTLOG_LEVEL_ERROR);
	ttlog::debug() << "cw.filtered " << counted{&calls};
	CHECK(calls == 0);
	ttlog_set_level(TTLOG_LEVEL_TRACE);
	ttlog::error() << "cw.error " << counted{&calls};
	CHECK(calls == 1);

	std::vector<seen> s = collect();
	std::vector<std::string> want = {
		"cw.span.7", "cw.inner_span", "cw.inner n=1 hex=ff\n", "cw.inner_span",
		"cw.inner_span", "cw.inner n=2 hex=ff\n", "cw.inner_span", "cw.warn 1.5 s",
		"cw.span.7", "cw.ended", "cw.ended", "cw.error counted"};
	CHECK(s.size() == want.size());
	for (size_t i = 0; i < s.size() && i < want.size(); i++) {
		if (s[i].text != want[i]) {
			std::fprintf(stderr, "event %zu: '%s', expected '%s'\n", i, s[i].text.c_str(),
				     want[i].c_str());
			failures++;
		}
	}
	if (s.size() == want.size()) {
		CHECK(s[0].kind == TTLOG_EVENT_SPAN_BEGIN && s[8].kind == TTLOG_EVENT_SPAN_END);
		CHECK(s[2].kind == TTLOG_EVENT_LOG && s[2].depth == 2);
		CHECK(s[2].level == TTLOG_LEVEL_INFO && s[7].level == TTLOG_LEVEL_WARN);
		CHECK(s[2].ctx == "cw.n=1;cw.cstr=lit;cw.big=18446744073709551615;cw.color=-2;"
				  "cw.ratio=0.25;cw.user=alice;");
		CHECK(s[7].ctx == "cw.cstr=lit;cw.big=18446744073709551615;cw.color=-2;"
				  "cw.ratio=0.25;cw.user=alice;");
		CHECK(s[11].ctx.empty() && s[11].level == TTLOG_LEVEL_ERROR);
		if (s[2].ctx.find("cw.n=1") != 0)
			std::fprintf(stderr, "contexts of event 2: %s\n", s[2].ctx.c_str());
	}
	std::printf("%s\n", failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
