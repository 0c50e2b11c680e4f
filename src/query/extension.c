/* SPDX-License-Identifier: MIT */
/*
 * extension.c - the entry point of the loadable SQLite extension
 * (ttlog_sqlite.so): `.load ./ttlog_sqlite` in the sqlite3 shell, or
 * sqlite3_load_extension(), registers the seven ttlog_* modules and
 * ttlog_stats() with the connection. Only the `ttlog query` command leaves
 * this file out; it registers the modules itself.
 */
#include "query/query.h"

SQLITE_EXTENSION_INIT1

/* Exported: SQLite looks the entry point up by name in the module. */
#define EXTENSION_EXPORT __attribute__((visibility("default")))

EXTENSION_EXPORT int sqlite3_ttlog_init(sqlite3 *db, char **err, const sqlite3_api_routines *api);
EXTENSION_EXPORT int sqlite3_ttlogsqlite_init(sqlite3 *db, char **err,
					      const sqlite3_api_routines *api);

int sqlite3_ttlog_init(sqlite3 *db, char **err, const sqlite3_api_routines *api)
{
	SQLITE_EXTENSION_INIT2(api);
	int rc = query_register(db, NULL);
	if (rc != SQLITE_OK)
		*err = sqlite3_mprintf("ttlog: cannot register the modules: %s", sqlite3_errstr(rc));
	return rc;
}

/* The name SQLite derives from the file name ttlog_sqlite.so, so that
 * `.load ./ttlog_sqlite` needs no entry point argument. */
int sqlite3_ttlogsqlite_init(sqlite3 *db, char **err, const sqlite3_api_routines *api)
{
	return sqlite3_ttlog_init(db, err, api);
}

