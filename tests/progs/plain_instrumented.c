/* SPDX-License-Identifier: MIT */
/*
 * plain_instrumented.c - a program that knows nothing of ttlog, built
 * with -finstrument-functions and -rdynamic (tests/CMakeLists.txt), for
 * `ttlog run --instrument` (tests/instrument.sh): main -> first -> second
 * -> third, where third() dies of SIGSEGV, or, with argument "exit",
 * returns and the program exits 0.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

volatile int sink;
static int crash = 1;

__attribute__((noinline)) void third(void);
__attribute__((noinline)) void second(void);
__attribute__((noinline)) void first(void);

__attribute__((noinline)) void third(void)
{
	sink++;
	fprintf(stderr, "third reached\n");
	if (crash)
		raise(SIGSEGV);
}

__attribute__((noinline)) void second(void)
{
	third();
}

__attribute__((noinline)) void first(void)
{
	second();
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "exit") == 0)
		crash = 0;
	first();
	return 0;
}
