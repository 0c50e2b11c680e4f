/* SPDX-License-Identifier: MIT */
/*
 * schema.c - the tables of `ttlog ship clickhouse`.
 *
 * Every table is a ReplacingMergeTree partitioned by day and ordered by
 * (service, time, row_id): the queries people run name a service and a
 * time range, and a row sent twice (a kill between an insert and its cursor
 * write) has the same service, time and id, so merges keep one of them and
 * SELECT ... FINAL counts one. Times are UInt64 nanoseconds since the
 * epoch (time_ns) with a DateTime of the same second beside them (time)
 * for partitions and ordering: DateTime64 came after 18.16. Fields are a
 * Nested column: each field's key, its value as text, and its value as a
 * number (nan when it is not one). The column lists below and the writers
 * in rows.c go together: a column added to one is added to the other.
 */
#include "ship/schema.h"

#define ENGINE " ENGINE = ReplacingMergeTree PARTITION BY toDate(time) ORDER BY (service, time, row_id)"

static const char *const names[SHIP_TABLES] = {"logs", "spans", "metrics", "crashes"};

static const char *const creates[SHIP_TABLES] = {
	("CREATE TABLE IF NOT EXISTS logs ("
	 "row_id UInt64, time_ns UInt64, time DateTime, kind String, level String, "
	 "service String, host String, pid UInt32, tid UInt32, thread String, "
	 "file String, line UInt32, function String, target String, message String, "
	 "fields Nested(key String, value String, num Float64), "
	 "trace_id String, span_id String, parent_span_id String, duration_ns Int64, "
	 "promoted UInt8, reason String, source String)" ENGINE),

	("CREATE TABLE IF NOT EXISTS spans ("
	 "row_id UInt64, time DateTime, begin_ns UInt64, end_ns UInt64, duration_ns Int64, "
	 "trace_id String, span_id String, parent_span_id String, name String, "
	 "service String, host String, pid UInt32, tid UInt32, thread String, "
	 "file String, line UInt32, function String, "
	 "attributes Nested(key String, value String, num Float64), source String)" ENGINE),

	("CREATE TABLE IF NOT EXISTS metrics ("
	 "row_id UInt64, time_ns UInt64, time DateTime, service String, host String, pid UInt32, "
	 "name String, type String, labels Nested(key String, value String), "
	 "counter UInt64, gauge Float64, count UInt64, sum Float64, min Float64, max Float64, "
	 "p50 Float64, p90 Float64, p99 Float64, p999 Float64, reason String, source String)" ENGINE),

	("CREATE TABLE IF NOT EXISTS crashes ("
	 "row_id UInt64, time_ns UInt64, time DateTime, service String, host String, pid UInt32, "
	 "executable String, signo Int32, signal String, code Int32, address UInt64, "
	 "tid UInt32, thread String, summary String, stack String, source String)" ENGINE),
};

static const char *const inserts[SHIP_TABLES] = {
	("INSERT INTO logs (row_id, time_ns, time, kind, level, service, host, pid, tid, thread, "
	 "file, line, function, target, message, fields.key, fields.value, fields.num, "
	 "trace_id, span_id, parent_span_id, duration_ns, promoted, reason, source) FORMAT RowBinary"),

	("INSERT INTO spans (row_id, time, begin_ns, end_ns, duration_ns, trace_id, span_id, "
	 "parent_span_id, name, service, host, pid, tid, thread, file, line, function, "
	 "attributes.key, attributes.value, attributes.num, source) FORMAT RowBinary"),

	("INSERT INTO metrics (row_id, time_ns, time, service, host, pid, name, type, labels.key, "
	 "labels.value, counter, gauge, count, sum, min, max, p50, p90, p99, p999, reason, source) "
	 "FORMAT RowBinary"),

	("INSERT INTO crashes (row_id, time_ns, time, service, host, pid, executable, signo, signal, "
	 "code, address, tid, thread, summary, stack, source) FORMAT RowBinary"),
};

const char *ship_table_name(enum ship_table t)
{
	return names[t];
}

const char *ship_table_create(enum ship_table t)
{
	return creates[t];
}

const char *ship_table_insert(enum ship_table t)
{
	return inserts[t];
}
