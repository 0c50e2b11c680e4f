/* SPDX-License-Identifier: MIT */
/*
 * many_sites.c - a program with 24 distinct log call sites, for
 * tests/many_sites.sh: more sites than the TTLOG_MAX_SITES the test gives
 * it, so that the sites past the limit are disabled and counted.
 *
 * Usage: many_sites N
 *   Starts ttlog (TTLOG_DIR and TTLOG_MAX_SITES from the environment),
 *   calls sites 0 .. N-1 (N at most 24) in that order, each three times
 *   ("site K call C", C = 1 to 3), then writes one snapshot (reason
 *   "sites") and prints "dropped_sites=D" (ttlog_get_stats()).
 * Exit status: 0 done, 1 usage, 2 ttlog_init failed (its message on
 * stderr), 3 the snapshot or the statistics failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ttlog.h>

#define MS_SITES 24

/* One function per site: each TTLOG_INFO is its own call site. */
#define MS_SITE(k)                                              \
	static void site_##k(int call)                          \
	{                                                       \
		TTLOG_INFO("site " #k " call %d", call);        \
	}
MS_SITE(0) MS_SITE(1) MS_SITE(2) MS_SITE(3) MS_SITE(4) MS_SITE(5)
MS_SITE(6) MS_SITE(7) MS_SITE(8) MS_SITE(9) MS_SITE(10) MS_SITE(11)
MS_SITE(12) MS_SITE(13) MS_SITE(14) MS_SITE(15) MS_SITE(16) MS_SITE(17)
MS_SITE(18) MS_SITE(19) MS_SITE(20) MS_SITE(21) MS_SITE(22) MS_SITE(23)

static void (*const sites[MS_SITES])(int) = {
	site_0,  site_1,  site_2,  site_3,  site_4,  site_5,  site_6,  site_7,
	site_8,  site_9,  site_10, site_11, site_12, site_13, site_14, site_15,
	site_16, site_17, site_18, site_19, site_20, site_21, site_22, site_23,
};

int main(int argc, char **argv)
{
	char *end;
	long n = argc == 2 ? strtol(argv[1], &end, 10) : -1;
	if (argc != 2 || *end || n < 1 || n > MS_SITES) {
		fprintf(stderr, "usage: many_sites N (1 to %d)\n", MS_SITES);
		return 1;
	}
	int rc = ttlog_init(NULL);
	if (rc != TTLOG_OK) {
		fprintf(stderr, "many_sites: ttlog_init: %s\n", ttlog_init_error());
		return 2;
	}
	for (long k = 0; k < n; k++)
		for (int call = 1; call <= 3; call++)
			sites[k](call);
	struct ttlog_stats st;
	if (ttlog_snapshot("sites") != TTLOG_OK || ttlog_get_stats(&st) != TTLOG_OK) {
		fprintf(stderr, "many_sites: snapshot or statistics failed\n");
		return 3;
	}
	printf("dropped_sites=%llu\n", (unsigned long long)st.dropped_sites);
	ttlog_shutdown();
	return 0;
}
