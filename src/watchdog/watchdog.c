/* SPDX-License-Identifier: MIT */
/*
 * watchdog.c - the in-process watchdog (TTLOG_WATCHDOG; see watchdog.h).
 *
 * The timer: tick() runs at a quarter of the period, on the stream's
 * drainer thread when the stream runs (ttlog__stream_set_timer), else on a
 * thread of its own ("ttlog-watchdog", all signals blocked). It never
 * touches a log call's path: it reads each ring's published head (an
 * atomic the writer publishes anyway) and its owner's count of open spans.
 *
 * A stall: a live ring whose head has not moved for the period while its
 * thread has a span open (the span began and has not ended: the thread
 * is inside a unit of work, not idle between two). Each stall is reported
 * once: the ring's entry is marked, and only a move of its head (or a new
 * owner) clears the mark. The stalled threads found in one tick, and with
 * them the threads still in a span for half the period (threads that stop
 * together stop a few instants apart), go into one snapshot (at most
 * MAX_STALLED stacks; more are counted in stalls but have no stack),
 * reason "watchdog", written from the normal workspace.
 *
 * The stacks: a thread cannot ptrace its own process, so each stalled
 * thread is asked for its own stack: the watchdog's signal (a real-time
 * signal that nobody handled, reserved at start) is sent to it with
 * tgkill(); its handler unwinds from the signal's context with the crash
 * path's async-signal-safe unwinder (ttlog__stack_capture_signal) into a
 * stack reserved at start. A thread blocked in a system call (futex, read)
 * runs the handler too; the call is restarted after it (SA_RESTART, or
 * the lock's own loop). The watchdog waits at most ANSWER_NS for the
 * answer, one thread at a time (the unwinder's fault escape is shared).
 *
 * The hand-over of the stack slot, between the watchdog and the handler
 * on the stalled thread:
 *   watchdog                                handler (stalled thread)
 *   slot = &stacks[i]; answered = 0
 *   want = tid             LMM(wd:A) ->     CAS want: tid -> tid|BUSY  LMM(wd:B)
 *   tgkill(tid)                             unwind into *slot
 *   poll answered == tid   LMM(wd:D) <-     answered = tid             LMM(wd:C)
 *   on timeout: CAS want: tid -> 0; if that fails, the handler has it:
 *   wait for answered (the unwind is bounded).
 * A signal that comes after the watchdog gave up finds want != its tid and
 * does nothing.
 *
 * The timer also runs one more function, the hook (the triggers,
 * src/trigger/, set by core): ttlog__watchdog_hook() starts the timer if
 * the watchdog did not, and the thread then wakes at the shorter of the
 * two steps. The signal is reserved only for the watchdog itself.
 */
#define _GNU_SOURCE
#include "watchdog/watchdog.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/state.h"
#include "format/format.h"
#include "proc/stack.h"
#include "ring/ring.h"
#include "snapshot/writer.h"
#include "stream/stream.h"
#include "thread/thread.h"
#include "ttlog.h"

#define MAX_WATCHED 4096u           /* rings watched, by index; more are not */
#define MAX_STALLED 16u             /* stacks in one watchdog snapshot */
#define ANSWER_NS 1000000000ull     /* how long a stalled thread has to answer */
#define BUSY_BIT 0x80000000u

struct watched {
	uint64_t head;
	uint64_t since_ns;              /* when head last moved */
	uint32_t tid;                   /* the owner seen; 0: not live */
	int reported;                   /* this stall is in a snapshot already */
};

struct memory {
	struct watched rings[MAX_WATCHED];
	struct ttlog__stack stacks[MAX_STALLED];
};

static struct memory *mem;          /* reserved at start */
static uint64_t period_ns;
static uint64_t last_tick_ns;
static int signo;                   /* the reserved signal, 0: none */
static struct sigaction old_action;
static pthread_t thread;
static int own_thread;              /* thread runs (joined by stop) */
static int on_stream;               /* tick() is the stream's timer */
static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake;       /* init_wake() */
static int stopping;                /* under wake_lock */

/* On the drainer, tick() and ttlog__watchdog_stop() meet Dekker-style, all
 * seq_cst: tick sets in_tick, then reads active; stop clears active, then
 * waits for in_tick to be 0. Either tick sees active 0 and does nothing,
 * or stop sees its in_tick and waits for the end of the look: the signal
 * handler is never put back while a stalled thread is being asked. */
static _Atomic int active;
static _Atomic int in_tick;
static _Atomic(struct ttlog__stack *) slot;
static _Atomic(void (*)(void)) hook;  /* the triggers' tick; NULL: none */
static _Atomic uint64_t hook_step_ns; /* its step; 0: none */
static _Atomic uint32_t want_tid;   /* the thread asked; | BUSY_BIT while it unwinds */
static _Atomic uint32_t answered_tid;

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The watchdog's signal on a stalled thread. Runs in signal context. */
static void on_signal(int sig, siginfo_t *info, void *uc)
{
	(void)sig;
	int saved_errno = errno;
	uint32_t self = (uint32_t)syscall(SYS_gettid);
	uint32_t expect = self;
	/* Only the watchdog's own request (sent by this process with tgkill)
	 * for this very thread. LMM(wd:B) pairs with LMM(wd:A): the slot. */
	if (info && info->si_code == SI_TKILL && info->si_pid == getpid() &&
	    atomic_compare_exchange_strong_explicit(&want_tid, &expect, self | BUSY_BIT,
						    memory_order_acquire, memory_order_relaxed)) {
		struct ttlog__stack *st = atomic_load_explicit(&slot, memory_order_relaxed);
		ttlog__stack_capture_signal(st, uc, self);
		/* LMM(wd:C) pairs with LMM(wd:D): the stack is whole. */
		atomic_store_explicit(&answered_tid, self, memory_order_release);
	}
	errno = saved_errno;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {0, (long)ms * 1000000L};
	nanosleep(&ts, NULL);
}

/* Asks thread tid for its stack into st. 1 if it answered. */
static int ask_stack(uint32_t tid, struct ttlog__stack *st)
{
	st->nframes = 0;
	atomic_store_explicit(&slot, st, memory_order_relaxed);
	atomic_store_explicit(&answered_tid, 0, memory_order_relaxed);
	/* LMM(wd:A) pairs with LMM(wd:B). */
	atomic_store_explicit(&want_tid, tid, memory_order_release);
	if (syscall(SYS_tgkill, getpid(), (pid_t)tid, signo) != 0) {
		atomic_store_explicit(&want_tid, 0, memory_order_relaxed);
		return 0;
	}
	uint64_t deadline = mono_ns() + ANSWER_NS;
	for (;;) {
		/* LMM(wd:D) pairs with LMM(wd:C). */
		if (atomic_load_explicit(&answered_tid, memory_order_acquire) == tid)
			break;
		if (mono_ns() >= deadline) {
			uint32_t expect = tid;
			if (atomic_compare_exchange_strong_explicit(&want_tid, &expect, 0,
								    memory_order_relaxed,
								    memory_order_relaxed))
				return 0; /* it never started: it never will */
			deadline = UINT64_MAX; /* it is unwinding: wait for the end */
		}
		sleep_ms(1);
	}
	atomic_store_explicit(&want_tid, 0, memory_order_relaxed);
	return 1;
}

static void look(void);

/* One look at every ring, marked as running for ttlog__watchdog_stop().
 * Normal context, on one thread at a time. */
static void tick(void)
{
	atomic_store_explicit(&in_tick, 1, memory_order_seq_cst);
	if (atomic_load_explicit(&active, memory_order_seq_cst)) {
		if (period_ns)
			look();
		void (*fn)(void) = atomic_load_explicit(&hook, memory_order_acquire);
		if (fn)
			fn();
	}
	atomic_store_explicit(&in_tick, 0, memory_order_seq_cst);
}

/* 1 if ring r, watched as w, is still for at least `age` ns now, unreported,
 * with a span open. */
static int still_in_span(struct ttlog__ring *r, const struct watched *w, uint64_t now, uint64_t age)
{
	if (!w->tid || w->reported || now - w->since_ns < age)
		return 0;
	/* The owner's count of open spans: read without its cooperation,
	 * but its ring has not moved for that long, so neither has the
	 * count. */
	uint32_t spans = __atomic_load_n(&r->scopes.spans, __ATOMIC_RELAXED) +
			 __atomic_load_n(&r->scopes.over_spans, __ATOMIC_RELAXED);
	return spans != 0;
}

/* Puts the stack of ring r's thread in slot *n of the snapshot (if one
 * is left) and marks the stall reported. */
static void take(struct ttlog__ring *r, struct watched *w, uint32_t *n)
{
	w->reported = 1;
	atomic_fetch_add_explicit(&ttlog__g.watchdog_stalls, 1, memory_order_relaxed);
	if (*n == MAX_STALLED)
		return;
	struct ttlog__stack *st = &mem->stacks[(*n)++];
	if (!ask_stack(w->tid, st)) {
		atomic_fetch_add_explicit(&ttlog__g.watchdog_unanswered, 1, memory_order_relaxed);
		memset(st, 0, sizeof *st);
	}
	st->tid = w->tid;
	st->thread_index = r->index;
	st->origin = TTLOG__FMT_STACK_ORIGIN_WATCHDOG;
	memcpy(st->name, r->name, sizeof r->name);
	st->name[sizeof r->name - 1] = '\0';
}

/*
 * One look at every ring. Threads that stop together (a deadlock) stop a
 * few instants apart, which may put a tick between them: when a thread
 * has been still for the period, the snapshot also takes every thread
 * still in a span for half of it, so that one stall gives one file with
 * all of them (stalled first, then those, up to MAX_STALLED stacks).
 */
static void look(void)
{
	uint64_t now = mono_ns();
	if (now - last_tick_ns < period_ns / 4)
		return;
	last_tick_ns = now;
	int stalled = 0;
	for (struct ttlog__ring *r = ttlog__ring_first(); r; r = r->next) {
		if (r->index >= MAX_WATCHED)
			continue;
		struct watched *w = &mem->rings[r->index];
		uint32_t state = atomic_load_explicit(&r->state, memory_order_acquire);
		uint32_t tid = atomic_load_explicit(&r->tid, memory_order_relaxed);
		uint64_t head = atomic_load_explicit(&r->w.head, memory_order_acquire);
		if (state != TTLOG__RING_LIVE || !tid) {
			w->tid = 0;
			continue;
		}
		if (tid != w->tid || head != w->head) {
			w->tid = tid;
			w->head = head;
			w->since_ns = now;
			w->reported = 0;
			continue;
		}
		stalled |= still_in_span(r, w, now, period_ns);
	}
	if (!stalled)
		return;
	uint32_t n = 0;
	for (int pass = 0; pass < 2; pass++) {
		uint64_t age = pass == 0 ? period_ns : period_ns / 2;
		for (struct ttlog__ring *r = ttlog__ring_first(); r; r = r->next) {
			if (r->index >= MAX_WATCHED)
				continue;
			struct watched *w = &mem->rings[r->index];
			if (still_in_span(r, w, now, age))
				take(r, w, &n);
		}
	}
	if (!n)
		return;
	char path[PATH_MAX];
	int rc = ttlog__snapshot_write_stacks(TTLOG__WS_NORMAL, "watchdog", mem->stacks, n, path,
					      sizeof path);
	atomic_fetch_add_explicit(rc == TTLOG_OK ? &ttlog__g.watchdog_snapshots : &ttlog__g.watchdog_failed, 1,
				  memory_order_relaxed);
}

static void *watchdog_main(void *arg)
{
	(void)arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	pthread_mutex_lock(&wake_lock);
	while (!stopping) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		uint64_t hs = atomic_load_explicit(&hook_step_ns, memory_order_relaxed);
		uint64_t step = period_ns ? period_ns / 4 : hs;
		if (hs && hs < step)
			step = hs;
		until.tv_sec += (time_t)(step / 1000000000ull);
		until.tv_nsec += (long)(step % 1000000000ull);
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&wake, &wake_lock, &until);
		if (stopping)
			break;
		pthread_mutex_unlock(&wake_lock);
		tick();
		pthread_mutex_lock(&wake_lock);
	}
	pthread_mutex_unlock(&wake_lock);
	return NULL;
}

/* The wake-up's condition variable, timed on CLOCK_MONOTONIC (the default,
 * CLOCK_REALTIME, would take the thread's monotonic deadlines as long past
 * and never let it sleep). */
static void init_wake(void)
{
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&wake, &attr);
	pthread_condattr_destroy(&attr);
}

/* The highest real-time signal nobody handles, installed; 0 if none. */
static int reserve_signal(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
	sigfillset(&sa.sa_mask);
	for (int s = SIGRTMAX; s >= SIGRTMIN; s--) {
		struct sigaction cur;
		if (sigaction(s, NULL, &cur) != 0 || (cur.sa_flags & SA_SIGINFO) ||
		    cur.sa_handler != SIG_DFL)
			continue;
		if (sigaction(s, &sa, &old_action) == 0)
			return s;
	}
	return 0;
}

/* The timer: the stream's drainer if it runs, else a thread of its own.
 * Does nothing if it runs already. */
static int start_timer(char *err, size_t err_size)
{
	if (on_stream || own_thread)
		return TTLOG_OK;
	stopping = 0;
	atomic_store_explicit(&active, 1, memory_order_seq_cst);
	if (ttlog__stream_set_timer(tick) == 0) {
		on_stream = 1;
		return TTLOG_OK;
	}
	init_wake();
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	int rc = pthread_create(&thread, &attr, watchdog_main, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		atomic_store_explicit(&active, 0, memory_order_seq_cst);
		snprintf(err, err_size, "watchdog: cannot start its thread: %s", strerror(rc));
		return TTLOG_E_NOMEM;
	}
	pthread_setname_np(thread, "ttlog-watchdog");
	own_thread = 1;
	return TTLOG_OK;
}

int ttlog__watchdog_start(uint64_t period, char *err, size_t err_size)
{
	if (!period || signo)
		return TTLOG_OK;
	if (!mem) {
		void *m = mmap(NULL, sizeof *mem, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);
		if (m == MAP_FAILED) {
			snprintf(err, err_size, "watchdog: cannot reserve memory: %s", strerror(errno));
			return TTLOG_E_NOMEM;
		}
		mem = m;
	}
	memset(mem->rings, 0, sizeof mem->rings);
	last_tick_ns = 0;
	signo = reserve_signal();
	if (!signo) {
		snprintf(err, err_size, "watchdog: every real-time signal has a handler already");
		return TTLOG_E_SIGNAL;
	}
	/* Before the timer can see it: the thread reads it unsynchronised. */
	period_ns = period;
	int rc = start_timer(err, err_size);
	if (rc != TTLOG_OK) {
		period_ns = 0;
		sigaction(signo, &old_action, NULL);
		signo = 0;
	}
	return rc;
}

int ttlog__watchdog_hook(void (*fn)(void), uint64_t step_ns, char *err, size_t err_size)
{
	/* A running thread takes the step at its next wait. */
	atomic_store_explicit(&hook_step_ns, step_ns, memory_order_relaxed);
	atomic_store_explicit(&hook, fn, memory_order_release);
	return start_timer(err, err_size);
}

void ttlog__watchdog_stop(void)
{
	if (on_stream) {
		atomic_store_explicit(&active, 0, memory_order_seq_cst);
		ttlog__stream_set_timer(NULL);
		on_stream = 0;
		/* A look the drainer began before may be asking a thread for
		 * its stack: the handler must stay until it is over. */
		while (atomic_load_explicit(&in_tick, memory_order_seq_cst))
			sleep_ms(1);
	}
	if (own_thread) {
		pthread_mutex_lock(&wake_lock);
		stopping = 1;
		pthread_cond_signal(&wake);
		pthread_mutex_unlock(&wake_lock);
		pthread_join(thread, NULL);
		own_thread = 0;
	}
	if (signo) {
		sigaction(signo, &old_action, NULL);
		signo = 0;
	}
	period_ns = 0;
	atomic_store_explicit(&hook_step_ns, 0, memory_order_relaxed);
	atomic_store_explicit(&hook, NULL, memory_order_relaxed);
}

void ttlog__watchdog_after_fork(void)
{
	/* The thread is the parent's; the child is not watched (its handler
	 * stays installed and ignores signals it did not ask for). */
	own_thread = 0;
	on_stream = 0;
	pthread_mutex_init(&wake_lock, NULL);
	init_wake();
}
