/* SPDX-License-Identifier: MIT */
/*
 * layout.h - the byte layout of a shared-memory mapping (docs/SHM-FORMAT.md).
 *
 * The mapping is written by the process that owns it (src/shm/owner.c) and
 * read by any other process of the same machine (src/shm/map_snapshot.c), so the
 * structures below are used in place, in native byte order, rather than
 * field by field like the snapshot format: both sides are the same machine,
 * and the owner's rings (struct ttlog__ring, src/ring/ring.h) live there as
 * C structures anyway. The static assertions pin every offset that
 * docs/SHM-FORMAT.md states; a change to one of them is a new layout
 * version. The offsets of the ring's own fields are constants here and are
 * asserted where the ring is defined (src/ring/ring.h), so that this header
 * depends on nothing of the writer.
 *
 * Order in the file, each part starting on a page boundary:
 *   header | ring table | site index | site dictionary | stream table (1.1) |
 *   metrics part (1.3) | ring arena | metric shards (1.3)
 */
#ifndef TTLOG__FORMAT_SHM_LAYOUT_H
#define TTLOG__FORMAT_SHM_LAYOUT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>


#define TTLOG__SHM_MAGIC "TTLOGSHM"
#define TTLOG__SHM_MAGIC_LEN 8
#define TTLOG__SHM_MAJOR 1           /* a reader refuses any other major */
#define TTLOG__SHM_MINOR 3           /* additions a version-1 reader may ignore (1: the stream table,
					2: the redaction rules, 3: the metrics) */
#define TTLOG__SHM_REDACT_MAX 460    /* the redaction rules' text, its NUL included */
#define TTLOG__SHM_REDACT_CUT 0xffffffffu /* redact_len: the owner's rules were longer */
#define TTLOG__SHM_BYTE_ORDER 0x01020304u
#define TTLOG__SHM_HEADER_SIZE 8192u
#define TTLOG__SHM_PAGE 4096u        /* alignment of the parts (not the system's page size) */

#define TTLOG__SHM_BOOT_ID_MAX 48
#define TTLOG__SHM_HOST_MAX 256
#define TTLOG__SHM_EXE_MAX 4096
#define TTLOG__SHM_DIR_MAX 3072

#define TTLOG__SHM_MAX_TABLE 16384u  /* ring table entries at most */
#define TTLOG__SHM_SITE_IDS 65536u   /* site index entries: ids 0..65535 (0 unused) */
#define TTLOG__SHM_DICT_SIZE (1u << 20)
/* The largest dictionary a reader takes: 16 x what this layout's owners make. */
#define TTLOG__SHM_DICT_MAX (16u * TTLOG__SHM_DICT_SIZE)
#define TTLOG__SHM_STRING_MAX 4096u  /* longest string kept in a dictionary entry */

struct ttlog__shm_header {
	char magic[TTLOG__SHM_MAGIC_LEN];     /*    0 "TTLOGSHM" */
	uint16_t major, minor;               /*    8 layout version */
	uint32_t header_size;                /*   12 TTLOG__SHM_HEADER_SIZE */
	uint64_t file_size;                  /*   16 bytes of the file (ftruncate'd once) */
	uint32_t byte_order;                 /*   24 TTLOG__SHM_BYTE_ORDER as written */
	uint32_t ring_struct_size;           /*   28 sizeof(struct ttlog__ring) of the owner */
	int32_t pid;                         /*   32 */
	uint32_t uid;                        /*   36 effective uid */
	uint64_t start_time;                 /*   40 /proc/PID/stat field 22 */
	int64_t created_ns;                  /*   48 CLOCK_REALTIME at creation */
	_Atomic uint32_t state;              /*   56 enum ttlog__shm_state */
	int32_t snapshot_signal;             /*   60 0: none */
	uint64_t window_ns;                  /*   64 the owner's snapshot window */
	uint32_t clock_kind;                 /*   72 TTLOG__FMT_CLOCK_* */
	uint32_t reserved0;                  /*   76 zero */
	uint64_t tick0;                      /*   80 calibration point 0, taken at init */
	int64_t ns0;                         /*   88 */
	_Atomic uint32_t calib_seq;          /*   96 odd while point 1 is being rewritten */
	uint32_t reserved1;                  /*  100 zero */
	_Atomic uint64_t tick1;              /*  104 calibration point 1, refreshed */
	_Atomic int64_t ns1;                 /*  112 */
	_Atomic uint64_t dropped_uninitialized; /* 120 copies of the owner's counters */
	_Atomic uint64_t dropped_no_ring;    /*  128 */
	_Atomic uint64_t dropped_sites;      /*  136 sites that got no id */
	_Atomic uint64_t dict_dropped;       /*  144 sites the dictionary had no room for */
	uint64_t table_off;                  /*  152 ring table */
	uint32_t table_cap;                  /*  160 entries */
	_Atomic uint32_t table_used;         /*  164 entries handed out (some may be uncommitted) */
	uint64_t arena_off;                  /*  168 ring arena */
	uint64_t arena_size;                 /*  176 */
	_Atomic uint64_t arena_used;         /*  184 bytes handed out from arena_off */
	uint64_t site_index_off;             /*  192 u32 per site id */
	uint32_t site_index_cap;             /*  200 entries (ids 0..cap-1) */
	_Atomic uint32_t site_id_limit;      /*  204 one more than the highest id stored */
	uint64_t dict_off;                   /*  208 site dictionary */
	uint64_t dict_size;                  /*  216 */
	_Atomic uint64_t dict_used;          /*  224 bytes reserved (may exceed dict_size when full) */
	uint64_t stream_off;                 /*  232 (1.1) stream table, table_cap entries; 0: none */
	_Atomic uint32_t stream_state;       /*  240 (1.1) enum ttlog__shm_stream_state */
	uint32_t reserved4;                  /*  244 zero */
	uint64_t metrics_off;                /*  248 (1.3) the metrics part; 0: none */
	char boot_id[TTLOG__SHM_BOOT_ID_MAX]; /*  256 /proc/sys/kernel/random/boot_id, NUL-terminated */
	char hostname[TTLOG__SHM_HOST_MAX];   /*  304 */
	uint32_t redact_len;                 /*  560 (1.2) bytes of `redact`; 0 none;
						  TTLOG__SHM_REDACT_CUT: too long to keep */
	char redact[TTLOG__SHM_REDACT_MAX];  /*  564 (1.2) the owner's TTLOG_REDACT, NUL-terminated */
	char executable[TTLOG__SHM_EXE_MAX];  /* 1024 */
	char snapshot_dir[TTLOG__SHM_DIR_MAX]; /* 5120 */
};                                           /* 8192 */

/* One ring: written once, then `commit` is set to 1 with release. */
struct ttlog__shm_ring_entry {
	_Atomic uint32_t commit;             /*  0 0: not yet (skip), 1: the rest is valid */
	uint32_t nseg;                       /*  4 */
	uint64_t ring_off;                   /*  8 the struct ttlog__ring */
	uint64_t data_off;                   /* 16 its bytes */
	uint32_t size;                       /* 24 nseg * seg_size */
	uint32_t seg_size;                   /* 28 */
};                                           /* 32 */

/* What the stream table says (stream_state). */
enum ttlog__shm_stream_state {
	TTLOG__SHM_STREAM_NONE = 0,          /* no stream: recover everything */
	TTLOG__SHM_STREAM_ON = 1,            /* streaming: entries name what the segments hold */
};

/* One ring's stream position (1.1), at stream_off + 32 * the ring's thread
 * index (TTLOG__SHM_RING_INDEX): the stream has written to its segment,
 * as whole chunks, every record of owner `gen` before logical offset
 * `pos` (`index` records written before it). Written by the owner's
 * drainer under the sequence count `seq` (odd while it changes, 0: never
 * written). */
struct ttlog__shm_stream_entry {
	_Atomic uint32_t seq;                /*  0 */
	_Atomic uint32_t gen;                /*  4 the ring's gen the position is of */
	_Atomic uint64_t pos;                /*  8 logical offset, a multiple of 8 */
	_Atomic uint64_t index;              /* 16 records written before pos */
	uint64_t reserved;                   /* 24 zero */
};                                           /* 32 */

/* A dictionary entry: this header, nargs type bytes, then the strings
 * format, file, function, target and one name per bit of `fields`, each a
 * u32 length and the bytes; padded to 8. */
struct ttlog__shm_site_entry {
	uint32_t size;                       /*  0 bytes of the entry, a multiple of 8 */
	uint32_t id;                         /*  4 */
	uint8_t level, nargs, kind, reserved; /* 8 */
	uint32_t line;                       /* 12 */
	uint32_t fields;                     /* 16 bit i: argument i is a named field */
	uint32_t reserved2;                  /* 20 zero */
};                                           /* 24, then the variable part */

_Static_assert(sizeof(struct ttlog__shm_header) == TTLOG__SHM_HEADER_SIZE, "header size");
_Static_assert(offsetof(struct ttlog__shm_header, state) == 56, "state");
_Static_assert(offsetof(struct ttlog__shm_header, tick1) == 104, "tick1");
_Static_assert(offsetof(struct ttlog__shm_header, dict_used) == 224, "dict_used");
_Static_assert(offsetof(struct ttlog__shm_header, stream_off) == 232, "stream_off");
_Static_assert(offsetof(struct ttlog__shm_header, stream_state) == 240, "stream_state");
_Static_assert(offsetof(struct ttlog__shm_header, metrics_off) == 248, "metrics_off");
_Static_assert(offsetof(struct ttlog__shm_header, boot_id) == 256, "boot_id");
_Static_assert(offsetof(struct ttlog__shm_header, hostname) == 304, "hostname");
_Static_assert(offsetof(struct ttlog__shm_header, redact) == 564, "redact");
_Static_assert(offsetof(struct ttlog__shm_header, executable) == 1024, "executable");
_Static_assert(offsetof(struct ttlog__shm_header, snapshot_dir) == 5120, "snapshot_dir");
_Static_assert(sizeof(struct ttlog__shm_ring_entry) == 32, "ring entry");
_Static_assert(sizeof(struct ttlog__shm_site_entry) == 24, "site entry");
_Static_assert(sizeof(struct ttlog__shm_stream_entry) == 32, "stream entry");

/* ---- Metrics (1.3, docs/SHM-FORMAT.md section 6.6) ------------------------
 *
 * The metrics part, at metrics_off: this header (with the owner's service,
 * which the header proper has no room for), then entry_cap entries
 * of entry_size bytes. Entry i is the registry's metric i (its name,
 * labels, type and the offset of its slots in every shard); the shards
 * themselves, one per thread ring that updated a metric, are shard_size
 * bytes each from shards_off on: the very memory the owner's threads add
 * into (src/metrics/shard.c), so that an update costs what it costs in a
 * private shard. */
#define TTLOG__SHM_METRIC_ENTRY_SIZE 1280u
#define TTLOG__SHM_METRIC_NAME_MAX 128u
#define TTLOG__SHM_METRIC_FILE_MAX 104u  /* the end of the source file's path */
#define TTLOG__SHM_METRIC_LABELS_MAX 1024u
#define TTLOG__SHM_METRICS_CAP_MAX 4096u /* a reader refuses more entries */
#define TTLOG__SHM_SHARD_SIZE_MAX ((uint64_t)64 << 20) /* and larger shards */
#define TTLOG__SHM_SERVICE_MAX 128u
#define TTLOG__SHM_SHARDS_MAX 128u     /* shards an owner puts in its mapping at most */

struct ttlog__shm_metrics {
	uint32_t entry_size;                 /*  0 TTLOG__SHM_METRIC_ENTRY_SIZE */
	uint32_t entry_cap;                  /*  4 entries in the table */
	_Atomic uint32_t entry_count;        /*  8 one more than the highest entry committed */
	uint32_t shard_cap;                  /* 12 shards at most */
	uint64_t shards_off;                 /* 16 shard k at shards_off + k * shard_size */
	uint64_t shard_size;                 /* 24 a multiple of 4096 */
	_Atomic uint32_t shards_used;        /* 32 shards handed out (may exceed shard_cap) */
	_Atomic uint32_t layout_used;        /* 36 bytes of every shard given to metrics */
	_Atomic uint64_t shards_private;     /* 40 shards that got no place here (private) */
	uint64_t reserved[2];                /* 48 zero */
	char service[TTLOG__SHM_SERVICE_MAX]; /* 64 the owner's service (TTLOG_SERVICE or its
						 executable's name), NUL-terminated */
};                                           /* 192, then the entries */

/* One metric: written once, then `commit` is set to 1 with release. */
struct ttlog__shm_metric_entry {
	_Atomic uint32_t commit;             /*    0 0: not yet (skip), 1: valid */
	uint8_t type;                        /*    4 1 counter, 2 gauge, 3 histogram */
	uint8_t reserved[3];                 /*    5 zero */
	uint32_t offset;                     /*    8 of its slots in every shard, a multiple of 8 */
	uint32_t line;                       /*   12 the source line that registered it */
	uint16_t name_len;                   /*   16 1..128 */
	uint16_t file_len;                   /*   18 0..104 */
	uint32_t labels_len;                 /*   20 0..1024: "k=v\0" each */
	char name[TTLOG__SHM_METRIC_NAME_MAX]; /* 24 */
	char file[TTLOG__SHM_METRIC_FILE_MAX]; /* 152 */
	char labels[TTLOG__SHM_METRIC_LABELS_MAX]; /* 256 */
};                                           /* 1280 */

_Static_assert(sizeof(struct ttlog__shm_metrics) == 192, "metrics part header");
_Static_assert(offsetof(struct ttlog__shm_metrics, shards_used) == 32, "shards_used");
_Static_assert(sizeof(struct ttlog__shm_metric_entry) == TTLOG__SHM_METRIC_ENTRY_SIZE, "metric entry");
_Static_assert(offsetof(struct ttlog__shm_metric_entry, labels) == 256, "labels");

/* The fields of struct ttlog__ring a reader uses, at the offsets that
 * docs/SHM-FORMAT.md gives for layout 1 on 64-bit Linux (asserted in
 * src/ring/ring.h). */
#define TTLOG__SHM_RING_HEAD 0u
#define TTLOG__SHM_RING_RECORDS 24u
#define TTLOG__SHM_RING_SIZE 72u
#define TTLOG__SHM_RING_SEG_SIZE 76u
#define TTLOG__SHM_RING_NSEG 80u
#define TTLOG__SHM_RING_PUB_TAIL 128u
#define TTLOG__SHM_RING_SEG_FIRST 136u
#define TTLOG__SHM_RING_STATE 704u
#define TTLOG__SHM_RING_GEN 708u
#define TTLOG__SHM_RING_TID 712u
#define TTLOG__SHM_RING_INDEX 716u
#define TTLOG__SHM_RING_NAME 728u

#endif
