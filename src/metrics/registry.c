/* SPDX-License-Identifier: MIT */
/*
 * registry.c - the table of metrics: which name and labels have which slots.
 *
 * A metric use (struct ttlog_metric in ttlog.h) registers on its first
 * update. Registration checks the name and the labels, finds a metric of
 * the same name and labels registered by another use (the two then share
 * their slots: one metric) or gives the new metric slots in the shard
 * layout, which is the same for every thread. A name registered with
 * another type is an error: that use is disabled for good and counted, and
 * the first type keeps the name. So is a name that differs from a registered
 * one only by '.' against '_' (the same name in Prometheus output).
 *
 * In shared-memory mode every new metric is also entered in the mapping's
 * metric table (through the publisher, common/publish.h), so that another
 * process can name the slots it reads there; one that the mapping cannot
 * give room is refused like one that does not fit.
 *
 * Concurrency. Registration is rare and takes a mutex. Readers (snapshots,
 * in signal context) take no lock: they read ttlog__metrics_count() with
 * acquire and only the entries below it, which are filled before the count
 * is raised with release (LMM(reg:A), pairing with LMM(reg:B)) and never
 * change afterwards. Names, labels and file names are the uses' string
 * literals, which live as long as the program (or its DSO).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "common/histogram.h"
#include "common/internal.h"
#include "common/publish.h"
#include "metrics/metrics.h"

static struct ttlog__metric_entry entries[TTLOG_METRICS_MAX];
static _Atomic uint32_t entry_count;
static uint32_t next_offset;            /* bytes of the shard layout given out */
static _Atomic uint32_t refused;
static _Atomic uint64_t rejected;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* [A-Za-z0-9_.:], not empty, not starting with a digit, and not ttlog's. */
static int name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > TTLOG__METRIC_NAME_MAX || is_digit(name[0]) || strncmp(name, "ttlog", 5) == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!is_alpha(name[i]) && !is_digit(name[i]) && name[i] != '.' && name[i] != ':')
			return 0;
	return 1;
}

/* Checks "k=v\0k=v\0\0" and returns the bytes before the final empty
 * string, or SIZE_MAX if a label breaks a rule: a key of
 * [A-Za-z_][A-Za-z0-9_]*, not starting with "__", not "le" (a histogram's
 * bucket label), each key once; at most 16 labels and 1024 bytes. */
static size_t labels_check(const char *labels)
{
	const char *keys[16];
	size_t nkeys = 0, len = 0;
	for (const char *l = labels; *l; l += strlen(l) + 1) {
		const char *eq = strchr(l, '=');
		size_t klen = eq ? (size_t)(eq - l) : 0;
		if (!eq || klen == 0 || !is_alpha(l[0]) || nkeys == 16)
			return SIZE_MAX;
		for (size_t i = 1; i < klen; i++)
			if (!is_alpha(l[i]) && !is_digit(l[i]))
				return SIZE_MAX;
		if ((klen >= 2 && l[0] == '_' && l[1] == '_') || (klen == 2 && memcmp(l, "le", 2) == 0))
			return SIZE_MAX;
		for (size_t k = 0; k < nkeys; k++)
			if (strncmp(keys[k], l, klen + 1) == 0)
				return SIZE_MAX; /* the same "key=" again */
		keys[nkeys++] = l;
		len += strlen(l) + 1;
		if (len > TTLOG__METRIC_LABELS_MAX)
			return SIZE_MAX;
	}
	return len;
}

static uint32_t slot_bytes(uint8_t type)
{
	switch (type) {
	case TTLOG__METRIC_COUNTER: return 8;
	case TTLOG__METRIC_GAUGE: return 16;
	case TTLOG__METRIC_HISTOGRAM: return 8 * TTLOG__HIST_SLOTS;
	default: return 0;
	}
}

/* Whether two names are one Prometheus name ('.' becomes '_'). */
static int same_exposed_name(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (*a != *b && !((*a == '.' || *a == '_') && (*b == '.' || *b == '_')))
			return 0;
	return *a == *b;
}

/* The word for metric m, under registry_lock. */
static uint64_t register_locked(const struct ttlog_metric *m)
{
	size_t labels_len = labels_check(m->labels);
	if (!slot_bytes(m->type) || !name_ok(m->name) || labels_len == SIZE_MAX) {
		atomic_fetch_add_explicit(&rejected, 1, memory_order_relaxed);
		return TTLOG__METRIC_GIVEN_UP;
	}
	uint32_t n = atomic_load_explicit(&entry_count, memory_order_relaxed);
	for (uint32_t i = 0; i < n; i++) {
		const struct ttlog__metric_entry *e = &entries[i];
		if (!same_exposed_name(e->name, m->name))
			continue;
		if (e->type != m->type || strcmp(e->name, m->name) != 0) {
			/* Another type, or "a.b" against "a_b": one Prometheus
			 * family cannot hold both. */
			atomic_fetch_add_explicit(&rejected, 1, memory_order_relaxed);
			return TTLOG__METRIC_GIVEN_UP;
		}
		if (e->labels_len == labels_len && memcmp(e->labels, m->labels, labels_len) == 0)
			return (uint64_t)e->offset + 1u; /* the same metric, used elsewhere */
	}
	uint32_t bytes = slot_bytes(m->type);
	if (n == TTLOG_METRICS_MAX || next_offset + (size_t)bytes > TTLOG__METRICS_SHARD_BYTES) {
		atomic_fetch_add_explicit(&refused, 1, memory_order_relaxed);
		return TTLOG__METRIC_GIVEN_UP;
	}
	struct ttlog__metric_entry *e = &entries[n];
	e->name = m->name;
	e->labels = m->labels;
	e->labels_len = labels_len;
	e->file = m->file;
	e->line = m->line;
	e->type = m->type;
	e->offset = next_offset;
	/* In shared-memory mode the mapping's shards get room for the slots
	 * (and the mapping the entry) before any thread can write them. */
	const struct ttlog__publisher *p = ttlog__publisher_get();
	if (p && p->metric_added && p->metric_added(n, e, next_offset + bytes) != 0) {
		atomic_fetch_add_explicit(&refused, 1, memory_order_relaxed);
		return TTLOG__METRIC_GIVEN_UP;
	}
	next_offset += bytes;
	/* LMM(reg:A) The entry is filled before readers may see it. Pairs
	 * with LMM(reg:B) in ttlog__metrics_count(). */
	atomic_store_explicit(&entry_count, n + 1, memory_order_release);
	return (uint64_t)e->offset + 1u;
}

/* The metrics registered so far, told to a new shared mapping (its table
 * starts empty). Called by src/shm/owner.c when it opens one. */
void ttlog__metrics_republish(void)
{
	const struct ttlog__publisher *p = ttlog__publisher_get();
	if (!p || !p->metric_added)
		return;
	pthread_mutex_lock(&registry_lock);
	uint32_t n = atomic_load_explicit(&entry_count, memory_order_relaxed);
	for (uint32_t i = 0; i < n; i++)
		p->metric_added(i, &entries[i], next_offset);
	pthread_mutex_unlock(&registry_lock);
}

/* Called by the first update of a use (ttlog.h), from any thread. */
TTLOG_API uint64_t ttlog__metric_register(struct ttlog_metric *m)
{
	uint64_t w = TTLOG__LOAD(m->word, relaxed);
	if (w != 0)
		return w; /* registered by another thread meanwhile, or disabled */
	pthread_mutex_lock(&registry_lock);
	w = TTLOG__LOAD(m->word, relaxed);
	if (w == 0) {
		w = register_locked(m);
		TTLOG__STORE(m->word, w, relaxed);
	}
	pthread_mutex_unlock(&registry_lock);
	return w;
}

/* Runs in signal context. */
uint32_t ttlog__metrics_count(void)
{
	/* LMM(reg:B) pairs with LMM(reg:A): the entries below are whole. */
	return atomic_load_explicit(&entry_count, memory_order_acquire);
}

/* Runs in signal context. */
const struct ttlog__metric_entry *ttlog__metrics_entry(uint32_t i)
{
	return &entries[i];
}

/* Runs in signal context. */
uint32_t ttlog__metrics_refused(void)
{
	return atomic_load_explicit(&refused, memory_order_relaxed);
}

/* Runs in signal context. */
uint64_t ttlog__metrics_rejected(void)
{
	return atomic_load_explicit(&rejected, memory_order_relaxed);
}
