/* SPDX-License-Identifier: MIT */
/*
 * trigger_rules.h - the language of TTLOG_TRIGGER (README's "Triggers"):
 * rules separated by ';', each a condition and options separated by
 * spaces, parsed into src/trigger/'s rules.
 */
#ifndef TTLOG__CORE_TRIGGER_RULES_H
#define TTLOG__CORE_TRIGGER_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "trigger/trigger.h"

/*
 * Parses the rules of spec into out[0..cap), setting *n to the good ones.
 * Each bad rule is left out and reported to bad(ctx, message), the message
 * naming `origin` (TTLOG_TRIGGER, trigger, ttlog_trigger_add), the rule's
 * number and text and the column of the fault. Rules past cap are bad too.
 * Returns the number of bad rules.
 */
uint32_t ttlog__trigger_rules_parse(const char *spec, const char *origin,
				    struct ttlog__trigger_rule *out, uint32_t cap, uint32_t *n,
				    void (*bad)(void *ctx, const char *message), void *ctx);

#endif
