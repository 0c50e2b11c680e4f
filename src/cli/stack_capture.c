/* SPDX-License-Identifier: MIT */
/*
 * stack_capture.c - every thread's stack of another running process, taken
 * from outside for `ttlog snap --stacks` (see stack_capture.h).
 *
 * The steps, in the order that keeps the process stopped for the least time:
 *   1. libdwfl reports the process's modules from /proc/PID/maps and loads
 *      each one's ELF file and unwind tables (.eh_frame, .debug_frame):
 *      file work, done while the process runs;
 *   2. every thread listed in /proc/PID/task is seized (PTRACE_SEIZE, which
 *      unlike PTRACE_ATTACH sends no SIGSTOP) and interrupted
 *      (PTRACE_INTERRUPT), all of them before the first is waited for, so
 *      that they stop in parallel; the list is read again until no new
 *      thread appears, since a thread not yet stopped may start one;
 *   3. libdwfl unwinds each stopped thread (dwfl_linux_proc_attach, called
 *      before anything stops, was told that the threads would be stopped
 *      by us: it reads their registers and memory through ptrace, with the
 *      tables loaded in step 1);
 *   4. every thread is detached at once; a signal that arrived for a thread
 *      while it was stopped (a signal-delivery stop seen instead of the
 *      interrupt) is handed back to it by PTRACE_DETACH.
 * The time from the first interrupt to the last detach is measured.
 *
 * A thread blocked in a system call (futex, read) is stopped too: the
 * interrupt takes it out of the call, which the kernel restarts after the
 * detach. Frame 0 of each stack is the exact pc where the thread stood;
 * the others are return addresses.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stack_capture.h"
#include "ttlog_reader.h"

#define MAX_PASSES 16      /* re-reads of the task list while threads appear */
#define NAME_MAX_LEN 64

struct task {
	pid_t tid;
	int seized;            /* traced by us: must be detached */
	int stopped;
	int resend;            /* a signal to hand back at detach */
	char name[NAME_MAX_LEN];
	uint64_t frames[TTLOG__EXT_MAX_FRAMES];
	uint32_t nframes;
	uint32_t flags;
};

struct walk {
	struct task *t;
};

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

__attribute__((format(printf, 3, 4)))
static int say(char *err, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, size, fmt, ap);
	va_end(ap);
	return -1;
}

/* The first line of a small /proc file, without its newline; "" if none. */
static void read_line(const char *path, char *out, size_t size)
{
	out[0] = '\0';
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(out, (int)size, f))
		out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

/* The TracerPid of a thread, 0 if none or unknown. */
static long tracer_of(int pid, pid_t tid)
{
	char path[96], line[256];
	long tracer = 0;
	snprintf(path, sizeof path, "/proc/%d/task/%d/status", pid, (int)tid);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, "TracerPid:", 10) == 0) {
			tracer = strtol(line + 10, NULL, 10);
			break;
		}
	fclose(f);
	return tracer;
}

/* Why PTRACE_SEIZE of tid was refused (EPERM), and what to do about it. */
static int explain_eperm(int pid, pid_t tid, char *err, size_t size)
{
	char scope[32], path[64];
	struct stat st;
	long tracer = tracer_of(pid, tid);
	if (tracer > 0)
		return say(err, size,
			   "cannot stop thread %d of process %d: it is traced already, by process "
			   "%ld (a debugger?); detach that first",
			   (int)tid, pid, tracer);
	snprintf(path, sizeof path, "/proc/%d", pid);
	if (geteuid() != 0 && stat(path, &st) == 0 && st.st_uid != geteuid())
		return say(err, size,
			   "not permitted to trace process %d: it belongs to user %u; run "
			   "'ttlog snap --stacks' as that user or as root",
			   pid, (unsigned)st.st_uid);
	read_line("/proc/sys/kernel/yama/ptrace_scope", scope, sizeof scope);
	if (strcmp(scope, "1") == 0)
		return say(err, size,
			   "not permitted to trace process %d: kernel.yama.ptrace_scope is 1 (only a "
			   "process's ancestors may trace it); run 'ttlog snap --stacks' as root or "
			   "with CAP_SYS_PTRACE, or allow it with 'sysctl kernel.yama.ptrace_scope=0'",
			   pid);
	if (strcmp(scope, "2") == 0)
		return say(err, size,
			   "not permitted to trace process %d: kernel.yama.ptrace_scope is 2 (only "
			   "with CAP_SYS_PTRACE); run 'ttlog snap --stacks' as root",
			   pid);
	if (strcmp(scope, "3") == 0)
		return say(err, size,
			   "not permitted to trace process %d: kernel.yama.ptrace_scope is 3 (no "
			   "process may trace another until the next boot)",
			   pid);
	return say(err, size,
		   "not permitted to trace process %d (PTRACE_SEIZE: %s): in a container, ptrace "
		   "needs CAP_SYS_PTRACE (docker run --cap-add=SYS_PTRACE) and a seccomp profile "
		   "that allows it; a process that made itself undumpable (PR_SET_DUMPABLE 0) "
		   "needs root",
		   pid, strerror(EPERM));
}

static struct task *find_task(struct task *tasks, size_t n, pid_t tid)
{
	for (size_t i = 0; i < n; i++)
		if (tasks[i].tid == tid)
			return &tasks[i];
	return NULL;
}

/*
 * Waits for the stop PTRACE_INTERRUPT asked of t. A signal-delivery stop
 * that comes first is a stop too; its signal is handed back at detach.
 * 0 when stopped; -1 when the thread ended.
 */
static int wait_stop(struct task *t)
{
	for (;;) {
		int status;
		pid_t r = waitpid(t->tid, &status, __WALL);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			t->seized = 0;
			return -1;
		}
		if (!WIFSTOPPED(status))
			continue;
		int sig = WSTOPSIG(status);
		int event = status >> 16;
		if (event == PTRACE_EVENT_STOP) {
			t->stopped = 1;
			return 0;
		}
		if (event == 0 && sig != SIGTRAP) {
			/* A signal for the thread: it is stopped now, and gets the
			 * signal back when let go. */
			t->resend = sig;
			t->stopped = 1;
			return 0;
		}
		/* Anything else: let it go on and wait for the interrupt. */
		ptrace(PTRACE_CONT, t->tid, 0, 0);
	}
}

/* Reads the thread names (comm) of the tasks. */
static void read_names(int pid, struct task *tasks, size_t n)
{
	char path[96];
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof path, "/proc/%d/task/%d/comm", pid, (int)tasks[i].tid);
		read_line(path, tasks[i].name, sizeof tasks[i].name);
	}
}

/*
 * Seizes and stops every thread of pid not yet in tasks, adding them;
 * *n and *cap are updated. 1 if a new thread was found, 0 if none, -1
 * with a message on a refusal.
 */
static int stop_new_threads(int pid, struct task **tasks, size_t *n, size_t *cap,
			    int64_t *first_stop, unsigned *gone, char *err, size_t size)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task", pid);
	DIR *dir = opendir(path);
	if (!dir) {
		if (errno == ENOENT)
			return say(err, size, "process %d has ended", pid);
		return say(err, size, "cannot list the threads of process %d (%s): %s", pid, path,
			   strerror(errno));
	}
	int found = 0;
	struct dirent *d;
	while ((d = readdir(dir)) != NULL) {
		char *end;
		long v = strtol(d->d_name, &end, 10);
		if (*end || v <= 0 || find_task(*tasks, *n, (pid_t)v))
			continue;
		if (*n == *cap) {
			size_t ncap = *cap ? *cap * 2 : 16;
			struct task *p = realloc(*tasks, ncap * sizeof *p);
			if (!p) {
				closedir(dir);
				return say(err, size, "out of memory");
			}
			*tasks = p;
			*cap = ncap;
		}
		struct task *t = &(*tasks)[*n];
		memset(t, 0, sizeof *t);
		t->tid = (pid_t)v;
		if (ptrace(PTRACE_SEIZE, t->tid, 0, 0) != 0) {
			if (errno == ESRCH) { /* it ended meanwhile */
				(*gone)++;
				continue;
			}
			int e = errno;
			closedir(dir);
			if (e == EPERM)
				return explain_eperm(pid, t->tid, err, size);
			return say(err, size, "cannot trace thread %d of process %d (PTRACE_SEIZE): %s",
				   (int)t->tid, pid, strerror(e));
		}
		t->seized = 1;
		if (!*first_stop)
			*first_stop = mono_ns();
		if (ptrace(PTRACE_INTERRUPT, t->tid, 0, 0) != 0) {
			(*gone)++;
			ptrace(PTRACE_DETACH, t->tid, 0, 0);
			continue;
		}
		(*n)++;
		found = 1;
	}
	closedir(dir);
	/* Every new thread was asked to stop; now wait for each (they stop
	 * in parallel, each when it next runs). */
	for (size_t i = 0; i < *n; i++) {
		struct task *t = &(*tasks)[i];
		if (t->stopped || !t->seized)
			continue;
		if (wait_stop(t) != 0) {
			(*gone)++;
			t->seized = 0;
		}
	}
	/* Threads that ended while stopping are dropped from the list. */
	size_t kept = 0;
	for (size_t i = 0; i < *n; i++)
		if ((*tasks)[i].seized)
			(*tasks)[kept++] = (*tasks)[i];
	*n = kept;
	return found;
}

static int on_frame(Dwfl_Frame *state, void *arg)
{
	struct walk *w = arg;
	Dwarf_Addr pc;
	bool activation;
	if (!dwfl_frame_pc(state, &pc, &activation))
		return DWARF_CB_ABORT;
	if (w->t->nframes == TTLOG__EXT_MAX_FRAMES) {
		w->t->flags |= TTLOG_STACK_TRUNCATED;
		return DWARF_CB_ABORT;
	}
	if (w->t->nframes == 0 && activation)
		w->t->flags |= TTLOG_STACK_PC_FIRST;
	w->t->frames[w->t->nframes++] = pc;
	return DWARF_CB_OK;
}

/* Loads a module's ELF file and unwind tables now, while nothing is stopped. */
static int preload_module(Dwfl_Module *mod, void **user, const char *name, Dwarf_Addr start,
			  void *arg)
{
	(void)user;
	(void)name;
	(void)start;
	(void)arg;
	Dwarf_Addr bias;
	dwfl_module_getelf(mod, &bias);
	dwfl_module_eh_cfi(mod, &bias);
	dwfl_module_dwarf_cfi(mod, &bias);
	return DWARF_CB_OK;
}

struct mod_list {
	struct cli_stacks *out;
	size_t cap;
};

static int add_module(Dwfl_Module *mod, void **user, const char *name, Dwarf_Addr start,
		      void *arg)
{
	(void)user;
	(void)start;
	struct mod_list *ml = arg;
	struct cli_stacks *out = ml->out;
	Dwarf_Addr low = 0, high = 0, bias = 0;
	dwfl_module_info(mod, NULL, &low, &high, NULL, NULL, NULL, NULL);
	if (!dwfl_module_getelf(mod, &bias))
		bias = low; /* no file: the range still places the frames */
	if (out->ext.nmodules == ml->cap) {
		size_t ncap = ml->cap ? ml->cap * 2 : 32;
		struct ttlog__thread_module *p = realloc(out->modules, ncap * sizeof *p);
		if (!p)
			return DWARF_CB_ABORT;
		out->modules = p;
		ml->cap = ncap;
	}
	struct ttlog__thread_module *m = &out->modules[out->ext.nmodules++];
	memset(m, 0, sizeof *m);
	m->path = name;
	m->bias = bias;
	m->start = low;
	m->end = high;
	const unsigned char *bits;
	GElf_Addr vaddr;
	int len = dwfl_module_build_id(mod, &bits, &vaddr);
	if (len > 0) {
		m->build_id = bits;
		m->build_id_len = (uint32_t)len;
	}
	return DWARF_CB_OK;
}

static char *debuginfo_path;

int cli_stacks_capture(int pid, struct cli_stacks *out, char *err, size_t size)
{
	static const Dwfl_Callbacks callbacks = {
		.find_elf = dwfl_linux_proc_find_elf,
		.find_debuginfo = dwfl_standard_find_debuginfo,
		.debuginfo_path = &debuginfo_path,
	};
	struct task *tasks = NULL;
	size_t n = 0, cap = 0;
	int rc = -1;

	memset(out, 0, sizeof *out);
	err[0] = '\0';
	Dwfl *dwfl = dwfl_begin(&callbacks);
	if (!dwfl)
		return say(err, size, "libdwfl: %s", dwfl_errmsg(-1));
	out->dwfl = dwfl;
	/* 1. Modules and their unwind tables, before anything stops. */
	dwfl_report_begin(dwfl);
	int r = dwfl_linux_proc_report(dwfl, pid);
	dwfl_report_end(dwfl, NULL, NULL);
	if (r != 0) {
		if (r > 0 && r == ENOENT)
			return say(err, size, "process %d has ended", pid);
		if (r > 0 && (r == EACCES || r == EPERM))
			return say(err, size,
				   "cannot read /proc/%d/maps (%s): not permitted to inspect process "
				   "%d; run 'ttlog snap --stacks' as its user or as root",
				   pid, strerror(r), pid);
		return say(err, size, "cannot read the modules of process %d (/proc/%d/maps): %s",
			   pid, pid, r > 0 ? strerror(r) : dwfl_errmsg(-1));
	}
	dwfl_getmodules(dwfl, preload_module, NULL, 0);
	struct mod_list ml = {out, 0};
	if (dwfl_getmodules(dwfl, add_module, &ml, 0) != 0)
		return say(err, size, "out of memory");

	/* libdwfl's view of the process's threads, told that they will be
	 * stopped by us: it reads nothing of them until the unwinding. */
	if (dwfl_linux_proc_attach(dwfl, pid, true) != 0)
		return say(err, size, "libdwfl cannot unwind process %d: %s", pid, dwfl_errmsg(-1));

	/* 2. Stop every thread. */
	int64_t first = 0;
	int found = 1;
	for (int pass = 0; found > 0 && pass < MAX_PASSES; pass++)
		found = stop_new_threads(pid, &tasks, &n, &cap, &first, &out->gone, err, size);
	if (found < 0)
		goto detach;
	if (n == 0) {
		say(err, size, "process %d has ended", pid);
		goto detach;
	}

	/* 3. Unwind each one. */
	for (size_t i = 0; i < n; i++) {
		struct walk w = {&tasks[i]};
		if (dwfl_getthread_frames(dwfl, tasks[i].tid, on_frame, &w) != 0 &&
		    !tasks[i].nframes) {
			out->failed++;
			if (!out->note[0])
				snprintf(out->note, sizeof out->note, "thread %d: %s", (int)tasks[i].tid,
					 dwfl_errmsg(-1));
		}
	}
	rc = 0;

detach:
	/* 4. Let go of every thread. */
	for (size_t i = 0; i < n; i++)
		if (tasks[i].seized)
			ptrace(PTRACE_DETACH, tasks[i].tid, 0, (void *)(long)tasks[i].resend);
	if (first)
		out->stopped_ns = mono_ns() - first;
	if (rc != 0) {
		free(tasks);
		return -1;
	}
	read_names(pid, tasks, n);

	out->stacks = calloc(n ? n : 1, sizeof *out->stacks);
	uint64_t *frames = calloc(n ? n : 1, sizeof tasks[0].frames);
	char *names = calloc(n ? n : 1, NAME_MAX_LEN);
	if (!out->stacks || !frames || !names) {
		free(frames);
		free(names);
		free(tasks);
		return say(err, size, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		struct ttlog__thread_stack *s = &out->stacks[i];
		memcpy(frames + i * TTLOG__EXT_MAX_FRAMES, tasks[i].frames,
		       tasks[i].nframes * sizeof *frames);
		memcpy(names + i * NAME_MAX_LEN, tasks[i].name, NAME_MAX_LEN);
		s->tid = (uint32_t)tasks[i].tid;
		s->flags = tasks[i].flags;
		s->nframes = tasks[i].nframes;
		s->frames = frames + i * TTLOG__EXT_MAX_FRAMES;
		s->name = names + i * NAME_MAX_LEN;
	}
	out->ext.stacks = out->stacks;
	out->ext.nstacks = n;
	out->ext.modules = out->modules;
	out->ext.origin = TTLOG_STACK_ORIGIN_PTRACE;
	out->frames_mem = frames;
	out->names_mem = names;
	free(tasks);
	return 0;
}

void cli_stacks_free(struct cli_stacks *s)
{
	free(s->frames_mem);
	free(s->names_mem);
	free(s->stacks);
	free(s->modules);
	if (s->dwfl)
		dwfl_end(s->dwfl);
	memset(s, 0, sizeof *s);
}
