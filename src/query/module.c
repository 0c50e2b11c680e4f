/* SPDX-License-Identifier: MIT */
/*
 * module.c - the seven virtual-table modules: registration, making a table
 * over a list of files, the query plan (xBestIndex), the shared context and
 * the SQL function ttlog_stats().
 *
 * The plan of an events scan: every usable constraint on ts (=, <, <=, >,
 * >=), level_num (the same) and level (=) is handed to xFilter, described
 * by two characters of idxStr per argument: the column ('t' ts, 'n'
 * level_num, 'l' level) and the operator ('=', '<', 'L' <=, '>', 'G' >=).
 * xFilter turns them into a conservative time range and level mask for
 * the reader. Nothing is omitted: SQLite checks every constraint again on
 * the rows, so a range that keeps too much is never wrong.
 */
#include <stdlib.h>
#include <string.h>

#include "query/vtab.h"

/* More constraints than this on one scan are left to SQLite alone. */
#define MAX_PUSHED 16

static const struct query_table_def *const table_defs[] = {
	&query_events_table, &query_spans_table,   &query_threads_table,
	&query_sites_table,  &query_metrics_table, &query_snapshots_table, &query_args_table,
};
#define NTABLES (sizeof table_defs / sizeof table_defs[0])

/* ---- Shared context ------------------------------------------------------ */

static void context_release(void *p)
{
	struct query_context *context = p;
	if (--context->refs > 0)
		return;
	for (size_t i = 0; i < context->nerrors; i++) {
		sqlite3_free(context->errors[i].path);
		sqlite3_free(context->errors[i].message);
	}
	sqlite3_free(context->errors);
	sqlite3_free(context);
}

int query_context_add_error(struct query_context *context, const char *path, const char *message)
{
	for (size_t i = 0; i < context->nerrors; i++)
		if (strcmp(context->errors[i].path, path) == 0)
			return SQLITE_OK;
	struct query_file_error *grown =
		sqlite3_realloc64(context->errors, (context->nerrors + 1) * sizeof *grown);
	if (!grown)
		return SQLITE_NOMEM;
	context->errors = grown;
	struct query_file_error *e = &grown[context->nerrors];
	e->path = sqlite3_mprintf("%s", path);
	e->message = sqlite3_mprintf("%s", message);
	if (!e->path || !e->message) {
		sqlite3_free(e->path);
		sqlite3_free(e->message);
		return SQLITE_NOMEM;
	}
	context->nerrors++;
	return SQLITE_OK;
}

const struct query_totals *query_context_totals(const struct query_context *context)
{
	return &context->totals;
}

size_t query_context_error_count(const struct query_context *context)
{
	return context->nerrors;
}

const char *query_context_error(const struct query_context *context, size_t i)
{
	return i < context->nerrors ? context->errors[i].message : NULL;
}

/* ttlog_stats(): the totals as a JSON object. */
static void stats_function(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	(void)argv;
	const struct query_totals *t = &((struct query_context *)sqlite3_user_data(ctx))->totals;
	char *json = sqlite3_mprintf(
		"{\"scans\":%llu,\"ranged_scans\":%llu,\"blocks\":%llu,\"blocks_decoded\":%llu,"
		"\"blocks_scanned\":%llu,\"blocks_skipped\":%llu,\"records_decoded\":%llu}",
		(unsigned long long)t->scans, (unsigned long long)t->ranged_scans,
		(unsigned long long)t->blocks, (unsigned long long)t->blocks_decoded,
		(unsigned long long)t->blocks_scanned, (unsigned long long)t->blocks_skipped,
		(unsigned long long)t->records_decoded);
	if (!json) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	sqlite3_result_text(ctx, json, -1, sqlite3_free);
}

/* ---- Tables -------------------------------------------------------------- */

/* An argument of USING module(...) as the file name it stands for: quotes
 * (' " or `) removed, a doubled quote inside read as one. */
static char *unquote(const char *arg)
{
	while (*arg == ' ' || *arg == '\t' || *arg == '\n')
		arg++;
	size_t n = strlen(arg);
	while (n > 0 && (arg[n - 1] == ' ' || arg[n - 1] == '\t' || arg[n - 1] == '\n'))
		n--;
	char *out = sqlite3_malloc64(n + 1);
	if (!out)
		return NULL;
	char q = arg[0];
	if (n >= 2 && (q == '\'' || q == '"' || q == '`') && arg[n - 1] == q) {
		size_t k = 0;
		for (size_t i = 1; i + 1 < n; i++) {
			out[k++] = arg[i];
			if (arg[i] == q && arg[i + 1] == q)
				i++;
		}
		out[k] = '\0';
	} else {
		memcpy(out, arg, n);
		out[n] = '\0';
	}
	return out;
}

static void vtab_free(struct query_vtab *vt)
{
	if (!vt)
		return;
	for (int i = 0; i < vt->nfiles; i++)
		sqlite3_free(vt->files[i]);
	sqlite3_free(vt->files);
	sqlite3_free(vt);
}

/* The module's pAux: which table it makes, and the shared context. */
struct module_aux {
	const struct query_table_def *def;
	struct query_context *context;
};

/* xCreate and xConnect: the arguments are the files (read when scanned,
 * not now: making the table costs nothing). */
static int vt_connect(sqlite3 *db, void *aux_p, int argc, const char *const *argv,
		      sqlite3_vtab **out, char **err)
{
	const struct module_aux *aux = aux_p;
	struct query_vtab *vt = NULL;
	int rc = SQLITE_NOMEM;

	if (argc < 4) {
		*err = sqlite3_mprintf("%s: expected one or more snapshot files, as in "
				       "USING %s('app.ttlog')",
				       aux->def->module, aux->def->module);
		return SQLITE_ERROR;
	}
	vt = sqlite3_malloc64(sizeof *vt);
	if (!vt)
		goto fail;
	memset(vt, 0, sizeof *vt);
	vt->def = aux->def;
	vt->context = aux->context;
	vt->files = sqlite3_malloc64((size_t)(argc - 3) * sizeof *vt->files);
	if (!vt->files)
		goto fail;
	for (int i = 3; i < argc; i++) {
		vt->files[vt->nfiles] = unquote(argv[i]);
		if (!vt->files[vt->nfiles])
			goto fail;
		if (!vt->files[vt->nfiles][0]) {
			*err = sqlite3_mprintf("%s: argument %d is empty: expected a file name",
					       aux->def->module, i - 2);
			vt->nfiles++;
			rc = SQLITE_ERROR;
			goto fail;
		}
		vt->nfiles++;
	}
	rc = sqlite3_declare_vtab(db, aux->def->schema);
	if (rc != SQLITE_OK)
		goto fail;
	*out = &vt->base;
	return SQLITE_OK;
fail:
	vtab_free(vt);
	return rc;
}

static int vt_disconnect(sqlite3_vtab *base)
{
	vtab_free((struct query_vtab *)base);
	return SQLITE_OK;
}

/* The plan's code for a constraint, or 0 if it does not push down. */
static int plan_code(const struct query_table_def *def, int column, unsigned char op, char code[2])
{
	/* The columns both ranged tables have in the same places, and the
	 * site's and the process's, which are not. */
	int site = def == &query_events_table ? QUERY_EVENTS_SITE
		   : def == &query_args_table ? QUERY_ARGS_SITE
					      : -1;
	int pid = def == &query_events_table ? QUERY_EVENTS_PID : -1;
	switch (column) {
	case QUERY_EVENTS_TS: code[0] = 't'; break;
	case QUERY_EVENTS_LEVEL_NUM: code[0] = 'n'; break;
	case QUERY_EVENTS_LEVEL: code[0] = 'l'; break;
	case QUERY_EVENTS_TID: code[0] = 'i'; break;
	default:
		if (column == site && site >= 0)
			code[0] = 's';
		else if (column == pid && pid >= 0)
			code[0] = 'p';
		else
			return 0;
	}
	switch (op) {
	case SQLITE_INDEX_CONSTRAINT_EQ: code[1] = '='; break;
	case SQLITE_INDEX_CONSTRAINT_LT: code[1] = '<'; break;
	case SQLITE_INDEX_CONSTRAINT_LE: code[1] = 'L'; break;
	case SQLITE_INDEX_CONSTRAINT_GT: code[1] = '>'; break;
	case SQLITE_INDEX_CONSTRAINT_GE: code[1] = 'G'; break;
	default: return 0;
	}
	/* Level names compare as text, not in severity order: only = says
	 * which levels can match. A thread, a site or a process is taken by
	 * = only. */
	return (code[0] != 'l' && code[0] != 'i' && code[0] != 's' && code[0] != 'p') ||
	       code[1] == '=';
}

/* The plan of a cached table (spans, sites): "k" with the value of an =
 * on its key column, when there is one: rows found by key in rows kept in
 * memory, nearly free; a scan of all rows costs one read of the files the
 * first time, then a walk through memory. Costs that say so make SQLite
 * put these tables inside a join's loop, found by key, and the events
 * outside, read once. */
static int best_index_key(struct query_vtab *vt, sqlite3_index_info *info)
{
	for (int i = 0; vt->def->parse_key && i < info->nConstraint; i++) {
		const struct sqlite3_index_constraint *c = &info->aConstraint[i];
		if (!c->usable || c->iColumn != vt->def->key_column || c->op != SQLITE_INDEX_CONSTRAINT_EQ)
			continue;
		info->aConstraintUsage[i].argvIndex = 1;
		info->aConstraintUsage[i].omit = 0; /* checked again: see parse_key */
		info->idxNum = 1;
		info->idxStr = "k";
		info->estimatedRows = vt->nfiles;
		info->estimatedCost = 10.0 * vt->nfiles;
		return SQLITE_OK;
	}
	info->estimatedRows = (sqlite3_int64)1e4 * vt->nfiles;
	info->estimatedCost = 1e4 * vt->nfiles;
	return SQLITE_OK;
}

/* The plan of a cached table: by key where it can be, and without its
 * costly column (spans.fields) when the statement does not read it. */
static int best_index_cached(struct query_vtab *vt, sqlite3_index_info *info)
{
	int costly = vt->def->costly_column;
	int rc = best_index_key(vt, info);
	if (costly > 0 && !((info->colUsed >> (costly < 63 ? costly : 63)) & 1))
		info->idxNum |= QUERY_PLAN_NO_COSTLY;
	return rc;
}

static int vt_best_index(sqlite3_vtab *base, sqlite3_index_info *info)
{
	struct query_vtab *vt = (struct query_vtab *)base;
	char plan[2 * MAX_PUSHED + 2 + 2 * QUERY_MAX_GROUPED + 1];
	int n = 0, on_time = 0, on_level = 0, on_thread = 0, on_process = 0, on_site = 0;

	if (vt->def->cached)
		return best_index_cached(vt, info);

	for (int i = 0; vt->def->ranged && i < info->nConstraint && n < MAX_PUSHED; i++) {
		const struct sqlite3_index_constraint *c = &info->aConstraint[i];
		if (!c->usable || !plan_code(vt->def, c->iColumn, c->op, &plan[2 * n]))
			continue;
		info->aConstraintUsage[i].argvIndex = ++n;
		info->aConstraintUsage[i].omit = 0;
		switch (plan[2 * n - 2]) {
		case 't': on_time = 1; break;
		case 'i': on_thread = 1; break;
		case 'p': on_process = 1; break;
		case 's': on_site = 1; break;
		default: on_level = 1; break;
		}
	}
	plan[2 * n] = '\0';
	info->idxNum = n;
	/* Grouped rows (grouped.c): SQLite sorts nothing. */
	int grouped = 0;
	if (vt->def->ranged) {
		char spec[2 * QUERY_MAX_GROUPED + 1];
		grouped = query_events_group_plan(info, spec);
		if (grouped) {
			plan[2 * n] = '/';
			memcpy(&plan[2 * n + 1], spec, strlen(spec) + 1);
		}
	}
	if (n > 0 || grouped) {
		info->idxStr = sqlite3_mprintf("%s", plan);
		if (!info->idxStr)
			return SQLITE_NOMEM;
		info->needToFreeIdxStr = 1;
	}

	/* Costs only need to rank plans: a time range reads a small part of
	 * the files, a level mask still reads all of them. */
	double rows = 1e6 * vt->nfiles;
	if (on_time)
		rows /= 1000;
	if (on_level)
		rows /= 4;
	if (on_thread) /* one thread's blocks of the files */
		rows /= 8;
	if (on_process) /* one process's files */
		rows /= 2;
	if (on_site) /* one statement's events */
		rows /= 16;
	info->estimatedRows = (sqlite3_int64)rows;
	info->estimatedCost = rows;

	if (grouped) {
		info->orderByConsumed = 1;
		return SQLITE_OK;
	}
	/* One file's events come in time order. */
	if (vt->def->ranged && vt->nfiles == 1 && info->nOrderBy == 1 &&
	    info->aOrderBy[0].iColumn == QUERY_EVENTS_TS && !info->aOrderBy[0].desc)
		info->orderByConsumed = 1;
	return SQLITE_OK;
}


static const sqlite3_module table_module = {
	.iVersion = 0,
	.xCreate = vt_connect,
	.xConnect = vt_connect,
	.xBestIndex = vt_best_index,
	.xDisconnect = vt_disconnect,
	.xDestroy = vt_disconnect,
	.xOpen = query_cursor_open,
	.xClose = query_cursor_close,
	.xFilter = query_cursor_filter,
	.xNext = query_cursor_next,
	.xEof = query_cursor_eof,
	.xColumn = query_cursor_column,
	.xRowid = query_cursor_rowid,
};

static void aux_release(void *p)
{
	struct module_aux *aux = p;
	context_release(aux->context);
	sqlite3_free(aux);
}

int query_register(sqlite3 *db, struct query_context **out)
{
	struct query_context *context = sqlite3_malloc64(sizeof *context);
	if (!context)
		return SQLITE_NOMEM;
	memset(context, 0, sizeof *context);
	/* Held by this function until the end, then by the modules. */
	context->refs = 1;

	int rc = sqlite3_create_function_v2(db, "ttlog_stats", 0, SQLITE_UTF8, context,
					    stats_function, NULL, NULL, NULL);
	for (size_t i = 0; rc == SQLITE_OK && i < NTABLES; i++) {
		struct module_aux *aux = sqlite3_malloc64(sizeof *aux);
		if (!aux) {
			rc = SQLITE_NOMEM;
			break;
		}
		aux->def = table_defs[i];
		aux->context = context;
		context->refs++;
		/* SQLite calls aux_release even when registering fails. */
		rc = sqlite3_create_module_v2(db, table_defs[i]->module, &table_module, aux,
					      aux_release);
	}
	if (rc == SQLITE_OK && out)
		*out = context;
	/* The function keeps a pointer without a reference: it cannot be
	 * called after sqlite3_close(), when the modules let go. */
	context_release(context);
	return rc;
}

int query_create_tables(sqlite3 *db, char *const *files, int nfiles)
{
	int rc = SQLITE_OK;
	for (size_t i = 0; rc == SQLITE_OK && i < NTABLES; i++) {
		sqlite3_str *sql = sqlite3_str_new(db);
		sqlite3_str_appendf(sql, "CREATE VIRTUAL TABLE main.\"%w\" USING %s(", table_defs[i]->table,
				    table_defs[i]->module);
		for (int f = 0; f < nfiles; f++)
			sqlite3_str_appendf(sql, "%s%Q", f ? ", " : "", files[f]);
		sqlite3_str_appendall(sql, ")");
		char *text = sqlite3_str_finish(sql);
		if (!text)
			return SQLITE_NOMEM;
		rc = sqlite3_exec(db, text, NULL, NULL, NULL);
		sqlite3_free(text);
	}
	return rc;
}
