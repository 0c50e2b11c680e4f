/* SPDX-License-Identifier: MIT */
/*
 * redact_secrets.c - logs secrets in fields and arguments for the test of
 * TTLOG_REDACT (tests/redact.sh), takes a snapshot and exits normally
 * (which closes a stream's segment). The configuration comes from the
 * environment (TTLOG_REDACT, TTLOG_COMPRESSION, TTLOG_STREAM, ...).
 *
 * Usage: redact_secrets DIR
 *        redact_secrets wait EVENTS
 *
 * With wait (for `ttlog snap` and `ttlog recover` in shared-memory mode,
 * tests/redact_shm.sh, through tests/support/logger_lib.sh): the snapshot
 * directory comes from TTLOG_DIR; after logging, it writes "ready PID
 * EVENTS" (EVENTS must be 500) and waits for the end of its input.
 *
 * The secrets: the password field (key= in the format), the card_number
 * and token fields (TTLOG_F), the number in the ssn field, and the second
 * argument of the "db connect" call (by position). The user name and the
 * host are not secret and must stay. For the re: patterns
 * (tests/redact_re.sh): a card number inside the order note and an AWS
 * key id inside the env field, with text around them that must stay.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ttlog.h"

int main(int argc, char **argv)
{
	int wait = argc == 3 && strcmp(argv[1], "wait") == 0 && strcmp(argv[2], "500") == 0;
	if (argc != 2 && !wait) {
		fprintf(stderr, "usage: redact_secrets DIR | redact_secrets wait 500\n");
		return 2;
	}
	struct ttlog_config cfg;
	ttlog_config_init(&cfg);
	if (!wait)
		cfg.dir = argv[1];
	cfg.crash_signals = -1;
	int rc = ttlog_init(&cfg);
	if (rc != TTLOG_OK) {
		fprintf(stderr, "redact_secrets: ttlog_init: %s\n", ttlog_init_error());
		return 1;
	}
	for (int i = 0; i < 500; i++) {
		TTLOG_INFO("auth.login ok user=%s password=%s", "alice", "hunter2-SECRET-PW");
		TTLOG_INFO("payment", TTLOG_F("card_number", "4111111111111111"), TTLOG_F("amount", i));
		TTLOG_INFO("token issued", TTLOG_F("token", "tok_SECRET_ABC123"));
		TTLOG_WARN("ssn check ssn=%d", 987654321);
		TTLOG_INFO("db connect %s as %s", "db.example.org", "DBPASS-SECRET-XYZ"); /* REDACT-ARG-2 */
		TTLOG_INFO("order note=%s", "paid by card 5500000000000004, thanks");
		TTLOG_INFO("deploy", TTLOG_F("env", "key AKIAIOSFODNN7EXAMPLE in use"));
	}
	if (wait) {
		printf("ready %d 500\n", (int)getpid());
		fflush(stdout);
		while (getchar() != EOF)
			;
		ttlog_shutdown();
		return 0;
	}
	char path[4096];
	rc = ttlog_snapshot_path("secrets", path, sizeof path);
	if (rc != TTLOG_OK) {
		fprintf(stderr, "redact_secrets: ttlog_snapshot_path: %s\n", ttlog_strerror(rc));
		return 1;
	}
	printf("%s\n", path);
	ttlog_shutdown();
	return 0;
}
