/* SPDX-License-Identifier: MIT */
/*
 * sqlite.h - the SQLite header every file of the query module includes.
 *
 * Built into the `ttlog` command, SQLITE_CORE is defined and sqlite3ext.h
 * leaves the sqlite3_* names alone: calls go straight to libsqlite3. Built
 * as the loadable extension, sqlite3ext.h turns each sqlite3_* call into a
 * call through sqlite3_api, the routine table that extension.c receives
 * from SQLite (SQLITE_EXTENSION_INIT1/2 there, INIT3 here).
 */
#ifndef TTLOG__QUERY_SQLITE_H
#define TTLOG__QUERY_SQLITE_H

#include <sqlite3ext.h>

SQLITE_EXTENSION_INIT3

#endif /* TTLOG__QUERY_SQLITE_H */
