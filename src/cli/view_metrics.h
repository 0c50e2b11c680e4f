/* SPDX-License-Identifier: MIT */
/*
 * view_metrics.h - `ttlog view --metrics`: the metrics of a snapshot as a table
 * or as JSON lines.
 */
#ifndef TTLOG__CLI_VIEW_METRICS_H
#define TTLOG__CLI_VIEW_METRICS_H

#include "cli.h"
#include "render/time_text.h"
#include "ttlog_reader.h"

/**
 * Prints the metrics of r to stdout: in text, a table per kind (counters,
 * gauges, histograms), then ttlog's own metrics; in JSON, one object per
 * metric and line. `style` is how gauge times are shown in text. A file
 * without metrics prints a note saying so (text) or nothing (JSON).
 */
void cli_metrics_print(ttlog_reader *r, int json, enum render_time_style style);

/** The JSON lines of cli_metrics_print(), each object starting with the
 *  file's pid and service ('ttlog metrics --json'). */
void cli_metrics_print_json_process(ttlog_reader *r);

#endif /* TTLOG__CLI_VIEW_METRICS_H */
