/* SPDX-License-Identifier: MIT */
/*
 * init.c - the library's life cycle and small public functions: ttlog_init,
 * ttlog_shutdown, snapshots on request (with or without the caller's stack), statistics, versions, error texts,
 * level names, and the slow path of a log call.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock/clock.h"
#include "common/dir_rules.h"
#include "common/internal.h"
#include "common/state.h"
#include "context/context.h"
#include "core/anchor.h"
#include "core/config.h"
#include "core/fork.h"
#include "crash/crash.h"
#include "metrics/metrics.h"
#include "proc/modules.h"
#include "proc/stack.h"
#include "ring/ring.h"
#include "shm/owner.h"
#include "sites/sampling.h"
#include "sites/sites.h"
#include "snapshot/redact.h"
#include "snapshot/retention.h"
#include "snapshot/seal.h"
#include "snapshot/writer.h"
#include "stream/stream.h"
#include "core/trigger_rules.h"
#include "trigger/trigger.h"
#include "watchdog/watchdog.h"
#include "common/stream_ops.h"
#include "thread/thread.h"

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static char init_error[512];

TTLOG_API unsigned ttlog_version_number(void)
{
	return TTLOG_VERSION_NUMBER;
}

TTLOG_API const char *ttlog_version_string(void)
{
	return TTLOG_VERSION_STRING;
}

/* Runs in signal context (the crash handler's report uses it): constant
 * strings only. */
TTLOG_API const char *ttlog_strerror(int error)
{
	switch (error) {
#define TTLOG__CASE(name, value, text) \
	case value:                    \
		return text;
		TTLOG_ERROR_TABLE(TTLOG__CASE)
#undef TTLOG__CASE
	}
	return "unknown ttlog error";
}

static const char *const level_names[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "OFF"};

TTLOG_API const char *ttlog_level_name(int level)
{
	if (level < 0 || (size_t)level >= TTLOG__ARRAY_SIZE(level_names))
		return "?";
	return level_names[level];
}

TTLOG_API int ttlog_level_parse(const char *name)
{
	if (!name)
		return -1;
	for (size_t i = 0; i < TTLOG__ARRAY_SIZE(level_names); i++)
		if (strcasecmp(name, level_names[i]) == 0)
			return (int)i;
	if (strcasecmp(name, "warning") == 0)
		return TTLOG_LEVEL_WARN;
	return -1;
}

TTLOG_API void ttlog_config_init(struct ttlog_config *config)
{
	if (!config)
		return;
	memset(config, 0, sizeof *config);
	config->struct_size = sizeof *config;
}

TTLOG_API const char *ttlog_init_error(void)
{
	return init_error;
}

TTLOG_API unsigned ttlog_refused_dirs(void)
{
	return ttlog__dir_refused();
}

static void describe_process(void)
{
	ssize_t n = readlink("/proc/self/exe", ttlog__g.executable, sizeof ttlog__g.executable - 1);
	ttlog__g.executable[n > 0 ? n : 0] = '\0';
	if (gethostname(ttlog__g.hostname, sizeof ttlog__g.hostname - 1) != 0)
		ttlog__g.hostname[0] = '\0';
	ttlog__g.hostname[sizeof ttlog__g.hostname - 1] = '\0';
	ttlog__g.pid = (int)getpid();
}

/* The service: the setting, else the executable's base name. */
static void set_service(const char *service)
{
	if (!service[0]) {
		const char *base = strrchr(ttlog__g.executable, '/');
		service = base ? base + 1 : ttlog__g.executable;
	}
	size_t n = strnlen(service, TTLOG__SERVICE_MAX); /* a longer program name is cut */
	memcpy(ttlog__g.service, service, n);
	ttlog__g.service[n] = '\0';
}

/* A temporary older than this is never a snapshot still being written. */
#define STALE_TEMPORARY_S 600

/*
 * Removes the temporaries of snapshots that were never finished: a process
 * killed while writing one (SIGKILL, or a crash inside the crash handler)
 * leaves .ttlog-PID-TID-N.tmp behind. Only files of processes that no longer
 * exist, that are this user's and that have not changed for
 * STALE_TEMPORARY_S are removed, so a
 * snapshot being written right now, even by a process in another PID
 * namespace sharing the directory, is left alone.
 */
static void remove_stale_temporaries(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	time_t now = time(NULL);
	struct dirent *e;
	while ((e = readdir(d))) {
		char *end;
		if (strncmp(e->d_name, ".ttlog-", 7) != 0)
			continue;
		long pid = strtol(e->d_name + 7, &end, 10);
		size_t len = strlen(e->d_name);
		if (end == e->d_name + 7 || *end != '-' || len < 4 ||
		    strcmp(e->d_name + len - 4, ".tmp") != 0 || pid <= 0)
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue; /* alive, or not ours to judge */
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
		    st.st_uid == geteuid() && now - st.st_mtime > STALE_TEMPORARY_S)
			unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}

/* A bad rule of ttlog_init's: said on stderr, counted, left out. */
static void refuse_rule(void *ctx, const char *message)
{
	(void)ctx;
	atomic_fetch_add_explicit(&ttlog__g.triggers_refused, 1, memory_order_relaxed);
	fprintf(stderr, "ttlog: %s; this rule is ignored, ttlog runs with the others\n", message);
}

static struct ttlog__trigger_rule init_rules[TTLOG__TRIGGER_MAX]; /* under init_lock */
static int trigger_atexit_registered;

/* ttlog_trigger_add's bad rule: the first one's message for the caller. */
struct first_fault_ctx {
	char *err;
	size_t size;
	uint32_t count;
};

static void first_fault(void *ctx, const char *message)
{
	struct first_fault_ctx *b = ctx;
	if (!b->count++ && b->err && b->size)
		snprintf(b->err, b->size, "%s", message);
}

/* The trigger rules of the struct, then TTLOG_TRIGGER's; with any, the
 * timer that evaluates them. TTLOG_OK, or TTLOG_E_NOMEM (init_error). */
static int start_triggers(const char *from_struct, const char *from_env)
{
	uint32_t n = 0, more = 0;
	ttlog__trigger_rules_parse(from_struct, "trigger", init_rules, TTLOG__TRIGGER_MAX, &n,
				   refuse_rule, NULL);
	ttlog__trigger_rules_parse(from_env, "TTLOG_TRIGGER", init_rules + n, TTLOG__TRIGGER_MAX - n,
				   &more, refuse_rule, NULL);
	n += more;
	int rc = ttlog__trigger_set(init_rules, n, init_error, sizeof init_error);
	if (rc == TTLOG_OK && n)
		rc = ttlog__watchdog_hook(ttlog__trigger_tick, TTLOG__TRIGGER_STEP_NS, init_error,
					  sizeof init_error);
	/* exit() without ttlog_shutdown still writes the snapshots that wait
	 * for their post-roll. */
	if (rc == TTLOG_OK && n && !trigger_atexit_registered && atexit(ttlog__trigger_flush_at_exit) == 0)
		trigger_atexit_registered = 1;
	return rc;
}

TTLOG_API int ttlog_trigger_add(const char *rules, char *err, size_t err_size)
{
	struct first_fault_ctx b = {err, err_size, 0};
	if (err && err_size)
		err[0] = '\0';
	if (!rules)
		return TTLOG_E_INVALID;
	pthread_mutex_lock(&init_lock);
	int rc = TTLOG_OK;
	/* Relaxed: under init_lock, as in ttlog_init. */
	if (atomic_load_explicit(&ttlog__g.state, memory_order_relaxed) != TTLOG__STATE_ON) {
		rc = TTLOG_E_NOT_INITIALIZED;
		goto out;
	}
	uint32_t n = 0;
	uint32_t room = TTLOG__TRIGGER_MAX - ttlog__trigger_count();
	if (ttlog__trigger_rules_parse(rules, "ttlog_trigger_add", init_rules, room, &n,
				       first_fault, &b) != 0) {
		rc = TTLOG_E_CONFIG;
		goto out;
	}
	char why[512];
	rc = n ? ttlog__trigger_add(init_rules, n, why, sizeof why) : TTLOG_OK;
	if (rc == TTLOG_OK && n)
		rc = ttlog__watchdog_hook(ttlog__trigger_tick, TTLOG__TRIGGER_STEP_NS, why, sizeof why);
	if (rc == TTLOG_OK && n && !trigger_atexit_registered && atexit(ttlog__trigger_flush_at_exit) == 0)
		trigger_atexit_registered = 1;
	if (rc != TTLOG_OK && err && err_size)
		snprintf(err, err_size, "%s", why);
out:
	pthread_mutex_unlock(&init_lock);
	return rc;
}

static int atexit_registered;
static int crash_atexit_registered;

/* exit(): the stream drains every ring and closes its segment, as at
 * ttlog_shutdown(). */
static void stop_stream_at_exit(void)
{
	pthread_mutex_lock(&init_lock);
	ttlog__stream_stop();
	ttlog__stream_ops_set(NULL);
	pthread_mutex_unlock(&init_lock);
}

TTLOG_API int ttlog_init(const struct ttlog_config *config)
{
	struct ttlog__settings st;
	int rc;
	pthread_mutex_lock(&init_lock);
	init_error[0] = '\0';
	/* Relaxed: only ttlog_init and ttlog_shutdown store the state, both
	 * under init_lock, which orders them. */
	if (atomic_load_explicit(&ttlog__g.state, memory_order_relaxed) == TTLOG__STATE_ON) {
		snprintf(init_error, sizeof init_error, "ttlog_init: already initialized");
		rc = TTLOG_E_ALREADY_INITIALIZED;
		goto out;
	}
	ttlog__dir_refused_clear();
	rc = ttlog__config_resolve(config, &st, init_error, sizeof init_error);
	if (rc != TTLOG_OK)
		goto out;
	rc = ttlog__config_prepare_dir(&st, init_error, sizeof init_error);
	if (rc != TTLOG_OK)
		goto out;
	ttlog__redact_set(&st.redact);
	rc = ttlog__snapshot_init(&st.compression);
	if (rc == TTLOG_E_CONFIG) {
		snprintf(init_error, sizeof init_error, "TTLOG_COMPRESSION: zstd refused level %d",
			 st.compression.level);
		goto out;
	}
	if (rc == TTLOG_OK) {
		/* A second thread for ttlog_snapshot()'s compression; without
		 * it (one CPU, or it cannot be made) snapshots use one. */
		unsigned zip = st.snapshot_threads;
		if (zip == TTLOG__SNAPSHOT_THREADS_AUTO)
			zip = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 2 : 1;
		else if (zip == 0)
			zip = 1;
		ttlog__snapshot_threads(zip);
	}
	if (rc != TTLOG_OK || ttlog__retention_init() != TTLOG_OK ||
	    ttlog__rings_init() != 0 || ttlog__fork_init() != 0) {
		snprintf(init_error, sizeof init_error, "ttlog_init: cannot reserve memory: %s",
			 strerror(errno));
		rc = TTLOG_E_NOMEM;
		goto out;
	}
	/* Encryption at rest: the recipient's public key, and a fresh key
	 * chain for each writer (src/snapshot/seal.c), before any handler can
	 * write a file. */
	rc = ttlog__seal_configure(st.encrypt_key, init_error, sizeof init_error);
	if (rc != TTLOG_OK)
		goto out;
	ttlog__snapshot_seal_seed();
	/* Levels: check the whole spec before touching anything. */
	if (ttlog_set_level(st.min_level) != TTLOG_OK ||
	    ttlog__levels_apply(st.levels) != TTLOG_OK) {
		snprintf(init_error, sizeof init_error, "levels: expected 'LEVEL' or 'target=LEVEL,...', got '%s'",
			 st.levels ? st.levels : "");
		rc = TTLOG_E_CONFIG;
		goto out;
	}
	if (ttlog__levels_apply(st.levels_env) != TTLOG_OK) {
		snprintf(init_error, sizeof init_error,
			 "TTLOG_LEVEL: expected 'LEVEL' or 'target=LEVEL,...', got '%s'", st.levels_env);
		rc = TTLOG_E_CONFIG;
		goto out;
	}
	/* Sampling rules were checked by ttlog__config_resolve(); only a full
	 * rule table can fail here. */
	rc = ttlog__sampling_apply(st.sample, "sample", init_error, sizeof init_error);
	if (rc == TTLOG_OK)
		rc = ttlog__sampling_apply(st.sample_env, "TTLOG_SAMPLE", init_error, sizeof init_error);
	if (rc != TTLOG_OK)
		goto out;
	memcpy(ttlog__g.dir, st.dir, sizeof ttlog__g.dir);
	ttlog__g.ring_size = st.ring_size;
	ttlog__g.memory_cap = st.memory_cap;
	ttlog__g.max_string = st.max_string;
	ttlog__sites_set_limit(st.max_sites);
	ttlog__g.window_ns = st.window_ns;
	ttlog__g.max_snapshots = st.max_snapshots;
	ttlog__g.max_snapshot_bytes = st.max_snapshot_bytes;
	describe_process();
	set_service(st.service);
	/* After describe_process(): the module list names the program by its path. */
	ttlog__stack_init();
	if (ttlog__modules_init() != TTLOG_OK) {
		snprintf(init_error, sizeof init_error, "ttlog_init: cannot reserve memory: %s",
			 strerror(errno));
		rc = TTLOG_E_NOMEM;
		goto out;
	}
	/* An empty directory: the default one was refused and no other could
	 * be made (config.c); snapshots fail and are counted. */
	if (ttlog__g.dir[0]) {
		remove_stale_temporaries(ttlog__g.dir);
		/* A program restarted in a crash loop prunes at each start, so the
		 * directory is within its limits before the next crash adds to it. */
		ttlog__retention_prune(TTLOG__WS_NORMAL, ttlog__g.dir, NULL, ttlog__g.max_snapshots,
				       ttlog__g.max_snapshot_bytes);
	}
	ttlog__clock_init(st.clock);
	/* The layers below reach shared-memory mode through this table. */
	ttlog__publisher_set(&ttlog__shm_publisher);
	rc = ttlog__shm_open(st.shared_memory, st.shared_dir, st.snapshot_signal, init_error,
			     sizeof init_error);
	if (rc != TTLOG_OK)
		goto out;
	ttlog__rings_configure();
	ttlog__metrics_detach_all();
	if (st.crash_mask || st.snapshot_signal) {
		rc = ttlog__crash_install(st.crash_mask, st.snapshot_signal);
		if (rc != TTLOG_OK) {
			snprintf(init_error, sizeof init_error, "signal handlers: %s", strerror(errno));
			ttlog__shm_close();
			goto out;
		}
	}
	ttlog__spans_init();
	/* Streaming mode: the drainer thread (src/stream/), reached from the
	 * crash handler and the slow path through this table. */
	if (st.stream.dir[0]) {
		ttlog__stream_ops_set(&ttlog__stream_ops_table);
		rc = ttlog__stream_start(&st.stream, init_error, sizeof init_error);
		if (rc != TTLOG_OK) {
			ttlog__stream_ops_set(NULL);
			ttlog__crash_uninstall();
			ttlog__shm_close();
			goto out;
		}
		if (!atexit_registered && atexit(stop_stream_at_exit) == 0)
			atexit_registered = 1;
	}
	/* The watchdog, on the drainer thread if there is one. */
	rc = ttlog__watchdog_start(st.watchdog_ns, init_error, sizeof init_error);
	if (rc != TTLOG_OK) {
		ttlog__stream_stop();
		ttlog__stream_ops_set(NULL);
		ttlog__crash_uninstall();
		ttlog__shm_close();
		goto out;
	}
	rc = start_triggers(st.trigger, st.trigger_env);
	if (rc != TTLOG_OK) {
		ttlog__watchdog_stop();
		ttlog__stream_stop();
		ttlog__stream_ops_set(NULL);
		ttlog__crash_uninstall();
		ttlog__shm_close();
		goto out;
	}
	/* Last of ttlog's exit hooks, so it runs first: exit() in one thread
	 * while another writes a crash snapshot waits for it (crash.c). */
	if (!crash_atexit_registered && atexit(ttlog__crash_wait_at_exit) == 0)
		crash_atexit_registered = 1;
	ttlog__sites_set_master(1);
	ttlog__anchor_fill();
	/* LMM(init:A) Everything above is published to other threads (and to
	 * signal handlers) by this store. Pairs with LMM(init:B), the acquire
	 * loads of the log call's slow path, the snapshot writer, metric
	 * attach, spans and snapshot_with_stack() below. */
	atomic_store_explicit(&ttlog__g.state, TTLOG__STATE_ON, memory_order_release);
out:
	pthread_mutex_unlock(&init_lock);
	return rc;
}

TTLOG_API int ttlog_shutdown(void)
{
	pthread_mutex_lock(&init_lock);
	/* Relaxed: under init_lock, as in ttlog_init. */
	if (atomic_load_explicit(&ttlog__g.state, memory_order_relaxed) != TTLOG__STATE_ON) {
		pthread_mutex_unlock(&init_lock);
		return TTLOG_E_NOT_INITIALIZED;
	}
	ttlog__watchdog_stop();
	/* Snapshots still in their post-roll are written now, with what there is. */
	ttlog__trigger_stop();
	/* The stream reads everything logged so far and closes its segment. */
	ttlog__stream_stop();
	ttlog__stream_ops_set(NULL);
	ttlog__crash_uninstall();
	ttlog__snapshot_threads(1); /* the compression thread ends */
	ttlog__sites_set_master(0);
	/* Relaxed: OFF publishes nothing. A thread that loads it (LMM(init:B))
	 * stops before reading any setting, and the next ttlog_init publishes
	 * its own with LMM(init:A). */
	atomic_store_explicit(&ttlog__g.state, TTLOG__STATE_OFF, memory_order_relaxed);
	ttlog__shm_close(); /* shared-memory mode: the file goes, the memory stays */
	ttlog__metrics_detach_all(); /* later updates find ttlog off and are counted */
	pthread_mutex_unlock(&init_lock);
	return TTLOG_OK;
}

/* Async-signal-safe (see ttlog.h). */
TTLOG_API int ttlog_snapshot_path(const char *reason, char *path, size_t path_size)
{
	return ttlog__snapshot_write_api(reason, path, path_size);
}

/* Async-signal-safe (see ttlog.h). */
TTLOG_API int ttlog_snapshot(const char *reason)
{
	return ttlog_snapshot_path(reason, NULL, 0);
}

/* The stack starts at the caller of the public function, whose return
 * address is ra. Normal context: refreshing the module list may take the
 * loader's lock. */
static __attribute__((noinline)) int snapshot_with_stack(const char *reason, char *path,
							 size_t path_size, const void *ra)
{
	struct ttlog__stack st;
	/* LMM(init:B) pairs with LMM(init:A). */
	if (atomic_load_explicit(&ttlog__g.state, memory_order_acquire) != TTLOG__STATE_ON)
		return TTLOG_E_NOT_INITIALIZED;
	ttlog__modules_refresh();
	ttlog__stack_capture_here(&st, ra);
	return ttlog__snapshot_write_stack(TTLOG__WS_NORMAL, reason, NULL, &st, path, path_size);
}

TTLOG_API int ttlog_snapshot_with_stack_path(const char *reason, char *path, size_t path_size)
{
	return snapshot_with_stack(reason, path, path_size, __builtin_return_address(0));
}

TTLOG_API int ttlog_snapshot_with_stack(const char *reason)
{
	return snapshot_with_stack(reason, NULL, 0, __builtin_return_address(0));
}

/* Relaxed: the counters are statistics (common/state.h); each value is read
 * whole, and nothing is read through them. */
static uint64_t counter(_Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* The public struct grows only into its reserved tail (ttlog.h). */
_Static_assert(sizeof(struct ttlog_stats) == 184, "struct ttlog_stats keeps its size");

TTLOG_API int ttlog_get_stats(struct ttlog_stats *s)
{
	if (!s)
		return TTLOG_E_INVALID;
	memset(s, 0, sizeof *s);
	s->events_overwritten = ttlog__rings_overwritten();
	s->dropped_uninitialized = counter(&ttlog__g.dropped_uninitialized);
	s->dropped_no_ring = counter(&ttlog__g.dropped_no_ring);
	s->dropped_sites = counter(&ttlog__g.dropped_sites);
	s->snapshots_written = counter(&ttlog__g.snapshots_written);
	s->snapshots_failed = counter(&ttlog__g.snapshots_failed);
	s->snapshots_busy = counter(&ttlog__g.snapshots_busy);
	s->torn_records = counter(&ttlog__g.torn_records);
	s->rings = ttlog__rings_count();
	s->sites = ttlog__site_id_limit() - 1;
	ttlog__sampling_totals(&s->dropped_sampled, &s->dropped_rate_limited);
	s->metrics = ttlog__metrics_count();
	s->metrics_refused = ttlog__metrics_refused();
	s->metrics_rejected = ttlog__metrics_rejected();
	s->snapshots_pruned = counter(&ttlog__g.snapshots_pruned);
	s->dropped_during_crash = counter(&ttlog__g.dropped_frozen);
	struct ttlog__stream_counters sc;
	ttlog__stream_counters(&sc);
	s->stream_events = sc.streamed;
	s->stream_lost = sc.lost;
	s->stream_filtered = sc.filtered;
	s->stream_promoted = sc.promoted;
	s->stream_segments = sc.segments;
	s->stream_segments_deleted = sc.segments_deleted;
	s->stream_bytes = sc.bytes;
	s->stream_errors = sc.errors;
	return TTLOG_OK;
}
