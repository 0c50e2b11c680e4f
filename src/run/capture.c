/* SPDX-License-Identifier: MIT */
/*
 * capture.c - lines written to stderr (and stdout with --stdout) become
 * events, while the bytes reach the same file descriptor, in the same
 * order, with the same buffering as without the shim.
 *
 * Why not a pipe: a pipe read by a thread (or by `ttlog run`) turns the
 * program's stdout and stderr into two streams that are read in some
 * order, so their lines interleave differently on the terminal than they
 * were written, and isatty() becomes false. Instead every write is still
 * made by the program's own thread, synchronously, and the shim looks at
 * the bytes on their way:
 *
 *   - write(2) and writev(2) called through the dynamic linker (the
 *     program's own calls, a shell's output) are interposed: the real call
 *     is made first, and the bytes it wrote are handed to the line
 *     assembler when the descriptor is 1 or 2;
 *   - glibc's stdio writes through internal calls that no interposer sees,
 *     so the streams stdout and stderr are replaced, at start, by
 *     fopencookie() streams whose write function does the real write(2)
 *     and hands the bytes on. They keep stdio's buffering: stderr
 *     unbuffered; stdout line-buffered on a terminal and fully buffered
 *     (st_blksize) otherwise, as glibc would. fileno() of either gives 1
 *     or 2, so isatty(fileno(stdout)) and friends are unchanged;
 *   - dprintf(3) and vdprintf(3) (glibc writes them internally too) are
 *     formatted here and written through the interposed path.
 *
 * The line assembler keeps, per thread and descriptor, the line being
 * written (up to LINE_MAX_BYTES; a longer line becomes several events). A
 * line becomes an event at its newline, or when the program exits (the
 * destructor), with its trailing '\r' dropped. No lock: lines of different
 * threads never mix. What this does not see (also in README.md, "Programs not written for ttlog"): bytes written
 * by glibc itself through its internal calls (abort's "*** ... ***"
 * messages), streams made with fdopen(1)/fdopen(2), C++ iostreams
 * initialised before the shim, a stream reopened with freopen(), raw
 * syscalls, and a line not finished when the program crashes.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ttlog.h"

#include "shim.h"

#define LINE_MAX_BYTES 2048

struct line {
	size_t len;
	char text[LINE_MAX_BYTES + 1];
};

/* [0] stdout, [1] stderr. */
static __thread struct line lines[2] __attribute__((tls_model("initial-exec")));
/* Non-zero while this thread assembles or logs a line: a signal handler
 * that writes meanwhile (or a crash inside) is not captured, so that the
 * line buffer and the log call are never re-entered on one thread. */
static __thread volatile sig_atomic_t capturing __attribute__((tls_model("initial-exec")));

static FILE *cookie_stdout, *cookie_stderr;

typedef ssize_t write_fn(int, const void *, size_t);
typedef ssize_t writev_fn(int, const struct iovec *, int);
typedef int fileno_fn(FILE *);
typedef int vdprintf_fn(int, const char *, va_list);
typedef int vdprintf_chk_fn(int, int, const char *, va_list);

static write_fn *real_write_fn;
static writev_fn *real_writev_fn;
static fileno_fn *real_fileno_fn, *real_fileno_unlocked_fn;
static vdprintf_fn *real_vdprintf_fn;
static vdprintf_chk_fn *real_vdprintf_chk_fn;

/* Runs in signal context (after the constructor has looked write up). */
ssize_t run_real_write(int fd, const void *buf, size_t n)
{
	if (!real_write_fn)
		real_write_fn = (write_fn *)dlsym(RTLD_NEXT, "write");
	if (!real_write_fn)
		return syscall(SYS_write, fd, buf, n);
	return real_write_fn(fd, buf, n);
}

static void line_end(int fd, struct line *l)
{
	if (l->len > 0 && l->text[l->len - 1] == '\r')
		l->len--;
	l->text[l->len] = '\0';
	if (fd == 1)
		run_emit(RUN_SOURCE_STDOUT, TTLOG_LEVEL_INFO, l->text);
	else
		run_emit(RUN_SOURCE_STDERR, run_stderr_level(l->text), l->text);
	l->len = 0;
}

void run_capture_bytes(int fd, const char *buf, size_t n)
{
	if (!run_active || run_quiet || capturing || (fd != 1 && fd != 2) ||
	    (fd == 1 && !run_capture_stdout))
		return;
	/* ttlog's crash handlers run on the alternate signal stack: what
	 * they write on stderr is not captured (no regexec, no log call in
	 * the crash path). One system call per write to 1 or 2. */
	stack_t ss;
	if (sigaltstack(NULL, &ss) == 0 && (ss.ss_flags & SS_ONSTACK))
		return;
	capturing = 1;
	struct line *l = &lines[fd - 1];
	while (n > 0) {
		const char *nl = memchr(buf, '\n', n);
		size_t take = nl ? (size_t)(nl - buf) : n;
		size_t room = LINE_MAX_BYTES - l->len;
		if (take > room)
			take = room;
		memcpy(l->text + l->len, buf, take);
		l->len += take;
		buf += take;
		n -= take;
		if (n > 0 && *buf == '\n') {
			buf++;
			n--;
			line_end(fd, l);
		} else if (l->len == LINE_MAX_BYTES) {
			line_end(fd, l);
		}
	}
	capturing = 0;
}

/*
 * Runs in signal context: the crash path writes its files and its one
 * line on stderr through write(2), which resolves to this. A descriptor
 * other than 1 and 2 costs one compare; on 1 and 2, a write made on the
 * alternate signal stack (a crash handler) or one that interrupts a
 * capture on the same thread is not captured (run_capture_bytes()).
 */
RUN_INTERPOSE ssize_t write(int fd, const void *buf, size_t n)
{
	ssize_t r = run_real_write(fd, buf, n);
	if (r > 0 && (fd == 1 || fd == 2)) {
		int saved = errno;
		run_capture_bytes(fd, buf, (size_t)r);
		errno = saved;
	}
	return r;
}

RUN_INTERPOSE ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
	if (!real_writev_fn)
		real_writev_fn = (writev_fn *)dlsym(RTLD_NEXT, "writev");
	ssize_t r = real_writev_fn ? real_writev_fn(fd, iov, iovcnt)
				   : syscall(SYS_writev, fd, iov, iovcnt);
	if (r > 0 && (fd == 1 || fd == 2)) {
		int saved = errno;
		size_t left = (size_t)r;
		for (int i = 0; i < iovcnt && left > 0; i++) {
			size_t take = iov[i].iov_len < left ? iov[i].iov_len : left;
			run_capture_bytes(fd, iov[i].iov_base, take);
			left -= take;
		}
		errno = saved;
	}
	return r;
}

/* ---- The replaced stdio streams ------------------------------------------ */

static ssize_t cookie_write(void *cookie, const char *buf, size_t size)
{
	int fd = (int)(intptr_t)cookie;
	ssize_t r = run_real_write(fd, buf, size);
	if (r <= 0)
		return 0; /* stdio's cookie protocol: 0 is an error, errno kept */
	int saved = errno;
	run_capture_bytes(fd, buf, (size_t)r);
	errno = saved;
	return r;
}

static int cookie_seek(void *cookie, off64_t *offset, int whence)
{
	off_t r = lseek((int)(intptr_t)cookie, (off_t)*offset, whence);
	if (r < 0)
		return -1;
	*offset = r;
	return 0;
}

static int cookie_close(void *cookie)
{
	return close((int)(intptr_t)cookie);
}

static FILE *replace(FILE *old, int fd, int mode)
{
	cookie_io_functions_t io = {.write = cookie_write, .seek = cookie_seek, .close = cookie_close};
	FILE *f = fopencookie((void *)(intptr_t)fd, "w", io);
	if (!f)
		return old;
	size_t size = BUFSIZ;
	struct stat st;
	if (mode != _IONBF && fstat(fd, &st) == 0 && st.st_blksize > 0)
		size = (size_t)st.st_blksize;
	if (setvbuf(f, NULL, mode, mode == _IONBF ? 0 : size) != 0) {
		fclose(f);
		return old;
	}
	fflush(old);
	return f;
}

/*
 * The C library's functions are looked up here, before ttlog_init()
 * installs the crash handlers (which reach write()) and before the
 * program's main() and its threads; a call made earlier (another library's
 * constructor) looks its own up, still single-threaded.
 */
void run_capture_resolve(void)
{
	real_write_fn = (write_fn *)dlsym(RTLD_NEXT, "write");
	real_writev_fn = (writev_fn *)dlsym(RTLD_NEXT, "writev");
	real_fileno_fn = (fileno_fn *)dlsym(RTLD_NEXT, "fileno");
	real_fileno_unlocked_fn = (fileno_fn *)dlsym(RTLD_NEXT, "fileno_unlocked");
	real_vdprintf_fn = (vdprintf_fn *)dlsym(RTLD_NEXT, "vdprintf");
	real_vdprintf_chk_fn = (vdprintf_chk_fn *)dlsym(RTLD_NEXT, "__vdprintf_chk");
}

void run_capture_init(void)
{
	if (run_capture_stdout) {
		cookie_stdout = replace(stdout, 1, isatty(1) ? _IOLBF : _IOFBF);
		stdout = cookie_stdout;
	}
	cookie_stderr = replace(stderr, 2, _IONBF);
	stderr = cookie_stderr;
}

void run_capture_flush(void)
{
	if (!run_active)
		return;
	/* NULL, not stdout: the program may have closed it (coreutils'
	 * close_stdout() does, at exit), and only the list of open streams
	 * is safe to walk then. */
	fflush(NULL);
	if (capturing)
		return;
	for (int i = 0; i < 2; i++)
		if (lines[i].len > 0)
			line_end(i + 1, &lines[i]);
}

RUN_INTERPOSE int fileno(FILE *f)
{
	if (f && f == cookie_stdout)
		return 1;
	if (f && f == cookie_stderr)
		return 2;
	if (!real_fileno_fn)
		real_fileno_fn = (fileno_fn *)dlsym(RTLD_NEXT, "fileno");
	return real_fileno_fn(f);
}

RUN_INTERPOSE int fileno_unlocked(FILE *f)
{
	if (f && f == cookie_stdout)
		return 1;
	if (f && f == cookie_stderr)
		return 2;
	if (!real_fileno_unlocked_fn)
		real_fileno_unlocked_fn = (fileno_fn *)dlsym(RTLD_NEXT, "fileno_unlocked");
	return real_fileno_unlocked_fn(f);
}

/* ---- dprintf ------------------------------------------------------------- */

static int write_all(int fd, const char *text, int len)
{
	int done = 0;
	while (done < len) {
		ssize_t r = write(fd, text + done, (size_t)(len - done));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += (int)r;
	}
	return len;
}

extern int __vasprintf_chk(char **out, int flag, const char *fmt, va_list ap);

static int formatted_write(int fd, int flag, const char *fmt, va_list ap)
{
	char *text = NULL;
	int len = flag < 0 ? vasprintf(&text, fmt, ap) : __vasprintf_chk(&text, flag, fmt, ap);
	if (len < 0)
		return -1;
	int r = write_all(fd, text, len);
	free(text);
	return r;
}

RUN_INTERPOSE int vdprintf(int fd, const char *fmt, va_list ap)
{
	if (fd == 1 || fd == 2)
		return formatted_write(fd, -1, fmt, ap);
	if (!real_vdprintf_fn)
		real_vdprintf_fn = (vdprintf_fn *)dlsym(RTLD_NEXT, "vdprintf");
	return real_vdprintf_fn(fd, fmt, ap);
}

RUN_INTERPOSE int dprintf(int fd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vdprintf(fd, fmt, ap);
	va_end(ap);
	return r;
}

int __vdprintf_chk(int fd, int flag, const char *fmt, va_list ap);
int __dprintf_chk(int fd, int flag, const char *fmt, ...);

RUN_INTERPOSE int __vdprintf_chk(int fd, int flag, const char *fmt, va_list ap)
{
	if (fd == 1 || fd == 2)
		return formatted_write(fd, flag, fmt, ap);
	if (!real_vdprintf_chk_fn)
		real_vdprintf_chk_fn = (vdprintf_chk_fn *)dlsym(RTLD_NEXT, "__vdprintf_chk");
	return real_vdprintf_chk_fn(fd, flag, fmt, ap);
}

RUN_INTERPOSE int __dprintf_chk(int fd, int flag, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = __vdprintf_chk(fd, flag, fmt, ap);
	va_end(ap);
	return r;
}
