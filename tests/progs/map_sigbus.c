/* SPDX-License-Identifier: MIT */
/*
 * map_sigbus.c - a SIGBUS that is not a reader's, in a program that has
 * switched mapping on (ttlog_reader_map_files(); tests/test_reader_map.c).
 *
 *   map_sigbus fault PATH              maps a file of its own at PATH,
 *                                      shortens it and touches the page
 *                                      that is gone: must die of SIGBUS
 *   map_sigbus fault-own-handler PATH  the same with a SIGBUS handler of
 *                                      its own installed first, which
 *                                      exits 42
 *   map_sigbus kill PATH               sends itself SIGBUS: must die of it
 *
 * Exits 3..6 when something else goes wrong (6: it lived on).
 */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ttlog_reader.h"

static void on_own_sigbus(int sig)
{
	(void)sig;
	_exit(42);
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	if (strcmp(argv[1], "fault-own-handler") == 0)
		signal(SIGBUS, on_own_sigbus);
	if (ttlog_reader_map_files() != TTLOG_OK)
		return 3;
	if (strcmp(argv[1], "kill") == 0) {
		kill(getpid(), SIGBUS);
		return 6;
	}
	long page = sysconf(_SC_PAGESIZE);
	int fd = open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, 2 * page) != 0)
		return 4;
	volatile unsigned char *p = mmap(NULL, (size_t)(2 * page), PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED || ftruncate(fd, 0) != 0)
		return 5;
	(void)p[page];
	return 6;
}
