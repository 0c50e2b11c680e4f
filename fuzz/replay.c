/* SPDX-License-Identifier: MIT */
/*
 * replay.c - runs a fuzz target over files without libFuzzer.
 *
 * Usage: replay DIR|FILE...
 * Calls LLVMFuzzerTestOneInput() once per regular file in each directory
 * (not recursively) and once per file named directly, so a checked-in corpus
 * and the crashes the fuzzer finds become plain regression tests. Exits 1
 * if an argument cannot be read or no file was run; a failing input aborts
 * inside the target, like under the fuzzer.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads a whole file; NULL on failure. */
static unsigned char *slurp(const char *path, size_t *size)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	size_t cap = 4096, len = 0;
	unsigned char *buf = malloc(cap);
	while (buf) {
		len += fread(buf + len, 1, cap - len, fp);
		if (len < cap)
			break;
		unsigned char *p = realloc(buf, cap * 2);
		if (!p) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = p;
		cap *= 2;
	}
	if (buf && ferror(fp)) {
		free(buf);
		buf = NULL;
	}
	fclose(fp);
	*size = len;
	return buf;
}

static int run_file(const char *path)
{
	size_t size;
	unsigned char *data = slurp(path, &size);
	if (!data) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	/* An exact-size copy, so a sanitizer sees any read past the input. */
	unsigned char *exact = malloc(size ? size : 1);
	if (!exact) {
		free(data);
		return -1;
	}
	memcpy(exact, data, size);
	free(data);
	LLVMFuzzerTestOneInput(exact, size);
	free(exact);
	return 1;
}

static int run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	int runs = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		size_t n = strlen(dir) + strlen(e->d_name) + 2;
		char *path = malloc(n);
		if (!path) {
			closedir(d);
			return -1;
		}
		snprintf(path, n, "%s/%s", dir, e->d_name);
		struct stat st;
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			int got = run_file(path);
			if (got < 0) {
				free(path);
				closedir(d);
				return -1;
			}
			runs += got;
		}
		free(path);
	}
	closedir(d);
	return runs;
}

int main(int argc, char **argv)
{
	int runs = 0, failed = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		int got;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			got = -1;
		} else if (S_ISDIR(st.st_mode)) {
			got = run_dir(argv[i]);
		} else {
			got = run_file(argv[i]);
		}
		if (got < 0)
			failed = 1;
		else
			runs += got;
	}
	printf("replay: %d input%s\n", runs, runs == 1 ? "" : "s");
	return failed || runs == 0;
}
