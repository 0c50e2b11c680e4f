/* SPDX-License-Identifier: MIT */
/*
 * ttlog/impl.h - the internals the macros of <ttlog.h> expand to.
 *
 * Not API: every name here starts with ttlog__ or TTLOG__, and any of them
 * may change in any release. Include <ttlog.h>, never this file: it relies
 * on what <ttlog.h> defines before it (the C/C++ portability macros, the
 * levels, TTLOG_API) and is included by it inside its extern "C" block.
 */
#ifndef TTLOG_IMPL_H
#define TTLOG_IMPL_H

#ifndef TTLOG_H
#error "include <ttlog.h>, not <ttlog/impl.h>"
#endif

/* ===================================================================== */
/* 6. Internals used by the macros. Not API; may change in any release.  */
/* ===================================================================== */

/*
 * ThreadSanitizer does not model fences (gcc warns about them). Under TSan
 * the ring's readers are excluded from race checks (see src/ring/ring.c),
 * so only the compiler must be kept from reordering, which is all a release
 * fence does on x86-64 anyway.
 */
#if defined(__SANITIZE_THREAD__)
#define TTLOG__TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TTLOG__TSAN 1
#endif
#endif
#ifdef TTLOG__TSAN
#define TTLOG__FENCE_RELEASE() __asm__ __volatile__("" ::: "memory")
#define TTLOG__FENCE_ACQUIRE() __asm__ __volatile__("" ::: "memory")
#else
#define TTLOG__FENCE_RELEASE() TTLOG__THREAD_FENCE(release)
#define TTLOG__FENCE_ACQUIRE() TTLOG__THREAD_FENCE(acquire)
#endif

/*
 * Everything a log call expands to is forced inline: the compiler's size
 * heuristics would otherwise turn the string helpers into calls in a
 * function with many log calls, and the instruction counts in
 * docs/PERFORMANCE.md assume they are not.
 */
#define TTLOG__ALWAYS_INLINE __attribute__((always_inline))
#define TTLOG__INLINE static inline TTLOG__ALWAYS_INLINE

#define TTLOG__LIKELY(x) __builtin_expect(!!(x), 1)
#define TTLOG__UNLIKELY(x) __builtin_expect(!!(x), 0)

#ifdef TTLOG_TARGET
#define TTLOG__TARGET TTLOG_TARGET
#else
#define TTLOG__TARGET ((const char *)0)
#endif

/*
 * Argument type codes. They are stored in snapshot files (docs/FORMAT.md,
 * "Argument encoding"): never renumber.
 */
enum ttlog__argtype {
	TTLOG_ARG_BOOL = 1,  /* 1 byte, 0 or 1 */
	TTLOG_ARG_CHAR = 2,  /* 1 byte, a signed char (unsigned-char targets record U8) */
	TTLOG_ARG_I8 = 3,    /* 1 byte, signed char */
	TTLOG_ARG_U8 = 4,    /* 1 byte */
	TTLOG_ARG_I16 = 5,   /* 2 bytes */
	TTLOG_ARG_U16 = 6,
	TTLOG_ARG_I32 = 7,   /* 4 bytes */
	TTLOG_ARG_U32 = 8,
	TTLOG_ARG_I64 = 9,   /* 8 bytes */
	TTLOG_ARG_U64 = 10,
	TTLOG_ARG_F64 = 11,  /* 8 bytes, IEEE-754 binary64 (float and double) */
	TTLOG_ARG_LDBL = 12, /* 8 bytes, long double rounded to binary64 */
	TTLOG_ARG_PTR = 13,  /* 8 bytes, the address */
	TTLOG_ARG_STR = 14,  /* u32 length and flags, then the bytes */
	TTLOG_ARG_LD80 = 15  /* 10 bytes, an x87 80-bit long double exactly: the
				64-bit significand, then sign and exponent */
};

/* long double is recorded exactly where it is the x87 80-bit format (x86:
 * a 64-bit significand); elsewhere it is rounded to double (LDBL). */
#if defined(__LDBL_MANT_DIG__) && __LDBL_MANT_DIG__ == 64 && \
	(defined(__x86_64__) || defined(__i386__))
#define TTLOG__LDBL_TYPE TTLOG_ARG_LD80
#define TTLOG__LDBL_SIZE 10
#else
#define TTLOG__LDBL_TYPE TTLOG_ARG_LDBL
#define TTLOG__LDBL_SIZE 8
#endif

/* Flags in the high bits of a string argument's u32 length word. */
#define TTLOG__STR_TRUNCATED 0x80000000u
#define TTLOG__STR_NULL 0x40000000u
#define TTLOG__STR_LEN_MASK 0x3fffffffu
/* The highest string limit a ring ever uses (TTLOG_MAX_STRING's maximum). */
#define TTLOG__MAX_STRING_LIMIT 4000u

/*
 * A call site. One static instance per TTLOG_* use; everything about the
 * call that does not change between calls lives here, so that a log call
 * stores only (size, site id, time, argument bytes).
 *
 * `word` is the only field that changes after compile time:
 *   0                   not registered yet: the first call registers it
 *   bit 0 (ENABLED)     calls log
 *   bit 1 (ASK)         sampled: each call asks ttlog__register() whether
 *                       to log (ttlog_set_sampling)
 *   bit 2 (OFF)         disabled (by level, by ttlog_shutdown(), or, with
 *                       no id, because the site table is full)
 *   bits 3-31           zero
 *   bits 32-63          the site id once registered
 * Exactly one of bits 0-2 is set in a registered site's word. The id sits
 * where a record header keeps it (docs/FORMAT.md "Records": u32 size, then
 * u32 site id), so the header of an enabled site's record is word - 1 +
 * size: one addition on the hot path. A disabled call costs one load and
 * two predictable branches (bit 0, then bit 2); an unregistered or sampled
 * call falls through both to the function call.
 *
 * The word is not in the structure but a static variable of the call
 * site's own, which the structure points to: a call reads the word and
 * none of the rest, and the words, zero until registered, sit together
 * (eight to a cache line in .bss) rather than one to each 64-byte
 * structure. A program with thousands of log statements then keeps them
 * all in a few cache lines' worth of its caches (10 000 sites: 80 KB of
 * words instead of 640 KB of structures; docs/PERFORMANCE.md "Many
 * sites").
 */
struct ttlog_site {
	TTLOG__ATOMIC(uint64_t) *word; /* a static of its own: see above */
	uint8_t level;
	uint8_t nargs;
	uint8_t kind;                /* TTLOG__KIND_*: what a record of this site means */
	uint8_t reserved;            /* zero; keeps the layout explicit */
	uint32_t line;
	const uint8_t *arg_types;    /* nargs entries of enum ttlog__argtype */
	const char *format;
	const char *file;
	const char *function;
	const char *target;          /* NULL: the file's base name */
	/* The source text of each argument after macro expansion, each ended
	 * by a NUL: "a\0TTLOG_F text\0". Only snapshots read it, to find the
	 * names of TTLOG_F() fields (src/sites/fields.c); a log call never does. */
	const char *arg_text;
};

#define TTLOG__WORD_ENABLED 1u
#define TTLOG__WORD_ASK 2u
#define TTLOG__WORD_OFF 4u
#define TTLOG__WORD_STATE 7u /* the three bits above */

/* Site kinds (SITX chunk, docs/FORMAT.md). Never renumber. */
#define TTLOG__KIND_LOG 0
#define TTLOG__KIND_CONTEXT_PUSH 1 /* one argument, the value; the format is the key */
#define TTLOG__KIND_CONTEXT_POP 2  /* no argument: ends the innermost context */
#define TTLOG__KIND_RESTATE 3      /* u32 n: the next n records re-state the open scopes */
#define TTLOG__KIND_SPAN_BEGIN 4   /* u64 span id, parent id, trace id high, low; then fields */
#define TTLOG__KIND_SPAN_END 5     /* u64 span id */
#define TTLOG__KIND_SPAN_FIELD 6   /* u64 span id, then the value; the format is the key */

/*
 * The hot path's view of its thread's ring: one cache line that only the
 * owning thread writes. Readers (snapshots, the crash handler) read `head`
 * from it and the rest of the ring from struct ttlog__ring (src/ring/ring.h),
 * which also describes the segments that `limit` refers to.
 *
 * A thread that has no ring yet points at an idle writer whose limit is 0,
 * so its first call takes the slow path, which gives it a ring. That keeps
 * the "no ring yet" test off the hot path.
 */
typedef unsigned char *ttlog__bytes; /* so that TTLOG__ATOMIC makes the pointer atomic */

struct ttlog__writer {
	TTLOG__ALIGNAS(64) TTLOG__ATOMIC(uint64_t) head; /* logical offset of the next record (published) */
	TTLOG__ATOMIC(uint64_t) limit; /* a record may end at this logical offset at most; 0: slow path */
	uintptr_t base;                /* address of logical offset 0 of the current lap */
	uint64_t records;              /* records written, padding excluded */
	uint32_t max_string;           /* string truncation limit */
	uint32_t str_fast;             /* ttlog__str_fast(max_string): which strings the
					  inline code of a log call copies */
	/* The ring's metric shard (src/metrics/), or NULL: the next metric
	 * update takes ttlog__metrics_attach(). Written by the owner and by
	 * ttlog_init/ttlog_shutdown (to NULL); read by the owner only. */
	TTLOG__ATOMIC(ttlog__bytes) metrics;
};

/*
 * A log call copies a string of n bytes inline when n - 8 < str_fast (as
 * unsigned numbers): 8 to 32 bytes and at most max_string. Set with
 * max_string by the library; one compare on the hot path instead of two.
 */
static inline uint32_t ttlog__str_fast(uint32_t max_string)
{
	return max_string < 8u ? 0u : (max_string < 32u ? max_string : 32u) - 7u;
}

/* The calling thread's writer; never NULL (the idle writer until its first event). */
TTLOG_API extern __thread struct ttlog__writer *ttlog__tls_writer
	__attribute__((tls_model("initial-exec")));

/*
 * The call of a site whose word is neither ENABLED nor OFF: registers the
 * site on its first call, and decides a sampled call (keeps it or counts it
 * as dropped). Returns the word to log with; the call logs only if bit 0 of
 * the result is set.
 */
TTLOG_API uint64_t ttlog__register(struct ttlog_site *site);

/* ttlog__register(), then, if the call logs, the record of a site without
 * arguments (ttlog__write_empty()): the whole unlikely path of such a call
 * site in one call that it ends with. */
TTLOG_API void ttlog__register_write_empty(struct ttlog_site *site);

/*
 * The slow path of a log call whose record does not fit below the writer's
 * limit: gives the thread a ring, moves to the next segment of its ring
 * (dropping the oldest records), or takes the time from a clock other than
 * the CPU's counter. Writes the record header and time and returns where
 * the record starts, or NULL to drop the event (counted). The caller writes
 * the arguments and publishes the record with ttlog__commit().
 */
TTLOG_API unsigned char *ttlog__reserve_slow(uint64_t hdr);

/*
 * The slow path of a record without arguments (hdr's low half is 16): what
 * ttlog__reserve_slow() does, and the record's publication, so that the
 * call site has nothing left to do after the call.
 */
TTLOG_API void ttlog__write_slow(uint64_t hdr);

/*
 * The out-of-line halves of a string argument (see "Strings on the hot
 * path" below): the size word of a string whose terminator is not within
 * its first 16 to 32 bytes (the two aligned blocks scanned inline), and a
 * copy of a length the inline copy does not take (below 16 or above 32
 * bytes). They keep the rare cases' code out of every call site.
 */
TTLOG_API uint32_t ttlog__str_len_long(const char *s, uint32_t max);
TTLOG_API void ttlog__str_copy_long(unsigned char *d, const char *s, uint32_t n);

/*
 * The whole record of a log call that its inline code does not write (see
 * TTLOG__LOG_RECORD): the site's word says the call logs (registered and
 * sampled already), and the values follow as the call site passes them
 * (TTLOG__ARG_PASS): every integer of up to 32 bits as an unsigned int,
 * wider ones and pointers as uint64_t, float and double as double, long
 * double as itself, strings as const void *. It writes the bytes the
 * inline code would have written (the types come from the site's
 * arg_types) and counts a drop as the inline code's slow path does. One
 * function for every site keeps each site's rare cases to one call.
 */
TTLOG_API void ttlog__log_slow(struct ttlog_site *site, uint64_t word, ...);

/* After a context push record (rec, len bytes) was committed: keeps a copy
 * and returns the new depth. */
TTLOG_API uint32_t ttlog__context_pushed(const unsigned char *rec, uint32_t len);
/* Pops contexts until depth is left (the scoped form's cleanup). */
TTLOG_API void ttlog__context_pop_to(uint32_t depth);
static inline void ttlog__context_cleanup(const uint32_t *depth)
{
	if (*depth)
		ttlog__context_pop_to(*depth - 1);
}

/* A span about to begin: its ids (id 0: record nothing). */
struct ttlog__span_ids {
	uint64_t id, parent, trace_hi, trace_lo;
};
/* Draws the ids of a span about to begin on the calling thread. Returns 0,
 * or, when the span cannot be kept (too deep), the thread's span depth
 * with it counted, with ids->id = 0; ids->id is 0 too when ttlog is off. */
TTLOG_API uint32_t ttlog__span_prepare(struct ttlog__span_ids *ids);
/* After a span's begin record (rec, len bytes) was committed: keeps it and
 * returns the thread's span depth. */
TTLOG_API uint32_t ttlog__span_begun(const struct ttlog__span_ids *ids, const unsigned char *rec,
				      uint32_t len);
/* The calling thread's innermost span's id, 0 if none. */
TTLOG_API uint64_t ttlog__span_current(void);
/* Ends spans until depth are left (the scoped form's cleanup). */
TTLOG_API void ttlog__span_end_to(uint32_t depth);
static inline void ttlog__span_cleanup(const uint32_t *depth)
{
	if (*depth)
		ttlog__span_end_to(*depth - 1);
}

/*
 * The CPU's tick counter, read inline on the hot path. The writer's limit is
 * non-zero only while this counter is the configured tick source (see
 * src/clock/), so the hot path never tests which source is in use.
 */
#if defined(__x86_64__) || defined(__i386__)
#define TTLOG__STORE_TICKS(p)                                          \
	do {                                                           \
		uint32_t ttlog__lo, ttlog__hi;                         \
		__asm__ __volatile__("rdtsc" : "=a"(ttlog__lo), "=d"(ttlog__hi)); \
		memcpy((p), &ttlog__lo, 4);                            \
		memcpy((p) + 4, &ttlog__hi, 4);                        \
	} while (0)
#elif defined(__aarch64__)
#define TTLOG__STORE_TICKS(p)                                          \
	do {                                                           \
		uint64_t ttlog__v;                                     \
		__asm__ __volatile__("mrs %0, cntvct_el0" : "=r"(ttlog__v)); \
		memcpy((p), &ttlog__v, 8);                             \
	} while (0)
#else
#error "ttlog.h: no tick counter for this CPU (x86-64 and aarch64 are supported)"
#endif

/*
 * Returns where a record of len bytes starts, with its header (hdr = site
 * word - 1 + len, see struct ttlog_site) and time written, or NULL to drop
 * it. *head gets the record's logical offset and *wp the writer (which the
 * slow path may have changed) for ttlog__commit(). The test uses len, not
 * hdr's low half, so that the compiler can reuse h + len for the commit.
 */
TTLOG__INLINE unsigned char *ttlog__reserve(struct ttlog__writer **wp, uint64_t hdr, uint32_t len,
					    uint64_t *head)
{
	struct ttlog__writer *w = *wp;
	uint64_t h = TTLOG__LOAD(w->head, relaxed);
	if (TTLOG__LIKELY(h + len <= TTLOG__LOAD(w->limit, relaxed))) {
		unsigned char *p = (unsigned char *)(w->base + h);
		memcpy(p, &hdr, 8);
		TTLOG__STORE_TICKS(p + 8);
		*head = h;
		return p;
	}
	/* The slow path may have given the thread its ring, or padded the
	 * rest of a segment: writer and head are read again. */
	unsigned char *p = ttlog__reserve_slow(hdr);
	*wp = w = ttlog__tls_writer;
	*head = TTLOG__LOAD(w->head, relaxed);
	return p;
}

/* Publishes the record at logical offset head, len bytes long. */
TTLOG__INLINE void ttlog__commit(struct ttlog__writer *w, uint64_t head, uint32_t len)
{
	w->records++;
	/* LMM(commit:A) Publishes the record bytes. Pairs with LMM(copy:A) in
	 * ring.c: a reader that sees this head sees the whole record. */
	TTLOG__STORE(w->head, head + len, release);
}

/*
 * A whole record without arguments (16 bytes: header and time), hdr as
 * for ttlog__reserve(). Its slow path publishes the record too, so that
 * nothing of the call site is needed after the call.
 */
TTLOG__INLINE void ttlog__write_empty(uint64_t hdr)
{
	struct ttlog__writer *w = ttlog__tls_writer;
	uint64_t h = TTLOG__LOAD(w->head, relaxed);
	if (TTLOG__LIKELY(h + 16u <= TTLOG__LOAD(w->limit, relaxed))) {
		unsigned char *p = (unsigned char *)(w->base + h);
		memcpy(p, &hdr, 8);
		TTLOG__STORE_TICKS(p + 8);
		ttlog__commit(w, h, 16u);
		return;
	}
	ttlog__write_slow(hdr);
}

/*
 * Strings on the hot path. The C library's strnlen and memcpy cost a call
 * each and a dispatch on the size; for the short strings that logs mostly
 * carry, these inline versions do the same work in fewer instructions.
 *
 * ttlog__str_scan(s, max) returns strlen(s) if it is at most max, else some
 * value above max (the string is then truncated). On x86-64 it reads 16-byte
 * blocks at 16-byte-aligned addresses. Such a read never crosses a page
 * boundary, so the bytes it reads past the terminator are mapped, the same
 * argument the C library's own strlen relies on. Builds with
 * AddressSanitizer or MemorySanitizer, which check each byte read, use
 * strnlen instead.
 *
 * TTLOG__HIDE(s) hides where s points from the compiler (it emits no
 * instruction): its bounds warnings cannot know that the string functions
 * stop at the terminator.
 */
#define TTLOG__HIDE(ptr) __asm__("" : "+r"(ptr))

#if defined(__SANITIZE_ADDRESS__)
#define TTLOG__PLAIN_STRINGS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define TTLOG__PLAIN_STRINGS 1
#endif
#endif

#if defined(__x86_64__) && defined(__SSE2__) && !defined(TTLOG__PLAIN_STRINGS)
TTLOG__EXTERN_C_END
#include <emmintrin.h>
TTLOG__EXTERN_C_BEGIN

/*
 * strnlen() is POSIX, not ISO C: <string.h> declares it under -std=c11 and
 * the like only when the program asks for POSIX 2008. memchr() (ISO C)
 * does the same scan there.
 */
#if defined(__cplusplus) || !defined(__STRICT_ANSI__) || \
	(defined(_POSIX_C_SOURCE) && _POSIX_C_SOURCE >= 200809L)
#define TTLOG__STRNLEN(s, max) strnlen((s), (max))
#else
TTLOG__INLINE size_t ttlog__strnlen(const char *s, size_t max)
{
	const char *nul = (const char *)memchr(s, 0, max);
	return nul ? (size_t)(nul - s) : max;
}
#define TTLOG__STRNLEN(s, max) ttlog__strnlen((s), (max))
#endif
/* Bit i set: byte i of the aligned block at p is 0. */
TTLOG__INLINE uint32_t ttlog__nul_mask(const char *p)
{
	return (uint32_t)_mm_movemask_epi8(
		_mm_cmpeq_epi8(_mm_load_si128((const __m128i *)p), _mm_setzero_si128()));
}

/* The index of the lowest set bit of x, which is not 0: bsf, 3 bytes,
 * where __builtin_ctz gives tzcnt and a zeroing xor (6). */
TTLOG__INLINE uint32_t ttlog__low_bit(uint32_t x)
{
	uint32_t r;
	__asm__("bsf %1, %0" : "=r"(r) : "rm"(x) : "cc");
	return r;
}

/*
 * The length of s if its terminator is in the 16-byte aligned block that
 * holds s or in the next one (every string of up to 16 bytes, and up to 31
 * depending on its alignment), else UINT32_MAX: ttlog__len_str() then asks
 * ttlog__str_len_long(). Reading the next block needs no bound: the string
 * goes on into it. Neither block is said to be the likely one: so the
 * compiler keeps the second block's scan in the fast path, and a string
 * that crosses a 16-byte boundary runs no line of code outside it (a site
 * of a program with thousands of them fetches each line it runs;
 * docs/PERFORMANCE.md, "Many sites: the second block in line").
 */
TTLOG__INLINE uint32_t ttlog__str_scan_short(const char *s)
{
	const char *block = (const char *)((uintptr_t)s & ~(uintptr_t)15);
	TTLOG__HIDE(block);
	uint32_t nul = ttlog__nul_mask(block) >> ((uintptr_t)s & 15); /* bytes before s are not the string's */
	if (nul != 0)
		return ttlog__low_bit(nul);
	nul = ttlog__nul_mask(block + 16);
	if (TTLOG__LIKELY(nul != 0))
		return (uint32_t)(block + 16 - s) + ttlog__low_bit(nul);
	return UINT32_MAX;
}

/* strlen(s) if it is at most max, else some value above max. */
TTLOG__INLINE uint32_t ttlog__str_scan(const char *s, uint32_t max)
{
	uint32_t n = ttlog__str_scan_short(s);
	if (n != UINT32_MAX)
		return n;
	n = (uint32_t)TTLOG__STRNLEN(s, (size_t)max + 1);
	return n;
}

/* Copies n bytes: 16 to 32 with two overlapping 16-byte loads and stores
 * inline, 8 to 15 with two overlapping 8-byte ones (a second range test,
 * taken only by strings shorter than 16 bytes), any other length out of
 * line. Reads only [s, s + n). */
TTLOG__INLINE void ttlog__str_copy(unsigned char *d, const char *s, uint32_t n)
{
	TTLOG__HIDE(s);
	if (TTLOG__LIKELY(n - 16u <= 16u)) {
		__m128i first = _mm_loadu_si128((const __m128i *)s);
		__m128i last = _mm_loadu_si128((const __m128i *)(s + n - 16));
		_mm_storeu_si128((__m128i *)d, first);
		_mm_storeu_si128((__m128i *)(d + n - 16), last);
	} else if (TTLOG__LIKELY(n - 8u < 8u)) {
		uint64_t first, last;
		memcpy(&first, s, 8);
		memcpy(&last, s + n - 8, 8);
		memcpy(d, &first, 8);
		memcpy(d + n - 8, &last, 8);
	} else {
		ttlog__str_copy_long(d, s, n);
	}
}

/*
 * The inline half of a log call's string (TTLOG__LOG_RECORD): the size of
 * the argument (4 + the length) when the call's inline code can write it,
 * else 0 and the call hands its whole record to ttlog__log_slow(): a NULL
 * string, one whose terminator is not in the one or two blocks scanned
 * inline, one longer than max (truncated), and lengths the inline copy does
 * not take (below 8 or above 32 bytes).
 */
TTLOG__INLINE uint32_t ttlog__fast_len_str(const void *v, uint32_t str_fast)
{
	if (str_fast > 25u)
		__builtin_unreachable(); /* ttlog__str_fast()'s range: n stays below 33 */
	if (TTLOG__UNLIKELY(!v))
		return 0;
	uint32_t n = ttlog__str_scan_short((const char *)v);
	if (TTLOG__UNLIKELY(n - 8u >= str_fast))
		return 0;
	return 4u + n;
}
/* What the inline code of a log call passes to ttlog__fast_len_str(). */
#define TTLOG__FAST_LIMIT(w) ((w)->str_fast)

/* Copies n bytes, 8 to 32 (what ttlog__fast_len_str() lets through). */
TTLOG__INLINE void ttlog__fast_copy(unsigned char *d, const char *s, uint32_t n)
{
	TTLOG__HIDE(s);
	if (TTLOG__LIKELY(n >= 16u)) {
		__m128i first = _mm_loadu_si128((const __m128i *)s);
		__m128i last = _mm_loadu_si128((const __m128i *)(s + n - 16));
		_mm_storeu_si128((__m128i *)d, first);
		_mm_storeu_si128((__m128i *)(d + n - 16), last);
	} else {
		uint64_t first, last;
		memcpy(&first, s, 8);
		memcpy(&last, s + n - 8, 8);
		memcpy(d, &first, 8);
		memcpy(d + n - 8, &last, 8);
	}
}
#define TTLOG__SCAN_SHORT 1
#else
TTLOG__INLINE uint32_t ttlog__str_scan(const char *s, uint32_t max)
{
	TTLOG__HIDE(s);
	uint32_t n = (uint32_t)strnlen(s, max);
	return n == max && s[max] != '\0' ? max + 1 : n;
}

TTLOG__INLINE void ttlog__str_copy(unsigned char *d, const char *s, uint32_t n)
{
	TTLOG__HIDE(s);
	if (n) /* s may be NULL when n is 0, which memcpy does not allow */
		memcpy(d, s, n);
}

/* The inline half of a log call's string where the blocks are not scanned
 * inline: every string but a NULL or truncated one. */
TTLOG__INLINE uint32_t ttlog__fast_len_str(const void *v, uint32_t max)
{
	if (TTLOG__UNLIKELY(!v))
		return 0;
	uint32_t n = ttlog__str_scan((const char *)v, max);
	return TTLOG__LIKELY(n <= max) ? 4u + n : 0u;
}
#define TTLOG__FAST_LIMIT(w) ((w)->max_string)

TTLOG__INLINE void ttlog__fast_copy(unsigned char *d, const char *s, uint32_t n)
{
	TTLOG__HIDE(s);
	memcpy(d, s, n); /* s is not NULL */
}
#endif

/*
 * A string argument: a u32 word (length, and the TTLOG__STR_* flags), then
 * its bytes. The "length" the encoding macros pass from ttlog__len_str() to
 * ttlog__put_str() is that word plus 4: the argument's size in its low bits
 * (TTLOG__ARG_SIZE below) and the flags in the high bits, so the word costs
 * one subtraction to make.
 */
TTLOG__INLINE uint32_t ttlog__len_str(const void *v, uint32_t max)
{
	if (max > TTLOG__MAX_STRING_LIMIT)
		__builtin_unreachable(); /* lets the compiler drop TTLOG__ARG_SIZE's mask */
	if (TTLOG__UNLIKELY(!v))
		return 4u | TTLOG__STR_NULL;
#ifdef TTLOG__SCAN_SHORT
	uint32_t n = ttlog__str_scan_short((const char *)v);
	if (TTLOG__UNLIKELY(n == UINT32_MAX))
		return ttlog__str_len_long((const char *)v, max);
#else
	uint32_t n = ttlog__str_scan((const char *)v, max);
#endif
	return TTLOG__LIKELY(n <= max) ? 4u + n : (4u + max) | TTLOG__STR_TRUNCATED;
}
TTLOG__INLINE unsigned char *ttlog__put_str(unsigned char *p, const void *v, uint32_t n)
{
	uint32_t word = n - 4u, size = n & TTLOG__STR_LEN_MASK;
	memcpy(p, &word, 4);
	ttlog__str_copy(p + 4, (const char *)v, size - 4u); /* 0 bytes when v is NULL */
	return p + size;
}
#define TTLOG__ARG_SIZE(n) ((n) & TTLOG__STR_LEN_MASK)
/* A string's argument on the inline path: n is 4 + its length, no flag. */
TTLOG__INLINE unsigned char *ttlog__fast_put_str(unsigned char *p, const void *v, uint32_t n)
{
	uint32_t word = n - 4u;
	memcpy(p, &word, 4);
	ttlog__fast_copy(p + 4, (const char *)v, word);
	return p + n;
}
TTLOG__INLINE unsigned char *ttlog__put_ptr(unsigned char *p, const volatile void *v, uint32_t n)
{
	uint64_t a = (uint64_t)(uintptr_t)v;
	(void)n;
	memcpy(p, &a, 8);
	return p + 8;
}

static inline __attribute__((format(printf, 1, 2))) void ttlog__check_format(const char *f, ...)
{
	(void)f;
}

TTLOG__EXTERN_C_END

/* ---- 6b. Argument encoding: C selects with _Generic ------------------- */
#ifndef __cplusplus

/* Per-type size and store functions, selected by _Generic. */
#define TTLOG__FIXED(name, ctype, stype, ptype)                                          \
	TTLOG__INLINE ptype ttlog__pass_##name(ctype v)                                  \
	{                                                                                \
		return (ptype)(stype)v;                                                  \
	}                                                                                \
	TTLOG__INLINE uint32_t ttlog__len_##name(ctype v, uint32_t max)                 \
	{                                                                                \
		(void)v;                                                                 \
		(void)max;                                                               \
		return sizeof(stype);                                                    \
	}                                                                                \
	TTLOG__INLINE unsigned char *ttlog__put_##name(unsigned char *p, ctype v, uint32_t n) \
	{                                                                                \
		stype s = (stype)v;                                                      \
		(void)n;                                                                 \
		memcpy(p, &s, sizeof s);                                                 \
		return p + sizeof s;                                                     \
	}
/* The last column is how ttlog__log_slow() receives the value (its
 * comment): the stored value converted, so that it keeps the stored bits. */
TTLOG__FIXED(bool, _Bool, uint8_t, uint32_t)
TTLOG__FIXED(char, char, char, uint32_t)
TTLOG__FIXED(schar, signed char, int8_t, uint32_t)
TTLOG__FIXED(uchar, unsigned char, uint8_t, uint32_t)
TTLOG__FIXED(short, short, int16_t, uint32_t)
TTLOG__FIXED(ushort, unsigned short, uint16_t, uint32_t)
TTLOG__FIXED(int, int, int32_t, uint32_t)
TTLOG__FIXED(uint, unsigned int, uint32_t, uint32_t)
TTLOG__FIXED(long, long, int64_t, uint64_t)
TTLOG__FIXED(ulong, unsigned long, uint64_t, uint64_t)
TTLOG__FIXED(llong, long long, int64_t, uint64_t)
TTLOG__FIXED(ullong, unsigned long long, uint64_t, uint64_t)
TTLOG__FIXED(float, float, double, double)
TTLOG__FIXED(double, double, double, double)
#undef TTLOG__FIXED

TTLOG__INLINE uint32_t ttlog__len_ldouble(long double v, uint32_t max)
{
	(void)v;
	(void)max;
	return TTLOG__LDBL_SIZE;
}

/* The x87 value's ten bytes as they are in memory (little-endian), or the
 * value rounded to double where long double is not that format. */
TTLOG__INLINE unsigned char *ttlog__put_ldouble(unsigned char *p, long double v, uint32_t n)
{
	(void)n;
#if TTLOG__LDBL_SIZE == 10
	memcpy(p, &v, 10);
#else
	double d = (double)v;
	memcpy(p, &d, 8);
#endif
	return p + TTLOG__LDBL_SIZE;
}

TTLOG__INLINE uint32_t ttlog__len_ptr(const volatile void *v, uint32_t max)
{
	(void)v;
	(void)max;
	return 8;
}

TTLOG__INLINE long double ttlog__pass_ldouble(long double v)
{
	return v;
}
TTLOG__INLINE const void *ttlog__pass_str(const void *v)
{
	return v;
}
TTLOG__INLINE uint64_t ttlog__pass_ptr(const volatile void *v)
{
	return (uint64_t)(uintptr_t)v;
}

#define TTLOG__SELECT(x, op)                              \
	_Generic((x),                                     \
		_Bool: ttlog__##op##_bool,                \
		char: ttlog__##op##_char,                 \
		signed char: ttlog__##op##_schar,         \
		unsigned char: ttlog__##op##_uchar,       \
		short: ttlog__##op##_short,               \
		unsigned short: ttlog__##op##_ushort,     \
		int: ttlog__##op##_int,                   \
		unsigned int: ttlog__##op##_uint,         \
		long: ttlog__##op##_long,                 \
		unsigned long: ttlog__##op##_ulong,       \
		long long: ttlog__##op##_llong,           \
		unsigned long long: ttlog__##op##_ullong, \
		float: ttlog__##op##_float,               \
		double: ttlog__##op##_double,             \
		long double: ttlog__##op##_ldouble,       \
		char *: ttlog__##op##_str,                \
		const char *: ttlog__##op##_str,          \
		signed char *: ttlog__##op##_str,         \
		const signed char *: ttlog__##op##_str,   \
		unsigned char *: ttlog__##op##_str,       \
		const unsigned char *: ttlog__##op##_str, \
		default: ttlog__##op##_ptr)

#define TTLOG__TYPE(x)                                    \
	_Generic((x),                                     \
		_Bool: TTLOG_ARG_BOOL,                    \
		char: ((char)-1 < 0 ? TTLOG_ARG_CHAR : TTLOG_ARG_U8), \
		signed char: TTLOG_ARG_I8,                \
		unsigned char: TTLOG_ARG_U8,              \
		short: TTLOG_ARG_I16,                     \
		unsigned short: TTLOG_ARG_U16,            \
		int: TTLOG_ARG_I32,                       \
		unsigned int: TTLOG_ARG_U32,              \
		long: TTLOG_ARG_I64,                      \
		unsigned long: TTLOG_ARG_U64,             \
		long long: TTLOG_ARG_I64,                 \
		unsigned long long: TTLOG_ARG_U64,        \
		float: TTLOG_ARG_F64,                     \
		double: TTLOG_ARG_F64,                    \
		long double: TTLOG__LDBL_TYPE,            \
		char *: TTLOG_ARG_STR,                    \
		const char *: TTLOG_ARG_STR,              \
		signed char *: TTLOG_ARG_STR,             \
		const signed char *: TTLOG_ARG_STR,       \
		unsigned char *: TTLOG_ARG_STR,           \
		const unsigned char *: TTLOG_ARG_STR,     \
		default: TTLOG_ARG_PTR)

#define TTLOG__ARG_TYPE(i, x) (uint8_t) TTLOG__TYPE(x),
#define TTLOG__ARG_LEN(i, x) \
	const uint32_t ttlog__n##i = TTLOG__SELECT(ttlog__v##i, len)(ttlog__v##i, ttlog__w->max_string);
#define TTLOG__ARG_PUT(i, x) ttlog__p = TTLOG__SELECT(ttlog__v##i, put)(ttlog__p, ttlog__v##i, ttlog__n##i);

/* The inline path of TTLOG__LOG_RECORD: strings through ttlog__fast_*. */
#define TTLOG__STR_OR(x, str, other)               \
	_Generic((x),                              \
		char *: str,                       \
		const char *: str,                 \
		signed char *: str,                \
		const signed char *: str,          \
		unsigned char *: str,              \
		const unsigned char *: str,        \
		default: other)
#define TTLOG__ARG_FLEN(i, x)                                                                  \
	const uint32_t ttlog__n##i = TTLOG__STR_OR(ttlog__v##i, ttlog__fast_len_str,            \
						   TTLOG__SELECT(ttlog__v##i, len))(ttlog__v##i, \
										TTLOG__FAST_LIMIT(ttlog__w)); \
	if (TTLOG__UNLIKELY(!ttlog__n##i))                                                     \
		break;
#define TTLOG__ARG_FPUT(i, x)                                                           \
	ttlog__p = TTLOG__STR_OR(ttlog__v##i, ttlog__fast_put_str, TTLOG__SELECT(ttlog__v##i, put))( \
		ttlog__p, ttlog__v##i, ttlog__n##i);
#define TTLOG__ARG_PASS(i, x) , TTLOG__SELECT(ttlog__v##i, pass)(ttlog__v##i)

#else /* ---- 6b. Argument encoding: C++ selects with templates --------- */

/* The type code of an argument of (decayed) type T, as C's TTLOG__TYPE. */
template <class T> constexpr int ttlog__type_code()
{
	using U = typename std::remove_cv<T>::type;
	if constexpr (std::is_same<U, bool>::value)
		return TTLOG_ARG_BOOL;
	else if constexpr (std::is_same<U, char>::value)
		return std::is_signed<char>::value ? TTLOG_ARG_CHAR : TTLOG_ARG_U8;
	else if constexpr (std::is_enum<U>::value)
		return ttlog__type_code<typename std::underlying_type<U>::type>();
	else if constexpr (std::is_integral<U>::value) {
		static_assert(sizeof(U) <= 8, "ttlog: integers wider than 64 bits are not supported");
		constexpr bool s = std::is_signed<U>::value;
		return sizeof(U) == 1 ? (s ? TTLOG_ARG_I8 : TTLOG_ARG_U8)
		     : sizeof(U) == 2 ? (s ? TTLOG_ARG_I16 : TTLOG_ARG_U16)
		     : sizeof(U) == 4 ? (s ? TTLOG_ARG_I32 : TTLOG_ARG_U32)
				      : (s ? TTLOG_ARG_I64 : TTLOG_ARG_U64);
	} else if constexpr (std::is_same<U, float>::value || std::is_same<U, double>::value)
		return TTLOG_ARG_F64;
	else if constexpr (std::is_same<U, long double>::value)
		return TTLOG__LDBL_TYPE;
	else if constexpr (std::is_pointer<U>::value) {
		using P = typename std::remove_cv<typename std::remove_pointer<U>::type>::type;
		return std::is_same<P, char>::value || std::is_same<P, signed char>::value ||
				       std::is_same<P, unsigned char>::value
			       ? TTLOG_ARG_STR
			       : TTLOG_ARG_PTR;
	} else {
		static_assert(std::is_null_pointer<U>::value,
			      "ttlog: unsupported argument type (use integers, floating point, "
			      "pointers or C strings, as with printf)");
		return TTLOG_ARG_PTR;
	}
}

template <class T> TTLOG__ALWAYS_INLINE inline uint32_t ttlog__arg_len(const T &v, uint32_t max)
{
	constexpr int t = ttlog__type_code<T>();
	if constexpr (t == TTLOG_ARG_STR)
		return ttlog__len_str(v, max);
	else if constexpr (t == TTLOG_ARG_F64 || t == TTLOG_ARG_LDBL || t == TTLOG_ARG_PTR)
		return 8;
	else if constexpr (t == TTLOG_ARG_LD80)
		return 10;
	else
		return sizeof(T); /* integers, enumerations and bool: their own width */
}

template <class T> TTLOG__ALWAYS_INLINE inline unsigned char *ttlog__arg_put(unsigned char *p, const T &v, uint32_t n)
{
	constexpr int t = ttlog__type_code<T>();
	if constexpr (t == TTLOG_ARG_STR) {
		return ttlog__put_str(p, v, n);
	} else if constexpr (t == TTLOG_ARG_PTR) {
		return ttlog__put_ptr(p, (const volatile void *)v, n);
	} else if constexpr (t == TTLOG_ARG_F64 || t == TTLOG_ARG_LDBL) {
		double d = (double)v;
		memcpy(p, &d, 8);
		return p + 8;
	} else if constexpr (t == TTLOG_ARG_LD80) {
		memcpy(p, &v, 10); /* the x87 value's ten bytes */
		return p + 10;
	} else {
		memcpy(p, &v, sizeof(T)); /* little-endian bytes of the value */
		return p + sizeof(T);
	}
}

#define TTLOG__ARG_TYPE(i, x) (uint8_t) ttlog__type_code<typename std::decay<decltype(x)>::type>(),
#define TTLOG__ARG_LEN(i, x) \
	const uint32_t ttlog__n##i = ttlog__arg_len(ttlog__v##i, ttlog__w->max_string);
#define TTLOG__ARG_PUT(i, x) ttlog__p = ttlog__arg_put(ttlog__p, ttlog__v##i, ttlog__n##i);

/* The inline path of TTLOG__LOG_RECORD: strings through ttlog__fast_*. */
template <class T> TTLOG__ALWAYS_INLINE inline uint32_t ttlog__arg_flen(const T &v, uint32_t max)
{
	if constexpr (ttlog__type_code<T>() == TTLOG_ARG_STR)
		return ttlog__fast_len_str(v, max);
	else
		return ttlog__arg_len(v, max);
}

template <class T> TTLOG__ALWAYS_INLINE inline unsigned char *ttlog__arg_fput(unsigned char *p, const T &v, uint32_t n)
{
	if constexpr (ttlog__type_code<T>() == TTLOG_ARG_STR)
		return ttlog__fast_put_str(p, v, n);
	else
		return ttlog__arg_put(p, v, n);
}

/* How ttlog__log_slow() receives a value (its comment): converted so that
 * it keeps the bits the inline code stores. */
template <class T> TTLOG__ALWAYS_INLINE inline auto ttlog__arg_pass(const T &v)
{
	constexpr int t = ttlog__type_code<T>();
	if constexpr (t == TTLOG_ARG_STR)
		return (const void *)v;
	else if constexpr (t == TTLOG_ARG_PTR)
		return (uint64_t)(uintptr_t)(const volatile void *)v;
	else if constexpr (t == TTLOG_ARG_F64)
		return (double)v;
	else if constexpr (t == TTLOG_ARG_LDBL || t == TTLOG_ARG_LD80)
		return (long double)v;
	else if constexpr (sizeof(T) <= 4) {
		uint32_t u = 0;
		memcpy(&u, &v, sizeof(T)); /* the stored bytes; the rest zero */
		return u;
	} else {
		uint64_t u;
		memcpy(&u, &v, 8);
		return u;
	}
}

#define TTLOG__ARG_FLEN(i, x)                                                            \
	const uint32_t ttlog__n##i = ttlog__arg_flen(ttlog__v##i, TTLOG__FAST_LIMIT(ttlog__w)); \
	if (TTLOG__UNLIKELY(!ttlog__n##i))                                               \
		break;
#define TTLOG__ARG_FPUT(i, x) ttlog__p = ttlog__arg_fput(ttlog__p, ttlog__v##i, ttlog__n##i);
#define TTLOG__ARG_PASS(i, x) , ttlog__arg_pass(ttlog__v##i)

#endif /* __cplusplus */

TTLOG__STATIC_ASSERT(sizeof(long) == 8 && sizeof(void *) == 8, "ttlog needs an LP64 target");

/*
 * Argument lists and per-argument expansion, for up to 16 arguments.
 *
 * Every list these macros take starts with a head (the format, a span's
 * name, a metric's value, or a placeholder) that is not itself expanded:
 * TTLOG__EACH(m, head, a, b) is m(1, a) m(2, b). A list is thus never
 * empty, which is what ISO C (c99/c11/c17) and ISO C++ (c++17/c++20)
 * preprocessors need: a call without arguments, such as TTLOG_INFO("x"),
 * then uses neither GNU's `, ##__VA_ARGS__` nor __VA_OPT__, and compiles
 * without a -pedantic warning in any of those modes. A trailing `~` keeps
 * the variable arguments of the helpers below non-empty too.
 */
#define TTLOG__CAT2(a, b) a##b
#define TTLOG__CAT(a, b) TTLOG__CAT2(a, b)
/* The number of arguments after the head. */
#define TTLOG__NREST(...) \
	TTLOG__NREST_(__VA_ARGS__, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, ~)
/* 0 if the list has no arguments after its head, else 1. */
#define TTLOG__ANY(...) \
	TTLOG__NREST_(__VA_ARGS__, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, ~)
#define TTLOG__NREST_(_0, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, _16, n, ...) n
/* The head, and the second element of a list of two or more. */
#define TTLOG__HEAD(...) TTLOG__HEAD_(__VA_ARGS__, ~)
#define TTLOG__HEAD_(h, ...) h
#define TTLOG__SECOND(...) TTLOG__SECOND_(__VA_ARGS__, ~)
#define TTLOG__SECOND_(h, a, ...) a
/* The list without its head; only for lists of two or more. */
#define TTLOG__REST(...) TTLOG__REST_(__VA_ARGS__)
#define TTLOG__REST_(h, ...) __VA_ARGS__
#define TTLOG__EACH(m, ...) TTLOG__CAT(TTLOG__EACH_, TTLOG__NREST(__VA_ARGS__))(m, __VA_ARGS__)
#define TTLOG__EACH_0(m, _)
#define TTLOG__EACH_1(m, _, a) m(1, a)
#define TTLOG__EACH_2(m, _, a, b) m(1, a) m(2, b)
#define TTLOG__EACH_3(m, _, a, b, c) TTLOG__EACH_2(m, _, a, b) m(3, c)
#define TTLOG__EACH_4(m, _, a, b, c, d) TTLOG__EACH_3(m, _, a, b, c) m(4, d)
#define TTLOG__EACH_5(m, _, a, b, c, d, e) TTLOG__EACH_4(m, _, a, b, c, d) m(5, e)
#define TTLOG__EACH_6(m, _, a, b, c, d, e, f) TTLOG__EACH_5(m, _, a, b, c, d, e) m(6, f)
#define TTLOG__EACH_7(m, _, a, b, c, d, e, f, g) TTLOG__EACH_6(m, _, a, b, c, d, e, f) m(7, g)
#define TTLOG__EACH_8(m, _, a, b, c, d, e, f, g, h) TTLOG__EACH_7(m, _, a, b, c, d, e, f, g) m(8, h)
#define TTLOG__EACH_9(m, _, a, b, c, d, e, f, g, h, i) \
	TTLOG__EACH_8(m, _, a, b, c, d, e, f, g, h) m(9, i)
#define TTLOG__EACH_10(m, _, a, b, c, d, e, f, g, h, i, j) \
	TTLOG__EACH_9(m, _, a, b, c, d, e, f, g, h, i) m(10, j)
#define TTLOG__EACH_11(m, _, a, b, c, d, e, f, g, h, i, j, k) \
	TTLOG__EACH_10(m, _, a, b, c, d, e, f, g, h, i, j) m(11, k)
#define TTLOG__EACH_12(m, _, a, b, c, d, e, f, g, h, i, j, k, l) \
	TTLOG__EACH_11(m, _, a, b, c, d, e, f, g, h, i, j, k) m(12, l)
#define TTLOG__EACH_13(m, _, a, b, c, d, e, f, g, h, i, j, k, l, n) \
	TTLOG__EACH_12(m, _, a, b, c, d, e, f, g, h, i, j, k, l) m(13, n)
#define TTLOG__EACH_14(m, _, a, b, c, d, e, f, g, h, i, j, k, l, n, o) \
	TTLOG__EACH_13(m, _, a, b, c, d, e, f, g, h, i, j, k, l, n) m(14, o)
#define TTLOG__EACH_15(m, _, a, b, c, d, e, f, g, h, i, j, k, l, n, o, p) \
	TTLOG__EACH_14(m, _, a, b, c, d, e, f, g, h, i, j, k, l, n, o) m(15, p)
#define TTLOG__EACH_16(m, _, a, b, c, d, e, f, g, h, i, j, k, l, n, o, p, q) \
	TTLOG__EACH_15(m, _, a, b, c, d, e, f, g, h, i, j, k, l, n, o, p) m(16, q)
/* ", a" per argument: inserts arguments between a list's head and the rest. */
#define TTLOG__COMMA_ARG(i, x) , x

#define TTLOG__ARG_DECL(i, x) TTLOG__AUTO ttlog__v##i = (x);

#define TTLOG__ARG_TEXT(i, x) #x "\0"

/*
 * The compiler checks the format against the arguments. TTLOG_F() fields
 * come after the format's arguments and would be "too many arguments for
 * format", so that one warning is off for the check (and only for it).
 */
#define TTLOG__CHECK_FORMAT(...)                                                \
	_Pragma("GCC diagnostic push")                                          \
	_Pragma("GCC diagnostic ignored \"-Wformat-extra-args\"")              \
	if (0)                                                                  \
		ttlog__check_format(__VA_ARGS__);                               \
	_Pragma("GCC diagnostic pop")
#define TTLOG__ARG_SUM(i, x) +TTLOG__ARG_SIZE(ttlog__n##i)
#define TTLOG__ARG_FSUM(i, x) +ttlog__n##i /* no flag on the inline path */

/*
 * One record of a call site, shared by log calls and context pushes: the
 * site's static data, its registration on the first call, then the record.
 * Record header: u32 size, u32 site id, u64 ticks (docs/FORMAT.md
 * "Records"). `break` leaves the caller's do-while: a disabled site, a site
 * that registers as disabled, a sampled call the sampler drops, or an event
 * the slow path drops. A record without arguments (only log calls have
 * none; their `after` is empty) is written by ttlog__write_empty(), whose
 * slow path also publishes it: its call site ends with that call. `after` runs
 * once the record is published, with ttlog__rec and ttlog__len naming it.
 * The arguments to record follow a head that is not recorded (see
 * TTLOG__EACH).
 */
#define TTLOG__RECORD(lvl, kind, fmt, text, after, ...)                                       \
	static const uint8_t ttlog__types[] = {TTLOG__EACH(TTLOG__ARG_TYPE, __VA_ARGS__) 0};    \
	static TTLOG__ATOMIC(uint64_t) ttlog__site_word;                                       \
	static struct ttlog_site ttlog__site = {                                               \
		&ttlog__site_word, (uint8_t)(lvl), (uint8_t)TTLOG__NREST(__VA_ARGS__), kind, 0, \
		__LINE__, ttlog__types, fmt, __FILE__, __func__, TTLOG__TARGET, text};         \
	uint64_t ttlog__word = TTLOG__LOAD(ttlog__site_word, relaxed);                         \
	if (TTLOG__UNLIKELY(!(ttlog__word & TTLOG__WORD_ENABLED))) {                           \
		if (TTLOG__LIKELY(ttlog__word & TTLOG__WORD_OFF))                              \
			break;                                                                 \
		if (TTLOG__NREST(__VA_ARGS__) == 0) {                                          \
			ttlog__register_write_empty(&ttlog__site);                             \
			break;                                                                 \
		}                                                                              \
		ttlog__word = ttlog__register(&ttlog__site);                                   \
		if (!(ttlog__word & 1u))                                                       \
			break;                                                                 \
	}                                                                                      \
	if (TTLOG__NREST(__VA_ARGS__) == 0) {                                                  \
		ttlog__write_empty(ttlog__word - 1u + 16u);                                    \
		break;                                                                         \
	}                                                                                      \
	struct ttlog__writer *ttlog__w = ttlog__tls_writer;                                    \
	TTLOG__EACH(TTLOG__ARG_DECL, __VA_ARGS__)                                              \
	TTLOG__EACH(TTLOG__ARG_LEN, __VA_ARGS__)                                               \
	const uint32_t ttlog__len = (16u TTLOG__EACH(TTLOG__ARG_SUM, __VA_ARGS__) + 7u) & ~7u;   \
	uint64_t ttlog__head;                                                                  \
	unsigned char *ttlog__p =                                                              \
		ttlog__reserve(&ttlog__w, ttlog__word - 1u + ttlog__len, ttlog__len, &ttlog__head); \
	if (TTLOG__UNLIKELY(!ttlog__p))                                                        \
		break;                                                                         \
	unsigned char *const ttlog__rec = ttlog__p;                                            \
	(void)ttlog__rec;                                                                      \
	ttlog__p += 16;                                                                        \
	TTLOG__EACH(TTLOG__ARG_PUT, __VA_ARGS__)                                               \
	(void)ttlog__p;                                                                        \
	ttlog__commit(ttlog__w, ttlog__head, ttlog__len);                                      \
	after;

/*
 * The record of a log call with arguments: only its common case inline,
 * everything else in one call that ends it (ttlog__log_slow()), so that a
 * site is small (docs/DESIGN.md, "What a call site costs in code").
 *
 * The word is tested first; a disabled site stops there. An unregistered or
 * sampled site asks ttlog__register() before its arguments are evaluated
 * (they are evaluated only if the call logs) and then goes to the slow call.
 * The inline code runs inside `switch (0)`: its `break` leaves the switch
 * for the slow call, which then writes the whole record, and its `continue`
 * leaves the caller's do-while once the record is published. Nothing is
 * written before the last test that may send the call to the slow call
 * (the reserve's), so the slow call starts from scratch. It takes:
 * a string that is NULL, truncated, shorter than 8 or longer than 32 bytes,
 * or whose terminator is not in the blocks scanned inline; a record that
 * does not fit below the writer's limit (segment switch, first ring, a
 * clock other than the CPU's counter); and the first call of a site and
 * every kept call of a sampled one.
 */
#define TTLOG__LOG_RECORD(lvl, fmt, text, ...)                                                 \
	static const uint8_t ttlog__types[] = {TTLOG__EACH(TTLOG__ARG_TYPE, __VA_ARGS__) 0};    \
	static TTLOG__ATOMIC(uint64_t) ttlog__site_word;                                       \
	static struct ttlog_site ttlog__site = {                                               \
		&ttlog__site_word, (uint8_t)(lvl), (uint8_t)TTLOG__NREST(__VA_ARGS__),          \
		TTLOG__KIND_LOG, 0, __LINE__, ttlog__types, fmt, __FILE__, __func__,           \
		TTLOG__TARGET, text};                                                          \
	const uint64_t ttlog__word0 = TTLOG__LOAD(ttlog__site_word, relaxed);                  \
	uint64_t ttlog__word = ttlog__word0;                                                   \
	if (TTLOG__UNLIKELY(!(ttlog__word & TTLOG__WORD_ENABLED))) {                           \
		if (TTLOG__LIKELY(ttlog__word & TTLOG__WORD_OFF))                              \
			break;                                                                 \
		ttlog__word = ttlog__register(&ttlog__site);                                   \
		if (!(ttlog__word & 1u))                                                       \
			break;                                                                 \
	}                                                                                      \
	TTLOG__EACH(TTLOG__ARG_DECL, __VA_ARGS__)                                              \
	switch (0) {                                                                           \
	default: {                                                                             \
		if (TTLOG__UNLIKELY(!(ttlog__word0 & TTLOG__WORD_ENABLED)))                    \
			break;                                                                 \
		struct ttlog__writer *const ttlog__w = ttlog__tls_writer;                      \
		TTLOG__EACH(TTLOG__ARG_FLEN, __VA_ARGS__)                                      \
		const uint32_t ttlog__len =                                                    \
			(16u TTLOG__EACH(TTLOG__ARG_FSUM, __VA_ARGS__) + 7u) & ~7u;             \
		const uint64_t ttlog__head = TTLOG__LOAD(ttlog__w->head, relaxed);             \
		if (TTLOG__UNLIKELY(ttlog__head + ttlog__len >                                 \
				    TTLOG__LOAD(ttlog__w->limit, relaxed)))                    \
			break;                                                                 \
		unsigned char *ttlog__p = (unsigned char *)(ttlog__w->base + ttlog__head);     \
		const uint64_t ttlog__hdr = ttlog__word - 1u + ttlog__len;                     \
		memcpy(ttlog__p, &ttlog__hdr, 8);                                              \
		TTLOG__STORE_TICKS(ttlog__p + 8);                                              \
		ttlog__p += 16;                                                                \
		TTLOG__EACH(TTLOG__ARG_FPUT, __VA_ARGS__)                                      \
		(void)ttlog__p;                                                                \
		ttlog__commit(ttlog__w, ttlog__head, ttlog__len);                              \
		continue;                                                                      \
	}                                                                                      \
	}                                                                                      \
	ttlog__log_slow(&ttlog__site, ttlog__word TTLOG__EACH(TTLOG__ARG_PASS, __VA_ARGS__));

/* The log call. A call without arguments keeps TTLOG__RECORD's path: its
 * whole record is inline, and its slow path one call that ends it. */
#define TTLOG__LOG(lvl, ...)                                                                  \
	do {                                                                                  \
		TTLOG__STATIC_ASSERT((lvl) >= TTLOG_LEVEL_TRACE && (lvl) <= TTLOG_LEVEL_FATAL, \
			       "ttlog: the level must be TTLOG_LEVEL_TRACE ... TTLOG_LEVEL_FATAL"); \
		if ((lvl) >= TTLOG_COMPILE_MIN_LEVEL) {                                       \
			TTLOG__CHECK_FORMAT(__VA_ARGS__);                                     \
			TTLOG__CAT(TTLOG__LOG_ARGS_, TTLOG__ANY(__VA_ARGS__))(lvl, __VA_ARGS__) \
		}                                                                              \
	} while (0)
#define TTLOG__LOG_ARGS_0(lvl, ...)                                                    \
	TTLOG__RECORD(lvl, TTLOG__KIND_LOG, TTLOG__HEAD(__VA_ARGS__), "", (void)0, __VA_ARGS__)
#define TTLOG__LOG_ARGS_1(lvl, ...)                                                    \
	TTLOG__LOG_RECORD(lvl, TTLOG__HEAD(__VA_ARGS__),                               \
			  TTLOG__EACH(TTLOG__ARG_TEXT, __VA_ARGS__) "", __VA_ARGS__)

/*
 * A context push: a record of one argument whose site is of kind
 * CONTEXT_PUSH (never disabled by levels), after which the library keeps a
 * copy of the record to re-state it. Evaluates to the thread's context
 * depth after the push, or 0 if nothing was pushed (ttlog is off).
 */
#define TTLOG__CONTEXT_PUSH(key, value)                                                      \
	__extension__({                                                                      \
		uint32_t ttlog__depth = 0;                                                   \
		do {                                                                         \
			TTLOG__RECORD(TTLOG_LEVEL_INFO, TTLOG__KIND_CONTEXT_PUSH, "" key, "",  \
				      ttlog__depth = ttlog__context_pushed(ttlog__rec, ttlog__len), \
				      0, value)                                               \
		} while (0);                                                                 \
		ttlog__depth;                                                                \
	})

/*
 * A span's begin: a record of a SPAN_BEGIN site (never disabled by levels)
 * with the ids as its first four arguments, the fields after them.
 * Evaluates to the thread's span depth after it, or 0 if nothing began.
 */
#define TTLOG__SPAN_BEGIN(...)                                                               \
	__extension__({                                                                      \
		struct ttlog__span_ids ttlog__ids;                                           \
		uint32_t ttlog__depth = ttlog__span_prepare(&ttlog__ids);                    \
		if (ttlog__ids.id)                                                           \
			do {                                                                 \
				TTLOG__CHECK_FORMAT(__VA_ARGS__);                            \
				TTLOG__RECORD(TTLOG_LEVEL_INFO, TTLOG__KIND_SPAN_BEGIN,      \
					      "" TTLOG__HEAD(__VA_ARGS__),                   \
					      "\0\0\0\0" TTLOG__EACH(TTLOG__ARG_TEXT, __VA_ARGS__) "", \
					      ttlog__depth = ttlog__span_begun(&ttlog__ids, ttlog__rec, \
									       ttlog__len), \
					      0, ttlog__ids.id, ttlog__ids.parent, ttlog__ids.trace_hi, \
					      ttlog__ids.trace_lo TTLOG__EACH(TTLOG__COMMA_ARG, __VA_ARGS__)) \
			} while (0);                                                         \
		ttlog__depth;                                                                \
	})

/* A field of the innermost span: a SPAN_FIELD record (span id, value). */
#define TTLOG__SPAN_FIELD(key, value)                                                       \
	do {                                                                                \
		uint64_t ttlog__span_id = ttlog__span_current();                            \
		if (!ttlog__span_id)                                                        \
			break;                                                              \
		TTLOG__RECORD(TTLOG_LEVEL_INFO, TTLOG__KIND_SPAN_FIELD, "" key, "\0\0", (void)0, \
			      0, ttlog__span_id, value)                                     \
	} while (0)
/* ---- 6c. Metrics ---------------------------------------------------------- */

TTLOG__EXTERN_C_BEGIN

/* Metric types; also stored in snapshot files (MTRC): never renumber. */
#define TTLOG__METRIC_COUNTER 1
#define TTLOG__METRIC_GAUGE 2
#define TTLOG__METRIC_HISTOGRAM 3

/*
 * A metric use: one static instance per TTLOG_COUNTER_ADD & co.
 *
 * `word`:
 *   0              not registered yet: the first update registers it
 *   bit 0 = 1      enabled; word - 1 is the byte offset of the metric's
 *                  slots in every thread's shard (a multiple of 8)
 *   2              disabled for good (a rule broken, or no room)
 */
struct ttlog_metric {
	TTLOG__ATOMIC(uint64_t) word;
	uint8_t type;                /* TTLOG__METRIC_* */
	uint8_t reserved[3];
	uint32_t line;
	const char *name;
	const char *labels;          /* "k=v\0k=v\0" and a final "\0": empty if none */
	const char *file;
};

/*
 * Histogram buckets (docs/FORMAT.md "MTRC"). A value v in (2^-24, 2^40]
 * goes to bucket 1 + (((bits(v) - 1) >> 46) - TTLOG__HIST_BIAS): the
 * exponent and the top 6 mantissa bits of the double just below v, so
 * that a bucket holds (L, U] and Prometheus' "le" bounds are exact.
 * Bucket 0 takes v <= 2^-24 (and NaN), bucket 4097 v > 2^40.
 */
#define TTLOG__HIST_SUB_BITS 6
#define TTLOG__HIST_MIN_EXP (-24)
#define TTLOG__HIST_MAX_EXP 40
#define TTLOG__HIST_RANGE 4096u                     /* regular buckets */
#define TTLOG__HIST_BUCKETS (TTLOG__HIST_RANGE + 2u) /* with under- and overflow */
#define TTLOG__HIST_SHIFT (52 - TTLOG__HIST_SUB_BITS)
#define TTLOG__HIST_BIAS ((uint64_t)(1023 + TTLOG__HIST_MIN_EXP) << TTLOG__HIST_SUB_BITS)
#define TTLOG__HIST_LOW 0x1p-24
/* Slots of a histogram: count, sum, min, max, then the buckets. */
#define TTLOG__HIST_SLOTS (4u + TTLOG__HIST_BUCKETS)
TTLOG__STATIC_ASSERT(TTLOG__HIST_RANGE ==
			     (uint32_t)(TTLOG__HIST_MAX_EXP - TTLOG__HIST_MIN_EXP) << TTLOG__HIST_SUB_BITS,
		     "one bucket per sub-bucket and power of two");

/* First update of a use: registers it and returns its word. */
TTLOG_API uint64_t ttlog__metric_register(struct ttlog_metric *metric);
/* First update of a thread since ttlog_init: returns its shard, or NULL
 * to drop the update (counted). */
TTLOG_API unsigned char *ttlog__metrics_attach(void);
/* A gauge's time when the CPU's counter is not the clock in use. */
TTLOG_API uint64_t ttlog__metric_ticks(void);
/* 1 while the CPU's counter is the clock (set by ttlog__metrics_attach). */
TTLOG_API extern TTLOG__ATOMIC(int) ttlog__metrics_inline_clock;

#define TTLOG__LABEL_TEXT(i, x) "" x "\0"

/* The part of an update shared by all types: the use's static data, its
 * registration, the thread's shard, and ttlog__slot naming the metric's
 * first slot. The arguments after the name are the value (the head of the
 * list, not used here) and the labels. `break` leaves the caller's
 * do-while. */
#define TTLOG__METRIC(type, name, ...)                                                         \
	static struct ttlog_metric ttlog__metric = {                                           \
		0u, (uint8_t)(type), {0, 0, 0}, __LINE__, "" name,                             \
		TTLOG__EACH(TTLOG__LABEL_TEXT, __VA_ARGS__) "", __FILE__};                    \
	uint64_t ttlog__mword = TTLOG__LOAD(ttlog__metric.word, relaxed);                      \
	if (TTLOG__UNLIKELY(!(ttlog__mword & 1u))) {                                           \
		ttlog__mword = ttlog__metric_register(&ttlog__metric);                          \
		if (!(ttlog__mword & 1u))                                                       \
			break;                                                                  \
	}                                                                                      \
	unsigned char *ttlog__shard = TTLOG__LOAD(ttlog__tls_writer->metrics, relaxed);       \
	if (TTLOG__UNLIKELY(!ttlog__shard)) {                                                  \
		ttlog__shard = ttlog__metrics_attach();                                         \
		if (!ttlog__shard)                                                              \
			break;                                                                  \
	}                                                                                      \
	TTLOG__ATOMIC(uint64_t) *const ttlog__slot =                                           \
		(TTLOG__ATOMIC(uint64_t) *)(void *)(ttlog__shard + (ttlog__mword - 1u));

/*
 * Slots have one writer, the shard's thread, and are read by snapshots and
 * ttlog_metrics_write_prometheus() from any thread: relaxed atomic loads
 * and stores, plain moves on x86-64, and never a locked instruction.
 */
TTLOG__INLINE uint64_t ttlog__metric_bits(double v)
{
	uint64_t b;
	memcpy(&b, &v, 8);
	return b;
}
TTLOG__INLINE double ttlog__metric_double(uint64_t b)
{
	double v;
	memcpy(&v, &b, 8);
	return v;
}

/* Gauge slots: value, then the ticks of the set (0: never set). */
TTLOG__INLINE void ttlog__gauge_set(TTLOG__ATOMIC(uint64_t) *s, double v)
{
	uint64_t t;
	if (TTLOG__LIKELY(TTLOG__LOAD(ttlog__metrics_inline_clock, relaxed)))
		TTLOG__STORE_TICKS((unsigned char *)&t);
	else
		t = ttlog__metric_ticks();
	TTLOG__STORE(s[0], ttlog__metric_bits(v), relaxed);
	/* LMM(gauge:A) The value is stored before its time. Pairs with
	 * LMM(gauge:B) in src/metrics/sum.c: a reader that loads this time
	 * loads this value or a newer one, never an older one. */
	TTLOG__STORE(s[1], t, release);
}

TTLOG__INLINE void ttlog__histogram_record(TTLOG__ATOMIC(uint64_t) *s, double v)
{
	uint64_t b = ttlog__metric_bits(v);
	uint64_t t = ((b - 1u) >> TTLOG__HIST_SHIFT) - TTLOG__HIST_BIAS;
	uint64_t i = t < TTLOG__HIST_RANGE ? t + 1u : v > TTLOG__HIST_LOW ? TTLOG__HIST_RANGE + 1u : 0u;
	uint64_t c = TTLOG__LOAD(s[0], relaxed);
	uint64_t mnb = TTLOG__LOAD(s[2], relaxed), mxb = TTLOG__LOAD(s[3], relaxed);
	/* The first value sets min and max (the slots start at 0). No branch
	 * on the value: compilers turn these selects into branches on x86-64
	 * once the results are stored as bits, so minsd and maxsd are spelt
	 * out there (same results: mn < v ? mn : v and mx > v ? mx : v). */
	double mn = ttlog__metric_double(c ? mnb : b), mx = ttlog__metric_double(c ? mxb : b);
#if defined(__x86_64__)
	__asm__("minsd %1, %0" : "+x"(mn) : "x"(v));
	__asm__("maxsd %1, %0" : "+x"(mx) : "x"(v));
#else
	mn = mn < v ? mn : v;
	mx = mx > v ? mx : v;
#endif
	double sum = ttlog__metric_double(TTLOG__LOAD(s[1], relaxed)) + v;
	TTLOG__STORE(s[0], c + 1u, relaxed);
	TTLOG__STORE(s[1], ttlog__metric_bits(sum), relaxed);
	TTLOG__STORE(s[2], ttlog__metric_bits(mn), relaxed);
	TTLOG__STORE(s[3], ttlog__metric_bits(mx), relaxed);
	TTLOG__STORE(s[4 + i], TTLOG__LOAD(s[4 + i], relaxed) + 1u, relaxed);
}

#endif /* TTLOG_IMPL_H */
