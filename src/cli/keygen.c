/* SPDX-License-Identifier: MIT */
/*
 * keygen.c - `ttlog keygen`: makes the X25519 key pair of encryption at
 * rest (docs/FORMAT.md section 21). PREFIX.pub goes to the programs
 * (TTLOG_ENCRYPT_KEY), PREFIX.key stays with whoever reads the files
 * (--key, TTLOG_KEY). Each is one line, the word of its kind and the 32
 * bytes in lowercase hex; the private key is created with mode 0600 and
 * O_EXCL, so an existing key is never replaced.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "report.h"

#define COMMAND "keygen"
#define PUBLIC_WORD "ttlog-x25519-public"
#define PRIVATE_WORD "ttlog-x25519-private"

void cli_keygen_usage(FILE *out)
{
	fputs("Usage: ttlog keygen [-o PREFIX]\n"
	      "\n"
	      "Makes a key pair for encrypted snapshots and segments: PREFIX.pub, the\n"
	      "public key that programs seal their files to (TTLOG_ENCRYPT_KEY=PREFIX.pub),\n"
	      "and PREFIX.key, the private key that reads them (ttlog COMMAND --key\n"
	      "PREFIX.key, or TTLOG_KEY). The private key file gets mode 0600; keep it off\n"
	      "the hosts that write the files, which need only the public key. An existing\n"
	      "file is never replaced. Prints the key's id, which 'ttlog view' names when a\n"
	      "file was sealed to another key.\n"
	      "\n"
	      "Options:\n"
	      "  -o, --output PREFIX  where the two files go (default: ttlog)\n"
	      "  -h, --help           show this help and exit\n"
	      "\n"
	      "Exit status: 0 success, 1 usage error or a file exists, 2 the files could\n"
	      "not be written.\n",
	      out);
}

static void hex(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Creates path (never replacing it) with one line "word HEX". 0, 1 if it
 * exists, -1 on another error (reported). */
static int write_key(const char *path, const char *word, const unsigned char *key, size_t n,
		     int mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0) {
		if (errno == EEXIST)
			return 1;
		cli_report_error(COMMAND, "%s: cannot create: %s", path, strerror(errno));
		return -1;
	}
	char line[64 + 2 * 32 + 2];
	int len = snprintf(line, sizeof line, "%s ", word);
	hex(key, n, line + len);
	len += (int)(2 * n);
	line[len++] = '\n';
	ssize_t w = write(fd, line, (size_t)len);
	sodium_memzero(line, sizeof line);
	if (w != len || fsync(fd) != 0 || close(fd) != 0) {
		int err = w < 0 ? errno : EIO;
		cli_report_error(COMMAND, "%s: cannot write: %s", path, strerror(err));
		unlink(path);
		return -1;
	}
	return 0;
}

int cli_keygen_main(int argc, char **argv)
{
	static const struct option long_options[] = {
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *prefix = "ttlog";
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:h", long_options, NULL)) != -1) {
		switch (c) {
		case 'o':
			prefix = optarg;
			break;
		case 'h':
			cli_keygen_usage(stdout);
			return CLI_EXIT_OK;
		default:
			return cli_report_bad_option(COMMAND, c, argv, ":o:h");
		}
	}
	if (optind < argc)
		return cli_report_usage_error(COMMAND, "unexpected argument '%s'", argv[optind]);
	if (!*prefix)
		return cli_report_usage_error(COMMAND, "option '-o' needs a file prefix, not ''");
	size_t plen = strlen(prefix);
	char *pub = malloc(plen + 5), *priv = malloc(plen + 5);
	if (!pub || !priv) {
		free(pub);
		free(priv);
		cli_report_error(COMMAND, "out of memory");
		return CLI_EXIT_DATA;
	}
	snprintf(pub, plen + 5, "%s.pub", prefix);
	snprintf(priv, plen + 5, "%s.key", prefix);
	int status = CLI_EXIT_OK;
	if (access(pub, F_OK) == 0 || access(priv, F_OK) == 0) {
		cli_report_error(COMMAND, "%s exists: a key is never replaced (remove it first, or "
					  "choose another -o PREFIX)",
				 access(priv, F_OK) == 0 ? priv : pub);
		status = CLI_EXIT_USAGE;
		goto out;
	}
	if (sodium_init() < 0) {
		cli_report_error(COMMAND, "libsodium cannot start");
		status = CLI_EXIT_DATA;
		goto out;
	}
	unsigned char pk[crypto_box_PUBLICKEYBYTES], sk[crypto_box_SECRETKEYBYTES];
	crypto_box_keypair(pk, sk);
	int rc = write_key(priv, PRIVATE_WORD, sk, sizeof sk, 0600);
	sodium_memzero(sk, sizeof sk);
	if (rc == 0) {
		rc = write_key(pub, PUBLIC_WORD, pk, sizeof pk, 0644);
		if (rc != 0)
			unlink(priv); /* not half a pair */
	}
	if (rc != 0) {
		if (rc == 1)
			cli_report_error(COMMAND, "a file appeared meanwhile; nothing was replaced");
		status = rc == 1 ? CLI_EXIT_USAGE : CLI_EXIT_DATA;
		goto out;
	}
	unsigned char h[32];
	char id[17];
	crypto_generichash(h, sizeof h, pk, sizeof pk, NULL, 0);
	hex(h, 8, id);
	printf("wrote %s (public: TTLOG_ENCRYPT_KEY) and %s (private, mode 0600: --key)\n"
	       "key id %s\n",
	       pub, priv, id);
out:
	free(pub);
	free(priv);
	return status;
}
