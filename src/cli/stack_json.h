/* SPDX-License-Identifier: MIT */
/*
 * stack_json.h - a recorded stack as a JSON array of symbolised frames: the
 * command's symboliser lent to the web viewer (serve_stack_json_fn).
 */
#ifndef TTLOG__CLI_STACK_JSON_H
#define TTLOG__CLI_STACK_JSON_H

#include "render/text_buf.h"
#include "ttlog_reader.h"

/** Appends the frames of st (of r's file) as a JSON array; arg is unused. */
void cli_stack_json(void *arg, const ttlog_reader *r, const struct ttlog_stack *st,
		    struct render_buf *out);

#endif /* TTLOG__CLI_STACK_JSON_H */
