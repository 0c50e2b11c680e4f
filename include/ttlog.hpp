// SPDX-License-Identifier: MIT
/*
 * ttlog.hpp - C++ wrappers over <ttlog.h>: scoped spans and contexts whose
 * names are known at run time, and stream-style logging.
 *
 *   ttlog::span s("db.query");              // ends when s goes out of scope
 *   ttlog::context c("request_id", id);     // popped when c goes out of scope
 *   ttlog::info() << "x=" << x << " y=" << y;
 *   TTLOG_STREAM(TTLOG_LEVEL_WARN) << "queue at " << depth;
 *
 * Everything here goes through the runtime path of <ttlog.h> ("Runtime
 * formats"): a span name or context key becomes a call site the first
 * time it is seen, later uses find it by a hash of the text. Cost of a
 * span or context: a macro's (TTLOG_SPAN, TTLOG_CONTEXT) plus that hash
 * and probe. A stream line costs far more than a log call: it formats in
 * the calling thread into a std::ostringstream (allocation, locale, every
 * operator<<) and records the finished text as one string argument of
 * the site "%s" of its level; when that level is filtered out nothing is
 * formatted (one probe). Use the TTLOG_* macros on hot paths; streams are
 * for code that already builds its messages with operator<<.
 *
 * The macros of <ttlog.h> keep working in C++ as they are (with literal
 * formats and names they are the cheaper form). Requires C++17; compiles
 * without a warning under -Wall -Wextra -pedantic in ISO and GNU modes.
 * Not async-signal-safe.
 */
#ifndef TTLOG_HPP
#define TTLOG_HPP

#include <optional>
#include <sstream>
#include <string>
#include <type_traits>

#include "ttlog.h"

namespace ttlog {

/* A span from construction to destruction (or end()). */
class span {
public:
	explicit span(const char *name) noexcept : depth_(ttlog_span_begin_named(name)) {}
	explicit span(const std::string &name) noexcept : span(name.c_str()) {}
	~span() { end(); }
	span(const span &) = delete;
	span &operator=(const span &) = delete;

	/* Ends the span now (and the spans begun inside it and still open). */
	void end() noexcept
	{
		if (depth_)
			ttlog__span_end_to(depth_ - 1);
		depth_ = 0;
	}

private:
	uint32_t depth_;
};

/* A context from construction to destruction. The value is any integer,
 * enumeration, floating-point number, C string or std::string; it is
 * recorded once, when pushed (strings are copied). */
class context {
public:
	template <class T>
	context(const char *key, const T &value) noexcept : depth_(push(key, value))
	{
	}
	template <class T>
	context(const std::string &key, const T &value) noexcept : context(key.c_str(), value)
	{
	}
	~context()
	{
		if (depth_)
			ttlog__context_pop_to(depth_ - 1);
	}
	context(const context &) = delete;
	context &operator=(const context &) = delete;

private:
	static unsigned push(const char *key, const std::string &v) noexcept
	{
		return ttlog_context_push_str(key, v.c_str());
	}
	template <class T> static unsigned push(const char *key, const T &v) noexcept
	{
		if constexpr (std::is_same<T, bool>::value)
			return ttlog_context_push_u64(key, v ? 1u : 0u);
		else if constexpr (std::is_enum<T>::value)
			return push(key, static_cast<typename std::underlying_type<T>::type>(v));
		else if constexpr (std::is_integral<T>::value && std::is_signed<T>::value)
			return ttlog_context_push_i64(key, static_cast<int64_t>(v));
		else if constexpr (std::is_integral<T>::value)
			return ttlog_context_push_u64(key, static_cast<uint64_t>(v));
		else if constexpr (std::is_floating_point<T>::value)
			return ttlog_context_push_f64(key, static_cast<double>(v));
		else {
			static_assert(std::is_convertible<const T &, const char *>::value,
				      "ttlog::context: the value must be an integer, an enumeration, "
				      "a floating-point number, a C string or a std::string");
			return ttlog_context_push_str(key, static_cast<const char *>(v));
		}
	}
	uint32_t depth_;
};

/* One log line built with operator<<, recorded when the object is
 * destroyed (at the end of the full expression for ttlog::info() << ...).
 * Formats nothing when its level is filtered out. */
class line {
public:
	explicit line(int level) : level_(level)
	{
		if (ttlog_log_enabled(level))
			os_.emplace();
	}
	~line()
	{
		if (os_)
			ttlog_log(level_, "%s", os_->str().c_str());
	}
	line(const line &) = delete;
	line &operator=(const line &) = delete;

	template <class T> line &operator<<(const T &v)
	{
		if (os_)
			*os_ << v;
		return *this;
	}
	line &operator<<(std::ostream &(*manip)(std::ostream &))
	{
		if (os_)
			*os_ << manip;
		return *this;
	}

private:
	int level_;
	std::optional<std::ostringstream> os_;
};

inline line trace() { return line(TTLOG_LEVEL_TRACE); }
inline line debug() { return line(TTLOG_LEVEL_DEBUG); }
inline line info() { return line(TTLOG_LEVEL_INFO); }
inline line warn() { return line(TTLOG_LEVEL_WARN); }
inline line error() { return line(TTLOG_LEVEL_ERROR); }
inline line fatal() { return line(TTLOG_LEVEL_FATAL); }

} // namespace ttlog

/* A stream line at a level given at run time: TTLOG_STREAM(lvl) << ...; */
#define TTLOG_STREAM(level) ::ttlog::line(level)

#endif /* TTLOG_HPP */
