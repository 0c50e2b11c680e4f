/* SPDX-License-Identifier: MIT */
/*
 * test_cpp.cpp - ttlog.h from C++17: every kind of argument is recorded
 * with the same type code as in C and reads back as snprintf would print it;
 * arguments are evaluated once and only when enabled; call sites inside
 * templates and lambdas work; TTLOG_F() fields read back by name; the
 * tools header compiles and links from C++ too.
 */
#include <cinttypes>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "support/testutil.h"
#include "ttlog_reader.h"
#define TTLOG_TOOLS_UNSTABLE 1
#include "ttlog_tools.h"

enum plain_enum { ONE = 1, TWO = 2 };
enum class scoped : int16_t { low = -3, high = 300 };

/* The type codes must be those the C header gives the same C types. */
static_assert(ttlog__type_code<bool>() == TTLOG_ARG_BOOL);
static_assert(ttlog__type_code<char>() == TTLOG_ARG_CHAR);
static_assert(ttlog__type_code<signed char>() == TTLOG_ARG_I8);
static_assert(ttlog__type_code<unsigned char>() == TTLOG_ARG_U8);
static_assert(ttlog__type_code<short>() == TTLOG_ARG_I16);
static_assert(ttlog__type_code<unsigned>() == TTLOG_ARG_U32);
static_assert(ttlog__type_code<long>() == TTLOG_ARG_I64);
static_assert(ttlog__type_code<unsigned long long>() == TTLOG_ARG_U64);
static_assert(ttlog__type_code<float>() == TTLOG_ARG_F64);
static_assert(ttlog__type_code<long double>() == TTLOG__LDBL_TYPE);
static_assert(ttlog__type_code<const char *>() == TTLOG_ARG_STR);
static_assert(ttlog__type_code<unsigned char *>() == TTLOG_ARG_STR);
static_assert(ttlog__type_code<int *>() == TTLOG_ARG_PTR);
static_assert(ttlog__type_code<std::nullptr_t>() == TTLOG_ARG_PTR);
static_assert(ttlog__type_code<scoped>() == TTLOG_ARG_I16);
static_assert(ttlog__type_code<std::decay<char[4]>::type>() == TTLOG_ARG_STR);

static std::vector<std::string> expected;
static int passed, failed;

static void check(bool ok, const char *what)
{
	if (ok) {
		passed++;
	} else {
		failed++;
		std::printf("FAIL %s\n", what);
	}
}

/* Logs one case and remembers what printf would print for it. */
#define CASE(...)                                                          \
	do {                                                               \
		TTLOG_INFO(__VA_ARGS__);                                   \
		char text_[512];                                           \
		std::snprintf(text_, sizeof text_, __VA_ARGS__);           \
		expected.push_back(text_);                                 \
	} while (0)

/* The fields of the "cpp fields" event: n from the format, then count
 * (an int) and who (a std::string's c_str()) from TTLOG_F(). */
static void check_cpp_fields(const struct ttlog_event *ev)
{
	check(ev->nfields == 3, "the fields event has three fields");
	check(ev->site->explicit_args == 0x6, "arguments 1 and 2 are explicit fields");
	if (ev->nfields != 3)
		return;
	const struct ttlog_field *f = ev->fields;
	check(std::strcmp(f[0].key, "n") == 0 && f[0].source == TTLOG_FIELD_FORMAT &&
		      f[0].value->type == TTLOG_ARG_I32 && f[0].value->v.i == 3,
	      "field n is the format's int");
	check(std::strcmp(f[1].key, "count") == 0 && f[1].source == TTLOG_FIELD_EXPLICIT &&
		      f[1].value->type == TTLOG_ARG_I32 && f[1].value->v.i == 5,
	      "field count is an int");
	check(std::strcmp(f[2].key, "who") == 0 && f[2].source == TTLOG_FIELD_EXPLICIT &&
		      f[2].value->type == TTLOG_ARG_STR && f[2].value->str &&
		      std::strcmp(f[2].value->str, "from std::string") == 0,
	      "field who is the std::string's text");
}

template <class T> static void log_in_template(T v)
{
	CASE("template %lld", (long long)v);
}

static int counter;
static int next_value()
{
	return ++counter;
}

int main()
{
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	if (tu_start(&cfg) != 0)
		return 1;

	const char *volatile none = nullptr; /* volatile: the compiler may not see it is NULL */
	std::string text = "from std::string";
	char array[8] = "array";
	int local = 5;
	CASE("ints %d %u %ld %llu %hd %hhd %hhu", -7, 7u, -8L, 9ULL, (short)-10, (signed char)-11,
	     (unsigned char)200);
	CASE("char %c bool %d plain enum %d", 'Z', true, TWO);
	CASE("sized %zu %" PRId64 " %" PRIu8, (size_t)12, (int64_t)INT64_MIN, (uint8_t)255);
	CASE("floating %f %.3e %Lf %g", 1.5f, -2.25, 2.5L, 1e300);
	CASE("strings [%s] [%s] [%s] [%.3s]", "literal", text.c_str(), array, "truncate");
	CASE("null string [%s]", none);
	CASE("pointer %p", (void *)&local);
	CASE("star [%*d] [%-*.*f]", 6, 42, 9, 2, 3.14159);
	CASE("no arguments");
	log_in_template(-4);
	log_in_template(40u);
	auto lambda = [&](int v) { CASE("lambda %d", v); };
	lambda(77);
	TTLOG_INFO("scoped %d", (int)scoped::high);
	expected.push_back("scoped 300");
	/* Fields are not part of the message; checked by name below. */
	TTLOG_INFO("cpp fields n=%d", 3, TTLOG_F("count", local), TTLOG_F("who", text.c_str()));
	expected.push_back("cpp fields n=3");

	{
		TTLOG_SPAN("cpp.span", TTLOG_F("local", local));
		TTLOG_SPAN_FIELD("rows", 2);
		check(ttlog_span_depth() == 1, "a scoped span is open inside its block");
	}
	check(ttlog_span_depth() == 0, "a scoped span ends with its block");
	expected.push_back("cpp.span"); /* the begin: its name */
	expected.push_back("");         /* the end: no message of its own */

	counter = 0;
	TTLOG_DEBUG("evaluated once: %d", next_value());
	expected.push_back("evaluated once: 1");
	check(counter == 1, "an argument is evaluated once");
	ttlog_set_level(TTLOG_LEVEL_WARN);
	TTLOG_INFO("disabled %d", next_value());
	check(counter == 1, "a disabled call evaluates nothing");
	ttlog_set_level(TTLOG_LEVEL_TRACE);

	ttlog_reader *r = tu_snapshot_open("cpp");
	check(r != nullptr, "the snapshot opens");
	if (!r)
		return 1;
	struct ttlog_event ev;
	size_t i = 0;
	char buf[512];
	while (ttlog_reader_next(r, &ev) == 1) {
		ttlog_event_format(&ev, buf, sizeof buf);
		if (i < expected.size() && expected[i] != buf)
			std::printf("     event %zu: got '%s', want '%s'\n", i, buf, expected[i].c_str());
		check(i < expected.size() && expected[i] == buf, "an event reads back as printf");
		if (std::strcmp(ev.site->format, "cpp fields n=%d") == 0)
			check_cpp_fields(&ev);
		if (ev.kind == TTLOG_EVENT_SPAN_END)
			check(ev.span && std::strcmp(ev.span->name, "cpp.span") == 0 &&
				      ev.nfields == 1 && std::strcmp(ev.fields[0].key, "rows") == 0 &&
				      ev.fields[0].value->v.i == 2,
			      "the span's end carries its name and its field");
		i++;
	}
	check(i == expected.size(), "every case was recorded, in order");
	check(ttlog_reader_status(r) == TTLOG_OK, "the snapshot is valid");
	ttlog_reader_close(r);
	tu_stop(nullptr);

	const char *sig = ttlog__signal_name(SIGSEGV);
	check(sig && std::strcmp(sig, "SIGSEGV") == 0, "ttlog_tools.h from C++: a signal's name");

	std::printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
