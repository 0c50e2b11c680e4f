/* SPDX-License-Identifier: MIT */
/*
 * format_plan.h - a printf format compiled into steps: what
 * reader/format_plan.c makes of a format, and reader/printf.c runs against
 * the arguments of an event.
 *
 * A step is a run of literal bytes of the format (a pointer into it and a
 * length), or one conversion already parsed, with the index in the event's
 * arguments of each argument it takes (the TTLOG_F() fields passed over and
 * "n$" positions resolved) and the kind of code that prints it. A reader
 * keeps one plan per call site (struct ttlog__format_plan, made at open);
 * ttlog_format() and an event without a plan compile their format piece by
 * piece on the stack (struct fmt_walk) and run each piece at once.
 */
#ifndef TTLOG__READER_FORMAT_PLAN_H
#define TTLOG__READER_FORMAT_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "reader/printf_spec.h"
#include "ttlog_reader.h"

/*
 * A piece compiles at most this many directives (every '%': conversions,
 * "%%", unknown and cut ones), so at most FMT_PLAN_MAX_STEPS steps (text
 * before each directive, and after the last). A site's format with more
 * gets no plan: the format comes from a file that may be hostile, and a
 * format with more conversions than a record has arguments (16) is not
 * worth keeping compiled.
 */
#define FMT_PLAN_MAX_DIRECTIVES 16
#define FMT_PLAN_MAX_STEPS (2 * FMT_PLAN_MAX_DIRECTIVES + 1)

/* An argument index that no event has: the argument is missing. */
#define FMT_NO_ARG UINT32_MAX

enum fmt_step_kind {
	FMT_STEP_TEXT,    /* text[0..len): literal bytes, "%%", unknown and cut conversions */
	FMT_STEP_INT,     /* %d %i %u %x %X, no flag, width or precision, no h or hh */
	FMT_STEP_FIXED,   /* %f %F, no flag or width, precision 0 to 9, no L */
	FMT_STEP_STR,     /* %s, no flag, width, precision or length */
	FMT_STEP_CONVERT  /* any other conversion: the general path */
};

struct fmt_step {
	uint32_t kind;      /* enum fmt_step_kind */
	/* Conversions: indexes into the event's arguments, or FMT_NO_ARG;
	 * width_arg and prec_arg only for a '*' width or precision. */
	uint32_t value_arg, width_arg, prec_arg;
	union {
		struct {
			const char *text;
			size_t len;
		} lit;              /* FMT_STEP_TEXT */
		struct fmt_spec spec; /* the others */
	};
};

/* How far a walk over a format has come. */
struct fmt_walk {
	const char *p;   /* the rest of the format */
	uint32_t next;   /* the next argument a conversion without "n$" takes, among the format's */
	uint32_t skip;   /* arguments that are not the format's (explicit_args) */
};

/*
 * Compiles the directives at w->p into steps (room for FMT_PLAN_MAX_STEPS),
 * at most FMT_PLAN_MAX_DIRECTIVES of them, and moves w on past them: *w->p
 * is '\0' once the whole format is compiled. Returns the number of steps.
 */
unsigned ttlog__fmt_compile(struct fmt_walk *w, struct fmt_step *steps);

/* A site's format, compiled whole. ttlog_event_format() runs it for an
 * event when site and format are still the event's. */
struct ttlog__format_plan {
	const struct ttlog_site_info *site;
	const char *format;
	unsigned nsteps;
	struct fmt_step steps[];
};

#endif /* TTLOG__READER_FORMAT_PLAN_H */
