/* SPDX-License-Identifier: MIT */
/*
 * ttlog_reader.h - reading ttlog snapshot files and stream segments.
 *
 * The reader opens a snapshot or a segment (a file of a stream, format
 * revision 5: docs/FORMAT.md section 17), validates every chunk against its checksum
 * and every length and offset against the file, and iterates the events of
 * all threads merged in time order, with their arguments decoded. Formatting
 * a message follows printf exactly: the format is split into conversions and
 * each one is handed to the C library's snprintf with the decoded value.
 *
 * A damaged file is not all-or-nothing: ttlog_reader_open() keeps every
 * chunk that validates, and ttlog_reader_error() says what went wrong and
 * where ("FILE: offset N: expected ..."). A segment without END is open
 * (being written, or its writer died), which is not an error. A store
 * (ttlog_store_open, at the end) reads the segments and snapshots of
 * directories as one, and follows them as they grow.
 *
 * ABI: structs the reader hands out by pointer (ttlog_file_info,
 * ttlog_thread_info) may gain members at their end; ttlog_event, which the
 * caller allocates, keeps its size and takes new members from its
 * reserved tail (format revision 5 took flags; format_plan, the reader's
 * parsed format, took a reserved word later). Added in revision 5:
 * ttlog_file_info service .. indexed, ttlog_thread_info stream_lost and
 * filtered, ttlog_event flags (TTLOG_EVENT_PROMOTED),
 * ttlog_reader_open_range(), ttlog_reader_set_start() and the store.
 * Revision 12 appended origin and name to ttlog_stack, which the reader
 * hands out as an array: a program built against an earlier header must
 * be rebuilt.
 * Programs that only log do not need
 * this header: it is libttlog-read's, which tools link (pkg-config ttlog-read,
 * CMake ttlog::read) and which links libttlog, the writer.
 */
#ifndef TTLOG_READER_H
#define TTLOG_READER_H

#include <stddef.h>
#include <stdint.h>

#include "ttlog.h"

TTLOG__EXTERN_C_BEGIN

typedef struct ttlog_reader ttlog_reader;

/** One decoded argument. */
struct ttlog_arg {
	int type;            /* TTLOG_ARG_* from ttlog.h */
	union {
		int64_t i;   /* BOOL, CHAR, I8..I64 (sign-extended) */
		uint64_t u;  /* U8..U64, PTR */
		double d;    /* F64, LDBL; LD80 rounded to double */
	} v;
	const char *str;     /* STR: the bytes, NUL-terminated; NULL when str_null.
				LD80: its 10 bytes (ttlog_arg_long_double()) */
	uint32_t str_len;    /* STR: bytes recorded; LD80: 10 */
	uint8_t str_null;    /* STR: the program passed a NULL pointer */
	uint8_t str_truncated; /* STR: the program's string was longer than the limit */
};

/**
 * The value of a floating-point argument at the precision it was logged
 * with: an LD80 argument (a long double on x86, recorded as its 80 bits)
 * exactly, F64 and LDBL as their double, an integer converted; 0 for a
 * string or a NULL argument.
 */
TTLOG_API long double ttlog_arg_long_double(const struct ttlog_arg *arg);

/** Where a field comes from. */
enum ttlog_field_source {
	TTLOG_FIELD_FORMAT = 1,   /* "key=%d" in the format: also part of the message */
	TTLOG_FIELD_EXPLICIT = 2, /* TTLOG_F(): not part of the message */
	TTLOG_FIELD_UNUSED = 3,   /* an argument the format does not print, named argN */
	TTLOG_FIELD_CONTEXT = 4,  /* a context open on the event's thread (TTLOG_CONTEXT) */
	TTLOG_FIELD_SPAN = 5      /* TTLOG_SPAN_FIELD() of the span a span end event ends */
};

/**
 * A field of a call site: argument `arg` (0-based, among all the site's
 * arguments) of each of its events, named `key`. Keys are unique within a
 * site: a key used again gets "_2", "_3", ... appended.
 */
struct ttlog_site_field {
	const char *key;
	unsigned arg;
	int source;          /* enum ttlog_field_source */
};

/**
 * What the records of a site are (struct ttlog_site_info's kind). Only
 * sites of these kinds have events, so only these reach ev->site and
 * span->site; values are those the file stores.
 */
enum ttlog_site_kind {
	TTLOG_SITE_KIND_LOG = 0,        /* a log call */
	TTLOG_SITE_KIND_SPAN_BEGIN = 4, /* a span's begin (TTLOG_SPAN, TTLOG_SPAN_BEGIN) */
	TTLOG_SITE_KIND_SPAN_END = 5    /* a span's end: one site of ttlog's, shared by every span */
};

/** A call site, as recorded in the file's dictionary. */
struct ttlog_site_info {
	uint32_t id;
	int level;           /* TTLOG_LEVEL_* */
	uint32_t line;
	unsigned nargs;
	const uint8_t *arg_types;
	const char *format;
	const char *file;
	const char *function;
	const char *target;  /* as recorded; ttlog_site_target() applies the default */
	unsigned nfields;    /* format fields (format order), explicit ones, unused arguments */
	const struct ttlog_site_field *fields;
	uint32_t explicit_args; /* bit i: argument i is not the format's: a TTLOG_F() field,
				   or one of a span begin's four ids */
	int kind;            /* enum ttlog_site_kind */
};

/** A field of one event. */
struct ttlog_field {
	const char *key;
	const struct ttlog_arg *value;
	int source;          /* enum ttlog_field_source */
};

/** A thread of the snapshot, with what was lost of its history. */
struct ttlog_thread_info {
	uint32_t index;      /* thread index inside the file */
	uint32_t tid;        /* OS thread id */
	const char *name;    /* "" if unknown */
	int exited;          /* the thread had exited when the snapshot was taken */
	int crashed;         /* the thread was the one that crashed */
	uint64_t events;     /* events of this thread in the file (records, opened lazily) */
	uint64_t overwritten;/* events its ring dropped to make room for newer ones */
	uint64_t torn;       /* events overwritten while the snapshot copied them */
	uint64_t torn_bytes;
	/* Added with format revision 5 (segments; 0 in a snapshot): */
	uint64_t stream_lost;/* events the stream never wrote: gone from the ring first */
	uint64_t filtered;   /* events the stream left in the ring (below its level) */
};

/** The clock that timed a file's events (struct ttlog_file_info's clock);
 *  values are those the file stores. */
enum ttlog_file_clock {
	TTLOG_FILE_CLOCK_TSC = 0,       /* the x86-64 time-stamp counter */
	TTLOG_FILE_CLOCK_CNTVCT = 1,    /* the aarch64 virtual counter */
	TTLOG_FILE_CLOCK_MONOTONIC = 2, /* clock_gettime(CLOCK_MONOTONIC) */
	TTLOG_FILE_CLOCK_FAKE = 3       /* the deterministic clock of tests (TTLOG_CLOCK=fake) */
};

/** Everything about the file that is not an event. */
struct ttlog_file_info {
	const char *path;
	unsigned format_version;
	uint32_t pid;
	const char *executable;
	const char *hostname;
	const char *reason;
	int64_t created_ns;          /* ns since the Unix epoch, UTC */
	unsigned writer_version;     /* TTLOG_VERSION_NUMBER of the writer */
	int clock;                   /* enum ttlog_file_clock; a later writer's may be another */
	uint64_t window_ns;
	int complete;                /* the END chunk was found: the file was finished */
	uint64_t events;             /* events in the file (counted by the reader) */
	uint64_t overwritten;        /* sums over the threads */
	uint64_t torn;
	uint64_t torn_bytes;
	uint64_t dropped;            /* log calls the process dropped (from END) */
	uint64_t blocks;             /* EVTS blocks */
	uint64_t raw_bytes;          /* bytes of records in them, once decompressed */
	uint64_t stored_bytes;       /* bytes of record data in the file (compressed) */
	int64_t first_ns, last_ns;   /* time of the first and last event; 0 if none */
	int crashed;                 /* a crash record is present */
	struct {
		int signo;
		int code;
		uint64_t address;
		uint32_t tid;
		uint32_t thread_index;
		const char *signal_name;
	} crash;
	/* Added with format revision 5 (docs/FORMAT.md sections 6, 16, 17).
	 * Files of earlier revisions read as "", 0 and 0. */
	const char *service;         /* the writer's TTLOG_SERVICE; "" if none */
	uint64_t segment;            /* a segment's sequence number in its stream, from 1; 0 in a snapshot */
	int64_t stream_start_ns;     /* creation time of the stream's first segment; 0 in a snapshot */
	int is_segment;              /* a segment file of a stream (HEAD flag SEGMENT) */
	int open;                    /* a segment without END: being written, or its writer died.
					Not damage: the status stays TTLOG_OK (a snapshot without
					END is TTLOG_E_TRUNCATED, complete 0, open 0) */
	uint64_t stream_lost;        /* sums over the threads (segments only) */
	uint64_t filtered;
	uint64_t promoted;           /* events of promoted blocks (TTLOG_EVENT_PROMOTED) */
	uint64_t read_size;          /* bytes of the file read up to the end of its last whole chunk
					(for ttlog_reader_set_start() on the grown file) */
	int indexed;                 /* opened through the segment's index (ttlog_reader_open_range):
					only the blocks the range needs were read, and events, blocks,
					raw_bytes and the threads' events count those */
	/* Added with format revision 9. `events` counts what the iteration
	 * returns: log calls, span begins and ends; not the records that open
	 * and close contexts or re-state open scopes. Opened with
	 * TTLOG_READER_LAZY, the blocks are not decoded: `events` is then
	 * END's count, and where a file has none (a revision 8 file, a file
	 * without END), the records, and this flag is 1. The threads' events
	 * count records in a lazily opened file. */
	int events_are_records;
	uint64_t records;            /* records in the blocks, events and scope records: what
					overwritten, torn and ttlog_events_written_total count */
	/* Added with format revision 14 (docs/FORMAT.md section 6): a
	 * trigger's snapshot (TTLOG_TRIGGER, reason "trigger") names the rule
	 * that fired and when. Other files read as "" and 0. */
	const char *trigger_rule;
	int64_t trigger_ns;          /* ns since the Unix epoch, UTC */
	/* Added with format revision 15 (docs/FORMAT.md 22). */
	int trace_filtered;          /* a TRCE chunk: only one trace's records were kept */
	uint64_t trace_hi, trace_lo; /* that trace */
	uint64_t trace_left_events;  /* events of other requests (or of none) left out */
	uint64_t trace_left_records; /* records left out, events and scope records */
	int bundle;                  /* a member of a bundle (one process of several) */
	uint64_t bundle_next;        /* the next member's offset in the file; 0: none */
	uint64_t bundle_offset;      /* this member's offset in the file */
	/* Added with format revision 16 (docs/FORMAT.md 16): call sites the
	 * process disabled for good because no site id was left (its
	 * max_sites, TTLOG_MAX_SITES); their calls are not counted. 0 in
	 * older files and in segments. */
	uint64_t dropped_sites;
};

/* What an event is. */
enum ttlog_event_kind {
	TTLOG_EVENT_LOG = 0,        /* a log call */
	TTLOG_EVENT_SPAN_BEGIN = 1, /* a span began (TTLOG_SPAN, TTLOG_SPAN_BEGIN) */
	TTLOG_EVENT_SPAN_END = 2    /* a span ended */
};

/**
 * A span, as the reader rebuilds it from its thread's records. Ids are W3C
 * Trace Context ids: the trace id is the 128-bit number trace_hi:trace_lo.
 */
struct ttlog_span {
	uint64_t trace_hi, trace_lo; /* 0:0 if unknown (an end whose begin is not in the file) */
	uint64_t id;
	uint64_t parent;             /* the parent span's id; 0 for the root of a trace */
	const char *name;            /* "" if unknown */
	const struct ttlog_site_info *site; /* where it began; NULL if unknown */
	unsigned depth;              /* spans open around it on its thread */
	int64_t begin_ns;            /* when it began; 0 if unknown */
	int64_t duration_ns;         /* span end events: end - begin; -1 if unknown */
};

/* What ttlog_event's format_plan points to: the reader's, not API. */
struct ttlog__format_plan;

/**
 * One event, filled by ttlog_reader_next() into the caller's struct.
 * Pointers stay valid until the next ttlog_reader_next() or close. Members
 * added later take the reserved tail, so the struct keeps its size.
 */
struct ttlog_event {
	int64_t time_ns;                     /* wall clock, ns since the Unix epoch, UTC */
	uint64_t ticks;                      /* raw clock value */
	/* site and thread are the reader's tables, complete at open: each
	 * stays valid, at the same address, until ttlog_reader_close(). */
	const struct ttlog_site_info *site;
	const struct ttlog_thread_info *thread;
	unsigned nargs;
	const struct ttlog_arg *args;        /* every argument, fields included, in call order */
	unsigned nfields;
	const struct ttlog_field *fields;
	int kind;                            /* enum ttlog_event_kind */
	/* Span events: the span that begins or ends. Log events: the
	 * innermost span open on the thread, or NULL. */
	const struct ttlog_span *span;
	unsigned depth;                      /* spans open on the thread, for indenting */
	uint32_t size;                       /* bytes of the record in the file, decompressed */
	uint32_t flags;                      /* TTLOG_EVENT_* flags below (taken from the reserved
						tail with format revision 5; the struct keeps its size) */
	uint32_t reserved32;                 /* zero */
	/* The reader's parsed form of site->format, which
	 * ttlog_event_format() runs instead of reading the format again:
	 * set in every event a reader returns, and used only while it
	 * still belongs to the event's site (the same site and the same
	 * format pointers), so an event whose site was replaced is
	 * formatted from its new site. A copy of the event keeps it valid
	 * until the reader is closed. NULL in an event made by anything
	 * else: zero the whole struct before filling an event of your own.
	 * (It took the first of three reserved words; the struct keeps its
	 * size and layout.) */
	union {
		const struct ttlog__format_plan *format_plan;
		uint64_t reserved0;
	};
	uint64_t reserved[2];                /* zero */
};

/**
 * struct ttlog_event flags.
 * TTLOG_EVENT_PROMOTED: a record below the stream's level that the writer
 * streamed because an error happened near it (a block after a PRMT chunk,
 * docs/FORMAT.md 17.2). It is placed by its time among its thread's other
 * events and has the contexts and spans its thread had open at that time.
 */
#define TTLOG_EVENT_PROMOTED 0x1u

/**
 * Opens and validates a snapshot file. *reader is set whenever the file
 * could be read (even if damaged: iterate it for the events that survived)
 * and must be closed with ttlog_reader_close(); it is NULL only on
 * TTLOG_E_NOMEM or TTLOG_E_INVALID.
 * Returns TTLOG_OK for a valid, complete file; otherwise TTLOG_E_OPEN,
 * TTLOG_E_NOT_TTLOG, TTLOG_E_VERSION, TTLOG_E_TRUNCATED or TTLOG_E_CORRUPT,
 * with the details in ttlog_reader_error().
 */
TTLOG_API int ttlog_reader_open(const char *path, ttlog_reader **reader);

/**
 * Opens the member of a bundle (docs/FORMAT.md 22: the snapshots of several
 * processes in one file) that starts at byte offset of path, as
 * ttlog_reader_open_ex() opens a file; offsets in its messages count from
 * the member's start, and its path is "PATH@OFFSET". ttlog_reader_open()
 * opens the first member; info->bundle_next gives the next. A store reads
 * every member of a bundle, merged by time like the files of a directory.
 */
TTLOG_API int ttlog_reader_open_member(const char *path, uint64_t offset, unsigned flags,
				       ttlog_reader **reader);

/**
 * Encrypted files (docs/FORMAT.md section 21): the private key that every
 * later open uses, read from a key file made by `ttlog keygen`
 * (PREFIX.key). NULL forgets it. Without it an encrypted file opens with
 * TTLOG_E_KEY ("encrypted; give --key"). Call it before opening files, not
 * while another thread opens one. Returns TTLOG_OK, TTLOG_E_OPEN (the file
 * cannot be read) or TTLOG_E_KEY (not a private key file), with a message
 * naming the file in err.
 */
TTLOG_API int ttlog_reader_set_key_file(const char *path, char *err, size_t errsize);

/**
 * From this call on, readers map the files they open (those of 64 KiB and
 * more) instead of reading them into memory: no copy of the bytes and no
 * fresh pages. A mapped file that another process shortens while it is
 * mapped raises SIGBUS when a page past its new end is touched; this call
 * installs a process-wide SIGBUS handler that turns such a fault, inside a
 * reader's mapping, into zero bytes to the mapping's end, and that reader
 * then reports TTLOG_E_TRUNCATED ("the file shrank while it was read: its
 * bytes from offset N on were gone") with the events it read before. A
 * SIGBUS anywhere else goes to the handler that was installed before, or
 * ends the process as it would have. Call it from the main thread, before
 * opening files and starting threads; called again after the program has
 * installed a SIGBUS handler of its own, it puts itself back in front of
 * that one (otherwise it does nothing). Bundle members and files read through their
 * index are read, not mapped. Returns TTLOG_OK, or TTLOG_E_INVALID when the
 * handler cannot be installed (files are then read).
 */
TTLOG_API int ttlog_reader_map_files(void);

/** The first problem found ("FILE: offset N: expected ..."), or NULL. */
TTLOG_API const char *ttlog_reader_error(const ttlog_reader *reader);

/** The status of the file: what ttlog_reader_open() returned, or a later
 *  decoding error found while iterating. */
TTLOG_API int ttlog_reader_status(const ttlog_reader *reader);

/** File-level information. Valid until ttlog_reader_close(). */
TTLOG_API const struct ttlog_file_info *ttlog_reader_info(const ttlog_reader *reader);

/** Number of threads in the file, and thread i (0-based), or NULL. */
TTLOG_API size_t ttlog_reader_thread_count(const ttlog_reader *reader);
TTLOG_API const struct ttlog_thread_info *ttlog_reader_thread(const ttlog_reader *reader, size_t i);

/**
 * The next event in time order (ties broken by thread, then file order).
 * Returns 1 and fills *event, or 0 at the end. A record that fails to decode
 * ends its block (the thread's later blocks are still read) and is reported
 * through ttlog_reader_error() and ttlog_reader_status().
 */
TTLOG_API int ttlog_reader_next(ttlog_reader *reader, struct ttlog_event *event);

/** Starts the iteration again from the first event. */
TTLOG_API void ttlog_reader_rewind(ttlog_reader *reader);

/**
 * A key of the event ttlog_reader_next() returned last: no two events of
 * a file have the same key, and an event has the same key however the
 * file is opened and whichever of its events are read (range, levels,
 * flags), so that two reads of a file can tell the events they share.
 * It is where the event's record is in the file: its block's chunk offset
 * times 2^13 plus the record's offset in the decoded block divided by 8,
 * plus 1; below 2^13 times the file's size plus 2^13. 0 for NULL, after
 * ttlog_reader_rewind() and before the first event. Keys of different
 * files may be equal.
 */
TTLOG_API uint64_t ttlog_reader_event_key(const ttlog_reader *reader);

/**
 * Frees the file's bytes and the decoded blocks (most of a reader's memory)
 * for a caller that has read the events it wants, so that reading many
 * files one after the other holds one file's bytes at a time, not all of
 * them. Everything else stays valid until ttlog_reader_close(): the info,
 * threads, sites and spans, the last event returned, stacks, modules,
 * metrics, sampling, counters, status and error. The events that were not
 * returned yet are given up: from now on ttlog_reader_next() returns 0,
 * also after ttlog_reader_rewind() (an empty iteration, which
 * ttlog_reader_released() tells from a file without events); to read them
 * again, open the file again. Releasing twice, or a NULL reader, does
 * nothing.
 */
TTLOG_API void ttlog_reader_release(ttlog_reader *reader);

/** 1 once ttlog_reader_release() was called on the reader, else 0 (also
 *  for NULL). */
TTLOG_API int ttlog_reader_released(const ttlog_reader *reader);

/** Closes the reader and frees everything it returned. NULL is allowed. */
TTLOG_API void ttlog_reader_close(ttlog_reader *reader);

/* ---- Reading part of a large file ---------------------------------------- */

/** Flags of ttlog_reader_open_ex(). */
#define TTLOG_READER_LAZY 1u /* check and decode each block only when it is read */
/*
 * Events without their arguments and fields (nargs and nfields 0), for a
 * caller that looks only at an event's time, site, thread, kind, span and
 * depth (counts by site): a log record's arguments are checked with its
 * block as always, and a damaged one reported, but not decoded or copied. Contexts and
 * spans are followed as usual, so every event has its span. The events
 * are the same ones, in the same order. Not for formatting: a message
 * needs its arguments. A store refuses it.
 */
#define TTLOG_READER_NO_ARGS 2u
/*
 * Each block decoded once where the file allows it: a file that is
 * complete and whose open with TTLOG_READER_LAZY finds nothing wrong is
 * read so; any other (a segment still being written, a damaged file) is
 * checked whole at the open, as without TTLOG_READER_LAZY (with
 * TTLOG_READER_JOBS if given), on the bytes already read, so that its
 * problem is reported as the whole check finds it: the first in the file.
 * For a sound, complete file the counts the block headers state are the
 * counts. With TTLOG_READER_LAZY, that flag alone applies. Not for
 * ttlog_reader_open_same() (TTLOG_E_INVALID).
 */
#define TTLOG_READER_ONCE 4u
/*
 * Decode the blocks on n threads (1 to 255; 0, the default, is one: the
 * calling thread alone). Opening decompresses and checks every block on
 * the calling thread and n - 1 worker threads that end before the open
 * returns; the events, counts and problems found are exactly those of one
 * thread, in the same order.
 * TTLOG_READER_JOBS(ttlog_reader_cpu_count()) uses every CPU.
 */
#define TTLOG_READER_JOBS(n) (((unsigned)(n) & 0xffu) << 8)
#define TTLOG_READER_JOBS_MASK 0xff00u

/**
 * ttlog_reader_open() with flags. With TTLOG_READER_LAZY, opening checks
 * every chunk's checksum and every structure outside the event blocks, but
 * decodes no block: a block is decompressed when the iteration first
 * reaches it and its records are checked as they are read (the same
 * checks, the same events and messages), and a problem found then is reported
 * through ttlog_reader_error() and ttlog_reader_status() like any other.
 * Until every block was read, the event counts (info, threads) are the ones
 * the block headers state and first_ns/last_ns are the block headers'
 * bounds (which may start earlier than the first event: scope openings
 * re-stated at a segment start keep their old times). Together with
 * ttlog_reader_set_range() this reads one second of a large file without
 * decoding the rest.
 */
TTLOG_API int ttlog_reader_open_ex(const char *path, unsigned flags, ttlog_reader **reader);

/**
 * Another reader of the bytes `reader` read, opened with flags as
 * ttlog_reader_open_ex() opens a file that holds them, without reading
 * the file again: for reading one file on several threads at once (a
 * reader is one thread's; ttlog_reader_cut_times()). The bytes are shared,
 * not copied, and stay until the last of their readers is closed or
 * released; when the first reader found every chunk's checksum right, the
 * others do not compute them again (the bytes are never written), and
 * otherwise they find the same problems. reader may be in use on another
 * thread meanwhile. Refused
 * (TTLOG_E_INVALID) for a reader without its bytes: released, or one that
 * read only part of a file through its index (info->indexed).
 */
TTLOG_API int ttlog_reader_open_same(const ttlog_reader *reader, unsigned flags,
				     ttlog_reader **same);

/** The CPUs this process may run on (at least 1), for TTLOG_READER_JOBS(). */
TTLOG_API unsigned ttlog_reader_cpu_count(void);

/**
 * ttlog_reader_open_ex() for a time range known before opening: the range
 * is set as by ttlog_reader_set_range() (every level), and a closed
 * segment (docs/FORMAT.md 17.3) with a sound index is read through it:
 * END at the end of the file, then INDX, then only the chunks the range
 * needs: every chunk but the EVTS blocks outside the range (blocks before
 * it are still read when the file has contexts or spans). Everything used
 * is checked as usual; an index that points anywhere wrong is ignored and
 * the whole file is read. info->indexed says the index was used: the event
 * and block counts are then those of the blocks read, and the blocks left
 * out are counted in blocks_skipped. INT64_MIN and INT64_MAX remove a
 * limit (with neither, this is ttlog_reader_open_ex()).
 */
TTLOG_API int ttlog_reader_open_range(const char *path, unsigned flags, int64_t since_ns,
				      int64_t until_ns, ttlog_reader **reader);

/** Every level: the level_mask of ttlog_reader_set_range() that keeps all. */
#define TTLOG_READER_ALL_LEVELS 0x3fu

/**
 * Limits the iteration to log events with since_ns <= time_ns <= until_ns
 * whose site level's bit (1u << TTLOG_LEVEL_x) is in level_mask, and to
 * span events in the time range (their levels are not checked). Applies
 * from the next ttlog_reader_rewind(); call it before iterating. Blocks
 * wholly outside the time range are not decoded: after the last wanted
 * event of a thread its later blocks are left alone, and blocks before the
 * range are skipped unread, or, when the file has contexts or spans,
 * decompressed only to follow the records that open and close them (so
 * events keep their contexts and spans). Events are still returned in
 * time order. INT64_MIN, INT64_MAX and TTLOG_READER_ALL_LEVELS remove a
 * limit.
 */
TTLOG_API void ttlog_reader_set_range(ttlog_reader *reader, int64_t since_ns, int64_t until_ns,
				      unsigned level_mask);

/**
 * Limits the iteration to the events of the threads whose OS thread id is
 * tid (several threads of a file may have had the same id; their promoted
 * events included); 0, the default, keeps every thread. Applies from the
 * next ttlog_reader_rewind(), as ttlog_reader_set_range() does, and with
 * it. The other threads' blocks are not read at all (each is counted in
 * blocks_skipped), so one thread of a large file costs what its own blocks
 * cost.
 */
TTLOG_API void ttlog_reader_set_tid(ttlog_reader *reader, uint32_t tid);

/**
 * Limits the iteration's log events to those of call site site_id (the
 * id of struct ttlog_site_info; 0, the default, keeps every site). Span
 * events are returned as without it, like ttlog_reader_set_range()'s level
 * mask leaves them. Applies from the next ttlog_reader_rewind(), with the
 * range and the thread. The other sites' records are still read (a
 * thread's records follow each other), but passed over before their
 * strings are copied and an event is made of them.
 */
TTLOG_API void ttlog_reader_set_site(ttlog_reader *reader, uint32_t site_id);

/**
 * Goes on to the range since_ns..until_ns (and level_mask) from where the
 * iteration stands, instead of ttlog_reader_set_range() and
 * ttlog_reader_rewind(): the events then returned are exactly those a
 * rewind would give, but in a file with contexts or spans the records
 * before the new range are not followed again from the file's start, only
 * those after where the last range stopped. For reading a file's parts
 * (ttlog_reader_cut_times()) in time order through one reader: each part
 * costs what lies between it and the one before, not all of the file
 * before it. since_ns must be after the last range's end (which must not
 * be INT64_MAX); returns 1 if the iteration goes on, and 0, changing
 * nothing, otherwise. A later ttlog_reader_rewind() starts the new range
 * over.
 */
TTLOG_API int ttlog_reader_resume(ttlog_reader *reader, int64_t since_ns, int64_t until_ns,
				  unsigned level_mask);

/** The most parts ttlog_reader_cut_times() cuts a file into. */
#define TTLOG_READER_MAX_PARTS 256

/**
 * Times that cut the file's events into n parts (2 to
 * TTLOG_READER_MAX_PARTS) of about the same number of records, for reading
 * the parts at once, each through a reader of its own on a thread of its
 * own: with the m cuts written to cuts[], part 0 is the range (INT64_MIN,
 * cuts[0] - 1), part k the range (cuts[k-1], cuts[k] - 1) and part m the
 * range (cuts[m-1], INT64_MAX) of ttlog_reader_set_range(). The events of
 * the parts, one part after the other, are then exactly the events and the
 * order of the whole iteration. Only block headers are read (nothing is
 * decoded), so every reader of the same bytes opened with the same flags
 * gives the same cuts. In a file with contexts or spans, a part's reader
 * must follow every record before the part for the scopes open at its
 * start: read the parts in order through one reader, going from part to
 * part with ttlog_reader_resume(), rather than a rewind each (which would
 * read the file's start again for every part). Returns m, from 0 to n - 1:
 * fewer when the file has few blocks, and 0 when its events cannot be cut
 * so: its block headers are not in time order (files without contexts or
 * spans, whose blocks are skipped by their headers), its calibration runs
 * backwards, or the reader was released.
 */
TTLOG_API size_t ttlog_reader_cut_times(const ttlog_reader *reader, size_t n, int64_t *cuts);

/**
 * For following a growing file: a reader of the file as it is now, given
 * the read_size (ttlog_file_info) of an earlier reader of it, returns only
 * the events of the blocks that begin at or after that offset, those the
 * earlier reader did not have. Blocks before it are still read for the
 * contexts and spans they open. Applies from the next ttlog_reader_rewind().
 */
TTLOG_API void ttlog_reader_set_start(ttlog_reader *r, uint64_t offset);

/**
 * What the reader has done with the event blocks since it was opened, and
 * the chunks it passed over: an optional chunk of a type it does not know
 * is skipped (docs/FORMAT.md: a newer writer's addition), which is not an
 * error, but what it held is not shown. A chunk whose type byte was
 * damaged under a valid checksum looks the same, so callers say so
 * (`ttlog view` and `stats` print a line).
 */
struct ttlog_reader_counters {
	uint64_t blocks;          /* EVTS blocks with records in the file */
	uint64_t blocks_decoded;  /* times a block's records were decoded: at open
				     (without TTLOG_READER_LAZY) or read for events */
	uint64_t blocks_scanned;  /* times a block before the range was decompressed
				     only to follow its contexts and spans */
	uint64_t blocks_skipped;  /* times a block was passed over without being read */
	uint64_t records_decoded; /* records turned into events or scope changes */
	uint64_t chunks_unknown;  /* optional chunks of unknown types, skipped */
	uint64_t chunk_unknown_offset; /* file offset of the first of them */
	char chunk_unknown_type[16];   /* its type: four characters, or 0x%08x */
	/* EVTS blocks by codec (docs/FORMAT.md 9.1: 0 none, 1 LZ4, 2 packed,
	 * 3 zstd), and the bytes of their data in the file. */
	uint64_t codec_blocks[4];
	uint64_t codec_stored[4];
};

/** The counters, or NULL for a NULL reader. */
TTLOG_API const struct ttlog_reader_counters *ttlog_reader_counters(const ttlog_reader *reader);

/**
 * Sampling of one call site (the SMPL chunks of files of format revision
 * 3 and later, docs/FORMAT.md, SMPL): its rule when the snapshot was written and what
 * the sampler did with its calls over the life of the process. Sites whose
 * rule was removed are listed too (keep_one_in 1, max_per_second 0), so
 * that the totals cover every call that was dropped.
 */
struct ttlog_sampling_site {
	uint32_t site_id;
	const char *file;            /* the site, as its SITE entry has it */
	uint32_t line;
	const char *function;
	const char *format;
	const char *target;
	uint32_t keep_one_in;        /* keep 1 call in N; 1: no 1-in-N rule */
	uint32_t max_per_second;     /* at most K calls a second; 0: no rate limit */
	uint64_t kept;               /* calls the sampler let through */
	uint64_t dropped_sampled;    /* calls dropped by 1-in-N */
	uint64_t dropped_rate_limited; /* calls dropped by the rate limit */
};

/** Sums of the sampling entries of a file (all zero if it has none). */
struct ttlog_sampling_totals {
	size_t sites;                /* entries */
	uint64_t kept;
	uint64_t dropped_sampled;
	uint64_t dropped_rate_limited;
};

/** Number of sampled sites in the file, site i (0-based, increasing ids)
 *  or NULL, and the totals over all of them (never NULL for a reader). */
TTLOG_API size_t ttlog_reader_sampling_count(const ttlog_reader *reader);
TTLOG_API const struct ttlog_sampling_site *ttlog_reader_sampling_site(const ttlog_reader *reader,
								       size_t i);
TTLOG_API const struct ttlog_sampling_totals *ttlog_reader_sampling_totals(const ttlog_reader *reader);

/**
 * Formats a printf-style message with decoded arguments into buf (always
 * NUL-terminated when size > 0). Each conversion is handed to the C
 * library's snprintf with its argument, so the text is what printf would
 * have printed. Conversions and arguments are matched in order, '*' widths
 * and precisions included (and %n$ positions). Beyond printf:
 *   - a conversion without an argument of a suitable kind prints "<?>", as
 *     do %m (errno was not recorded), %ls, and widths or precisions over
 *     65536 (the format may come from a hostile file);
 *   - %n prints nothing;
 *   - a string that was cut at the writer's limit prints "..." after its
 *     recorded bytes; %p of a string argument prints the string (char
 *     pointers are recorded as strings).
 * Returns the length the full message has (like snprintf), so a return
 * value >= size means the text was cut.
 */
TTLOG_API size_t ttlog_format(const char *format, const struct ttlog_arg *args, unsigned nargs,
			      char *buf, size_t size);

/** ttlog_format() for an event's site format and the arguments that are
 *  not TTLOG_F() fields. An event from a reader carries its site's format
 *  already parsed (format_plan), which is then used instead of the text;
 *  the result is the same. */
TTLOG_API size_t ttlog_event_format(const struct ttlog_event *event, char *buf, size_t size);

/* ---- What an event shows -------------------------------------------------
 * Facts that every program showing events needs, decided here once so that
 * the command, SQL and any other reader show the same thing. */

/**
 * The target of a site, as levels and sampling rules name it: its own
 * (TTLOG_TARGET in the file that logs), or else the base name of its file
 * ("conn.c" for "src/net/conn.c"). The string is the site's, valid as long
 * as the site. NULL for a NULL site.
 */
TTLOG_API const char *ttlog_site_target(const struct ttlog_site_info *site);

/**
 * The site an event is shown at: its own, except for a span end. A span
 * end's own site is ttlog's, shared by every span, so it is shown where its
 * span began (span->site) when the file has that begin, and at its own
 * site otherwise. NULL for a NULL event or one without a site.
 */
TTLOG_API const struct ttlog_site_info *ttlog_event_display_site(const struct ttlog_event *event);

/** "log", "span_begin" or "span_end" for an enum ttlog_event_kind; "?" for
 *  anything else. */
TTLOG_API const char *ttlog_event_kind_name(int kind);

/* ---- Stores: many files read as one -------------------------------------
 * A store is the segments (*.ttseg) and snapshots (*.ttlog) of one or more
 * directories, glob patterns or files, read as one time-ordered stream of
 * events (docs/FORMAT.md 17.4). Files wholly outside the time range or of
 * another service are left unread: a segment by its name's time (it holds
 * nothing after the next segment of its stream was created), a snapshot by
 * its name's time (it holds nothing after it), then every file by its
 * HEAD, and a closed segment through its index (ttlog_reader_open_range).
 * A record that is in a snapshot and in a segment of the same process is
 * returned once: two events are the same record when their pid, thread id,
 * ticks, site (format, file, line, level) and argument values are equal,
 * which only events of equal time need comparing; files that cannot share
 * a record (segments of one stream, files of other processes, files apart
 * in time) are not compared. Files are opened as the merge reaches them: a
 * segment after the first of its stream when the merge reaches its name's
 * time (less 2 s), the others at once; a file's bytes are freed when its
 * last event was returned, so a store of thousands of segments holds only
 * those it is merging. A damaged file gives
 * its valid events and its error (ttlog_store_files); it never stops the
 * others. The files of one process share one clock calibration, that of
 * the process's file (in the store, read or not) with the widest span, so
 * an event has the same time whatever range is asked for. A store can be
 * read in parts on separate threads: ttlog_store_cut_times(), then
 * ttlog_store_open_part() of each part. */

typedef struct ttlog_store ttlog_store;

/**
 * A store's call for each file it opens (ttlog_store_options.file_hook):
 * reader is the file's, its range set and nothing read yet. What the hook
 * sets on it with ttlog_reader_set_tid() applies to that file's events
 * (each file has its own threads: `ttlog view DIR --thread NAME` finds
 * NAME's tid in each). The hook must not read, rewind or close the reader.
 * Parts of the store call it too, each on its own thread.
 */
typedef void ttlog_store_file_hook(void *ctx, ttlog_reader *reader);

/** What to read of a store; zero-filled with ttlog_store_options_init(). */
struct ttlog_store_options {
	int64_t since_ns, until_ns;  /* the time range (INT64_MIN, INT64_MAX: none) */
	unsigned level_mask;         /* as for ttlog_reader_set_range() */
	unsigned flags;              /* TTLOG_READER_LAZY for every file (without
					it, each file is opened with
					TTLOG_READER_ONCE added); not
					TTLOG_READER_NO_ARGS (TTLOG_E_INVALID): a
					store tells duplicates by their arguments */
	const char *service;         /* only files of this service (HEAD service); NULL: all */
	/* Called with each file's reader as the store opens it, with ctx;
	 * NULL: none. (Unions: 8 bytes on every ABI, where the 4 reserved
	 * words of 0.4 were.) */
	union { ttlog_store_file_hook *fn; uint64_t size_; } file_hook;
	union { void *ptr; uint64_t size_; } file_hook_ctx;
	uint64_t reserved[2];        /* zero */
};

/** Sets the options that keep everything. */
TTLOG_API void ttlog_store_options_init(struct ttlog_store_options *opt);

/** A file of a store. */
struct ttlog_store_file {
	const char *path;
	const ttlog_reader *reader;  /* NULL when skipped, not opened yet (see below) or out of
					memory; once its events were all returned, only its
					info, threads and counters remain */
	int status;                  /* its reader's status (TTLOG_OK when skipped) */
	const char *error;           /* its reader's message, or NULL */
	int skipped;                 /* left unread: outside the range, or another service */
};

/**
 * Opens a store of npaths sources: each is a directory (its *.ttseg and
 * *.ttlog files; names that start with '.' are left out), a glob pattern
 * (glob(3)), or a file. opt may be NULL (everything). *store is set unless
 * TTLOG_E_NOMEM or TTLOG_E_INVALID is returned. Returns TTLOG_OK, or the
 * first problem of a file or source (TTLOG_E_OPEN: a source that names no
 * file); every file's own status is in ttlog_store_files().
 */
TTLOG_API int ttlog_store_open(const char *const *paths, size_t npaths,
			       const struct ttlog_store_options *opt, ttlog_store **store);

/**
 * The time of the last event of a store (of opt's service; the range and
 * levels of opt do not apply), for times relative to its end: the newest
 * segment with events of each stream and every snapshot are read (of a
 * closed segment with a sound index, only HEAD, END, INDX and the chunks
 * that are not event blocks; of other files, block headers only), not the
 * older segments. A file without events counts by
 * its creation time. *end_ns is 0 when no file counts. Returns what
 * ttlog_store_open() would return.
 */
TTLOG_API int ttlog_store_end(const char *const *paths, size_t npaths,
			      const struct ttlog_store_options *opt, int64_t *end_ns);

/** The files of the store, in name order (files found by ttlog_store_follow()
 *  after them); the array is valid until the next ttlog_store_follow(). */
TTLOG_API size_t ttlog_store_files(const ttlog_store *store,
				   const struct ttlog_store_file *const **files);

/** The first problem of the store (a file's, or a source's), and its message. */
TTLOG_API int ttlog_store_status(const ttlog_store *store);
TTLOG_API const char *ttlog_store_error(const ttlog_store *store);

/**
 * The next event of the store in time order (ties: files in name order).
 * Returns 1 and fills *event and *from (the file it comes from, for its
 * reader's info: pid, service, path; from may be NULL), or 0 at the end.
 * The event is valid until the next call.
 */
TTLOG_API int ttlog_store_next(ttlog_store *store, struct ttlog_event *event,
			       const struct ttlog_store_file **from);

/** Starts again from the first event. */
TTLOG_API void ttlog_store_rewind(ttlog_store *store);

/**
 * Follow mode: after ttlog_store_next() returned 0, waits up to timeout_ms
 * (-1: no limit) for new data: a segment that grew or was closed, a new
 * file in a directory or matching a pattern of the store (a rotation).
 * Waits with inotify, without polling. Returns 1 when there is new data
 * (ttlog_store_next() then returns the new events, also those older than
 * events returned before), 0 when the time ran out, or a negative
 * TTLOG_E_* code. Files deleted meanwhile keep what was read of them.
 */
TTLOG_API int ttlog_store_follow(ttlog_store *store, int timeout_ms);

/** What the store has done. */
struct ttlog_store_counters {
	uint64_t files;           /* files found */
	uint64_t files_skipped;   /* left unread by their name or HEAD */
	uint64_t duplicates;      /* events left out: the same record in another file */
	uint64_t blocks;          /* sums of the files' reader counters */
	uint64_t blocks_decoded;
	uint64_t blocks_skipped;
};

/** The counters, summed when called. */
TTLOG_API struct ttlog_store_counters ttlog_store_counters(const ttlog_store *store);

/**
 * Times that cut the store's events (of its range) into n parts (2 to
 * TTLOG_READER_MAX_PARTS) of about the same number of records, for
 * reading them at once, each part through a store of its own
 * (ttlog_store_open_part() of this store) on a thread of its own: with the m cuts
 * written to cuts[], part 0 is the range INT64_MIN..cuts[0] - 1, part k
 * cuts[k-1]..cuts[k] - 1 and part m cuts[m-1]..INT64_MAX. The events of
 * the parts, one part after the other, are then exactly the events and
 * the order of the whole store read by one ttlog_store_next() loop, where
 * every file's events come in time order (as ttlog_reader_cut_times()
 * requires of a file) and none of the files changes meanwhile.
 *
 * Every file of the range is opened for it (block headers only, nothing
 * decoded), as the merge would open it, so that ttlog_store_files() and
 * the status then give every file's details and the problems an open
 * finds; the files' bytes are freed afterwards. Returns m, from 0 to
 * n - 1: 0 when a file has a problem (the store's status is not TTLOG_OK),
 * a file's events cannot be cut by time, or the store has too few blocks.
 * A ttlog_store_next() afterwards starts from the first event (it
 * rewinds).
 */
TTLOG_API size_t ttlog_store_cut_times(ttlog_store *store, size_t n, int64_t *cuts);

/**
 * Opens one part of a store for reading on a thread of its own: a new
 * store of the files of whole (as they are; no directory is read again),
 * with its options, that returns only the events of part_since_ns ..
 * part_until_ns (within whole's range). Each file is opened as whole
 * opens it (through its index with whole's range), so an event has in a
 * part exactly the time and place it has in whole. The files whole found
 * to have no event near the part (ttlog_store_cut_times() opened them)
 * are left unread. whole is only read, and must not change while parts
 * are opened: parts may be opened on several threads at once. A part
 * cannot be followed (ttlog_store_follow() returns -TTLOG_E_INVALID).
 */
TTLOG_API int ttlog_store_open_part(const ttlog_store *whole, int64_t part_since_ns,
				    int64_t part_until_ns, ttlog_store **part);

/** Closes the store and every reader of it. NULL is allowed. */
TTLOG_API void ttlog_store_close(ttlog_store *store);

/* ---- Metrics ------------------------------------------------------------- */

/** Metric types (TTLOG_COUNTER_ADD, TTLOG_GAUGE_SET, TTLOG_HISTOGRAM_RECORD). */
enum ttlog_metric_type {
	TTLOG_METRIC_COUNTER = 1,
	TTLOG_METRIC_GAUGE = 2,
	TTLOG_METRIC_HISTOGRAM = 3
};

/** A static label of a metric: "key=value" at the call. */
struct ttlog_metric_label {
	const char *key;
	const char *value;
};

/** A histogram bucket that holds values: those in (lower, upper]. The
 *  lowest bucket (index 0) has lower = -inf, the highest upper = +inf. */
struct ttlog_metric_bucket {
	uint32_t index;      /* 0 .. 4097, see docs/FORMAT.md, MTRC */
	uint64_t count;
	double lower, upper;
};

/** A metric's value when the snapshot was taken. */
struct ttlog_metric_value {
	int type;                    /* enum ttlog_metric_type */
	const char *name;            /* as written in the program ("http.requests") */
	unsigned nlabels;
	const struct ttlog_metric_label *labels;
	const char *file;            /* the first use registered; "" for ttlog's own */
	uint32_t line;
	int self;                    /* one of ttlog's own metrics (names ttlog_*) */
	uint64_t counter;            /* COUNTER: the total over all threads */
	double gauge;                /* GAUGE: the value set last, by any thread */
	int gauge_set;               /* GAUGE: 0 if it was never set (gauge is then 0) */
	int64_t gauge_time_ns;       /* GAUGE: when it was set (ns since the epoch, UTC) */
	struct {
		uint64_t count;          /* values recorded */
		double sum, min, max;    /* exact; min and max are 0 when count is 0 */
		/* Quantiles (NaN when count is 0): the ceil(q * count)-th
		 * smallest value within 1/129 when it lies in 2^-24 .. 2^40;
		 * see ttlog_metric_quantile(). */
		double p50, p90, p99, p999;
		size_t nbuckets;         /* buckets that hold values, in increasing order */
		const struct ttlog_metric_bucket *buckets;
	} hist;
};

/**
 * The metrics of the snapshot (its MTRC chunks), the program's first in
 * registration order, then ttlog's own. *count gets how many; NULL and 0
 * for a file without metrics (written before ttlog 0.3). A damaged MTRC
 * chunk keeps the metrics before the damage and is reported like any
 * damage (ttlog_reader_error). Valid until ttlog_reader_close().
 */
TTLOG_API const struct ttlog_metric_value *ttlog_reader_metrics(const ttlog_reader *reader,
								 size_t *count);

/**
 * Quantile q (0 <= q <= 1) of a histogram: the value reported for the
 * ceil(q * count)-th smallest value (the first for q = 0), as 2LU/(L+U) of
 * its bucket (L, U] clamped to [min, max]. Within 1/129 (0.78 %) of the
 * true value when that lies in (2^-24, 2^40]; below that range the result
 * is min, above it max. NaN for an empty histogram, another type or a q
 * outside [0, 1].
 */
TTLOG_API double ttlog_metric_quantile(const struct ttlog_metric_value *metric, double q);

/* ---- Stacks and modules (crash forensics) ------------------------------- */

/** A module (executable or shared object) mapped in the process when the
 * snapshot was written. */
struct ttlog_module {
	const char *path;          /* as the loader named it; the executable's path for the program */
	uint64_t bias;             /* load bias: runtime address = ELF virtual address + bias */
	uint64_t start, end;       /* runtime addresses spanned by its PT_LOAD segments, [start, end) */
	const uint8_t *build_id;   /* NULL if it has none */
	uint32_t build_id_len;
};

/** One register of the crashing thread, from the signal's context. */
struct ttlog_register {
	const char *name;          /* "rip", "rsp", "x29", ... */
	uint64_t value;
};

#define TTLOG_STACK_PC_FIRST   1u  /* frames[0] is an exact pc (a crash); else all are return addresses */
#define TTLOG_STACK_TRUNCATED  2u  /* more frames than the capture kept */
#define TTLOG_STACK_FAULTED    4u  /* the unwinder stopped at memory it could not read */
#define TTLOG_STACK_CRASH      8u  /* the stack of the crashing thread (else: on demand) */

/* How a stack was taken (format revision 13; earlier files: SELF). */
#define TTLOG_STACK_ORIGIN_SELF     0u /* by the thread itself: the crash, or on request */
#define TTLOG_STACK_ORIGIN_PTRACE   1u /* stopped and unwound from outside (ttlog snap --stacks) */
#define TTLOG_STACK_ORIGIN_WATCHDOG 2u /* a stalled thread, by its own signal handler */

/** A thread's stack as raw addresses, innermost first. */
struct ttlog_stack {
	uint32_t tid;
	uint32_t thread_index;     /* as in ttlog_thread_info */
	uint32_t flags;            /* TTLOG_STACK_* */
	uint32_t nframes;
	const uint64_t *frames;    /* innermost first */
	uint32_t nregs;
	const struct ttlog_register *regs; /* crash stacks only; 0 otherwise */
	const char *arch;          /* "x86_64", "aarch64", ... */
	uint32_t origin;           /* TTLOG_STACK_ORIGIN_* (revision 13) */
	const char *name;          /* the thread's name when taken, NULL if not recorded (revision 13) */
};

/** The stacks in the file, crashing thread first; 0 if none. Valid until
 * ttlog_reader_close(). */
TTLOG_API size_t ttlog_reader_stacks(const ttlog_reader *reader, const struct ttlog_stack **stacks);

/** The modules recorded with the stacks; 0 if none. Valid until
 * ttlog_reader_close(). */
TTLOG_API size_t ttlog_reader_modules(const ttlog_reader *reader, const struct ttlog_module **modules);

/** Modules that were loaded but did not fit the capture: the list is
 * incomplete when this is not 0. */
TTLOG_API uint32_t ttlog_reader_modules_missing(const ttlog_reader *reader);

/* ---- Live inspection: this process's own rings ---------------------------
 * For a program's own debug or health endpoint ("what happened just now"):
 * the events currently in every ring of the calling process, decoded as
 * from a file, without a file. The library writes the rings as a snapshot
 * (reason "live") into an anonymous memory file (memfd_create) and reads it
 * back with this reader, so every rule of snapshots holds: other threads
 * keep logging while it runs (no lock is taken on their path), a record
 * overwritten while it is copied is left out and counted (thread->torn),
 * what the rings lost before is counted (thread->overwritten), and the
 * window of TTLOG_WINDOW applies. It costs about what a snapshot costs
 * (the whole rings are copied and compressed, then decoded), so it suits a
 * request now and then, not a loop. Calls from several threads are taken
 * one at a time (a mutex); ttlog_snapshot() and the crash handler never
 * wait for it. NOT async-signal-safe (it allocates and takes a lock): never
 * call it from a signal handler. */

/** Which events ttlog_live_foreach() hands out; zero-filled with
 *  ttlog_live_filter_init(), which keeps everything. */
struct ttlog_live_filter {
	unsigned level_mask;         /* bit 1u << TTLOG_LEVEL_x: events of that level;
					0 or TTLOG_READER_ALL_LEVELS: every level */
	const char *contains;        /* only messages with this substring (case-sensitive,
					in the formatted message); NULL or "": any */
	uint32_t tid;                /* only the thread of this OS thread id; 0: any */
	int64_t since_ns;            /* only events at or after this time (ns since the
					epoch, UTC); 0: any */
	uint64_t reserved[4];        /* zero */
};

/** Sets the filter that keeps every event. */
TTLOG_API void ttlog_live_filter_init(struct ttlog_live_filter *filter);

/** What one ttlog_live_foreach() read: the events and what was lost. */
struct ttlog_live_stats {
	uint64_t events;             /* events in the rings (read) */
	uint64_t matched;            /* of them, handed to the callback */
	uint64_t threads;            /* rings read */
	uint64_t overwritten;        /* events the rings dropped for newer ones, ever */
	uint64_t torn;               /* events overwritten while they were copied */
	uint64_t dropped;            /* log calls the process dropped (no ring, not initialised) */
	uint64_t reserved[4];        /* zero */
};

/**
 * Called for each event that passes the filter, in time order (ties by
 * thread). message is the formatted message (ttlog_event_format()),
 * cut at 4095 bytes; ev->thread has the thread's tid, name and losses.
 * Both are valid only during the call. Return 0 to go on, anything else
 * to stop (ttlog_live_foreach() then returns TTLOG_OK).
 */
typedef int (*ttlog_live_callback)(const struct ttlog_event *ev, const char *message, void *ctx);

/**
 * Hands the events now in this process's rings that pass filter (NULL:
 * all) to callback, oldest first, and fills *stats (may be NULL). Returns
 * TTLOG_OK (also when there is no event: a process that never logged),
 * TTLOG_E_INVALID (callback NULL, a reserved member not zero),
 * TTLOG_E_NOT_INITIALIZED (ttlog_init() was not called), TTLOG_E_NOMEM,
 * TTLOG_E_IO (the memory file could not be made or written) or, should the
 * file the library wrote not read back whole, the reader's code (a bug:
 * the events read are still handed out first). Not async-signal-safe.
 */
TTLOG_API int ttlog_live_foreach(const struct ttlog_live_filter *filter,
				 ttlog_live_callback callback, void *ctx,
				 struct ttlog_live_stats *stats);

TTLOG__EXTERN_C_END

#endif /* TTLOG_READER_H */
