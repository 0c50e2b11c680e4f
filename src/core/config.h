/* SPDX-License-Identifier: MIT */
/*
 * config.h - resolved settings (struct ttlog_config + environment).
 */
#ifndef TTLOG__CORE_CONFIG_H
#define TTLOG__CORE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "clock/clock.h"
#include "common/state.h"
#include "snapshot/redact.h"

#define TTLOG__WATCHDOG_MIN_NS 100000000ull /* 100 ms */
#include "stream/stream.h"
#include "ttlog.h"

/* TTLOG_SNAPSHOT_THREADS=auto: two threads when more than one CPU is online. */
#define TTLOG__SNAPSHOT_THREADS_AUTO 3u

struct ttlog__settings {
	char dir[TTLOG__DIR_MAX];
	int dir_is_default;
	uint32_t ring_size;
	size_t memory_cap;
	uint32_t max_string;
	uint32_t max_sites;       /* resolved: 1 to TTLOG__MAX_SITES */
	uint64_t window_ns;
	int min_level;
	const char *levels;       /* from the struct */
	const char *levels_env;   /* from TTLOG_LEVEL, applied after `levels` */
	const char *sample;       /* sampling rules from the struct (checked) */
	const char *sample_env;   /* from TTLOG_SAMPLE (checked), applied after `sample` */
	uint64_t crash_mask;
	int snapshot_signal;
	uint64_t watchdog_ns;   /* TTLOG_WATCHDOG; 0: off */
	const char *trigger;      /* trigger rules from the struct (checked at init) */
	const char *trigger_env;  /* from TTLOG_TRIGGER, added after `trigger` */
	enum ttlog__clock_choice clock;
	uint32_t max_snapshots;       /* resolved: never 0; UINT32_MAX = no limit */
	uint64_t max_snapshot_bytes;  /* resolved: never 0; UINT64_MAX = no limit */
	int shared_memory;        /* rings in a shared mapping (src/shm/owner.c) */
	char shared_dir[TTLOG__DIR_MAX]; /* its base directory */
	char service[TTLOG__SERVICE_MAX + 1]; /* "": the executable's base name */
	struct ttlog__stream_settings stream; /* stream.dir "": streaming off */
	int flush_signals;        /* -1 off, 0 auto (on with a stream), 1 on */
	const char *encrypt_key;  /* the public key file; NULL: files are not encrypted */

	struct ttlog__compression compression; /* snapshots' codec (the stream's is in stream) */
	unsigned snapshot_threads;    /* TTLOG_SNAPSHOT_THREADS: 0 one thread (the
	                                 default), 2, or TTLOG__SNAPSHOT_THREADS_AUTO */
	struct ttlog__redact redact;  /* TTLOG_REDACT's rules */
};

/* Fills *st; on a bad value returns TTLOG_E_CONFIG (or TTLOG_E_INVALID for
 * a bad struct) with a message in err naming the setting and the value. */
int ttlog__config_resolve(const struct ttlog_config *cfg, struct ttlog__settings *st, char *err,
			  size_t errsize);

/* Creates and checks the snapshot directory; a refused default one is
 * replaced in st->dir (see config.c). TTLOG_OK or TTLOG_E_DIR. */
int ttlog__config_prepare_dir(struct ttlog__settings *st, char *err, size_t errsize);

/* "5s", "250ms", "1.5s", "1h30m", "7d", "0"; a bare number is seconds. */
int ttlog__parse_duration(const char *s, uint64_t *out_ns);

#endif
