/*
 * cli.h - what the source files of the `ttlog` command share: exit codes,
 * the subcommand entry points, stdout error tracking and a growable byte
 * buffer that output lines are built in.
 *
 * The command is a client of the public reader API (<ttlog_reader.h>) and of
 * nothing else in the library: it must build against the installed headers.
 */
#ifndef TTLOG_CLI_CLI_H
#define TTLOG_CLI_CLI_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Exit codes of every subcommand. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_USAGE 1 /* bad option, argument or command line */
#define CLI_EXIT_DATA 2  /* a file could not be read completely, or output failed */

/* ---- Subcommands (one file each) ---------------------------------------- */

/** `ttlog view`: argv[0] is "view". Returns an exit code. */
int cli_view_main(int argc, char **argv);
/** Writes the help text of `ttlog view` to out. */
void cli_view_usage(FILE *out);

/** `ttlog ls`: argv[0] is "ls". Returns an exit code. */
int cli_ls_main(int argc, char **argv);
/** Writes the help text of `ttlog ls` to out. */
void cli_ls_usage(FILE *out);

/** `ttlog stats`: argv[0] is "stats". Returns an exit code. */
int cli_stats_main(int argc, char **argv);
/** Writes the help text of `ttlog stats` to out. */
void cli_stats_usage(FILE *out);
/** `ttlog query`: argv[0] is "query". Returns an exit code. */
int cli_query_main(int argc, char **argv);
/** Writes the help text of `ttlog query` to out. */
void cli_query_usage(FILE *out);
/** `ttlog export`: argv[0] is "export". Returns an exit code. */
int cli_export_main(int argc, char **argv);
/** Writes the help text of `ttlog export` to out. */
void cli_export_usage(FILE *out);
/** `ttlog snap`: argv[0] is "snap". Returns an exit code. */
int cli_snap_main(int argc, char **argv);
/** Writes the help text of `ttlog snap` to out. */
void cli_snap_usage(FILE *out);
/** `ttlog recover`: argv[0] is "recover". Returns an exit code. */
int cli_recover_main(int argc, char **argv);
/** Writes the help text of `ttlog recover` to out. */
void cli_recover_usage(FILE *out);

/* ---- stdout (main.c) ---------------------------------------------------- */

/**
 * Returns 0 while stdout has had no write error. After the first error it
 * remembers errno and returns -1: the caller stops producing output and
 * lets main() report it (quietly for a closed pipe, EPIPE).
 */
int cli_stdout_failed(void);

/** Flushes stdout before a message on stderr, so that both keep their order. */
void cli_sync_stdout(void);

/* ---- Growable buffer (linebuf.c) ---------------------------------------- */

/*
 * A byte buffer that grows as needed; data is always NUL-terminated once
 * anything was added. Running out of memory ends the program with a message
 * (exit code CLI_EXIT_DATA): a viewer has nothing sensible to fall back on.
 */
struct cli_buf {
	char *data;
	size_t len;
	size_t cap;
};

/** Makes room for at least `extra` more bytes plus a terminating NUL. */
void cli_buf_reserve(struct cli_buf *b, size_t extra);
void cli_buf_reset(struct cli_buf *b);
void cli_buf_free(struct cli_buf *b);

/* The appends are inline: an event's line is built from dozens of small
 * pieces, and a call plus cli_buf_reserve() for each was a good part of
 * the cost of printing it. Only a buffer that must grow calls out. */

/** Appends n bytes. */
static inline void cli_buf_put(struct cli_buf *b, const void *bytes, size_t n)
{
	if (b->cap - b->len <= n) /* room for n bytes and the NUL? */
		cli_buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, bytes, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/** Appends one byte. */
static inline void cli_buf_putc(struct cli_buf *b, char c)
{
	if (b->cap - b->len <= 1)
		cli_buf_reserve(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

/** Appends a NUL-terminated string (a literal's length is known when
 *  compiling). */
static inline void cli_buf_puts(struct cli_buf *b, const char *s)
{
	cli_buf_put(b, s, strlen(s));
}

/* ---- Eight bytes at a time ----------------------------------------------
 * The text and JSON escapers copy runs of ordinary bytes and only look at
 * a byte on its own when a word of eight holds one that may need escaping.
 * These are the usual carry tricks; as yes/no answers they are exact (a
 * borrow can mark a byte above a real hit, never a word without one). */
#define CLI_WORD_ONES UINT64_C(0x0101010101010101)
#define CLI_WORD_HIGHS UINT64_C(0x8080808080808080)

/** Nonzero if a byte of w is below n (n <= 128). */
static inline uint64_t cli_word_has_below(uint64_t w, unsigned n)
{
	return (w - CLI_WORD_ONES * n) & ~w & CLI_WORD_HIGHS;
}

/** Nonzero if a byte of w equals c. */
static inline uint64_t cli_word_has(uint64_t w, unsigned char c)
{
	return cli_word_has_below(w ^ (CLI_WORD_ONES * c), 1);
}

/**
 * The number of leading bytes of p (len of them) in which look() finds
 * nothing to look at, word by word: a multiple of 8, or len when it finds
 * nothing at all. The last, short word is padded with 'a', which look()
 * must take as plain. Inline, so that look() is too.
 */
static inline size_t cli_plain_prefix(const void *p, size_t len, uint64_t (*look)(uint64_t))
{
	const unsigned char *s = p;
	size_t i = 0;
	uint64_t w;

	for (; len - i >= 8; i += 8) {
		memcpy(&w, s + i, sizeof w);
		if (look(w))
			return i;
	}
	if (i < len) {
		w = CLI_WORD_ONES * 'a';
		memcpy(&w, s + i, len - i);
		if (look(w))
			return i;
	}
	return len;
}

/** Writes v in decimal and a NUL to out (CLI_INT_BUF bytes, or 21 for an
 *  unsigned value); returns the length. */
#define CLI_INT_BUF 22 /* a sign, 20 digits and the NUL */
size_t cli_u64_text(uint64_t v, char *out);
size_t cli_i64_text(int64_t v, char out[CLI_INT_BUF]);
/** Appends v in decimal. */
void cli_buf_put_u64(struct cli_buf *b, uint64_t v);
void cli_buf_put_i64(struct cli_buf *b, int64_t v);
void cli_buf_printf(struct cli_buf *b, const char *format, ...)
	__attribute__((format(printf, 2, 3)));
void cli_buf_vprintf(struct cli_buf *b, const char *format, va_list ap)
	__attribute__((format(printf, 2, 0)));
/** Writes the buffer to f; returns 0, or -1 on a write error. */
int cli_buf_write(const struct cli_buf *b, FILE *f);

/** realloc() that ends the program when memory runs out. */
void *cli_xrealloc(void *p, size_t size);

#endif /* TTLOG_CLI_CLI_H */
