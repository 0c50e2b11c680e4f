/*
 * crash.c - fatal-signal handlers: write a crash snapshot, then let the
 * signal do what it would have done without ttlog.
 *
 * The handlers run on an alternate signal stack (set up per thread in
 * src/ring/ring.c), so a stack overflow is caught too. Everything reachable
 * from them is async-signal-safe: the snapshot writer uses memory reserved at
 * init and only open/write/fsync/link/unlink/close.
 *
 * Hand-over: after the snapshot, the handler that was installed before
 * ttlog (or SIG_DFL) is put back and the signal is delivered again:
 *   - a fault raised by an instruction (SIGSEGV, SIGBUS, SIGILL, SIGFPE with
 *     si_code > 0) repeats by itself when the handler returns, with the
 *     original siginfo, so the previous handler or the default action (exit
 *     status, core dump) sees exactly the original fault;
 *   - anything else (kill, raise, abort, SIGTRAP, SIGSYS) is re-sent to the
 *     same thread with tgkill; it stays pending until the handler returns.
 *
 * Before the snapshot, the owner freezes the rings (other threads' log
 * calls are refused and counted until it is written) and captures its own
 * stack and registers from the signal's context (src/proc/stack.c) into
 * crash_stack, which the writer puts in the STCK chunk, and brings the
 * module list up to date from the loader's link map (src/proc/modules.c;
 * only the owner does, which is what lets that list have a single writer)
 * for the MODS chunk.
 *
 * Several crashes: the first thread to claim `crash_owner` writes the one
 * snapshot; other crashing threads wait (bounded) until it is done, then
 * hand over their own signal. A crash inside the handler itself (the owner
 * faulting again) skips the snapshot and hands over at once, so it cannot
 * loop: the signal that is being handled is blocked during its handler, and
 * the kernel kills a thread that faults with its fault signal blocked.
 */
#define _GNU_SOURCE
#include "crash/crash.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/internal.h"
#include "common/publish.h"
#include "common/sigsafe.h"
#include "common/state.h"
#include "proc/modules.h"
#include "proc/stack.h"
#include "ring/ring.h"
#include "snapshot/writer.h"
#include "thread/altstack.h"
#include "thread/thread.h"

#define MAX_SIGNAL 63              /* bit n of a u64 mask is signal n: 1..63 */
#define OWNER_WAIT_STEPS 1000       /* x 10 ms: a stuck snapshot cannot hold a crash forever */

static struct sigaction previous[MAX_SIGNAL + 1];
static uint64_t installed_mask;     /* bit n: our handler is on signal n */
static int installed_snapshot_signal;
static _Atomic int installed;       /* only under ttlog_init's lock: relaxed */
static _Atomic uint32_t crash_owner; /* tid of the thread writing the crash snapshot */
static _Atomic int crash_done;      /* the owner is done: LMM(crash:A/B) */
static struct ttlog__stack crash_stack; /* the owner's stack; reserved here, not on the signal stack */

static const char *const signal_names[] = {
	[SIGHUP] = "SIGHUP",   [SIGINT] = "SIGINT",       [SIGQUIT] = "SIGQUIT", [SIGILL] = "SIGILL",
	[SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT",     [SIGBUS] = "SIGBUS",   [SIGFPE] = "SIGFPE",
	[SIGKILL] = "SIGKILL", [SIGUSR1] = "SIGUSR1",     [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
	[SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM",     [SIGTERM] = "SIGTERM", [SIGSTKFLT] = "SIGSTKFLT",
	[SIGCHLD] = "SIGCHLD", [SIGCONT] = "SIGCONT",     [SIGSTOP] = "SIGSTOP", [SIGTSTP] = "SIGTSTP",
	[SIGTTIN] = "SIGTTIN", [SIGTTOU] = "SIGTTOU",     [SIGURG] = "SIGURG",   [SIGXCPU] = "SIGXCPU",
	[SIGXFSZ] = "SIGXFSZ", [SIGVTALRM] = "SIGVTALRM", [SIGPROF] = "SIGPROF", [SIGWINCH] = "SIGWINCH",
	[SIGIO] = "SIGIO",     [SIGPWR] = "SIGPWR",       [SIGSYS] = "SIGSYS",
};

/* Runs in signal context. */
const char *ttlog__signal_name(int signo)
{
	if (signo > 0 && (size_t)signo < TTLOG_ARRAY_SIZE(signal_names))
		return signal_names[signo];
	return NULL;
}

uint64_t ttlog__crash_default_mask(void)
{
	return 1ull << SIGSEGV | 1ull << SIGBUS | 1ull << SIGILL | 1ull << SIGFPE | 1ull << SIGABRT |
	       1ull << SIGTRAP | 1ull << SIGSYS;
}

static void report_unwritten_snapshot(void);

static int repeats_by_itself(int signo, const siginfo_t *info)
{
	return info->si_code > 0 &&
	       (signo == SIGSEGV || signo == SIGBUS || signo == SIGILL || signo == SIGFPE);
}

/* Runs in signal context. */
static void crash_handler(int signo, siginfo_t *info, void *context)
{
	int saved_errno = errno;
	uint32_t tid = (uint32_t)syscall(SYS_gettid);
	/* A fault of the unwinder below (a corrupt stack): back into the
	 * capture, which keeps the frames it found (src/proc/stack.c). */
	ttlog__stack_fault_escape(tid);
	uint32_t owner = 0;
	/* Relaxed: the compare-and-swap alone makes one owner. It acquires
	 * nothing because there is no earlier owner to acquire from:
	 * crash_owner is never given back (only a forked child, with one
	 * thread, clears it). */
	if (atomic_compare_exchange_strong_explicit(&crash_owner, &owner, tid, memory_order_relaxed,
						    memory_order_relaxed)) {
		const char *name = ttlog__signal_name(signo);
		struct ttlog__crash_info ci = {
			.signo = signo,
			.code = info->si_code,
			.address = (uint64_t)(uintptr_t)info->si_addr,
			.tid = tid,
			.signal_name = name ? name : "signal",
			.stack = &crash_stack,
		};
		/* Other threads stop logging until the snapshot is written, so
		 * they cannot overwrite the history it saves; a program whose own
		 * handler survives the signal logs again afterwards. */
		ttlog__rings_freeze(1);
		ttlog__stack_capture_crash(&crash_stack, context, tid);
		/* The modules dlopen'ed since the last refresh, for the frames
		 * that are in them (src/proc/modules.c). */
		ci.modules = ttlog__modules_at_crash();
		if (ttlog__snapshot_write(TTLOG_WS_CRASH, ci.signal_name, &ci, NULL, 0) == TTLOG_OK)
			ttlog__publish_crashed(); /* the snapshot has it all: no mapping to recover */
		ttlog__rings_freeze(0);
		report_unwritten_snapshot();
		/* LMM(crash:A) pairs with LMM(crash:B): a waiting thread hands
		 * over after everything above, the unfreezing included (its
		 * program's handler may log again). */
		atomic_store_explicit(&crash_done, 1, memory_order_release);
	} else if (owner != tid) {
		struct timespec step = {0, 10 * 1000 * 1000};
		for (int i = 0; i < OWNER_WAIT_STEPS; i++) {
			/* LMM(crash:B) pairs with LMM(crash:A). */
			if (atomic_load_explicit(&crash_done, memory_order_acquire))
				break;
			nanosleep(&step, NULL);
		}
	}
	/* owner == tid: we crashed while writing the crash snapshot; hand over. */
	sigaction(signo, &previous[signo], NULL);
	if (!repeats_by_itself(signo, info))
		syscall(SYS_tgkill, getpid(), (pid_t)tid, signo);
	errno = saved_errno;
}

/* Runs in signal context. */
static void snapshot_handler(int signo, siginfo_t *info, void *context)
{
	(void)info;
	(void)context;
	int saved_errno = errno;
	const char *name = ttlog__signal_name(signo);
	ttlog__snapshot_write(TTLOG_WS_NORMAL, name ? name : "signal", NULL, NULL, 0);
	errno = saved_errno;
}

static int install_one(int signo, void (*fn)(int, siginfo_t *, void *))
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(signo, &sa, &previous[signo]) != 0)
		return -1;
	installed_mask |= 1ull << signo;
	return 0;
}

int ttlog__crash_install(uint64_t mask, int snapshot_signal)
{
	if (atomic_load_explicit(&installed, memory_order_relaxed))
		return TTLOG_OK;
	installed_mask = 0;
	installed_snapshot_signal = 0;
	for (int s = 1; s <= MAX_SIGNAL; s++) {
		if (!(mask >> s & 1u))
			continue;
		if (s == SIGKILL || s == SIGSTOP || install_one(s, crash_handler) != 0)
			goto fail;
	}
	if (snapshot_signal) {
		if (snapshot_signal < 1 || snapshot_signal > MAX_SIGNAL || (mask >> snapshot_signal & 1u) ||
		    install_one(snapshot_signal, snapshot_handler) != 0)
			goto fail;
		installed_snapshot_signal = snapshot_signal;
	}
	if (mask && ttlog__altstack_enable_main() != 0)
		goto fail;
	atomic_store_explicit(&installed, 1, memory_order_relaxed);
	ttlog__altstack_want(1); /* threads that attach from now on get a signal stack */
	return TTLOG_OK;
fail:
	ttlog__crash_uninstall();
	return TTLOG_E_SIGNAL;
}

void ttlog__crash_uninstall(void)
{
	for (int s = 1; s <= MAX_SIGNAL; s++) {
		if (!(installed_mask >> s & 1u))
			continue;
		struct sigaction cur;
		/* Put the old handler back only if ours is still there: a handler
		 * the program installed after ttlog stays. */
		if (sigaction(s, NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO) &&
		    (cur.sa_sigaction == crash_handler || cur.sa_sigaction == snapshot_handler))
			sigaction(s, &previous[s], NULL);
	}
	installed_mask = 0;
	installed_snapshot_signal = 0;
	atomic_store_explicit(&installed, 0, memory_order_relaxed);
	ttlog__altstack_want(0);
}

/* Relaxed: the child has one thread; threads it starts later are ordered
 * after this by pthread_create. */
void ttlog__crash_after_fork(void)
{
	atomic_store_explicit(&crash_owner, 0, memory_order_relaxed);
	atomic_store_explicit(&crash_done, 0, memory_order_relaxed);
}

/* errno names for the message below: the ones creating, writing and
 * linking a file in a directory can end with. */
static const struct {
	int value;
	const char *name;
} errno_names[] = {
	{EACCES, "EACCES"}, {EPERM, "EPERM"},   {ENOENT, "ENOENT"},   {ENOTDIR, "ENOTDIR"},
	{EROFS, "EROFS"},   {ENOSPC, "ENOSPC"}, {EDQUOT, "EDQUOT"},   {EIO, "EIO"},
	{EMFILE, "EMFILE"}, {ENFILE, "ENFILE"}, {ELOOP, "ELOOP"},     {ENAMETOOLONG, "ENAMETOOLONG"},
	{EEXIST, "EEXIST"}, {EFBIG, "EFBIG"},   {EMLINK, "EMLINK"},   {EXDEV, "EXDEV"},
	{EINVAL, "EINVAL"}, {ENOMEM, "ENOMEM"}, {EINTR, "EINTR"},     {EBADF, "EBADF"},
};

/*
 * When the crash snapshot could not be written, says so on stderr in one
 * line, e.g. "ttlog: crash snapshot not written: cannot create a file in
 * /run/user/1000/ttlog (EACCES)": otherwise the only trace of the crash
 * would be the signal. One write(2) of a line built on the stack.
 * Runs in signal context.
 */
static void report_unwritten_snapshot(void)
{
	int err = 0;
	int rc = ttlog__snapshot_last_error(TTLOG_WS_CRASH, &err);
	if (rc == TTLOG_OK)
		return;
	char line[TTLOG_DIR_MAX + 160];
	struct ttlog__sbuf sb;
	ttlog__sb_init(&sb, line, sizeof line - 1); /* room for the '\n' */
	ttlog__sb_str(&sb, "ttlog: crash snapshot not written: ");
	if (rc == TTLOG_E_DIR || rc == TTLOG_E_IO) {
		ttlog__sb_str(&sb, rc == TTLOG_E_DIR ? "cannot create a file in " : "cannot write a file in ");
		ttlog__sb_str(&sb, ttlog__g.dir);
		if (err) {
			const char *name = NULL;
			for (size_t i = 0; i < TTLOG_ARRAY_SIZE(errno_names) && !name; i++)
				if (errno_names[i].value == err)
					name = errno_names[i].name;
			ttlog__sb_str(&sb, " (");
			if (name) {
				ttlog__sb_str(&sb, name);
			} else {
				ttlog__sb_str(&sb, "errno ");
				ttlog__sb_u64(&sb, (uint64_t)err, 0);
			}
			ttlog__sb_str(&sb, ")");
		}
	} else {
		ttlog__sb_str(&sb, ttlog_strerror(rc)); /* a constant string: safe here */
	}
	line[sb.len] = '\n';
	ttlog__write_all(STDERR_FILENO, line, sb.len + 1);
}
