/* SPDX-License-Identifier: MIT */
/*
 * stack.c - capturing a thread's stack as raw addresses with libunwind's
 * local unwinder, and the registers of a crash from the signal's ucontext.
 *
 * Why libunwind and not glibc's backtrace(): backtrace() may load libgcc_s
 * (malloc, dlopen) on first use and has no way to start from a signal's
 * ucontext, so frame 0 would be the handler rather than the faulting pc.
 * libunwind's local unwinder starts from the ucontext (unw_init_local2()
 * with UNW_INIT_SIGNAL_FRAME: frame 0 is the interrupted pc, not a return
 * address) and reads .eh_frame, so it needs no frame pointers and walks
 * through glibc.
 *
 * What libunwind documents (libunwind 1.6.2 manual pages, as installed by
 * libunwind-dev; also https://www.nongnu.org/libunwind/man/):
 *   - libunwind(3), "Thread- and signal-safety": routines that may take a
 *     lock are not signal-safe, but "as a general rule, any routine that
 *     may be needed for local unwinding is signal-safe (e.g., unw_step()
 *     for local unwinding is signal-safe)";
 *   - unw_init_local(3): unw_init_local() is safe to use from a signal
 *     handler, and unw_init_local2(..., UNW_INIT_SIGNAL_FRAME) is the way
 *     to start from the third argument of a sigaction handler;
 *   - unw_step(3): signal-safe for a cursor in the local address space;
 *   - unw_get_reg(3): thread-safe and safe in a signal handler;
 *   - unw_set_caching_policy(3): NOT safe in a signal handler, so it is
 *     called here once, at init.
 * The caching policy is UNW_CACHE_NONE. The global cache is shared under a
 * lock that a crashing thread may already hold; the per-thread cache lives
 * in libunwind's thread-local storage, which the dynamic loader allocates
 * with malloc on a thread's first access when libunwind was loaded by
 * dlopen(). Without a cache, each step parses its FDE again (the capture
 * costs a few microseconds more) and no libunwind memory is allocated in
 * the handler beyond its own mmap-backed pools. One thing is not covered by
 * the documents: to find a pc's unwind table, libunwind calls
 * dl_iterate_phdr(), which takes the loader's (recursive) lock; a crash
 * while another thread is inside dlopen() waits for it to finish.
 *
 * Priming: ttlog__stack_init() unwinds once from normal context through
 * the same code as the crash path, so that lazy binding (PLT entries of
 * libunwind and of the calls below) and libunwind's one-time set-up happen
 * before any crash.
 *
 * A corrupt stack: the unwinder reads memory the stack points to, and a
 * fault there must not cost the snapshot. libunwind 1.6 checks the stack
 * addresses it reads in a signal frame (a stack pointer aimed at a page
 * without access ends the walk without a fault: tests/test_crash_stack.c),
 * but not everything it reads (unwind tables, frames further out), so the
 * capture guards itself as well. The crash capture unblocks
 * SIGSEGV and SIGBUS while it unwinds (the handler otherwise runs with its
 * own signal blocked, and the kernel kills a thread that faults with its
 * fault signal blocked); a fault re-enters the crash handler on the same
 * thread, whose first call is ttlog__stack_fault_escape(): it sees
 * `unwinding_tid` and siglongjmp()s back into the capture, which keeps the
 * frames found so far and sets TTLOG__FMT_STACK_FAULTED. siglongjmp restores
 * the signal mask sigsetjmp saved, so the fault signals are blocked again.
 * Only one thread at a time captures a crash stack (the owner of the crash,
 * src/crash/crash.c), so one jump buffer is enough.
 *
 * Memory ordering: `unwinding_tid` and the jump buffer pass between a
 * thread and its own signal handler, never between two threads (another
 * thread's handler compares the word with its own tid, which the word never
 * holds), so relaxed accesses ordered by signal fences are all it takes;
 * the fences cost no instruction, they only keep the compiler from moving
 * accesses across them.
 *   guarded_unwind()                             the handler, same thread
 *   sigsetjmp fills unwind_escape                ttlog__stack_fault_escape():
 *   signal fence             LMM(unwind:A)       load unwinding_tid == tid
 *   store unwinding_tid = tid                    signal fence   LMM(unwind:B)
 *   signal fence             LMM(unwind:A)       siglongjmp(unwind_escape)
 *   unblock, unwind (may fault), block again
 *   store unwinding_tid = 0
 *   signal fence             LMM(unwind:C)
 * LMM(unwind:A) pairs with LMM(unwind:B): a handler that sees the tid sees
 * the whole jump buffer, and the tid is in place before the first read of
 * the unwinder that may fault. LMM(unwind:C): the 0 is in place before
 * anything after the capture that may fault, which then must not jump
 * into a frame that is gone.
 */
#define _GNU_SOURCE
#include "proc/stack.h"

#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "ring/ring.h"
#include "thread/thread.h"

static sigjmp_buf unwind_escape;
static _Atomic uint32_t unwinding_tid; /* the thread inside a guarded unwind, 0 if none */
static _Atomic int initialised;
void (*ttlog__stack_test_hook)(void);

/* Copies the registers of the interrupted context (st->arch is already set
 * by reset()). Runs in signal context. */
static void copy_registers(struct ttlog__stack *st, const ucontext_t *uc)
{
	st->nregs = 0;
#if defined(__x86_64__)
	static const int gregs[TTLOG__FMT_REG_X86_64_COUNT] = {
		REG_RIP, REG_RSP, REG_RBP, REG_RAX, REG_RBX, REG_RCX, REG_RDX, REG_RSI, REG_RDI,
		REG_R8,  REG_R9,  REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15, REG_EFL,
	};
	_Static_assert(TTLOG__FMT_REG_X86_64_COUNT <= TTLOG__STACK_MAX_REGS, "registers fit");
	for (uint32_t i = 0; i < TTLOG__FMT_REG_X86_64_COUNT; i++) {
		st->reg_ids[i] = i; /* the table's order is the ids' order */
		st->reg_values[i] = (uint64_t)uc->uc_mcontext.gregs[gregs[i]];
	}
	st->nregs = TTLOG__FMT_REG_X86_64_COUNT;
#elif defined(__aarch64__)
	_Static_assert(TTLOG__FMT_REG_AARCH64_COUNT <= TTLOG__STACK_MAX_REGS, "registers fit");
	st->reg_ids[0] = TTLOG__FMT_REG_AARCH64_PC;
	st->reg_values[0] = uc->uc_mcontext.pc;
	st->reg_ids[1] = TTLOG__FMT_REG_AARCH64_SP;
	st->reg_values[1] = uc->uc_mcontext.sp;
	for (uint32_t i = 0; i < 31; i++) {
		st->reg_ids[2 + i] = TTLOG__FMT_REG_AARCH64_X0 + i;
		st->reg_values[2 + i] = uc->uc_mcontext.regs[i];
	}
	st->reg_ids[33] = TTLOG__FMT_REG_AARCH64_PSTATE;
	st->reg_values[33] = uc->uc_mcontext.pstate;
	st->nregs = TTLOG__FMT_REG_AARCH64_COUNT;
#else
	(void)uc; /* a stack, if libunwind works here; no registers */
#endif
}

/* The format's name of this machine. Runs in signal context. */
static uint32_t host_arch(void)
{
#if defined(__x86_64__)
	return TTLOG__FMT_ARCH_X86_64;
#elif defined(__aarch64__)
	return TTLOG__FMT_ARCH_AARCH64;
#else
	return TTLOG__FMT_ARCH_UNKNOWN;
#endif
}

/*
 * Walks the cursor's frames into st->frames, at most TTLOG__STACK_MAX_FRAMES;
 * TRUNCATED if there was one more. The count is stored through a volatile
 * pointer after each frame, so that a siglongjmp out of unw_step() leaves
 * every frame found so far counted. Runs in signal context.
 */
static void walk(struct ttlog__stack *st, unw_cursor_t *cursor, void (*hook)(void))
{
	volatile uint32_t *count = &st->nframes;
	for (;;) {
		unw_word_t ip = 0;
		if (unw_get_reg(cursor, UNW_REG_IP, &ip) < 0 || ip == 0)
			return;
		if (*count >= TTLOG__STACK_MAX_FRAMES) {
			st->flags |= TTLOG__FMT_STACK_TRUNCATED;
			return;
		}
		st->frames[*count] = (uint64_t)ip;
		*count = *count + 1;
		if (hook)
			hook();
		if (unw_step(cursor) <= 0)
			return; /* 0: the outermost frame; < 0: no unwind information further */
	}
}

/*
 * The guarded unwind of the crash path, starting at context (a signal's
 * ucontext with UNW_INIT_SIGNAL_FRAME, or unw_getcontext()'s when priming).
 * Runs in signal context.
 */
static void guarded_unwind(struct ttlog__stack *st, void *context, int init_flags, uint32_t tid)
{
	unw_cursor_t cursor;
	sigset_t faults, saved;
	sigemptyset(&faults);
	sigaddset(&faults, SIGSEGV);
	sigaddset(&faults, SIGBUS);
	/* Saves the mask (savemask 1): the jump back re-blocks what the
	 * handler had blocked. */
	if (sigsetjmp(unwind_escape, 1) != 0) {
		st->flags |= TTLOG__FMT_STACK_FAULTED;
		/* Back from a fault, fault signals blocked again. LMM(unwind:C) */
		atomic_store_explicit(&unwinding_tid, 0, memory_order_relaxed);
		atomic_signal_fence(memory_order_seq_cst);
		return;
	}
	/* LMM(unwind:A) pairs with LMM(unwind:B) in ttlog__stack_fault_escape():
	 * the jump buffer before the tid, the tid before the unwind. */
	atomic_signal_fence(memory_order_seq_cst);
	atomic_store_explicit(&unwinding_tid, tid, memory_order_relaxed);
	atomic_signal_fence(memory_order_seq_cst);
	pthread_sigmask(SIG_UNBLOCK, &faults, &saved);
	if (unw_init_local2(&cursor, (unw_context_t *)context, init_flags) == 0)
		walk(st, &cursor, ttlog__stack_test_hook);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	/* LMM(unwind:C) No jump back once the capture is over. */
	atomic_store_explicit(&unwinding_tid, 0, memory_order_relaxed);
	atomic_signal_fence(memory_order_seq_cst);
}

/* Runs in signal context. */
void ttlog__stack_fault_escape(uint32_t tid)
{
	/* Relaxed: only this thread stores its own tid here (see the top of
	 * this file). */
	if (tid != 0 && atomic_load_explicit(&unwinding_tid, memory_order_relaxed) == tid) {
		/* LMM(unwind:B) pairs with LMM(unwind:A): the jump buffer is whole. */
		atomic_signal_fence(memory_order_acquire);
		siglongjmp(unwind_escape, 1);
	}
}

/* Empties st for a capture of thread tid. Runs in signal context: one
 * read of initial-exec TLS (ttlog__ring_self). */
static void reset(struct ttlog__stack *st, uint32_t tid, uint32_t flags)
{
	struct ttlog__ring *self = ttlog__ring_self();
	st->tid = tid;
	st->thread_index = self ? self->index : 0xffffffffu;
	st->flags = flags;
	st->arch = host_arch();
	st->nframes = 0;
	st->nregs = 0;
	st->origin = TTLOG__FMT_STACK_ORIGIN_SELF;
	st->name[0] = '\0';
}

/* Runs in signal context. */
void ttlog__stack_capture_crash(struct ttlog__stack *st, void *uc, uint32_t tid)
{
	reset(st, tid, TTLOG__FMT_STACK_CRASH | TTLOG__FMT_STACK_PC_FIRST);
	copy_registers(st, uc);
	guarded_unwind(st, uc, UNW_INIT_SIGNAL_FRAME, tid);
}

/* Runs in signal context. */
void ttlog__stack_capture_signal(struct ttlog__stack *st, void *uc, uint32_t tid)
{
	reset(st, tid, TTLOG__FMT_STACK_PC_FIRST);
	guarded_unwind(st, uc, UNW_INIT_SIGNAL_FRAME, tid);
}

__attribute__((noinline)) void ttlog__stack_capture_here(struct ttlog__stack *st,
							 const void *return_address)
{
	unw_context_t context;
	unw_cursor_t cursor;
	reset(st, (uint32_t)syscall(SYS_gettid), 0);
	if (unw_getcontext(&context) != 0 || unw_init_local2(&cursor, &context, 0) != 0)
		return;
	walk(st, &cursor, NULL);
	/* Drop ttlog's own frames: the caller's frame is the one whose return
	 * address the public function saw. If it is not among the first few
	 * (an unwinder that skipped it), everything is kept. */
	for (uint32_t i = 0; i < st->nframes && i < 8; i++) {
		if (st->frames[i] == (uint64_t)(uintptr_t)return_address) {
			memmove(st->frames, st->frames + i, (st->nframes - i) * sizeof st->frames[0]);
			st->nframes -= i;
			break;
		}
	}
}

void ttlog__stack_init(void)
{
	/* Relaxed: the one caller, ttlog_init(), holds its lock, which orders
	 * this set-up before any later call; the flag only keeps it to once. */
	if (atomic_exchange_explicit(&initialised, 1, memory_order_relaxed))
		return;
	unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_NONE);
	/* One walk through the crash path's code, and one through the on-demand
	 * path's; the results are thrown away. */
	static struct ttlog__stack prime;
	unw_context_t context;
	if (unw_getcontext(&context) == 0)
		guarded_unwind(&prime, &context, 0, (uint32_t)syscall(SYS_gettid));
	ttlog__stack_capture_here(&prime, NULL);
}
