/* SPDX-License-Identifier: MIT */
/*
 * dlopen_crash.c - loads a plugin with dlopen() after ttlog_init() and
 * dies of SIGSEGV inside it, for the tests of modules loaded after the last
 * refresh of the module list (tests/cli_dlopen.sh).
 *
 *   dlopen_crash DIR PLUGIN [unload]
 *
 * PLUGIN is build/tests/progs/crash_plugin.so (tests/progs/plugin/). By
 * default: ttlog_init(), then dlopen(PLUGIN), then the plugin's
 * plugin_entry(), which crashes two functions deep. Nothing refreshes the
 * module list in between, so only the crash handler can find the plugin.
 * With "unload": dlopen(PLUGIN), a snapshot with a stack (which puts the
 * plugin in the module list), dlclose(PLUGIN), and a crash in this program:
 * the crash snapshot must not list the plugin any more.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "ttlog.h"

#define DELIBERATE_UB __attribute__((noinline, no_sanitize("undefined")))

static volatile int after;

static DELIBERATE_UB void crash_in_program(int value)
{
	volatile int *volatile p = NULL;
	*p = value;
	after = value;
}

int main(int argc, char **argv)
{
	struct ttlog_config cfg;

	if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "unload") != 0)) {
		fprintf(stderr, "usage: dlopen_crash DIR PLUGIN [unload]\n");
		return 2;
	}
	ttlog_config_init(&cfg);
	cfg.dir = argv[1];
	int rc = ttlog_init(&cfg);
	if (rc != TTLOG_OK) {
		fprintf(stderr, "dlopen_crash: ttlog_init: %s: %s\n", ttlog_strerror(rc),
			ttlog_init_error());
		return 2;
	}
	pthread_setname_np(pthread_self(), "dlopener");
	void *plugin = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
	if (!plugin) {
		fprintf(stderr, "dlopen_crash: %s\n", dlerror());
		return 2;
	}
	TTLOG_INFO("plugin loaded");
	if (argc == 4) {
		int (*add_one)(int) = (int (*)(int))dlsym(plugin, "plugin_add_one");
		if (!add_one || add_one(1) != 2) {
			fprintf(stderr, "dlopen_crash: plugin_add_one: %s\n", dlerror());
			return 2;
		}
		rc = ttlog_snapshot_with_stack("loaded");
		if (rc != TTLOG_OK) {
			fprintf(stderr, "dlopen_crash: ttlog_snapshot_with_stack: %s\n", ttlog_strerror(rc));
			return 2;
		}
		if (dlclose(plugin) != 0) {
			fprintf(stderr, "dlopen_crash: dlclose: %s\n", dlerror());
			return 2;
		}
		TTLOG_INFO("plugin unloaded");
		crash_in_program(41);
		return 0;
	}
	void (*entry)(int) = (void (*)(int))dlsym(plugin, "plugin_entry");
	if (!entry) {
		fprintf(stderr, "dlopen_crash: plugin_entry: %s\n", dlerror());
		return 2;
	}
	entry(41);
	ttlog_shutdown();
	return 0;
}
