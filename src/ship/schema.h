/* SPDX-License-Identifier: MIT */
/*
 * schema.h - the four tables the shipper fills (docs/FLEET.md explains
 * them): their CREATE statements, for a server of version 18.16 or later,
 * and the column list of each INSERT, in the order rows.c writes them.
 */
#ifndef TTLOG__SHIP_SCHEMA_H
#define TTLOG__SHIP_SCHEMA_H

enum ship_table { SHIP_LOGS, SHIP_SPANS, SHIP_METRICS, SHIP_CRASHES, SHIP_TABLES };

/** The table's name ("logs", "spans", "metrics", "crashes"). */
const char *ship_table_name(enum ship_table t);

/** "CREATE TABLE IF NOT EXISTS T (...) ENGINE = ..." for the table. */
const char *ship_table_create(enum ship_table t);

/** "INSERT INTO T (columns) FORMAT RowBinary". */
const char *ship_table_insert(enum ship_table t);

#endif /* TTLOG__SHIP_SCHEMA_H */
