/*
 * reader_internal.h - entry points of the snapshot reader that are not API.
 *
 * Used by the fuzz target and the tests, which feed the reader bytes that
 * never were a file. Everything the public reader does is in
 * <ttlog_reader.h>.
 */
#ifndef TTLOG_READER_READER_INTERNAL_H
#define TTLOG_READER_READER_INTERNAL_H

#include <stddef.h>

#include "ttlog_reader.h"

/*
 * ttlog_reader_open() for bytes already in memory. The reader copies the
 * size bytes at data, so the caller may free them at once; name stands for
 * the path in messages and in ttlog_file_info.path (NULL: "<memory>").
 * Returns and sets *reader exactly as ttlog_reader_open() does, except that
 * TTLOG_E_OPEN cannot happen.
 */
int ttlog__reader_open_memory(const void *data, size_t size, const char *name,
			      ttlog_reader **reader);

#endif /* TTLOG_READER_READER_INTERNAL_H */
