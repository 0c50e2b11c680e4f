/* SPDX-License-Identifier: MIT */
/*
 * crash.c - fatal-signal handlers: write a crash snapshot, then let the
 * signal do what it would have done without ttlog.
 *
 * This comment walks the crash path in order, from the signal to the linked
 * file, naming every function it reaches; each of them says "Runs in signal
 * context" in its own comment too. Async-signal-safe means here what POSIX
 * means: whatever the interrupted code was doing (inside malloc, holding
 * the stdio lock, halfway through a log call), the function still works,
 * because it takes no lock, allocates nothing, touches no stdio buffer and
 * calls nothing but system calls and functions that are safe in a handler.
 * The crash path's memory is the signal stack, static storage, and memory
 * reserved at ttlog_init (the writer's and the pruner's workspaces, mapped
 * with MAP_POPULATE; the module lists); its shared words are lock-free
 * atomics.
 *
 * 0. Before any crash (normal context). ttlog__crash_install() puts
 *    crash_handler on the fatal signals (SA_SIGINFO | SA_ONSTACK |
 *    SA_RESTART, an empty sa_mask: the handler blocks only the signal being
 *    handled), keeping the previous actions in previous[]. While they are
 *    installed, each thread gets an alternate signal stack
 *    (src/thread/altstack.c): the thread calling ttlog_init at once
 *    (ttlog__altstack_enable_main), every thread started later at its start
 *    (src/thread/start.c, behind the wrapped pthread_create of
 *    src/thread/interpose.c), and any other when it attaches its ring
 *    (ttlog__altstack_enable), unless it has one of its own; 64 KiB with a
 *    guard page below. Nothing on the crash path keeps a large buffer on
 *    the stack (the largest is step 10's line, some 3 KiB). ttlog_init also
 *    primes libunwind (ttlog__stack_init, src/proc/stack.c), reads the
 *    module list (ttlog__modules_init) and reserves the workspaces
 *    (ttlog__snapshot_init, ttlog__retention_init).
 *
 * 1. The signal arrives. The kernel switches to the thread's alternate
 *    stack (so a stack overflow is caught too; a thread without one, started
 *    where thread creation is not wrapped or when the stacks' budget was
 *    spent, that never attached a ring, runs the handler on its own stack)
 *    and calls crash_handler(). It saves errno, takes the thread's id with
 *    syscall(SYS_gettid), and calls step 2. (gettid, tgkill, getdents64
 *    and process_vm_readv below are Linux's own, so not on POSIX's list;
 *    glibc's syscall() and process_vm_readv() are the bare system call,
 *    with no lock, no memory and no state of the C library, which is what
 *    the list guards against. The same holds for nanosleep, where POSIX
 *    lists sleep.)
 *
 * 2. ttlog__stack_fault_escape(tid) (src/proc/stack.c): if this thread is
 *    inside the guarded unwind of step 5, this signal is a fault of the
 *    unwinder, and it siglongjmp()s back into the capture (see step 5).
 *    Otherwise it returns. One relaxed atomic load and a signal fence.
 *
 * 3. The owner: a compare-and-swap of crash_owner from 0 to tid elects the
 *    one thread that writes the crash snapshot. Any other thread goes to
 *    step 12. The owner itself, faulting again outside the unwinder (the
 *    CAS fails with its own tid), goes straight to step 13: no second
 *    snapshot, no loop (see the end of step 13). The owner names the signal
 *    with ttlog__signal_name() (a lookup in a constant table) and fills a
 *    struct ttlog__crash_info on its stack; the stack capture goes in
 *    crash_stack, static rather than on the signal stack.
 *
 * 4. ttlog__rings_freeze(1) (src/thread/thread.c): stores the frozen flag
 *    and 0 into every ring's limit, walking the ring list
 *    (ttlog__ring_first: an acquire load; `next` never changes). Every other
 *    thread's next log call goes to ttlog__reserve_slow(), which refuses it
 *    (dropped_frozen), so the history being saved is not overwritten. Only
 *    atomic stores and a fence.
 *
 * 4b. ttlog__snapshot_refuse(1) (src/snapshot/writer.c): a seq_cst store.
 *    From now on ttlog_snapshot() and the snapshot signal are refused
 *    (TTLOG_E_BUSY, counted), so that no new temporary file is started that
 *    the dying process would leave behind.
 *
 * 5. ttlog__stack_capture_crash(&crash_stack, context, tid)
 *    (src/proc/stack.c): reset() (the thread's ring index from
 *    ttlog__ring_self() and ring_of(), a read of initial-exec TLS, which
 *    never allocates; host_arch()), copy_registers() from the ucontext, then
 *    guarded_unwind(): sigsetjmp (the registers, and the mask through
 *    sigprocmask), the tid into unwinding_tid, pthread_sigmask to unblock
 *    SIGSEGV and SIGBUS, unw_init_local2(UNW_INIT_SIGNAL_FRAME) and walk()
 *    (unw_get_reg, unw_step: libunwind documents local unwinding as
 *    signal-safe, and the caching policy that is not was set at init), the
 *    mask back. A fault while unwinding (a corrupt stack) enters
 *    crash_handler again on this thread, on the same signal stack; its
 *    step 2 jumps back, siglongjmp restores the mask, and the capture keeps
 *    the frames it found, flagged FAULTED. The caveat stack.c describes:
 *    libunwind calls dl_iterate_phdr(), whose lock a thread inside dlopen()
 *    may hold, and the owner then waits for it.
 *
 * 6. ttlog__modules_at_crash() (src/proc/modules.c): brings the module
 *    list of the last refresh (ttlog__modules_current(), an acquire load)
 *    up to date by walking the dynamic linker's link map, every namespace:
 *    walk_chain(), checked_read() and checked_string() (process_vm_readv on
 *    this process and getpid: a bad pointer fails with EFAULT instead of
 *    faulting), find_old(), read_module(), describe(), notes_checked(),
 *    find_build_id(), append() and reset_list(), into CRASH_LIST (a list
 *    reserved at init) with static scratch buffers; only the owner runs
 *    it, so they have one user. A link map being changed, or unreadable,
 *    leaves the last refresh's list.
 *
 * 7. ttlog__snapshot_write(TTLOG__WS_CRASH, ...) (src/snapshot/writer.c),
 *    through ttlog__snapshot_write_stack() (an acquire load of the state:
 *    the settings) to write_from(), with the in-process source (self_source()) whose
 *    callbacks are self_ring_next(), self_read_begin(), self_site(),
 *    self_clock() and self_dropped(). Everything it uses is in the crash
 *    workspace, reserved at init and never shared with ttlog_snapshot()
 *    (which has the other one), taken with a compare-and-swap of its busy
 *    flag. In order:
 *    a. reset_workspace(); ttlog__sanitize_reason() makes the signal's
 *       name the file's reason; open_temporary() open()s an unnamed
 *       file in the directory (O_TMPFILE, mode 0600) or, where the file
 *       system has none, builds <dir>/.ttlog-<pid>-<tid>-<16 hex>.tmp
 *       with the string builder of src/common/sigsafe.c (ttlog__sb_init,
 *       ttlog__sb_str, ttlog__sb_mem, ttlog__sb_u64: the caller's buffer
 *       only), the digits from name_bits() (arithmetic on random bytes
 *       read at init), and open()s it (O_CREAT | O_EXCL | O_NOFOLLOW,
 *       mode 0600). An encrypted file
 *       (ttlog__seal_on(): an acquire load) starts with
 *       ttlog__seal_begin() (src/snapshot/seal.c): the workspace's key
 *       chain gives the file's keys through libsodium's pure computation,
 *       no randomness (crypto_kdf_derive_from_key, crypto_box_seed_keypair,
 *       crypto_generichash_init/update/final, crypto_box_easy,
 *       crypto_secretstream_xchacha20poly1305_init_pull, sodium_memzero:
 *       BLAKE2b, X25519, XSalsa20-Poly1305 and HChaCha20 on the caller's
 *       memory and stack, implementations chosen by sodium_init() at
 *       ttlog_init), then ttlog__write_all() of the container header, and
 *       it sets the output's sink to seal_write().
 *    b. The clock, self_clock(): ttlog__clock_calibrate() without waiting
 *       (the process is dying), ttlog__clock_realtime_ns(),
 *       ttlog__clock_now() (src/clock/clock.c: clock_ns() is clock_gettime,
 *       counter_read() the CPU's counter); in shared-memory mode
 *       ttlog__publish_calibration() stores the pair in the mapping
 *       (shm_note_calibration() and copy_counters(), src/shm/owner.c:
 *       atomics in the mapping). Then the window's cut-off.
 *    c. ttlog__emit_file_header() and write_head(): the file header and HEAD,
 *       with the CRASH flag. Every chunk goes through emit_chunk() and
 *       the emitter of src/snapshot/emit.c, ttlog__emit_chunk()
 *       (ttlog__chunk_crc and ttlog__crc32c: a table and the caller's
 *       bytes) into put_bytes(), ttlog__fdbuf_put() and,
 *       each time the 64 KiB output buffer fills, ttlog__fdbuf_flush(),
 *       ttlog__fdbuf_write() and ttlog__write_all(): write(2), retried on
 *       EINTR; for an encrypted file the sink seal_write() in between
 *       (crypto_secretstream_xchacha20poly1305_push into the workspace's
 *       message buffer, ttlog__put_u32, then ttlog__write_all()).
 *    d. Each ring (self_ring_next: the ring list), write_thread(): the
 *       ring reader of src/ring/ring.c, self_read_begin(),
 *       ttlog__ring_read_begin() and ttlog__ring_read_begin_at() (the
 *       range [tail, head), with overwritten_in()), then ttlog__ring_read()
 *       piece by piece into the stage buffer (ring_copy(), a memcpy that
 *       races with the owner on purpose and is checked afterwards;
 *       count_lost() for what was overwritten meanwhile); a live thread's
 *       name from /proc/self/task/<tid>/comm (live_thread_name(): open,
 *       read, close), an exited one's from its ring. Records before the
 *       window are left out unless keeps_state() (self_site(),
 *       ttlog__site_desc_lookup(): an acquire load of the site table and
 *       the description filled at registration, src/sites/desc.c) says
 *       they open or close a context or a span. ttlog__emit_record()
 *       (src/snapshot/emit.c, with source_site()) puts each record in a
 *       block, and is_event() counts the events among them for END; a site seen for the first time is queued for the SITE
 *       chunk that precedes the block (ttlog__emit_has_site(),
 *       ttlog__emit_add_site(), clamp_len(), ttlog__emit_put_text()), and
 *       for a SITX entry if it has fields or is not a plain log call
 *       (add_site_extension()): both copy the resolved
 *       description's strings and names, and parse nothing; with
 *       TTLOG_REDACT rules, ttlog__redact_mask() (src/snapshot/redact.c:
 *       format_key_mask(), glob_match(), file_match(), over the rules
 *       copied at init) and ttlog__redact_size()/ttlog__redact_copy()
 *       (walk(), width(), marker()) rewrite the record into the block;
 *       ttlog__record_truncated_strings() and fixed_size()
 *       (src/snapshot/metrics_chunk.c) count cut strings. A full block,
 *       and the ring's last, goes out through ttlog__emit_flush_block()
 *       (after ttlog__emit_thread() chose the thread): ttlog__emit_flush_sites()
 *       writes the pending SITE and SITX chunks, then the block goes
 *       out with the codec of TTLOG_COMPRESSION: by default
 *       LZ4_compress_fast_extState() compresses it with the LZ4 state
 *       reserved in the workspace at init (LZ4_sizeofState() bytes; the
 *       extState call works in that state and the buffers it is given,
 *       and allocates nothing); packed, the records were coded as they
 *       came (ttlog__pack_record(), src/snapshot/pack.c, pure
 *       computation in the workspace's struct ttlog__pack); with zstd,
 *       ttlog__zstd_compress() (src/snapshot/compression.c) then runs
 *       ZSTD_compress2() in the static context that ttlog__zstd_prepare()
 *       made at init in the workspace (ZSTD_initStaticCCtx over
 *       ZSTD_estimateCCtxSize_usingCParams() bytes, its parameters fixed
 *       for the largest block, so it never asks for more memory: zstd
 *       allocates nothing with a static context and takes no lock).
 *       Stored as is if that does not make it smaller: an EVTS chunk. The THRD chunk closes the ring, with
 *       ttlog__ring_read_overwritten(); a ring that changed owner while
 *       being read gets the old owner's, from what ttlog__ring_read_begin()
 *       loaded, with the rest counted torn (count_handed_over()).
 *    e. write_sampling() (ttlog__site_id_limit() and its id_limit(),
 *       ttlog__sampling_get(): relaxed loads; ttlog__site_lookup(),
 *       ttlog__emit_add_site(), flush_sampling()): SMPL.
 *       write_metrics(): ttlog__metrics_snapshot() (src/snapshot/
 *       metrics_chunk.c: chunk_begin(), write_entry(), entry_begin(),
 *       put_double(), chunk_flush() through emit_metrics_chunk(),
 *       write_self()) with ttlog__metrics_count() and
 *       ttlog__metrics_entry() (src/metrics/registry.c: an acquire load,
 *       fixed entries), ttlog__metric_read() (src/metrics/sum.c:
 *       slot_load(), slot_double() and ttlog__hist_from_bits(),
 *       read_gauge(), read_histogram(): loads of the shards' slots) and
 *       ttlog__self_metrics() (src/metrics/self.c: emit_counter(),
 *       g_load(), ring_use(); ttlog__clock_now(); ttlog__rings_records()
 *       and ttlog__rings_overwritten() of thread.c,
 *       ttlog__ring_overwritten() of ring.c, ttlog__sampling_totals(),
 *       ttlog__metrics_refused() and ttlog__metrics_rejected(): loads), in
 *       the workspace's block buffers: MTRC.
 *    f. write_crash() (CRSH: signal, code, address, thread), write_stack()
 *       (STCK, from crash_stack), write_modules() (MODS, from step 6's
 *       list), write_end() (END, with self_dropped()), all built in the
 *       workspace; the little-endian helpers of src/common/internal.h
 *       (ttlog__put_u16, ttlog__put_u32, ttlog__put_u64, ttlog__get_u32,
 *       ttlog__get_u64) are memcpy.
 *    g. ttlog__emit_flush() (ttlog__fdbuf_flush()); for an encrypted file
 *       ttlog__seal_end(): the final message through seal_write(), then
 *       ttlog__seal_abandon() wipes the stream state (sodium_memzero).
 *       fsync(). publish(): final_name()
 *       (ttlog__clock_wall_ns(), ttlog__civil_from_unix(): arithmetic)
 *       makes <dir>/ttlog-<pid>-<time>-<signal>[-N].ttlog;
 *       link_temporary() puts the temporary there without replacing
 *       anything (EEXIST: the next N): linkat() of /proc/self/fd/<fd>
 *       (AT_SYMLINK_FOLLOW), or of the descriptor (AT_EMPTY_PATH) when
 *       /proc is gone, for an unnamed file, link() for a named one;
 *       drop_temporary() unlink()s a named temporary, and open(), fsync()
 *       and close() of the directory make the new name durable; then
 *       close() of the file (an unnamed file never linked goes with it). A temporary
 *       that cannot be created ends the write with TTLOG_E_DIR; a write,
 *       fsync or link that fails unlinks the temporary and ends it with
 *       TTLOG_E_IO; either way the errno is kept for step 10.
 *    h. ttlog__retention_prune(TTLOG__WS_CRASH, ...) (src/snapshot/
 *       retention.c), in the crash's own pruning workspace (a busy flag
 *       like the writer's), when limits are set: open() of the directory,
 *       scan() reads it with lseek and the getdents64 system call into the
 *       workspace (not readdir, which allocates),
 *       ttlog__retention_is_snapshot_name() and is_digits(), fstatat,
 *       is_crash_file() (openat, read, close of a file's first bytes),
 *       key_cmp() and offer() keep the files to remove first, and unlinkat
 *       removes them until the limits hold; the file just written is never
 *       removed.
 *    i. The result is kept for ttlog__snapshot_last_error(), the counters
 *       are raised, the busy flag is given back and errno restored.
 *
 * 8. If the file was written, ttlog__publish_crashed() (src/common/
 *    publish.h: ttlog__publisher_get(), an acquire load) tells
 *    shared-memory mode: shm_crashed() (active(): acquire loads) marks the
 *    mapping CRASHED and unlinks it (getpid, a store, unlink), since the
 *    snapshot holds everything it would recover.
 *
 * 8b. Streaming mode: ttlog__stream_close_now() (src/common/stream_ops.h:
 *    ttlog__stream_ops_get(), an acquire load of the table core/ set; a
 *    no-op without a stream) reaches close_now() in src/stream/stream.c.
 *    Unless this thread is the drainer itself, it takes the segment's
 *    owner word with a compare-and-swap, waiting for the drainer's cycle
 *    to end with nanosleep (sleep_ns(), 2 ms at a time, at most 200 ms;
 *    it gives up rather than wait longer), and keeps it for good. Then,
 *    in the stream's mapping reserved at ttlog_init (MAP_POPULATE): one
 *    cycle(), which drain()s every ring from the stream's own place in it
 *    (ttlog__ring_read_from(), tail_pair(), then ttlog__ring_read() and
 *    skip_to_tail() of src/ring/ring.c, and ttlog__ring_read_end()), sorts
 *    each record by the stream level (classify(): a table filled at start
 *    and strcmp; self_site(), ttlog__site_desc_lookup()), and puts the kept
 *    ones into blocks with the same emitter as step 7 (ttlog__emit_thread(),
 *    ttlog__emit_record(), ttlog__emit_flush_block(), ttlog__emit_flush();
 *    no index hook). Records below the level are promoted or left pending
 *    (promoting(), promote(), flush_promoted(), pend_add(), finalize(): the
 *    stream's own arrays; follow_spans() and in_trace() for the spans), and
 *    an error among them may promote a window (trigger(), mono_ns(),
 *    run_triggers(), promote_window(): ttlog__ring_read_begin() and
 *    ttlog__ring_read() again, pend_take()); finish_cycle() and count_cycle()
 *    count what was written or lost (add(): relaxed atomics; on a failed
 *    write, ttlog__seal_abandon() for an encrypted segment, ftruncate()
 *    back to the cycle's start, close(), mono_ns(): clock_gettime); an
 *    encrypted segment's bytes go through seal_write() as in step 7c.
 *    Then close_segment(): write_thread() per ring (a
 *    live thread's name by ttlog__live_thread_name(), as in step 7d;
 *    ttlog__ring_overwritten()), ttlog__metrics_snapshot() through
 *    emit_metrics_chunk() as in step 7e, no INDX, the segment END with
 *    dropped_total(), after finalize() of what is still pending,
 *    ttlog__emit_flush(), ttlog__seal_end() for an encrypted segment (as
 *    in step 7g), fsync() (unless
 *    TTLOG_STREAM_SYNC=none) and close(). The rings are still frozen, so
 *    the segment ends where the snapshot does.
 *
 * 9. ttlog__rings_freeze(0): the flag is cleared; each thread's next slow
 *    path sets its limit again.
 *
 * 9b. ttlog__snapshot_settle(tid, SETTLE_WAIT_MS) (src/snapshot/writer.c):
 *    an on-demand snapshot that another thread was writing when the crash
 *    came (the normal workspace busy: a seq_cst load, the other half of
 *    4b's Dekker pair) is let finish, polling with nanosleep 2 ms at a time
 *    for at most 2 s; if this very thread was writing it (the crash
 *    interrupted it), or it is still not done, its named temporary is
 *    unlink()ed (the name is read after an acquire load of the flag set
 *    once the file was created; an unnamed one has no name and vanishes
 *    with the process). The writer, if it still runs, then fails at link()
 *    and publishes nothing (named), or links its whole file (unnamed): no
 *    half file, no temporary.
 *
 * 10. report_unwritten_snapshot(): when the file could not be written
 *    (ttlog__snapshot_last_error()), one line on stderr, built on the stack
 *    with the string builder, a constant table of errno names, and
 *    ttlog_strerror() (constant strings), written with one
 *    ttlog__write_all(STDERR_FILENO): write(2), no stdio.
 *
 * 11. crash_done is set (a release store): the threads waiting in step 12
 *    may hand over.
 *
 * 12. Other threads that crash meanwhile take steps 1 to 3 on their own
 *    signal stacks, lose the CAS, and wait with nanosleep (10 ms at a time,
 *    at most 10 s, so a stuck owner cannot hold a crash forever) until
 *    crash_done is set (an acquire load); their stacks are not captured,
 *    their records are in the rings like everyone's. Threads that do not
 *    crash go on running: their log calls are refused from step 4 to step
 *    9 (a call already past its limit check ends its one record, and one
 *    already in the slow path may fill its segment); a thread that attaches
 *    a ring meanwhile (a metric update or a span attaches without a log
 *    call) may reuse an exited thread's ring, whose history the snapshot
 *    then misses (the gen check of step 7d). ttlog_snapshot() in another
 *    thread uses the other workspace and writes its own file.
 *
 * 13. The hand-over, in every thread: sigaction() puts the action that was
 *    there before ttlog (or SIG_DFL) back, then
 *      - a fault raised by an instruction (SIGSEGV, SIGBUS, SIGILL, SIGFPE
 *        with si_code > 0, repeats_by_itself()) happens again when the
 *        handler returns, with the original siginfo, so the previous
 *        handler or the default action (exit status, core dump) sees
 *        exactly the original fault;
 *      - anything else (kill, raise, abort, SIGTRAP, SIGSYS) is sent again
 *        to the same thread with tgkill (syscall and getpid); it stays
 *        pending until the handler returns, the signal being blocked.
 *    errno is restored and the handler returns. A program whose own
 *    handler survives the signal logs again: the rings are unfrozen, and
 *    when that previous action is a handler (not SIG_DFL or SIG_IGN),
 *    ttlog__snapshot_refuse(0) lets snapshots on demand start again.
 *    A second fault in the owner, outside the unwinder, costs the
 *    snapshot: if it is the signal being handled, which is blocked, the
 *    kernel ends the process at once (a blocked fault signal cannot be
 *    delivered); if it is another fault signal, the nested crash_handler
 *    comes straight here (step 3), puts that signal's previous action back,
 *    and the fault repeats. The unfinished temporary stays; a later
 *    ttlog_init removes it once its process is gone and it is ten minutes
 *    old.
 *
 * The snapshot signal's handler, snapshot_handler(), is step 7 alone, with
 * the normal workspace: no owner, no freeze, no stack, no hand-over.
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
#include "common/stream_ops.h"
#include "common/state.h"
#include "proc/modules.h"
#include "proc/stack.h"
#include "ring/ring.h"
#include "snapshot/writer.h"
#include "thread/altstack.h"
#include "thread/thread.h"

#define MAX_SIGNAL 63              /* bit n of a u64 mask is signal n: 1..63 */
#define OWNER_WAIT_STEPS 1000       /* x 10 ms: a stuck snapshot cannot hold a crash forever */
#define SETTLE_WAIT_MS 2000         /* an on-demand snapshot under way, to finish */
#define EXIT_WAIT_STEPS 500         /* x 10 ms: an exit hook waits for the crash to end the process */

static struct sigaction previous[MAX_SIGNAL + 1];
static uint64_t installed_mask;     /* bit n: our handler is on signal n */
static int installed_snapshot_signal;
static _Atomic int installed;       /* only under ttlog_init's lock: relaxed */
static _Atomic uint32_t crash_owner; /* tid of the thread writing the crash snapshot */
static _Atomic int crash_done;      /* the owner is done: LMM(crash:A/B) */
static _Atomic int crash_fatal;     /* the owner's hand-over ends the process (SIG_DFL) */
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
	if (signo > 0 && (size_t)signo < TTLOG__ARRAY_SIZE(signal_names))
		return signal_names[signo];
	return NULL;
}

uint64_t ttlog__crash_default_mask(void)
{
	return 1ull << SIGSEGV | 1ull << SIGBUS | 1ull << SIGILL | 1ull << SIGFPE | 1ull << SIGABRT |
	       1ull << SIGTRAP | 1ull << SIGSYS;
}

static void report_unwritten_snapshot(void);

/* Whether the signal comes back by itself when the handler returns (step
 * 13 above). Runs in signal context. */
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
		/* Relaxed: read after crash_done's acquire (LMM(crash:B)). */
		atomic_store_explicit(&crash_fatal,
				      !(previous[signo].sa_flags & SA_SIGINFO) &&
					      previous[signo].sa_handler == SIG_DFL,
				      memory_order_relaxed);
		/* Other threads stop logging until the snapshot is written, so
		 * they cannot overwrite the history it saves; a program whose own
		 * handler survives the signal logs again afterwards. */
		ttlog__rings_freeze(1);
		/* No on-demand snapshot starts a temporary from now on. */
		ttlog__snapshot_refuse(1);
		ttlog__stack_capture_crash(&crash_stack, context, tid);
		/* The modules dlopen'ed since the last refresh, for the frames
		 * that are in them (src/proc/modules.c). */
		ci.modules = ttlog__modules_at_crash();
		if (ttlog__snapshot_write(TTLOG__WS_CRASH, ci.signal_name, &ci, NULL, 0) == TTLOG_OK)
			ttlog__publish_crashed(); /* the snapshot has it all: no mapping to recover */
		/* Streaming mode: the open segment gets what the rings hold and
		 * its END (src/stream/stream.c, close_now), rings still frozen. */
		ttlog__stream_close_now();
		ttlog__rings_freeze(0);
		/* An on-demand snapshot under way in another thread is let
		 * finish, one this thread was writing is removed (settle). */
		ttlog__snapshot_settle(tid, SETTLE_WAIT_MS);
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
	/* A handler of the program's may survive the signal: snapshots on
	 * demand work again. Without one the process ends here. */
	if ((previous[signo].sa_flags & SA_SIGINFO) ||
	    (previous[signo].sa_handler != SIG_DFL && previous[signo].sa_handler != SIG_IGN))
		ttlog__snapshot_refuse(0);
	if (!repeats_by_itself(signo, info))
		syscall(SYS_tgkill, getpid(), (pid_t)tid, signo);
	errno = saved_errno;
}

/*
 * The exit hook: exit() called by one thread while another is writing the
 * crash snapshot would end the process with exit's status, hiding the
 * crash and cutting its file short. Registered with atexit() at the end of
 * ttlog_init (so it runs before ttlog's other exit hooks: the stream's and
 * the shared mapping's) and run again as libttlog's destructor (so a crash
 * that begins during the program's later exit hooks or destructors is
 * seen too). If a crash is under way in another thread, it waits for the
 * snapshot (at most OWNER_WAIT_STEPS x 10 ms, as a second crashing thread
 * does), then, when the hand-over ends the process (the signal's previous
 * action was SIG_DFL), waits for that end (at most EXIT_WAIT_STEPS x 10
 * ms) instead of letting exit() finish first. Without a crash: one atomic
 * load. May run in signal context (a handler that calls exit()): atomic
 * loads, gettid, nanosleep.
 */
void ttlog__crash_wait_at_exit(void)
{
	uint32_t owner = atomic_load_explicit(&crash_owner, memory_order_relaxed);
	if (!owner || owner == (uint32_t)syscall(SYS_gettid))
		return; /* no crash, or exit() from this thread's own crash */
	struct timespec step = {0, 10 * 1000 * 1000};
	for (int i = 0; i < OWNER_WAIT_STEPS; i++) {
		/* LMM(crash:B) pairs with LMM(crash:A). */
		if (atomic_load_explicit(&crash_done, memory_order_acquire))
			break;
		nanosleep(&step, NULL);
	}
	if (!atomic_load_explicit(&crash_fatal, memory_order_relaxed))
		return; /* the program's own handler takes over: it decides */
	for (int i = 0; i < EXIT_WAIT_STEPS; i++)
		nanosleep(&step, NULL); /* the signal ends the process meanwhile */
}

__attribute__((destructor)) static void wait_at_unload(void)
{
	ttlog__crash_wait_at_exit();
}

/* Runs in signal context. */
static void snapshot_handler(int signo, siginfo_t *info, void *context)
{
	(void)info;
	(void)context;
	int saved_errno = errno;
	const char *name = ttlog__signal_name(signo);
	ttlog__snapshot_write(TTLOG__WS_NORMAL, name ? name : "signal", NULL, NULL, 0);
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
	atomic_store_explicit(&crash_fatal, 0, memory_order_relaxed);
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
	int rc = ttlog__snapshot_last_error(TTLOG__WS_CRASH, &err);
	if (rc == TTLOG_OK)
		return;
	char line[TTLOG__DIR_MAX + 160];
	struct ttlog__sbuf sb;
	ttlog__sb_init(&sb, line, sizeof line - 1); /* room for the '\n' */
	ttlog__sb_str(&sb, "ttlog: crash snapshot not written: ");
	if (rc == TTLOG_E_DIR || rc == TTLOG_E_IO) {
		ttlog__sb_str(&sb, rc == TTLOG_E_DIR ? "cannot create a file in " : "cannot write a file in ");
		ttlog__sb_str(&sb, ttlog__g.dir);
		if (err) {
			const char *name = NULL;
			for (size_t i = 0; i < TTLOG__ARRAY_SIZE(errno_names) && !name; i++)
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
