/* SPDX-License-Identifier: MIT */
/*
 * arg_rows.c - an event's arguments as typed rows (arg_rows.h): the field
 * that names an argument, its type name, and its value as a number when it
 * is one.
 */
#include <stdint.h>

#include "query/arg_rows.h"

const char *query_arg_type_name(int type)
{
	switch (type) {
	case TTLOG_ARG_BOOL: return "bool";
	case TTLOG_ARG_CHAR: return "char";
	case TTLOG_ARG_I8: return "i8";
	case TTLOG_ARG_U8: return "u8";
	case TTLOG_ARG_I16: return "i16";
	case TTLOG_ARG_U16: return "u16";
	case TTLOG_ARG_I32: return "i32";
	case TTLOG_ARG_U32: return "u32";
	case TTLOG_ARG_I64: return "i64";
	case TTLOG_ARG_U64: return "u64";
	case TTLOG_ARG_F64: return "f64";
	case TTLOG_ARG_LDBL: return "ldbl";
	case TTLOG_ARG_PTR: return "ptr";
	case TTLOG_ARG_STR: return "str";
	case TTLOG_ARG_LD80: return "ld80";
	default: return "?";
	}
}

void query_arg_row(const struct ttlog_event *ev, unsigned i, struct query_arg_row *row)
{
	const struct ttlog_arg *a = &ev->args[i];
	const struct ttlog_site_info *site = ev->site;

	row->position = i;
	row->field = NULL;
	row->source = 0;
	for (unsigned k = 0; site && k < site->nfields; k++) {
		if (site->fields[k].arg == i) {
			row->field = site->fields[k].key;
			row->source = site->fields[k].source;
			break;
		}
	}
	row->type = query_arg_type_name(a->type);
	row->arg = a;
	row->numeric = 0;
	row->number = 0;
	switch (a->type) {
	case TTLOG_ARG_BOOL:
	case TTLOG_ARG_CHAR:
		row->value_class = QUERY_ARG_INT;
		break;
	case TTLOG_ARG_I8:
	case TTLOG_ARG_I16:
	case TTLOG_ARG_I32:
	case TTLOG_ARG_I64:
		row->value_class = QUERY_ARG_INT;
		row->numeric = 1;
		row->number = (double)a->v.i;
		break;
	case TTLOG_ARG_U8:
	case TTLOG_ARG_U16:
	case TTLOG_ARG_U32:
	case TTLOG_ARG_U64:
		row->value_class = a->v.u > (uint64_t)INT64_MAX ? QUERY_ARG_REAL : QUERY_ARG_INT;
		row->numeric = 1;
		row->number = (double)a->v.u;
		break;
	case TTLOG_ARG_F64:
	case TTLOG_ARG_LDBL:
	case TTLOG_ARG_LD80:
		row->value_class = QUERY_ARG_REAL;
		row->numeric = 1;
		row->number = (double)ttlog_arg_long_double(a);
		break;
	case TTLOG_ARG_PTR:
		row->value_class = QUERY_ARG_TEXT;
		break;
	case TTLOG_ARG_STR:
		row->value_class = a->str_null ? QUERY_ARG_NULL : QUERY_ARG_TEXT;
		break;
	default:
		row->value_class = QUERY_ARG_NULL;
		break;
	}
}
