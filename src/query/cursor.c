/* SPDX-License-Identifier: MIT */
/*
 * cursor.c - the cursor every table shares: it walks the table's files,
 * opens each one's reader (once per cursor), applies an events scan's
 * range, lets the table's definition make the rows, records the problems
 * found in the files and, when the cursor closes, adds what its readers
 * did to the context's totals.
 *
 * A cached table (spans, sites: rows made from the whole file) makes each
 * file's rows once per cursor and keeps them until the cursor closes;
 * an = constraint on its key column is answered from the rows sorted by
 * key (built on the first such scan), so a join that finds spans by id
 * costs a binary search per outer row instead of a pass over the file.
 *
 * Readers are opened with TTLOG_READER_LAZY: a block is decoded only when
 * the iteration reaches it, so that a range limits what is decoded, and
 * tables that need no events (threads, metrics, snapshots) decode none.
 * A grouped scan (grouped.c) releases each file's bytes once it has
 * counted them; a later scan of the same cursor opens such a file again.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "query/vtab.h"

int query_cursor_open(sqlite3_vtab *base, sqlite3_vtab_cursor **out)
{
	struct query_vtab *vt = (struct query_vtab *)base;
	struct query_cursor *c = sqlite3_malloc64(sizeof *c);
	if (!c)
		return SQLITE_NOMEM;
	memset(c, 0, sizeof *c);
	c->vt = vt;
	c->readers = sqlite3_malloc64((size_t)vt->nfiles * sizeof *c->readers);
	if (!c->readers) {
		sqlite3_free(c);
		return SQLITE_NOMEM;
	}
	memset(c->readers, 0, (size_t)vt->nfiles * sizeof *c->readers);
	if (vt->def->cached) {
		c->cache = sqlite3_malloc64((size_t)vt->nfiles * sizeof *c->cache);
		if (!c->cache) {
			sqlite3_free(c->readers);
			sqlite3_free(c);
			return SQLITE_NOMEM;
		}
		memset(c->cache, 0, (size_t)vt->nfiles * sizeof *c->cache);
	}
	c->eof = 1;
	*out = &c->base;
	return SQLITE_OK;
}

/* Ends the current file's rows (if any); a cached table's stay. */
static void leave_file(struct query_cursor *c)
{
	if (c->r && !c->vt->def->cached)
		c->vt->def->clear(c);
	if (c->vt->def->cached)
		memset(&c->rows, 0, sizeof c->rows); /* a view of the cache */
	c->r = NULL;
}

/* Frees a cached table's rows of every file. */
static void free_cache(struct query_cursor *c)
{
	for (int i = 0; c->cache && i < c->vt->nfiles; i++) {
		struct query_file_rows *fr = &c->cache[i];
		if (fr->built) {
			c->rows = fr->rows;
			c->vt->def->clear(c);
		}
		sqlite3_free(fr->keys);
		sqlite3_free(fr->first);
	}
	memset(&c->rows, 0, sizeof c->rows);
	sqlite3_free(c->cache);
	c->cache = NULL;
}

/* with_blocks: 0 for a reader that a new one of the same file replaces,
 * whose blocks that one counts. */
static void add_counters(struct query_totals *t, const struct ttlog_reader_counters *k,
			 int with_blocks)
{
	if (!k)
		return;
	if (with_blocks)
		t->blocks += k->blocks;
	t->blocks_decoded += k->blocks_decoded;
	t->blocks_scanned += k->blocks_scanned;
	t->blocks_skipped += k->blocks_skipped;
	t->records_decoded += k->records_decoded;
}

void query_cursor_reopen_released(struct query_cursor *c, int f)
{
	ttlog_reader *r = c->readers[f];
	if (!r || !ttlog_reader_released(r))
		return;
	add_counters(&c->vt->context->totals, ttlog_reader_counters(r), 0);
	ttlog_reader_close(r);
	c->readers[f] = NULL;
}

int query_cursor_close(sqlite3_vtab_cursor *base)
{
	struct query_cursor *c = (struct query_cursor *)base;
	leave_file(c);
	free_cache(c);
	query_grouped_clear(c);
	for (int i = 0; i < c->vt->nfiles; i++) {
		if (!c->readers[i])
			continue;
		add_counters(&c->vt->context->totals, ttlog_reader_counters(c->readers[i]), 1);
		ttlog_reader_close(c->readers[i]);
	}
	sqlite3_free(c->readers);
	render_buf_free(&c->text);
	sqlite3_free(c);
	return SQLITE_OK;
}

/* Records the file's problem, if it has one, for whoever runs the query. */
int query_cursor_note_status(struct query_cursor *c, const char *path)
{
	int st = c->r ? ttlog_reader_status(c->r) : TTLOG_E_NOMEM;
	if (st == TTLOG_OK)
		return SQLITE_OK;
	const char *error = c->r ? ttlog_reader_error(c->r) : NULL;
	if (error && *error)
		return query_context_add_error(c->vt->context, path, error);
	char *message = sqlite3_mprintf("%s: %s", path, ttlog_strerror(st));
	if (!message)
		return SQLITE_NOMEM;
	int rc = query_context_add_error(c->vt->context, path, message);
	sqlite3_free(message);
	return rc;
}

static int ranged(const struct query_range *range)
{
	return range->since_ns != INT64_MIN || range->until_ns != INT64_MAX ||
	       range->level_mask != TTLOG_READER_ALL_LEVELS || range->tid || range->pid ||
	       range->site;
}

static int by_key(const void *a, const void *b)
{
	const struct query_key_row *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->row < y->row ? -1 : x->row > y->row;
}

/* Sorts the keys of a file's cached rows, once, and puts where each key
 * first is in a hash table: a lookup per outer row of a join is then one
 * probe, not a binary search through memory the caches do not hold. */
static int index_keys(const struct query_table_def *def, struct query_file_rows *fr)
{
	if (fr->keys || fr->rows.count == 0)
		return SQLITE_OK;
	fr->keys = sqlite3_malloc64(fr->rows.count * sizeof *fr->keys);
	if (!fr->keys)
		return SQLITE_NOMEM;
	for (size_t i = 0; i < fr->rows.count; i++) {
		fr->keys[i].key = def->row_key(query_rows_at(&fr->rows, i));
		fr->keys[i].row = i;
	}
	qsort(fr->keys, fr->rows.count, sizeof *fr->keys, by_key);
	size_t cap = 64;
	while (cap < 2 * fr->rows.count)
		cap *= 2;
	fr->first = sqlite3_malloc64(cap * sizeof *fr->first);
	if (!fr->first) {
		sqlite3_free(fr->keys);
		fr->keys = NULL;
		return SQLITE_NOMEM;
	}
	memset(fr->first, 0, cap * sizeof *fr->first);
	fr->first_cap = cap;
	for (size_t i = 0; i < fr->rows.count; i++) {
		if (i > 0 && fr->keys[i].key == fr->keys[i - 1].key)
			continue;
		size_t h = query_hash64(fr->keys[i].key, cap);
		while (fr->first[h].row)
			h = (h + 1) & (cap - 1);
		fr->first[h].key = fr->keys[i].key;
		fr->first[h].row = i + 1;
	}
	return SQLITE_OK;
}

/* Where key first is in fr->keys, or fr->rows.count if it is not there. */
static size_t find_key(const struct query_file_rows *fr, uint64_t key)
{
	for (size_t h = query_hash64(key, fr->first_cap); fr->first[h].row;
	     h = (h + 1) & (fr->first_cap - 1))
		if (fr->first[h].key == key)
			return fr->first[h].row - 1;
	return fr->rows.count;
}

/* The cursor on the rows of the current file that a scan wants: all of
 * them, or those with the key looked up (c->match .. c->match_end). */
static int start_cached(struct query_cursor *c, struct query_file_rows *fr)
{
	c->rows = fr->rows;
	c->row = (size_t)-1;
	if (!c->lookup)
		return SQLITE_OK;
	int rc = index_keys(c->vt->def, fr);
	if (rc != SQLITE_OK)
		return rc;
	c->match = c->match_end = fr->rows.count ? find_key(fr, c->key) : 0;
	while (c->match_end < fr->rows.count && fr->keys[c->match_end].key == c->key)
		c->match_end++;
	return SQLITE_OK;
}

static int next_cached(struct query_cursor *c)
{
	if (!c->lookup)
		return ++c->row < c->rows.count;
	if (c->match == c->match_end)
		return 0;
	c->row = c->cache[c->file].keys[c->match++].row;
	return 1;
}

/* Opens (or rewinds) the reader of file c->file and starts its rows. */
static int enter_file(struct query_cursor *c)
{
	struct query_vtab *vt = c->vt;
	const char *path = vt->files[c->file];
	ttlog_reader **slot = &c->readers[c->file];
	struct query_file_rows *fr = vt->def->cached ? &c->cache[c->file] : NULL;

	if (fr && fr->built && fr->costly < c->costly) {
		/* Made without the costly column, which this scan reads. */
		c->rows = fr->rows;
		vt->def->clear(c);
		sqlite3_free(fr->keys);
		sqlite3_free(fr->first);
		memset(fr, 0, sizeof *fr);
		memset(&c->rows, 0, sizeof c->rows);
	}
	if (fr && fr->built) {
		c->r = *slot;
		return start_cached(c, fr);
	}

	query_cursor_reopen_released(c, c->file);
	if (!*slot) {
		/* Any status but NOMEM/INVALID leaves a reader (maybe of an
		 * unreadable file, which then has no rows); its problem is
		 * noted below. */
		int rc = ttlog_reader_open_ex(path, TTLOG_READER_LAZY, slot);
		if (!*slot)
			return rc == TTLOG_E_NOMEM ? SQLITE_NOMEM : SQLITE_ERROR;
	}
	c->r = *slot;
	if (vt->def->ranged)
		ttlog_reader_set_range(c->r, c->range.since_ns, c->range.until_ns, c->range.level_mask);
	else
		ttlog_reader_set_range(c->r, INT64_MIN, INT64_MAX, TTLOG_READER_ALL_LEVELS);
	ttlog_reader_set_tid(c->r, vt->def->ranged ? c->range.tid : 0);
	ttlog_reader_set_site(c->r, vt->def->ranged ? c->range.site : 0);
	const struct ttlog_file_info *info = ttlog_reader_info(c->r);
	/* Another process's file: none of its blocks is read. */
	c->other_process = vt->def->ranged && c->range.pid && info && info->pid != c->range.pid;
	if (!c->other_process)
		ttlog_reader_rewind(c->r);
	vt->context->totals.scans++;
	if (vt->def->ranged && ranged(&c->range))
		vt->context->totals.ranged_scans++;
	int rc = query_cursor_note_status(c, path);
	if (rc == SQLITE_OK)
		rc = vt->def->start(c);
	if (fr) {
		fr->rows = c->rows; /* kept, whole or not, and freed at close */
		fr->built = 1;
		fr->costly = c->costly;
		if (rc == SQLITE_OK)
			rc = start_cached(c, fr);
	}
	return rc;
}

/* Moves to the next row, through the following files if need be. */
static int advance(struct query_cursor *c)
{
	struct query_vtab *vt = c->vt;
	if (c->grouped)
		return query_grouped_next(c, 1);
	for (;;) {
		if (c->r) {
			if (vt->def->cached ? next_cached(c) : !c->other_process && vt->def->next(c)) {
				c->rowid++;
				return SQLITE_OK;
			}
			/* A problem met while decoding shows only now. */
			int rc = query_cursor_note_status(c, vt->files[c->file]);
			leave_file(c);
			c->file++;
			if (rc != SQLITE_OK)
				return rc;
		}
		if (c->file >= vt->nfiles) {
			c->eof = 1;
			return SQLITE_OK;
		}
		int rc = enter_file(c);
		if (rc != SQLITE_OK)
			return rc;
	}
}

/* Narrows the range by `column = value` of a thread or process id (*id):
 * an integer value only (SQLite compares others by its own rules, and
 * checks every row again anyway). A value no id can have, or a second
 * id, leaves no row. */
static void narrow_id(struct query_range *range, uint32_t *id, sqlite3_value *value)
{
	if (sqlite3_value_type(value) != SQLITE_INTEGER)
		return;
	sqlite3_int64 v = sqlite3_value_int64(value);
	if (v <= 0 || v > UINT32_MAX || (*id && *id != (uint32_t)v))
		range->none = 1;
	else
		*id = (uint32_t)v;
}

/* Narrows the range by one constraint; `op` as in module.c's plan. */
static void narrow_time(struct query_range *range, char op, sqlite3_value *value)
{
	int64_t low, high;
	/* The value's own type, not a conversion: SQLite may compare a text
	 * value with the integer column by other rules. */
	switch (sqlite3_value_type(value)) {
	case SQLITE_INTEGER:
		low = high = sqlite3_value_int64(value);
		break;
	case SQLITE_FLOAT: {
		/* The integers around it, clamped (a NaN limits nothing). */
		double d = sqlite3_value_double(value);
		if (!(d == d))
			return;
		double lo = floor(d), hi = ceil(d);
		low = lo <= -9.2e18 ? INT64_MIN : lo >= 9.2e18 ? INT64_MAX : (int64_t)lo;
		high = hi <= -9.2e18 ? INT64_MIN : hi >= 9.2e18 ? INT64_MAX : (int64_t)hi;
		break;
	}
	default:
		return; /* text or NULL: SQLite's own comparison decides */
	}
	/* Bounds stay inclusive: ts > 5 reads from 5, which is safe. */
	if ((op == '=' || op == '>' || op == 'G') && low > range->since_ns)
		range->since_ns = low;
	if ((op == '=' || op == '<' || op == 'L') && high < range->until_ns)
		range->until_ns = high;
}

/* The levels that a constraint on level_num or level lets through. */
static unsigned level_bits(char column, char op, sqlite3_value *value)
{
	unsigned bits = 0;
	if (column == 'l') {
		if (sqlite3_value_type(value) != SQLITE_TEXT)
			return TTLOG_READER_ALL_LEVELS;
		const char *text = (const char *)sqlite3_value_text(value);
		for (int level = TTLOG_LEVEL_TRACE; text && level <= TTLOG_LEVEL_FATAL; level++)
			if (strcmp(text, query_level_name(level)) == 0)
				bits |= 1u << level;
		return bits;
	}
	int type = sqlite3_value_type(value);
	if (type != SQLITE_INTEGER && type != SQLITE_FLOAT)
		return TTLOG_READER_ALL_LEVELS;
	double x = sqlite3_value_double(value);
	for (int level = TTLOG_LEVEL_TRACE; level <= TTLOG_LEVEL_FATAL; level++) {
		int keep;
		switch (op) {
		case '=': keep = level == x; break;
		case '<': keep = level < x; break;
		case 'L': keep = level <= x; break;
		case '>': keep = level > x; break;
		default: keep = level >= x; break;
		}
		if (keep)
			bits |= 1u << level;
	}
	return bits;
}

int query_cursor_filter(sqlite3_vtab_cursor *base, int idx_num, const char *idx_str, int argc,
			sqlite3_value **argv)
{
	struct query_cursor *c = (struct query_cursor *)base;

	leave_file(c);
	query_grouped_clear(c);
	c->grouped = 0;
	c->range.since_ns = INT64_MIN;
	c->range.until_ns = INT64_MAX;
	c->range.level_mask = TTLOG_READER_ALL_LEVELS;
	c->range.tid = c->range.pid = c->range.site = 0;
	c->range.none = 0;
	c->lookup = 0;
	if (c->vt->def->cached) {
		/* Without the plan's word, the costly column is made. */
		c->costly = !(idx_num & QUERY_PLAN_NO_COSTLY);
		idx_num &= ~QUERY_PLAN_NO_COSTLY;
	}
	if (c->vt->def->cached && idx_str && idx_str[0] == 'k' && argc >= 1) {
		int found = c->vt->def->parse_key(argv[0], &c->key);
		if (found == 0) { /* no row can match */
			c->eof = 1;
			return SQLITE_OK;
		}
		c->lookup = found == 1;
		idx_num = 0;
	}
	for (int i = 0; idx_str && i < idx_num && i < argc; i++) {
		char column = idx_str[2 * i], op = idx_str[2 * i + 1];
		if (column == 't')
			narrow_time(&c->range, op, argv[i]);
		else if (column == 'i')
			narrow_id(&c->range, &c->range.tid, argv[i]);
		else if (column == 'p')
			narrow_id(&c->range, &c->range.pid, argv[i]);
		else if (column == 's')
			narrow_id(&c->range, &c->range.site, argv[i]);
		else
			c->range.level_mask &= level_bits(column, op, argv[i]);
	}
	if (c->range.none) {
		c->eof = 1;
		return SQLITE_OK;
	}
	c->file = 0;
	c->eof = 0;
	c->rowid = 0;
	const char *group = idx_str ? strchr(idx_str, '/') : NULL;
	if (group && c->vt->def->ranged) {
		c->grouped = 1;
		return query_grouped_start(c, group + 1);
	}
	return advance(c);
}

int query_cursor_next(sqlite3_vtab_cursor *base)
{
	return advance((struct query_cursor *)base);
}

int query_cursor_eof(sqlite3_vtab_cursor *base)
{
	return ((struct query_cursor *)base)->eof;
}

int query_cursor_column(sqlite3_vtab_cursor *base, sqlite3_context *ctx, int col)
{
	struct query_cursor *c = (struct query_cursor *)base;
	return c->vt->def->column(c, ctx, col);
}

/*
 * key * nfiles + file, times per_event, plus within: distinct for distinct
 * events (keys are distinct within a file) and the same in every scan. A
 * key is below 2^13 times its file's size (plus 2^13), so this stays below
 * 2^63 for files of up to 2^50 / (nfiles * per_event) bytes in all; past
 * that the rows are numbered in scan order instead (c->rowid).
 */
sqlite3_int64 query_event_rowid(const struct query_cursor *c, unsigned per_event, unsigned within)
{
	uint64_t n = (uint64_t)c->vt->nfiles, key = ttlog_reader_event_key(c->r);
	if (n == 0 || key > ((uint64_t)INT64_MAX / per_event - (uint64_t)c->file) / n)
		return c->rowid;
	return (sqlite3_int64)((key * n + (uint64_t)c->file) * per_event + within);
}

/* Made when SQLite asks (an OR by union, a SELECT of rowid), not per row. */
int query_cursor_rowid(sqlite3_vtab_cursor *base, sqlite3_int64 *rowid)
{
	const struct query_cursor *c = (const struct query_cursor *)base;
	*rowid = c->vt->def->rowid && !c->grouped && c->r ? c->vt->def->rowid(c) : c->rowid;
	return SQLITE_OK;
}
