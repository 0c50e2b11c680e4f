/* SPDX-License-Identifier: MIT */
/*
 * calls.c - syslog(3) and err(3)/warn(3), interposed: each call becomes
 * one event at the level its kind says, then the original function runs as
 * it would have (the message still goes to syslog, or to stderr). What the
 * original writes to stderr meanwhile (warn's line, LOG_PERROR's copy) is
 * not captured a second time (run_quiet).
 *
 * Levels: syslog's LOG_EMERG, LOG_ALERT and LOG_CRIT are fatal, LOG_ERR
 * error, LOG_WARNING warn, LOG_NOTICE and LOG_INFO info, LOG_DEBUG debug;
 * a priority that setlogmask() masks is not recorded (syslog drops it
 * too). err, verr, errx and verrx are error; warn, vwarn, warnx and vwarnx
 * warn. The event's text is the message as the original prints it: the
 * syslog message without its header, and err/warn's "PROGRAM: MESSAGE: 
 * strerror(errno)" line. Fortified programs call __syslog_chk and
 * __vsyslog_chk, which are interposed too, keeping their %n check.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <err.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "ttlog.h"

#include "shim.h"

#define MESSAGE_MAX 1024

__thread int run_quiet __attribute__((tls_model("initial-exec")));

typedef void vsyslog_fn(int, const char *, va_list);
typedef void vsyslog_chk_fn(int, int, const char *, va_list);
typedef void vwarn_fn(const char *, va_list);

static vsyslog_fn *real_vsyslog_fn;
static vsyslog_chk_fn *real_vsyslog_chk_fn;
static vwarn_fn *real_vwarn_fn, *real_vwarnx_fn;

extern int __vsnprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, va_list ap);
void __syslog_chk(int pri, int flag, const char *fmt, ...);
void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap);

static void *next(const char *name)
{
	void *f = dlsym(RTLD_NEXT, name);
	if (!f)
		abort(); /* the C library without syslog or warn: cannot go on */
	return f;
}

static int syslog_level(int pri)
{
	switch (LOG_PRI(pri)) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
		return TTLOG_LEVEL_FATAL;
	case LOG_ERR:
		return TTLOG_LEVEL_ERROR;
	case LOG_WARNING:
		return TTLOG_LEVEL_WARN;
	case LOG_DEBUG:
		return TTLOG_LEVEL_DEBUG;
	default:
		return TTLOG_LEVEL_INFO;
	}
}

void run_calls_resolve(void)
{
	real_vsyslog_fn = (vsyslog_fn *)next("vsyslog");
	real_vsyslog_chk_fn = (vsyslog_chk_fn *)next("__vsyslog_chk");
	real_vwarn_fn = (vwarn_fn *)next("vwarn");
	real_vwarnx_fn = (vwarn_fn *)next("vwarnx");
}

/* flag < 0: not fortified. errno is kept for the original's %m. */
static void record_syslog(int pri, int flag, const char *fmt, va_list ap)
{
	if (!run_active || !fmt || !(setlogmask(0) & LOG_MASK(LOG_PRI(pri))))
		return;
	int saved = errno;
	char text[MESSAGE_MAX];
	int n = flag < 0 ? vsnprintf(text, sizeof text, fmt, ap)
			 : __vsnprintf_chk(text, sizeof text, flag, sizeof text, fmt, ap);
	if (n >= 0) {
		size_t len = strlen(text);
		while (len > 0 && text[len - 1] == '\n')
			text[--len] = '\0';
		run_emit(RUN_SOURCE_SYSLOG, syslog_level(pri), text);
	}
	errno = saved;
}

RUN_INTERPOSE void vsyslog(int pri, const char *fmt, va_list ap)
{
	va_list copy;
	va_copy(copy, ap);
	record_syslog(pri, -1, fmt, copy);
	va_end(copy);
	if (!real_vsyslog_fn)
		real_vsyslog_fn = (vsyslog_fn *)next("vsyslog");
	run_quiet++;
	real_vsyslog_fn(pri, fmt, ap);
	run_quiet--;
}

RUN_INTERPOSE void syslog(int pri, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsyslog(pri, fmt, ap);
	va_end(ap);
}

RUN_INTERPOSE void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap)
{
	va_list copy;
	va_copy(copy, ap);
	record_syslog(pri, flag, fmt, copy);
	va_end(copy);
	if (!real_vsyslog_chk_fn)
		real_vsyslog_chk_fn = (vsyslog_chk_fn *)next("__vsyslog_chk");
	run_quiet++;
	real_vsyslog_chk_fn(pri, flag, fmt, ap);
	run_quiet--;
}

RUN_INTERPOSE void __syslog_chk(int pri, int flag, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	__vsyslog_chk(pri, flag, fmt, ap);
	va_end(ap);
}

/* ---- err(3) and warn(3) --------------------------------------------------- */

/* The line the original prints, without its newline; with_errno: ": strerror". */
static void record_err(int level, int with_errno, const char *fmt, va_list ap)
{
	if (!run_active)
		return;
	int saved = errno;
	char text[MESSAGE_MAX];
	int n = snprintf(text, sizeof text, "%s", program_invocation_short_name);
	size_t len = n < 0 ? 0 : (size_t)n < sizeof text ? (size_t)n : sizeof text - 1;
	if (fmt && len < sizeof text - 2) {
		memcpy(text + len, ": ", 3);
		len += 2;
		n = vsnprintf(text + len, sizeof text - len, fmt, ap);
		len = n < 0 ? len : len + (size_t)n < sizeof text ? len + (size_t)n : sizeof text - 1;
	}
	if (with_errno && len < sizeof text - 1)
		snprintf(text + len, sizeof text - len, ": %s", strerror(saved));
	run_emit(RUN_SOURCE_ERR, level, text);
	errno = saved;
}

static void call_original(int with_errno, const char *fmt, va_list ap)
{
	if (with_errno) {
		if (!real_vwarn_fn)
			real_vwarn_fn = (vwarn_fn *)next("vwarn");
	} else if (!real_vwarnx_fn) {
		real_vwarnx_fn = (vwarn_fn *)next("vwarnx");
	}
	run_quiet++;
	(with_errno ? real_vwarn_fn : real_vwarnx_fn)(fmt, ap);
	run_quiet--;
}

static void report(int level, int with_errno, const char *fmt, va_list ap)
{
	va_list copy;
	va_copy(copy, ap);
	record_err(level, with_errno, fmt, copy);
	va_end(copy);
	call_original(with_errno, fmt, ap);
}

RUN_INTERPOSE void vwarn(const char *fmt, va_list ap)
{
	report(TTLOG_LEVEL_WARN, 1, fmt, ap);
}

RUN_INTERPOSE void vwarnx(const char *fmt, va_list ap)
{
	report(TTLOG_LEVEL_WARN, 0, fmt, ap);
}

RUN_INTERPOSE void warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report(TTLOG_LEVEL_WARN, 1, fmt, ap);
	va_end(ap);
}

RUN_INTERPOSE void warnx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report(TTLOG_LEVEL_WARN, 0, fmt, ap);
	va_end(ap);
}

/* err and friends: warn's line, then exit(status), as glibc's do. */
RUN_INTERPOSE void verr(int status, const char *fmt, va_list ap)
{
	report(TTLOG_LEVEL_ERROR, 1, fmt, ap);
	exit(status);
}

RUN_INTERPOSE void verrx(int status, const char *fmt, va_list ap)
{
	report(TTLOG_LEVEL_ERROR, 0, fmt, ap);
	exit(status);
}

RUN_INTERPOSE void err(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report(TTLOG_LEVEL_ERROR, 1, fmt, ap);
	va_end(ap);
	exit(status);
}

RUN_INTERPOSE void errx(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report(TTLOG_LEVEL_ERROR, 0, fmt, ap);
	va_end(ap);
	exit(status);
}
