/* SPDX-License-Identifier: MIT */
/*
 * bench_seal.c - ttlog-bench-seal: what encryption at rest adds to writing
 * a snapshot, measured alone: the bytes of an 8 MiB snapshot (1 963 056,
 * the file ttlog-bench-snapshot writes for 8 x 1 MiB of rings) put through
 * the writer's output buffer (64 KiB, as the snapshot workspace's) to
 * /dev/null, plainly and through the encrypting sink (src/snapshot/seal.c:
 * the per-file keys and sealed key, then 16 KiB secretstream messages and
 * the final one). Median of 21 of each, interleaved, in thread CPU time
 * (CLOCK_THREAD_CPUTIME_ID, so that other load on the machine counts
 * little) and wall time. It links the static libraries for the internal
 * functions, as ttlog-bench-retention does.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_common.h"
#include "common/sigsafe.h"
#include "snapshot/seal.h"

#define FILE_BYTES 1963056u
#define RUNS 21

static double cpu_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static unsigned char out[64 << 10];

/* One file's bytes through the buffer; sealed with s if not NULL. */
static void write_file(int fd, const unsigned char *p, struct ttlog__seal *s)
{
	struct ttlog__fdbuf f = {.fd = fd, .buf = out, .cap = sizeof out};
	if (s)
		ttlog__seal_begin(s, &f);
	for (size_t off = 0; off < FILE_BYTES; off += 4096)
		ttlog__fdbuf_put(&f, p + off, FILE_BYTES - off < 4096 ? FILE_BYTES - off : 4096);
	ttlog__fdbuf_flush(&f);
	if (s)
		ttlog__seal_end(s, &f);
	if (f.failed)
		bench_die("writing to /dev/null failed");
}

int main(int argc, char **argv)
{
	struct bench_opts o;
	bench_parse(argc, argv,
		    "Times 1 963 056 bytes (an 8 MiB snapshot's file) through the writer's\n"
		    "output buffer to /dev/null, plain and encrypted (--encrypt PREFIX: the\n"
		    "public key PREFIX.pub of 'ttlog keygen'; required). Median of 21, thread\n"
		    "CPU time and wall time.",
		    &o);
	if (!o.encrypt)
		bench_die("--encrypt PREFIX is required (make a key with 'ttlog keygen -o PREFIX')");
	char pub[4096], err[512];
	snprintf(pub, sizeof pub, "%s.pub", o.encrypt);
	if (ttlog__seal_configure(pub, err, sizeof err) != 0)
		bench_die("%s", err);
	struct ttlog__seal *s = calloc(1, sizeof *s);
	unsigned char *p = malloc(FILE_BYTES);
	if (!s || !p)
		bench_die("out of memory");
	for (size_t i = 0; i < FILE_BYTES; i++)
		p[i] = (unsigned char)(i * 2654435761u >> 13);
	ttlog__seal_seed(s);
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		bench_die("/dev/null: cannot open");
	double cpu[2][RUNS], wall[2][RUNS];
	for (int r = 0; r < RUNS; r++)
		for (int sealed = 0; sealed < 2; sealed++) {
			double c0 = cpu_ms();
			int64_t w0 = bench_now_ns();
			write_file(fd, p, sealed ? s : NULL);
			wall[sealed][r] = (double)(bench_now_ns() - w0) / 1e6;
			cpu[sealed][r] = cpu_ms() - c0;
		}
	printf("{\"bench\":\"seal\",\"bytes\":%u,\"plain_cpu_ms\":%.3f,\"sealed_cpu_ms\":%.3f,"
	       "\"plain_wall_ms\":%.3f,\"sealed_wall_ms\":%.3f}\n",
	       FILE_BYTES, bench_median(cpu[0], RUNS), bench_median(cpu[1], RUNS),
	       bench_median(wall[0], RUNS), bench_median(wall[1], RUNS));
	close(fd);
	free(p);
	free(s);
	return 0;
}
