/* SPDX-License-Identifier: MIT */
/*
 * ttlog_compat.h - drop-in macros for code that logs syslog-style or
 * printf-style, through ttlog's runtime formats (<ttlog.h>, "Runtime
 * formats"): the format need not be a literal, and each call is recorded
 * like a TTLOG_* call (the arguments' values; the reader formats them).
 *
 *   ttlog_syslog(LOG_ERR | LOG_DAEMON, "open %s: %d", path, err);
 *   ttlog_vsyslog(prio, fmt, ap);
 *   ttlog_printf("value=%d\n", v);            (level INFO)
 *
 * Priorities map to levels by their severity (the facility bits are
 * ignored): LOG_EMERG, LOG_ALERT, LOG_CRIT -> FATAL; LOG_ERR -> ERROR;
 * LOG_WARNING -> WARN; LOG_NOTICE, LOG_INFO -> INFO; LOG_DEBUG -> DEBUG.
 * The numbers are POSIX's, so <syslog.h> is not needed.
 *
 * Define TTLOG_COMPAT_SYSLOG before including this header (after
 * <syslog.h>, if the file includes it) to turn the file's own syslog()
 * and vsyslog() calls into these. %m prints "<?>" (errno is not
 * recorded); a trailing newline is kept in the message.
 */
#ifndef TTLOG_COMPAT_H
#define TTLOG_COMPAT_H

#include <stdarg.h>

#include "ttlog.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The ttlog level of a syslog priority. */
static inline int ttlog_syslog_level(int priority)
{
	switch (priority & 7) {
	case 0: /* LOG_EMERG */
	case 1: /* LOG_ALERT */
	case 2: /* LOG_CRIT */
		return TTLOG_LEVEL_FATAL;
	case 3: /* LOG_ERR */
		return TTLOG_LEVEL_ERROR;
	case 4: /* LOG_WARNING */
		return TTLOG_LEVEL_WARN;
	case 7: /* LOG_DEBUG */
		return TTLOG_LEVEL_DEBUG;
	default: /* LOG_NOTICE, LOG_INFO */
		return TTLOG_LEVEL_INFO;
	}
}

static inline __attribute__((format(printf, 2, 0))) void ttlog_vsyslog(int priority, const char *fmt,
								     va_list ap)
{
	ttlog_vlog(ttlog_syslog_level(priority), fmt, ap);
}

#ifdef __cplusplus
}
#endif

#define ttlog_syslog(priority, ...) ttlog_log(ttlog_syslog_level(priority), __VA_ARGS__)
#define ttlog_printf(...) ttlog_log(TTLOG_LEVEL_INFO, __VA_ARGS__)

#ifdef TTLOG_COMPAT_SYSLOG
#undef syslog
#undef vsyslog
#define syslog ttlog_syslog
#define vsyslog ttlog_vsyslog
#endif

#endif /* TTLOG_COMPAT_H */
