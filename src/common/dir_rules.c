/* SPDX-License-Identifier: MIT */
/*
 * dir_rules.c - the ownership and mode rules of the directories the
 * library writes to (the rules themselves: dir_rules.h), and the record of
 * which ones init refused.
 *
 * The checks are made on what lstat() and stat() see at init; a directory
 * that passes is owned by this user and writable by no one else, so no
 * other user can change it afterwards (root aside).
 */
#define _GNU_SOURCE
#include "common/dir_rules.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static _Atomic unsigned refused;

/* What st is, for a message. */
static const char *kind_name(mode_t mode)
{
	if (S_ISREG(mode))
		return "a regular file";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISLNK(mode))
		return "a symbolic link";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device";
	return "not a directory";
}

int ttlog__dir_check(const char *path, enum ttlog__dir_kind kind, char *why, size_t whysize)
{
	struct stat ls, sb;
	uid_t me = geteuid();
	why[0] = '\0';
	if (lstat(path, &ls) != 0) {
		if (errno != ENOENT)
			snprintf(why, whysize, "cannot be examined: %s", strerror(errno));
		return -1;
	}
	const char *link = "";
	if (S_ISLNK(ls.st_mode)) {
		if (kind == TTLOG__DIR_OWN) {
			snprintf(why, whysize, "is a symbolic link (owned by uid %u)",
				 (unsigned)ls.st_uid);
			errno = EPERM;
			return -1;
		}
		if (stat(path, &sb) != 0) {
			snprintf(why, whysize, "is a symbolic link to %s",
				 errno == ENOENT ? "nothing" : "a path that cannot be examined");
			errno = EPERM;
			return -1;
		}
		link = "is a symbolic link to a directory ";
	} else {
		sb = ls;
	}
	errno = EPERM;
	if (!S_ISDIR(sb.st_mode)) {
		snprintf(why, whysize, "is %s%s, not a directory", link[0] ? "a symbolic link to " : "",
			 kind_name(sb.st_mode));
		return -1;
	}
	if (sb.st_uid != me) {
		snprintf(why, whysize, "%s%sowned by uid %u, not by this user (uid %u)", link,
			 link[0] ? "" : "is ", (unsigned)sb.st_uid, (unsigned)me);
		return -1;
	}
	if (sb.st_mode & (kind == TTLOG__DIR_OWN ? 022 : 002)) {
		snprintf(why, whysize, "%s%swritable by %s (mode %04o)", link, link[0] ? "" : "is ",
			 sb.st_mode & 002 ? "every user" : "its group", (unsigned)(sb.st_mode & 07777));
		return -1;
	}
	return 0;
}

void ttlog__dir_refused_set(unsigned bit)
{
	atomic_fetch_or_explicit(&refused, bit, memory_order_relaxed);
}

void ttlog__dir_refused_clear(void)
{
	atomic_store_explicit(&refused, 0, memory_order_relaxed);
}

/* Runs in signal context (the self metrics). */
unsigned ttlog__dir_refused(void)
{
	return atomic_load_explicit(&refused, memory_order_relaxed);
}
