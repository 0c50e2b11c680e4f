/* SPDX-License-Identifier: MIT */
/*
 * fork.h - the library's one fork handler (fork.c).
 */
#ifndef TTLOG__CORE_FORK_H
#define TTLOG__CORE_FORK_H

/* Installs the handler that runs in a forked child. Called by ttlog_init;
 * idempotent. 0, or -1 if pthread_atfork failed. */
int ttlog__fork_init(void);

#endif
