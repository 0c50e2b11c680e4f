#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""run.py - runs ttlog's benchmark suite and prints one table.

Runs every logger adapter built under BUILD/bench/ (ttlog, the floors, the
peer loggers, the LTTng-UST peer through bench/lttng/session.sh) and the
ttlog-only recorder benchmarks, each measurement in a fresh process with a
fresh scratch directory, the loggers interleaved (A B C ... A B C ...) so
that a slow drift of the machine touches them all alike. It then prints the
machine, one table (per logger and measurement: the median of the rounds,
the spread min-max, and ttlog's value divided by the logger's) and the
targets with PASS or FAIL, and writes the raw results (JSON, every round)
and the same report as Markdown under BUILD/bench-results/.

A measurement that cannot be taken (a peer not built, valgrind missing, a
process that fails) becomes a "not run: reason" line in the table; the run
itself fails only when nothing could be measured at all or on bad usage.

Python 3 standard library only. See docs/PERFORMANCE.md for the method.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH_DIR)

# args3s8: args3 with an 8-byte string (the short strings logs mostly carry).
MSGS = ("args3", "noargs", "str200", "args3s8")
LAT_STATS = ("p50", "p90", "p99", "p99_9", "p99_99", "max", "mean_to_p99")
LAT_STAT_NAMES = ("p50", "p90", "p99", "p99.9", "p99.99", "max", "mean≤p99")
TP_THREADS = (1, 2, 4)
SUSTAIN_THREADS = (1, 2)
RECORDER = ("snapshot", "crash", "reader", "rss", "snapscale")
SKIP = 77
SINGLE_ROUND = False  # set by main(): with one round there is no spread to show

# What runs, and how often: (message, variant, calls, warm-up calls).
# Spaced latency costs its count times 5 us (1 M calls: 5 s per run), so
# only the message with a target gets 1 M. Every warm-up fills a ttlog ring
# at least once (a 1 MiB ring holds ~18 k args3, ~65 k noargs, ~4.7 k str200
# records), so that no page of it is faulted in while timing.
FULL_PLAN = {
    "rounds": 3,
    "latency": [
        ("args3", "spaced", 1000000, 100000),
        ("noargs", "spaced", 200000, 100000),
        ("str200", "spaced", 200000, 100000),
        ("args3s8", "spaced", 200000, 100000),
        ("args3", "burst", 1000000, 100000),
        ("noargs", "burst", 1000000, 100000),
        ("str200", "burst", 1000000, 100000),
        ("args3s8", "burst", 1000000, 100000),
    ],
    # Throughput calls per logger: about tp_budget seconds of one thread's
    # work at the rate a pilot run measured, within [tp_min, tp_max].
    "tp_pilot": 200000, "tp_budget": 1.0, "tp_min": 500000, "tp_max": 10000000,
    "instr_msgs": MSGS, "instr_calls": 100000, "instr_warmup": 10000,
    "instr_only_ttlog": False,
    # The recorder programs repeat their measurements and print medians
    # themselves, and the reader's alone takes minutes: once per run.
    "recorder_quick": False, "recorder_every_round": False,
    # Sustained rate to disk: seconds of logging per run (then the drain).
    "sustain_seconds": 5.0,
    # Many sites (bench/manysites/): timed calls per program and round.
    "manysites_calls": 1000000,
    "timeout": 600,
}
QUICK_PLAN = {
    "rounds": 1,
    "latency": [
        ("args3", "spaced", 50000, 30000),
        ("args3", "burst", 50000, 100000),
        ("noargs", "burst", 50000, 100000),
        ("str200", "burst", 50000, 100000),
        ("args3s8", "burst", 50000, 100000),
    ],
    "tp_pilot": 50000, "tp_budget": 0.1, "tp_min": 100000, "tp_max": 2000000,
    "instr_msgs": ("args3", "noargs", "args3s8"), "instr_calls": 20000, "instr_warmup": 2000,
    "instr_only_ttlog": True,
    "recorder_quick": True, "recorder_every_round": False,
    "sustain_seconds": 1.0,
    "manysites_calls": 200000,
    "timeout": 120,
}


# --------------------------------------------------------------------------
# Small helpers


def fmt_num(v):
    """A compact number: 3 significant digits, k/M/G past a thousand."""
    if v is None:
        return "—"
    a = abs(v)
    if a < 10:
        return f"{v:.1f}"
    if a < 1000:
        return f"{v:.0f}"
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if a >= div:
            return f"{v / div:.3g}{suffix}"
    return f"{v:.0f}"


def fmt_ratio(r):
    if r is None:
        return "—"
    if r >= 10:
        return f"{r:.0f}"
    return f"{r:.2g}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def median(values):
    return statistics.median(values) if values else None


def last_line(text):
    """The last meaningful line of a process's stderr (valgrind's own
    "==pid==" lines are not the reason anything failed)."""
    lines = [l.strip() for l in text.splitlines()]
    lines = [l for l in lines if l and not re.match(r"^==\d+==", l)]
    return lines[-1][:240] if lines else ""


def read_text(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def command_output(argv):
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           text=True, timeout=20, check=False)
        return p.stdout.strip() if p.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError):
        return ""


class Progress:
    """One status line that rewrites itself on a terminal; elsewhere only
    the ends of groups and the failures are printed."""

    def __init__(self):
        self.tty = sys.stderr.isatty()

    def step(self, text):
        if self.tty:
            sys.stderr.write("\r\033[K" + text[:150])
            sys.stderr.flush()

    def line(self, text):
        if self.tty:
            sys.stderr.write("\r\033[K")
        sys.stderr.write(text + "\n")
        sys.stderr.flush()


# --------------------------------------------------------------------------
# What was built


# The loggers that are ttlog itself (its private and shared-memory modes).
TTLOG_KEYS = ("ttlog", "ttlog-shm")

# The two peers every table and target line compares with: (key, name).
# Their adapters are built only when NANOLOG_DIR / QUILL_DIR name source
# trees; when they are not, every table says so instead of leaving them out.
PEERS = (("nanolog", "NanoLog"), ("quill", "Quill"))
PEER_KEYS = ("nanolog", "quill", "quill-backtrace")
# --quick counts instructions for these only (callgrind is slow).
INSTR_QUICK_KEYS = TTLOG_KEYS + PEER_KEYS
# Counted calls per logger and message, at most: NanoLog's caller spins
# while its 1 MiB staging buffer is full, and under callgrind (one thread at
# a time) that spinning would be counted as part of the calls. These counts
# fit in the buffer (args3 ~46, noargs 16, str200 ~217 bytes per entry);
# the adapter empties it after the warm-up (bench_settle).
INSTR_CALLS_CAP = {"nanolog": {"args3": 15000, "noargs": 20000, "str200": 3000, "args3s8": 15000}}


class Logger:
    def __init__(self, key, exe=None, reason=None, wrapper=None, suffix="", stream=False):
        self.key = key
        self.label = key
        self.suffix = suffix      # added to the name the program reports
        self.exe = exe
        self.reason = reason      # why it is not built; None when it is
        self.wrapper = wrapper or []
        # ttlog's streaming mode: runs the sustain mode only, with
        # TTLOG_STREAM naming its scratch directory.
        self.stream = stream


def discover(build):
    manifest = os.path.join(build, "bench", "loggers.tsv")
    if not os.path.isfile(manifest):
        sys.exit(f"run.py: {manifest} not found: configure the build with -DTTLOG_BENCH=ON "
                 "and build it (make bench does both)")
    loggers = []
    for raw in read_text(manifest).splitlines():
        if not raw or raw.startswith("#"):
            continue
        parts = raw.split("\t", 2)
        if len(parts) != 3:
            continue
        key, status, detail = parts
        if status == "built":
            if os.access(detail, os.X_OK):
                loggers.append(Logger(key, exe=detail))
            else:
                loggers.append(Logger(key, reason=f"{detail} is missing (build the bench targets)"))
        else:
            loggers.append(Logger(key, reason=detail))

    # ttlog again in shared-memory mode (rings in a /dev/shm mapping): the
    # same program and log calls, so instructions per call must not differ.
    for lg in list(loggers):
        if lg.key == "ttlog" and lg.exe:
            loggers.append(Logger("ttlog-shm", exe=lg.exe, wrapper=["env", "TTLOG_SHARED_MEMORY=1"],
                                  suffix=" (shm)"))
            # And in streaming mode, for the sustained rate to disk only.
            loggers.append(Logger("ttlog-stream", exe=lg.exe, suffix=" (stream)", stream=True))
            # Streaming with TTLOG_STREAM_POLICY=block: the log calls wait
            # for the drainer instead of losing records.
            loggers.append(Logger("ttlog-stream-block", exe=lg.exe, suffix=" (stream, block)", stream=True,
                                  wrapper=["env", "TTLOG_STREAM_POLICY=block"]))

    exe = os.path.join(build, "bench", "lttng", "ttlog-bench-lttng")
    session = os.path.join(BENCH_DIR, "lttng", "session.sh")
    if os.access(exe, os.X_OK) and os.path.isfile(session):
        loggers.append(Logger("lttng", exe=exe, wrapper=["bash", session, "run", "--"]))
    elif os.path.isdir(os.path.join(BENCH_DIR, "lttng")):
        why = ("bench/lttng/session.sh is missing" if os.access(exe, os.X_OK) else
               "ttlog-bench-lttng not built (liblttng-ust-dev missing? see the CMake output)")
        loggers.append(Logger("lttng", reason=why))
    return loggers


def peer_versions(build):
    """{key: "version text"} of the peers built from source trees, from the
    trees bench/CMakeLists.txt recorded: the git commit when the tree is a
    git work tree (or the commit id written in its .peer-commit file, for a
    tree exported with git archive), and Quill's version from its header."""
    out = {}
    for raw in read_text(os.path.join(build, "bench", "peers.tsv")).splitlines():
        if not raw or raw.startswith("#") or "\t" not in raw:
            continue
        key, tree = raw.split("\t", 1)
        parts = []
        if key == "quill":
            hdr = read_text(os.path.join(tree, "include", "quill", "Backend.h"))
            nums = [re.search(rf"Version{w}\{{(\d+)\}}", hdr) for w in ("Major", "Minor", "Patch")]
            if all(nums):
                parts.append("v" + ".".join(m.group(1) for m in nums))
        commit = command_output(["git", "-C", tree, "rev-parse", "HEAD"]) if \
            os.path.exists(os.path.join(tree, ".git")) else ""
        if not commit:
            commit = read_text(os.path.join(tree, ".peer-commit")).strip()
        parts.append(f"commit {commit[:12]}" if commit else "commit unknown")
        out[key] = ", ".join(parts)
    return out


def recorder_exes(build):
    found = {}
    for name in RECORDER:
        path = os.path.join(build, "bench", "recorder", f"ttlog-bench-{name}")
        found[name] = path if os.access(path, os.X_OK) else None
    return found


# --------------------------------------------------------------------------
# Running one measurement


class Runner:
    def __init__(self, build, plan, progress):
        self.build = build
        self.plan = plan
        self.progress = progress
        self.scratch_root = os.path.join(build, "bench-runs")
        self.seq = 0
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TTLOG_")}
        self.log = []  # every process run, for the raw JSON

    def scratch(self, tag):
        self.seq += 1
        path = os.path.join(self.scratch_root, f"{self.seq:04d}-{tag}")
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path)
        return path

    def run(self, argv, tag, timeout=None, cwd=None, env_extra=None):
        """Runs argv (in cwd, with env_extra added to the environment);
        returns (json objects, None) or ([], reason)."""
        start = time.monotonic()
        reason = None
        objs = []
        env = dict(self.env, **env_extra) if env_extra else self.env
        try:
            p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, errors="replace", env=env, cwd=cwd,
                               timeout=timeout or self.plan["timeout"], check=False)
            for line in p.stdout.splitlines():
                line = line.strip()
                if line.startswith("{"):
                    try:
                        objs.append(json.loads(line))
                    except ValueError:
                        pass
            why = last_line(p.stderr)
            # An adapter that cannot run says why on a line of its own.
            said = [l.strip() for l in p.stderr.splitlines() if l.startswith("not run: ")]
            if p.returncode == SKIP and said:
                reason = said[-1][len("not run: "):][:240]
            elif p.returncode == SKIP:
                reason = "cannot run here" + (f": {why}" if why else "")
            elif p.returncode < 0:
                reason = f"killed by signal {-p.returncode}" + (f": {why}" if why else "")
            elif p.returncode != 0:
                reason = f"exit status {p.returncode}" + (f": {why}" if why else "")
            elif not objs:
                reason = "no result printed" + (f": {why}" if why else "")
        except subprocess.TimeoutExpired:
            reason = f"timed out after {timeout or self.plan['timeout']} s"
        except OSError as e:
            reason = f"cannot start: {e}"
        self.log.append({"tag": tag, "argv": argv, "seconds": round(time.monotonic() - start, 3),
                         "results": objs, "error": reason})
        return (objs if reason is None else []), reason

    def cleanup(self, path):
        shutil.rmtree(path, ignore_errors=True)

    def finish(self):
        try:
            os.rmdir(self.scratch_root)
        except OSError:
            pass


class Store:
    """Results by (logger key, measurement key): every round's result, and
    the reasons of the rounds that failed."""

    def __init__(self):
        self.ok = {}
        self.err = {}
        self.failed = []  # (logger, measurement, reason) of a program that ran and failed

    def add(self, lkey, mkey, result=None, reason=None, ran=True):
        """A result, or the reason there is none; ran=False: nothing was
        run (a program not built), which --smoke does not count as a
        failure."""
        if reason is None:
            self.ok.setdefault((lkey, mkey), []).append(result)
        else:
            self.err.setdefault((lkey, mkey), []).append(reason)
            if ran:
                self.failed.append((lkey, mkey, reason))

    def values(self, lkey, mkey, field):
        return [r[field] for r in self.ok.get((lkey, mkey), [])
                if isinstance(r.get(field), (int, float))]

    def reason(self, lkey, mkey):
        errs = self.err.get((lkey, mkey))
        return errs[-1] if errs else None


def logger_argv(lg, args):
    return lg.wrapper + [lg.exe] + args


def run_latency(runner, store, lg, msg, variant, calls, warmup):
    mkey = f"latency/{msg}/{variant}"
    d = runner.scratch(f"{lg.key}-lat")
    objs, why = runner.run(logger_argv(lg, ["latency", "--msg", msg, "--variant", variant,
                                            "--calls", str(calls), "--warmup", str(warmup),
                                            "--dir", d]), f"{lg.key} {mkey}", cwd=d)
    runner.cleanup(d)
    if objs:
        lg.label = objs[0].get("logger", lg.key) + lg.suffix
        store.add(lg.key, mkey, objs[0])
    else:
        store.add(lg.key, mkey, reason=why)
    return why


def run_throughput(runner, store, lg, threads, calls, record=True):
    mkey = f"throughput/args3/{threads}"
    d = runner.scratch(f"{lg.key}-tp")
    objs, why = runner.run(logger_argv(lg, ["throughput", "--msg", "args3", "--threads",
                                            str(threads), "--calls", str(calls), "--dir", d]),
                           f"{lg.key} {mkey}", cwd=d)
    runner.cleanup(d)
    if record:
        if objs:
            lg.label = objs[0].get("logger", lg.key) + lg.suffix
            store.add(lg.key, mkey, objs[0])
        else:
            store.add(lg.key, mkey, reason=why)
    return objs[0] if objs else None, why


def run_sustain(runner, store, lg, threads, seconds):
    """Sustained rate to disk: the process logs for `seconds`, drains, and
    reports what it logged; messages the logger says it dropped are
    subtracted here."""
    mkey = f"sustain/args3/{threads}"
    d = runner.scratch(f"{lg.key}-sustain")
    env_extra = {"TTLOG_STREAM": d} if lg.stream else None
    objs, why = runner.run(logger_argv(lg, ["sustain", "--msg", "args3", "--threads", str(threads),
                                            "--seconds", str(seconds), "--dir", d]),
                           f"{lg.key} {mkey}", cwd=d, env_extra=env_extra)
    runner.cleanup(d)
    if objs:
        r = dict(objs[0])
        dropped = r.get("dropped") if isinstance(r.get("dropped"), int) else 0
        r["on_disk"] = r["logged"] - dropped
        # ttlog streaming: what the segments hold, by the stream's own count
        # (ttlog_get_stats() after the shutdown); stream_lost is what it lost.
        if isinstance(r.get("stream_events"), int):
            r["on_disk"] = r["stream_events"]
        r["on_disk_per_s"] = r["on_disk"] / r["seconds"] if r.get("seconds") else None
        if r.get("disk_bytes") is not None and r["on_disk"] > 0:
            r["disk_bytes_per_event"] = r["disk_bytes"] / r["on_disk"]
        lg.label = r.get("logger", lg.key) + lg.suffix
        store.add(lg.key, mkey, r)
    else:
        store.add(lg.key, mkey, reason=why)
    return why


def parse_callgrind(cgdir):
    """Totals of the dumps: {(thread, trigger): instructions}."""
    parts = []
    for name in sorted(os.listdir(cgdir)):
        if not name.startswith("callgrind.out"):
            continue
        thread = trigger = total = None
        for line in read_text(os.path.join(cgdir, name)).splitlines():
            if line.startswith("thread:"):
                thread = int(line.split()[1])
            elif line.startswith("desc: Trigger:"):
                trigger = line.split(":", 2)[2].strip()
            elif line.startswith("totals:"):
                total = int(line.split()[1])
                break
        if thread is not None and total is not None:
            parts.append((thread, trigger or "", total))
    return parts


def run_instr(runner, store, lg, msg, calls, warmup, valgrind):
    mkey = f"instr/{msg}"
    cap = INSTR_CALLS_CAP.get(lg.key, {}).get(msg)
    if cap and calls > cap:
        calls, warmup = cap, min(warmup, cap // 10)
    d = runner.scratch(f"{lg.key}-instr")
    cgdir = os.path.join(d, "callgrind")
    data = os.path.join(d, "data")
    os.makedirs(cgdir)
    os.makedirs(data)
    # --separate-threads: the calling thread's loops are dumped on their
    # own, and any background thread's work lands in files of its own.
    argv = lg.wrapper + [valgrind, "--tool=callgrind", "-q", "--separate-threads=yes",
                         f"--callgrind-out-file={cgdir}/callgrind.out.%p",
                         lg.exe, "instr", "--msg", msg, "--calls", str(calls),
                         "--warmup", str(warmup), "--dir", data]
    objs, why = runner.run(argv, f"{lg.key} {mkey}", cwd=data)
    result = None
    if objs:
        parts = parse_callgrind(cgdir)
        base = [t for th, trig, t in parts if th == 1 and "bench-base" in trig]
        log = [t for th, trig, t in parts if th == 1 and "bench-log" in trig]
        other = sum(t for th, trig, t in parts if th != 1)
        if not base or not log:
            why = "callgrind wrote no per-loop dumps (client requests not seen)"
        elif not objs[0].get("under_valgrind", True):
            why = "the program did not see valgrind"
        else:
            r = objs[0]
            result = dict(r)
            result["instr_per_call"] = (log[0] - base[0]) / r["calls"]
            result["other_threads_per_msg"] = other / max(1, r.get("logged", r["calls"]))
            result["threads_seen"] = len({th for th, _, _ in parts})
    runner.cleanup(d)
    if result:
        lg.label = result.get("logger", lg.key) + lg.suffix
        store.add(lg.key, mkey, result)
    else:
        store.add(lg.key, mkey, reason=why)
    return why


def run_recorder(runner, store, name, exe, quick):
    d = runner.scratch(f"recorder-{name}")
    argv = [exe, "--dir", d, "--ttlog", os.path.join(runner.build, "ttlog")]
    if quick:
        argv.append("--quick")
    objs, why = runner.run(argv, f"recorder {name}", timeout=max(runner.plan["timeout"], 900))
    runner.cleanup(d)
    if not objs:
        store.add("ttlog", f"recorder/{name}", reason=why)
        return why
    for o in objs:
        if o.get("bench") == "snapshot":
            key = f"recorder/snapshot/{o.get('ring_mib')}/{o.get('threads')}"
        elif o.get("bench") == "crash":
            key = f"recorder/crash/{o.get('ring_mib')}"
        elif o.get("bench") == "rss":
            key = f"recorder/rss/{o.get('threads')}"
        elif o.get("bench") == "snapscale":
            key = f"recorder/snapscale/{o.get('axis')}/{o.get('x'):g}"
        elif o.get("bench") == "snapscale_fit":
            key = f"recorder/snapscale/{o.get('axis')}/fit"
        else:
            key = f"recorder/{o.get('bench', name)}"
        store.add("ttlog", key, o)
    return None


# --------------------------------------------------------------------------
# Many sites (bench/manysites/)

MANYSITES_KINDS = ("args3", "noargs", "empty")


def manysites_programs(build):
    """[(kind, sites, executable, [object files])] from the manifest that
    bench/manysites/CMakeLists.txt writes (the objects of a program's
    generated part separated by ';'), or ([], reason)."""
    path = os.path.join(build, "bench", "manysites", "manysites.tsv")
    text = read_text(path)
    if not text:
        return [], f"{os.path.relpath(path)} not found (bench/manysites not built)"
    progs = []
    for raw in text.splitlines():
        if not raw or raw.startswith("#"):
            continue
        parts = raw.split("\t")
        if len(parts) != 4 or parts[0] not in MANYSITES_KINDS or not parts[1].isdigit():
            continue
        objs = [o for o in parts[3].split(";") if o]
        if objs:
            progs.append((parts[0], int(parts[1]), parts[2], objs))
    return progs, None if progs else f"{os.path.relpath(path)} lists no programs"


def code_bytes(objs):
    """(bytes of executable code in the object files, None) or (None,
    reason): the sum of the sizes of their .text sections (.text,
    .text.unlikely, .text.hot, ...), as `size -A` gives them."""
    size = shutil.which("size")
    if not size:
        return None, "size (binutils) not found"
    total = 0
    for obj in objs:
        try:
            p = subprocess.run([size, "-A", obj], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, timeout=60, check=False)
        except (OSError, subprocess.SubprocessError) as e:
            return None, f"size -A failed: {e}"
        if p.returncode != 0:
            return None, f"size -A {os.path.basename(obj)}: {last_line(p.stderr)}"
        for line in p.stdout.splitlines():
            f = line.split()
            if len(f) >= 2 and (f[0] == ".text" or f[0].startswith(".text.")) and f[1].isdigit():
                total += int(f[1])
    return total, None


def measure_manysites_code(store, progs):
    """Code per site: (code of N sites of a kind - code of N empty
    functions) / N, from the object files, so that what a function costs
    without its log statement is not counted."""
    code = {}
    for kind, n, _, objs in progs:
        v, why = code_bytes(objs)
        if v is None:
            store.add("ttlog", f"manysites-code/{kind}/{n}", reason=why)
        else:
            code[(kind, n)] = v
    for (kind, n), v in sorted(code.items()):
        if kind == "empty":
            continue
        base = code.get(("empty", n))
        if base is None:
            store.add("ttlog", f"manysites-code/{kind}/{n}",
                      reason=store.reason("ttlog", f"manysites-code/empty/{n}") or "no empty program",
                      ran=False)
            continue
        store.add("ttlog", f"manysites-code/{kind}/{n}",
                  {"code_bytes": v, "empty_bytes": base, "bytes_per_site": (v - base) / n})


def run_manysites(runner, store, kind, n, exe, calls):
    mkey = f"manysites/{kind}/{n}"
    d = runner.scratch(f"manysites-{kind}-{n}")
    objs, why = runner.run([exe, "--calls", str(calls), "--dir", d], f"ttlog {mkey}", cwd=d)
    runner.cleanup(d)
    if objs:
        store.add("ttlog", mkey, objs[0])
    else:
        store.add("ttlog", mkey, reason=why)
    return why


# --------------------------------------------------------------------------
# The machine


def machine_info(build):
    info = {}
    cpuinfo = read_text("/proc/cpuinfo")
    m = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    info["cpu"] = m.group(1).strip() if m else platform.processor() or "unknown"
    fl = re.search(r"^flags\s*:\s*(.+)$", cpuinfo, re.M)
    flags = set(fl.group(1).split()) if fl else set()
    info["logical_cpus"] = os.cpu_count()
    try:
        info["usable_cpus"] = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        info["usable_cpus"] = os.cpu_count()
    cores = {(p, c) for p, c in re.findall(
        r"^physical id\s*:\s*(\d+)\s*$.*?^core id\s*:\s*(\d+)\s*$", cpuinfo, re.M | re.S)}
    info["physical_cores"] = len(cores) or None
    info["tsc_invariant"] = "constant_tsc" in flags and "nonstop_tsc" in flags
    info["tsc_flags"] = sorted(f for f in flags if f in ("constant_tsc", "nonstop_tsc", "tsc_known_freq"))
    info["virtualised"] = "hypervisor" in flags
    info["kernel"] = f"{platform.system()} {platform.release()} {platform.machine()}"
    gov = read_text("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor").strip()
    info["governor"] = gov or None
    try:
        info["loadavg_at_start"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        info["loadavg_at_start"] = None

    cache = read_text(os.path.join(build, "CMakeCache.txt"))
    compilers = {}
    for lang, var in (("C", "CMAKE_C_COMPILER"), ("C++", "CMAKE_CXX_COMPILER")):
        m = re.search(rf"^{var}:[A-Z]+=(.+)$", cache, re.M)
        if m and m.group(1).strip():
            first = command_output([m.group(1).strip(), "--version"]).splitlines()
            compilers[lang] = first[0] if first else m.group(1).strip()
    m = re.search(r"^CMAKE_BUILD_TYPE:[A-Z]+=(.*)$", cache, re.M)
    info["build_type"] = m.group(1) if m else None
    info["compilers"] = compilers

    versions = {}
    if shutil.which("dpkg-query"):
        for pkg in ("libspdlog-dev", "libfmt-dev", "libgoogle-glog-dev", "liblttng-ust-dev",
                    "lttng-tools", "valgrind"):
            v = command_output(["dpkg-query", "-W", "-f=${Version}", pkg])
            if v:
                versions[pkg] = v
    info["packages"] = versions
    commit = command_output(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    if commit and command_output(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"]):
        commit += " + uncommitted changes"
    info["ttlog_commit"] = commit or None
    info["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return info


def machine_lines(info, store, plan_name, rounds):
    ghz = [v for (lk, mk), rs in store.ok.items() if mk.startswith("latency/")
           for v in [r.get("tsc_ghz") for r in rs] if v]
    step = [v for (lk, mk), rs in store.ok.items() if mk.startswith("latency/")
            for v in [r.get("tsc_step_ns") for r in rs] if v]
    cpus = f"{info['logical_cpus']} logical CPUs"
    if info.get("physical_cores"):
        cpus += f", {info['physical_cores']} physical cores"
    if info["usable_cpus"] != info["logical_cpus"]:
        cpus += f", {info['usable_cpus']} usable by this process"
    tsc = ("invariant (constant_tsc + nonstop_tsc)" if info["tsc_invariant"]
           else "NOT invariant: " + (", ".join(info["tsc_flags"]) or "no constant_tsc/nonstop_tsc flags"))
    if ghz:
        tsc += f"; calibrated {median(ghz):.4f} GHz"
    if step:
        tsc += f"; reads advance in steps of {median(step):.1f} ns"
    lines = [
        f"ttlog benchmarks, {info['date']}: {plan_name}, {rounds} round(s)",
        f"CPU:       {info['cpu']} ({cpus})" + (", virtual machine" if info["virtualised"] else ""),
        f"Kernel:    {info['kernel']}" + (f", governor {info['governor']}" if info["governor"] else "")
        + (f", load average at start {info['loadavg_at_start'][0]}" if info["loadavg_at_start"] else ""),
        "Compilers: " + ("; ".join(f"{k}: {v}" for k, v in info["compilers"].items()) or "unknown")
        + (f" ({info['build_type']})" if info.get("build_type") else ""),
        f"TSC:       {tsc}",
    ]
    if info["packages"]:
        lines.append("Packages:  " + ", ".join(f"{k} {v}" for k, v in info["packages"].items()))
    if info["ttlog_commit"]:
        lines.append(f"ttlog:     {info['ttlog_commit']}")
    peers = info.get("peers") or {}
    lines.append("Peers:     " + "; ".join(
        f"{name} {peers[key]}" if key in peers else f"{name} not built"
        for key, name in PEERS))
    return lines


# --------------------------------------------------------------------------
# The table


class Row:
    def __init__(self, measurement, logger, median_cell, spread="", ratio_cell="", note=""):
        self.cells = [measurement, logger, median_cell, spread, ratio_cell, note]


HEADER = ["measurement", "logger", "median of rounds", "spread (min–max)", "ttlog ÷ logger", "notes"]


def stat_summary(vals):
    if not vals:
        return None, None, None
    return median(vals), min(vals), max(vals)


def spread_cell(lo, hi, scale=1.0):
    if lo is None:
        return "—"
    if SINGLE_ROUND:
        return ""
    if fmt_num(lo / scale) == fmt_num(hi / scale):
        return fmt_num(lo / scale)
    return f"{fmt_num(lo / scale)}–{fmt_num(hi / scale)}"


def not_run(store, lk, mk, rounds_wanted):
    why = store.reason(lk, mk)
    return f"not run: {why}" if why else "not run"


def dropped_note(store, lk, mk):
    """Messages an overrun policy threw away, as a share of all messages
    the process logged (warm-up included: the counters cover both)."""
    rs = store.ok.get((lk, mk), [])
    shares = [r["dropped"] / r["logged"] for r in rs
              if isinstance(r.get("dropped"), int) and r.get("dropped") > 0 and r.get("logged")]
    if not shares:
        return ""
    return f"dropped {100 * median(shares):.0f}% of messages"


def packed(values, width):
    """Sub-values of a latency cell, right-aligned so that the columns of
    consecutive rows line up."""
    return " / ".join(v.rjust(width) for v in values)


def build_rows(loggers, store, plan, args, have_valgrind):
    rows = []
    # The loggers of every table: those built (ttlog's streaming entry only
    # in the sustained table), and NanoLog and Quill when they are not, as
    # "not run" rows with the reason.
    built = [lg for lg in loggers if (lg.reason is None and not lg.stream) or lg.key in PEER_KEYS]
    for lg in built:
        if lg.reason is not None:
            lg.label = PEER_LABELS.get(lg.key, lg.key)
    ttlog = "ttlog"
    rounds = plan["rounds"]

    # Latency: six statistics packed into each cell.
    for msg, variant, calls, _ in plan["latency"]:
        mk = f"latency/{msg}/{variant}"
        label = (f"latency {msg} {variant} (ns; {fmt_num(calls)} calls"
                 + (", 5 µs apart" if variant == "spaced" else ", back to back")
                 + "): " + " / ".join(LAT_STAT_NAMES))
        first = True
        for lg in built:
            if not args_includes(args, lg.key):
                continue
            name = label if first else ""
            first = False
            meds, spreads, ratios = [], [], []
            ok = store.ok.get((lg.key, mk))
            if lg.reason is not None:
                rows.append(Row(name, lg.label, f"not run: {lg.reason}"))
                continue
            if not ok:
                rows.append(Row(name, lg.label, not_run(store, lg.key, mk, rounds)))
                continue
            for st in LAT_STATS:
                md, lo, hi = stat_summary(store.values(lg.key, mk, st))
                meds.append(fmt_num(md))
                spreads.append(spread_cell(lo, hi))
                tmed = median(store.values(ttlog, mk, st))
                ratios.append("—" if lg.key == ttlog else fmt_ratio(ratio(tmed, md)))
            note = dropped_note(store, lg.key, mk)
            fails = len(store.err.get((lg.key, mk), []))
            if fails:
                note = (note + "; " if note else "") + f"{fails} round(s) failed"
            rows.append(Row(name, lg.label, packed(meds, 5),
                            "" if SINGLE_ROUND else packed(spreads, 11), packed(ratios, 6), note))

    # Throughput.
    for field, what in (("calls_per_s", "until the last call returns"),
                        ("drained_calls_per_s", "until on disk (drained)")):
        for t in TP_THREADS:
            mk = f"throughput/args3/{t}"
            label = f"throughput args3, {t} thread{'s' if t > 1 else ''}, {what} (M calls/s)"
            first = True
            for lg in built:
                if not args_includes(args, lg.key):
                    continue
                ok = store.ok.get((lg.key, mk))
                if field == "drained_calls_per_s" and ok and not any(r.get("file") for r in ok):
                    continue  # no file: nothing to drain
                if field == "drained_calls_per_s" and not ok and lg.reason is None:
                    continue
                name = label if first else ""
                first = False
                if lg.reason is not None:
                    rows.append(Row(name, lg.label, f"not run: {lg.reason}"))
                    continue
                if not ok:
                    rows.append(Row(name, lg.label, not_run(store, lg.key, mk, rounds)))
                    continue
                md, lo, hi = stat_summary(store.values(lg.key, mk, field))
                tmed = median(store.values(ttlog, mk, "calls_per_s"))
                note = dropped_note(store, lg.key, mk)
                calls = ok[0].get("calls")
                note = (note + "; " if note else "") + f"{fmt_num(calls)} calls"
                bpe = median(store.values(lg.key, mk, "disk_bytes_per_event"))
                if field == "drained_calls_per_s" and bpe is not None:
                    note += f"; {bpe:.1f} bytes/message on disk"
                rows.append(Row(name, lg.label, fmt_num(md / 1e6) if md else "—",
                                spread_cell(lo, hi, 1e6),
                                "—" if lg.key == ttlog else fmt_ratio(ratio(tmed, md)), note))

    # Scaling, from the rounds' own one-thread runs.
    label = "throughput scaling: calls/s of 2 / 4 threads ÷ 1 thread (same round)"
    first = True
    for lg in built:
        if not args_includes(args, lg.key) or lg.reason is not None:
            continue
        sc = scaling(store, lg.key)
        if not sc[2] and not sc[4]:
            continue
        name = label if first else ""
        first = False
        meds = []
        spreads = []
        for t in (2, 4):
            md, lo, hi = stat_summary(sc[t])
            meds.append(f"{md:.2f}" if md is not None else "—")
            spreads.append("" if SINGLE_ROUND else f"{lo:.2f}–{hi:.2f}" if lo is not None else "—")
        rows.append(Row(name, lg.label, " / ".join(meds), "" if SINGLE_ROUND else " / ".join(spreads)))

    rows.extend(sustain_rows(loggers, store, args))

    # Instructions per call.
    if args.skip_instr:
        rows.append(Row("instructions per call", "(all)", "not run: --skip-instr"))
    elif not have_valgrind:
        rows.append(Row("instructions per call", "(all)",
                        "not run: valgrind not installed (Debian package valgrind)"))
    else:
        for msg in plan["instr_msgs"]:
            mk = f"instr/{msg}"
            for field, label in (("instr_per_call", f"instructions per call, {msg} (calling thread)"),
                                 ("other_threads_per_msg",
                                  f"instructions per message on other threads, {msg}")):
                first = True
                for lg in built:
                    if not args_includes(args, lg.key):
                        continue
                    if plan["instr_only_ttlog"] and lg.key not in INSTR_QUICK_KEYS:
                        continue
                    ok = store.ok.get((lg.key, mk))
                    vals = store.values(lg.key, mk, field)
                    if field == "other_threads_per_msg" and lg.reason is None and (not ok or median(vals) < 1):
                        continue
                    name = label if first else ""
                    first = False
                    if lg.reason is not None:
                        rows.append(Row(name, lg.label, f"not run: {lg.reason}"))
                        continue
                    if not ok:
                        rows.append(Row(name, lg.label, not_run(store, lg.key, mk, 1)))
                        continue
                    md, lo, hi = stat_summary(vals)
                    tmed = median(store.values(ttlog, mk, field))
                    note = ""
                    if field == "other_threads_per_msg":
                        note = f"{ok[0].get('threads_seen', '?')} threads seen by callgrind"
                    # ttlog has no other thread: a ratio would read 0.
                    rcell = ("" if field == "other_threads_per_msg" else
                             "—" if lg.key == ttlog else fmt_ratio(ratio(tmed, md)))
                    rows.append(Row(name, lg.label, fmt_num(md),
                                    spread_cell(lo, hi) if len(vals) > 1 else "", rcell, note))
        if plan["instr_only_ttlog"]:
            rows.append(Row("instructions per call, other peers", "(others)",
                            "not run: --quick counts ttlog, NanoLog and Quill only"))

    rows.extend(recorder_rows(store, args))
    rows.extend(manysites_rows(store, args, plan))

    first = True
    for lg in loggers:
        if lg.reason is not None and args_includes(args, lg.key):
            rows.append(Row("loggers not built (no measurement)" if first else "", lg.key,
                            f"not built: {lg.reason}"))
            first = False
    return rows


PEER_LABELS = {"nanolog": "NanoLog", "quill": "Quill", "quill-backtrace": "Quill backtrace"}


def sustain_rows(loggers, store, args):
    """Sustained rate to disk and bytes per message on disk: ttlog's
    streaming mode against every logger with a file (NanoLog and Quill
    always shown, as "not run" when they are not built)."""
    rows = []
    stream = "ttlog-stream"
    keys = {mk for (lk, mk) in list(store.ok) + list(store.err) if mk.startswith("sustain/")}
    if not keys:
        return rows
    who = [lg for lg in loggers
           if args_includes(args, lg.key)
           and (lg.key in PEER_KEYS and lg.key != "quill-backtrace" or lg.stream
                or any(k[0] == lg.key for k in list(store.ok) + list(store.err) if k[1] in keys))]
    who.sort(key=lambda lg: (0 if lg.stream else 1, lg.key))

    def loss_note(lg, mk):
        note = dropped_note(store, lg.key, mk)
        rs = store.ok.get((lg.key, mk), [])
        if lg.stream and rs:
            lost = [r.get("stream_lost") for r in rs if isinstance(r.get("stream_lost"), int)]
            ev = [r.get("stream_events") for r in rs if isinstance(r.get("stream_events"), int)]
            if not lost:
                note = (note + "; " if note else "") + "losses not counted (no stream_lost in the stats)"
            else:
                worst = max(lost)
                share = max(l / (l + e) for l, e in zip(lost, ev) if l + e) if any(l + e for l, e in zip(lost, ev)) else 0
                note = (note + "; " if note else "") + (
                    "nothing lost" if worst == 0 else
                    f"lost up to {fmt_num(worst / 1e6)} M records ({100 * share:.1f}%) in a run")
        return note

    for t in SUSTAIN_THREADS:
        mk = f"sustain/args3/{t}"
        label = (f"sustained rate to disk, args3, {t} thread{'s' if t > 1 else ''} (M messages/s "
                 "on disk, clock stopped after the drain; ttlog = streaming mode)")
        first = True
        tmed = median(store.values(stream, mk, "on_disk_per_s"))
        for lg in who:
            name = label if first else ""
            first = False
            lab = lg.label if lg.reason is None else PEER_LABELS.get(lg.key, lg.key)
            if lg.reason is not None:
                rows.append(Row(name, lab, f"not run: {lg.reason}"))
                continue
            ok = store.ok.get((lg.key, mk))
            if not ok:
                rows.append(Row(name, lab, not_run(store, lg.key, mk, 1)))
                continue
            md, lo, hi = stat_summary(store.values(lg.key, mk, "on_disk_per_s"))
            note = loss_note(lg, mk)
            rate = median(store.values(lg.key, mk, "calls_per_s"))
            if rate:
                note = (note + "; " if note else "") + f"calls returned at {fmt_num(rate / 1e6)} M/s"
            rows.append(Row(name, lab, fmt_num(md / 1e6) if md else "—", spread_cell(lo, hi, 1e6),
                            "—" if lg.stream else fmt_ratio(ratio(tmed, md)), note))

    mk = "sustain/args3/1"
    label = "bytes on disk per message (sustained, 1 thread; ttlog = streaming mode)"
    first = True
    tmed = median(store.values(stream, mk, "disk_bytes_per_event"))
    for lg in who:
        name = label if first else ""
        first = False
        lab = lg.label if lg.reason is None else PEER_LABELS.get(lg.key, lg.key)
        if lg.reason is not None:
            rows.append(Row(name, lab, f"not run: {lg.reason}"))
            continue
        vals = store.values(lg.key, mk, "disk_bytes_per_event")
        if not vals:
            rows.append(Row(name, lab, not_run(store, lg.key, mk, 1)))
            continue
        md, lo, hi = stat_summary(vals)
        rows.append(Row(name, lab, f"{md:.1f}", spread_cell(lo, hi), "—" if lg.stream else fmt_ratio(ratio(tmed, md)),
                        "binary, decoded by its own tool" if lg.key == "nanolog" else
                        "text" if not lg.stream else "segments (binary)"))
    return rows


def recorder_rows(store, args):
    rows = []
    if not args_includes(args, "recorder"):
        return rows
    keys = sorted({mk for (lk, mk) in list(store.ok) + list(store.err) if mk.startswith("recorder/")},
                  key=recorder_order)
    for mk in keys:
        ok = store.ok.get(("ttlog", mk))
        if not ok:
            rows.append(Row(f"{mk.split('/')[1]} (recorder benchmark)", "ttlog",
                            not_run(store, "ttlog", mk, 1)))
            continue
        parts = mk.split("/")

        def add(label, field, scale=1.0, unit_fmt=fmt_num, note=""):
            md, lo, hi = stat_summary(store.values("ttlog", mk, field))
            if md is None:
                return
            spread = spread_cell(lo, hi, scale) if len(store.values("ttlog", mk, field)) > 1 else ""
            rows.append(Row(label, "ttlog", unit_fmt(md / scale), spread, "", note))

        if parts[1] == "snapshot":
            size, thr = parts[2], parts[3]
            ev = ok[0].get("events")
            add(f"ttlog_snapshot(), {size} MiB of rings, {thr} thread(s) (ms)", "ms",
                note=f"{fmt_num(ev)} events" if ev else "")
            add(f"snapshot file, {size} MiB of rings (bytes per event)", "bytes_per_event")
            add(f"viewer text, {size} MiB of rings (bytes per event)", "text_bytes_per_event")
            add(f"viewer text ÷ snapshot file, {size} MiB of rings (×)", "text_ratio")
        elif parts[1] == "crash":
            ev = ok[0].get("events")
            add(f"crash → snapshot file, {parts[2]} MiB of rings (ms)", "ms",
                note=f"{fmt_num(ev)} events" if ev else "")
        elif parts[1] == "reader":
            ev = ok[0].get("events")
            note = f"{fmt_num(ev)} events in {ok[0].get('files', '?')} file(s)"
            add("ttlog view, text (M events/s)", "text_events_per_s", 1e6, note=note)
            add("ttlog view -o json (M events/s)", "json_events_per_s", 1e6, note=note)
            add("ttlog export --format jsonl (M events/s)", "export_jsonl_events_per_s", 1e6, note=note)
            add("ttlog query, GROUP BY level over every event (s)", "query_group_s", note=note)
            rng = ok[0].get("query_range_events")
            add("ttlog query, a one-second time range (s)", "query_range_s",
                note=f"{fmt_num(rng)} events in the range" if rng is not None else "")
            jev = ok[0].get("join_file_events")
            add("ttlog query, join of log events with their spans (s)", "query_join_s",
                note=f"{fmt_num(jev)} events, {fmt_num(ok[0].get('join_rows'))} joined" if jev else "")
            if ok[0].get("spans_text_events_per_s") is not None:
                add("ttlog view, text, one file of spans (M events/s)", "spans_text_events_per_s", 1e6,
                    note=f"{fmt_num(jev)} events, every one in a span" if jev else "")
                add("ttlog view -o json, one file of spans (M events/s)", "spans_json_events_per_s", 1e6,
                    note=f"{fmt_num(jev)} events, every one in a span" if jev else "")
            tb = ok[0].get("text_bytes")
            add("cat of the viewer's text to /dev/null, the I/O floor (M events/s)", "cat_events_per_s", 1e6,
                note=f"{tb / 1048576:.0f} MiB of text" if tb else "")
            add("ttlog view --last 1s of a stream store, 512 MiB (--quick: 128) (s)", "last_1s_s",
                note=f"{fmt_num(ok[0].get('last_1s_events'))} lines printed"
                if ok[0].get("last_1s_events") is not None else "")
            if ok[0].get("nanolog_decompress_events_per_s") is not None:
                nb = ok[0].get("nanolog_bytes")
                rows.append(Row("NanoLog's decompressor, same events to text (M events/s)", "NanoLog",
                                fmt_num(stat_summary(store.values("ttlog", mk, "nanolog_decompress_events_per_s"))[0]
                                        / 1e6),
                                "", "", f"its log: {nb / ev:.1f} bytes per event" if nb and ev else ""))
            elif ok[0].get("nanolog_decompress"):
                rows.append(Row("NanoLog's decompressor, same events to text (M events/s)", "NanoLog",
                                ok[0]["nanolog_decompress"]))
        elif parts[1] == "rss":
            add(f"RSS, {parts[2]} threads logging, with ttlog (KiB)", "with_ttlog_kib")
            add(f"RSS, {parts[2]} threads, same work without ttlog (KiB)", "without_kib")
            diffs = [r["with_ttlog_kib"] - r["without_kib"] for r in ok
                     if isinstance(r.get("with_ttlog_kib"), (int, float))
                     and isinstance(r.get("without_kib"), (int, float))]
            md, lo, hi = stat_summary(diffs)
            if md is not None:
                rows.append(Row(f"RSS added by ttlog, {parts[2]} threads (KiB)", "ttlog", fmt_num(md),
                                spread_cell(lo, hi) if len(diffs) > 1 else ""))
        elif parts[1] == "snapscale" and parts[3] == "fit":
            worse = any(r.get("worse_than_linear") for r in ok)
            rows.append(Row(f"snapshot scaling by {parts[2]}: worse than linear?", "ttlog",
                            "YES" if worse else "no", "", "",
                            "growth exponent > 1.25 between the last two points" if worse else ""))
        elif parts[1] == "snapscale":
            axis, x = parts[2], parts[3]
            what = {"ring": f"{x} MiB ring, 1 thread", "thread": f"{x} threads × 1 MiB",
                    "site": f"{x} sites, 4 MiB ring"}.get(axis, f"{axis} {x}")
            ev = ok[0].get("events")
            add(f"scaling: ttlog_snapshot(), {what} (ms)", "ms",
                note=f"{fmt_num(ev)} events" if ev else "")
            add(f"scaling: crash → snapshot file, {what} (ms)", "crash_ms")
        else:
            rows.append(Row(mk, "ttlog", json.dumps(ok[0])[:100]))
    return rows


def manysites_rows(store, args, plan):
    """Many sites: per kind and site count, the code per site and the time
    per call (p50 / p90 / p99), and p50 against the same kind's smallest
    program."""
    rows = []
    if not args_includes(args, "manysites"):
        return rows
    keys = {mk for (lk, mk) in list(store.ok) + list(store.err) if mk.startswith("manysites")}
    if not keys:
        return rows
    label = (f"many sites (bench/manysites; {fmt_num(plan['manysites_calls'])} calls in shuffled order): "
             "code bytes per site / p50 / p90 / p99 ns per call")
    counts = sorted({int(mk.split("/")[2]) for mk in keys})
    first = True
    for kind in MANYSITES_KINDS:
        for n in counts:
            mk, ck = f"manysites/{kind}/{n}", f"manysites-code/{kind}/{n}"
            if mk not in keys and ck not in keys:
                continue
            name = label if first else ""
            first = False
            who = f"ttlog {kind}, {n} sites" if kind != "empty" else f"empty functions, {n}"
            bps = median(store.values("ttlog", ck, "bytes_per_site"))
            code = (f"{bps:.0f} B" if bps is not None else
                    "—" if kind == "empty" else "? B")
            if not store.ok.get(("ttlog", mk)):
                why = store.reason("ttlog", mk)
                rows.append(Row(name, who, f"{code} / not run" + (f": {why}" if why else "")))
                continue
            vals = [median(store.values("ttlog", mk, f)) for f in ("p50_ns", "p90_ns", "p99_ns")]
            lo_p50 = median(store.values("ttlog", f"manysites/{kind}/{counts[0]}", "p50_ns"))
            spread = [store.values("ttlog", mk, "p50_ns")]
            note = ""
            if n != counts[0] and lo_p50:
                note = f"p50 ÷ {counts[0]}-site p50 = {vals[0] / lo_p50:.2f}"
            if store.reason("ttlog", ck) and kind != "empty":
                note = (note + "; " if note else "") + f"code not measured: {store.reason('ttlog', ck)}"
            rows.append(Row(name, who, code + " / " + " / ".join(fmt_num(v) for v in vals),
                            spread_cell(min(spread[0]), max(spread[0])) if spread[0] else "—", "", note))
    return rows


def recorder_order(mk):
    parts = mk.split("/")
    rank = {"snapshot": 0, "crash": 1, "snapscale": 2, "reader": 3, "rss": 4}.get(parts[1], 9)
    if parts[1] == "snapscale" and len(parts) >= 4:
        axis = {"ring": 0, "thread": 1, "site": 2}.get(parts[2], 9)
        x = float("inf") if parts[3] == "fit" else float(parts[3])
        return (rank, [axis, x])
    nums = [int(p) for p in parts[2:] if p.isdigit()]
    return (rank, nums)


def scaling(store, lkey):
    """Per round: calls/s of 2 and 4 threads over 1 thread of the same round."""
    one = store.ok.get((lkey, "throughput/args3/1"), [])
    out = {2: [], 4: []}
    for t in (2, 4):
        many = store.ok.get((lkey, f"throughput/args3/{t}"), [])
        for a, b in zip(one, many):
            if a.get("calls_per_s") and b.get("calls_per_s"):
                out[t].append(b["calls_per_s"] / a["calls_per_s"])
    return out


def args_includes(args, key):
    if key.startswith("ttlog-stream") and args.only and "ttlog" in args.only:
        return True
    return not args.only or key in args.only


# --------------------------------------------------------------------------
# Targets


def evaluate_targets(store, info, args, have_valgrind, loggers=()):
    """[(target, measured text, PASS/FAIL/n/a)]; a FAIL never fails the run.
    Every line also gives NanoLog's and Quill's figure for the same
    measurement in the same run and ttlog's ratio to it (or why not)."""
    out = []
    reasons = {lg.key: lg.reason for lg in loggers if lg.reason}

    def med(lk, mk, field):
        return median(store.values(lk, mk, field))

    def peers(mk, field, fmt, tkey="ttlog", keys=("nanolog", "quill", "quill-backtrace")):
        """' · NanoLog 12 ns (ttlog ÷ NanoLog 0.8) · ...' for mk/field."""
        if mk is None:
            return " · NanoLog, Quill: no equivalent measurement"
        tv = med(tkey, mk, field)
        parts = []
        for key in keys:
            name = PEER_LABELS[key]
            if key in reasons:
                parts.append(f"{name} not run ({reasons[key].split(' (')[0]})")
                continue
            v = med(key, mk, field)
            if v is None:
                why = store.reason(key, mk)
                parts.append(f"{name} not run" + (f" ({why[:60]})" if why else ""))
                continue
            r = ratio(tv, v)
            parts.append(f"{name} {fmt(v)}" + (f" (ttlog ÷ {name} {fmt_ratio(r)})" if r is not None else ""))
        return " · " + " · ".join(parts)

    def reader_floors(field):
        """The viewer's speed as a fraction of the I/O floor (cat of its text)
        and as a multiple of NanoLog's decompressor on the same events."""
        v = med("ttlog", "recorder/reader", field)
        if v is None:
            return ""
        parts = []
        cat = med("ttlog", "recorder/reader", "cat_events_per_s")
        if cat:
            parts.append(f"{v / cat:.2f} of the I/O floor (cat of the text: {cat / 1e6:.0f} M/s)")
        nl = med("ttlog", "recorder/reader", "nanolog_decompress_events_per_s")
        if nl:
            parts.append(f"{v / nl:.1f}× NanoLog's decompressor ({nl / 1e6:.2f} M/s)")
        else:
            parts.append("NanoLog's decompressor not run")
        return " · " + ", ".join(parts)

    def check(name, value_text, ok, why=None, peer_text=""):
        if ok is None:
            out.append((name, (why or "not measured") + peer_text, "n/a"))
        else:
            out.append((name, value_text + peer_text, "PASS" if ok else "FAIL"))

    ns = lambda v: f"{v:.1f} ns"
    mps = lambda v: f"{v / 1e6:.2f} M/s"
    num = lambda v: f"{v:.0f}"

    def floor_note(mk, field, fmt, meets):
        """' · out of reach here: ...' when the rdtsc floor (reading the
        TSC and storing it, no logging) itself misses the target in this
        run, so that no logger that reads the TSC once a call can meet it
        on this machine; '' otherwise or when the floor was not run."""
        fv = med("rdtsc", mk, field)
        if fv is None or meets(fv):
            return ""
        return f" · out of reach on this machine: rdtsc alone gives {fmt(fv)}"

    mk = "latency/args3/spaced"
    t50, r50 = med("ttlog", mk, "p50"), med("rdtsc", mk, "p50")
    p50_peers = peers(mk, "p50", ns)
    tm = med("ttlog", mk, "mean_to_p99")
    p50_peers += (" · mean up to p99 (finer than the TSC step): ttlog " + (f"{tm:.1f} ns" if tm else "—")
                  + peers(mk, "mean_to_p99", ns).replace(" · ", ", ", 1).replace(" · ", ", "))
    if t50 is not None and r50 is not None:
        check("hot path p50 ≤ rdtsc-alone p50 + 5 ns (latency args3 spaced)",
              f"{t50:.1f} ns vs {r50:.1f} + 5 ns", t50 <= r50 + 5, peer_text=p50_peers)
    else:
        check("hot path p50 ≤ rdtsc-alone p50 + 5 ns (latency args3 spaced)", "", None,
              "not measured (needs both ttlog and the rdtsc floor)", p50_peers)
    n50 = med("nanolog", mk, "p50")
    check("hot path p50 ≤ 0.5 × NanoLog's p50 (latency args3 spaced)",
          f"{t50:.1f} ns vs 0.5 × {n50:.1f} ns" if t50 is not None and n50 is not None else "",
          None if t50 is None or n50 is None else t50 <= 0.5 * n50,
          "not measured: " + (f"NanoLog not run ({reasons['nanolog']})" if "nanolog" in reasons
                              else "needs ttlog and NanoLog"),
          peers(mk, "p50", ns, keys=("quill", "quill-backtrace"))
          + (f" · mean up to p99: ttlog {tm:.1f} ns, NanoLog {med('nanolog', mk, 'mean_to_p99'):.1f} ns"
             if tm and med("nanolog", mk, "mean_to_p99") else "")
          + (floor_note(mk, "p50", ns, lambda f: f <= 0.5 * n50) if n50 is not None else ""))
    t999 = med("ttlog", mk, "p99_9")
    check("hot path p99.9 ≤ 60 ns (latency args3 spaced)",
          f"{t999:.1f} ns" if t999 is not None else "", None if t999 is None else t999 <= 60,
          peer_text=peers(mk, "p99_9", ns) + floor_note(mk, "p99_9", ns, lambda f: f <= 60))
    t9999 = med("ttlog", mk, "p99_99")
    check("hot path p99.99 ≤ 200 ns (latency args3 spaced)",
          f"{t9999:.1f} ns" if t9999 is not None else "", None if t9999 is None else t9999 <= 200,
          peer_text=peers(mk, "p99_99", ns) + floor_note(mk, "p99_99", ns, lambda f: f <= 200))
    for msg, limit in (("args3", 60), ("noargs", 20)):
        v = med("ttlog", f"instr/{msg}", "instr_per_call")
        why = ("not run: --skip-instr" if args.skip_instr else
               None if have_valgrind else "not run: valgrind not installed")
        check(f"≤ {limit} instructions per call ({msg})",
              f"{v:.1f}" if v is not None else "", None if v is None else v <= limit, why,
              peers(f"instr/{msg}", "instr_per_call", num))
    # A string shorter than 16 bytes is copied inline as a 17-byte one is:
    # it may cost a range test more, not a call.
    v3 = med("ttlog", "instr/args3", "instr_per_call")
    v8 = med("ttlog", "instr/args3s8", "instr_per_call")
    check("short string: instructions per call (args3s8, 8 bytes) ≤ args3's + 2",
          f"{v8:.1f} vs {v3:.1f} + 2" if v8 is not None and v3 is not None else "",
          None if v8 is None or v3 is None else v8 <= v3 + 2,
          ("not run: --skip-instr" if args.skip_instr else
           None if have_valgrind else "not run: valgrind not installed"),
          peers("instr/args3s8", "instr_per_call", num))
    v = med("ttlog", "throughput/args3/1", "calls_per_s")
    tp_peers = peers("throughput/args3/1", "calls_per_s", mps)
    check("≥ 50 M calls/s from one thread (args3)", f"{v / 1e6:.1f} M/s" if v else "",
          None if v is None else v >= 50e6, peer_text=tp_peers)
    nv = med("nanolog", "throughput/args3/1", "calls_per_s")
    check("≥ 10 × NanoLog's single-thread throughput (args3, until the last call returns)",
          f"{v / 1e6:.1f} M/s vs 10 × {nv / 1e6:.2f} M/s" if v and nv else "",
          None if not v or not nv else v >= 10 * nv,
          "not measured: " + (f"NanoLog not run ({reasons['nanolog']})" if "nanolog" in reasons
                              else "needs ttlog and NanoLog"),
          floor_note("throughput/args3/1", "calls_per_s", mps, lambda f: f >= 10 * nv) if nv else "")
    ncpu = info.get("usable_cpus") or 1
    sc = scaling(store, "ttlog")
    for t in (2, 4):
        want = min(t, ncpu) * 0.9
        got = median(sc[t])
        cap = f"; {ncpu} CPUs, so {t} threads can run at most {min(t, ncpu)}× one" if ncpu < t else ""
        check(f"near-linear scaling: {t} threads ≥ {want:.1f}× one thread (min({t}, CPUs) × 0.9)",
              f"{got:.2f}×{cap}" if got is not None else "",
              None if got is None else got >= want,
              peer_text=peers(f"throughput/args3/{t}", "calls_per_s", mps))

    # Sustained rate to disk: ttlog's streaming mode against the file loggers.
    for t in SUSTAIN_THREADS:
        mk = f"sustain/args3/{t}"
        # The target is "with nothing lost": policy block when it ran, which
        # loses nothing by making the threads wait; policy drop otherwise.
        skey = "ttlog-stream-block" if med("ttlog-stream-block", mk, "on_disk_per_s") else "ttlog-stream"
        tv = med(skey, mk, "on_disk_per_s")
        nv = med("nanolog", mk, "on_disk_per_s")
        if tv is None:
            why = "not measured: ttlog streaming " + (f"not run ({store.reason('ttlog-stream', mk)})"
                                                       if store.reason("ttlog-stream", mk) else "not run")
        else:
            why = "not measured: " + (f"NanoLog not run ({reasons['nanolog']})" if "nanolog" in reasons
                                      else "NanoLog not run")
        check(f"sustained to disk ≥ 2 × NanoLog's ({t} thread{'s' if t > 1 else ''}, args3, "
              f"ttlog streaming, policy {'block' if skey.endswith('block') else 'drop'})",
              f"{tv / 1e6:.2f} M/s vs 2 × {nv / 1e6:.2f} M/s" if tv and nv else "",
              None if not tv or not nv else tv >= 2 * nv, why,
              peers(mk, "on_disk_per_s", mps, tkey=skey, keys=("quill",)))
    for t in SUSTAIN_THREADS:
        mk = f"sustain/args3/{t}"
        rs = store.ok.get(("ttlog-stream", mk), [])
        lost = [r["stream_lost"] for r in rs if isinstance(r.get("stream_lost"), int)]
        ev = sum(r["stream_events"] for r in rs if isinstance(r.get("stream_events"), int))
        check(f"nothing lost at full speed ({t} thread{'s' if t > 1 else ''}, ttlog streaming, policy drop)",
              f"{sum(lost)} lost of {sum(lost) + ev} in {len(lost)} runs" if lost else "",
              None if not lost else sum(lost) == 0,
              "not measured: ttlog streaming did not report stream_lost")
    mk = "sustain/args3/1"
    bv = med("ttlog-stream", mk, "disk_bytes_per_event")
    check("≤ 8 bytes on disk per message (ttlog streaming, args3)",
          f"{bv:.1f} bytes" if bv is not None else "", None if bv is None else bv <= 8,
          "not measured: ttlog streaming " + (f"not run ({store.reason('ttlog-stream', mk)})"
                                              if store.reason("ttlog-stream", mk) else "not run"),
          peers(mk, "disk_bytes_per_event", lambda x: f"{x:.1f} bytes", tkey="ttlog-stream",
                keys=("nanolog", "quill")))

    # Many sites: code per site (the worst site count) and the median call
    # at the most sites against the fewest.
    ms_peers = peers(None, None, None)
    for kind, limit, what in (("args3", 250, "three-argument"), ("noargs", 100, "argument-less")):
        per = {int(mk.split("/")[2]): median(store.values("ttlog", mk, "bytes_per_site"))
               for (lk, mk) in store.ok if lk == "ttlog" and mk.startswith(f"manysites-code/{kind}/")}
        per = {n: v for n, v in per.items() if v is not None}
        worst = max(per, key=per.get) if per else None
        why = next((store.reason("ttlog", mk) for (lk, mk) in store.err
                    if mk.startswith(f"manysites-code/{kind}/")), None)
        check(f"≤ {limit} bytes of code per {what} site (many sites, from the object file)",
              f"{per[worst]:.0f} bytes (worst: {worst} sites)" if per else "",
              None if not per else per[worst] <= limit,
              f"not measured: {why}" if why else "not measured (bench/manysites not run)", ms_peers)
    for kind in ("args3", "noargs"):
        ns_ = sorted({int(mk.split("/")[2]) for (lk, mk) in store.ok
                      if lk == "ttlog" and mk.startswith(f"manysites/{kind}/")})
        lo = median(store.values("ttlog", f"manysites/{kind}/{ns_[0]}", "p50_ns")) if ns_ else None
        hi = median(store.values("ttlog", f"manysites/{kind}/{ns_[-1]}", "p50_ns")) if ns_ else None
        ok_ = None if lo is None or hi is None or len(ns_) < 2 else hi <= 2 * max(lo, 0.5)
        # The floor: as many empty functions called the same way. When
        # they alone grow by more than 2× (their code no longer fits the
        # caches), no site can stay within it on this machine.
        floor = ""
        if ok_ is not None:
            elo = median(store.values("ttlog", f"manysites/empty/{ns_[0]}", "p50_ns"))
            ehi = median(store.values("ttlog", f"manysites/empty/{ns_[-1]}", "p50_ns"))
            if elo is not None and ehi is not None:
                floor = f" · empty functions {ehi:.1f} ns vs {elo:.1f} ns"
                if ehi > 2 * max(elo, 0.5):
                    floor += " (out of reach on this machine: the floor itself grows more than 2×)"
        check(f"many sites: p50 at {ns_[-1] if ns_ else 'the most'} {kind} sites ≤ 2 × p50 at "
              f"{ns_[0] if ns_ else 'the fewest'}",
              f"{hi:.1f} ns vs 2 × {lo:.1f} ns{floor}" if ok_ is not None else "", ok_,
              "not measured (bench/manysites not run)", ms_peers)

    crash = [v for (lk, mk), rs in store.ok.items() if mk == "recorder/crash/8"
             for v in [r.get("ms") for r in rs] if v is not None]
    check("crash → snapshot file ≤ 30 ms (8 MiB of rings)",
          f"{median(crash):.1f} ms" if crash else "", None if not crash else median(crash) <= 30,
          peer_text=peers(None, None, None))
    snap8 = [mk for (lk, mk) in store.ok if mk.startswith("recorder/snapshot/8/")]
    if snap8:
        worst = max(median(store.values("ttlog", mk, "ms")) for mk in snap8)
        check("ttlog_snapshot() ≤ 20 ms (8 MiB of rings)", f"{worst:.1f} ms", worst <= 20,
              peer_text=peers(None, None, None))
    else:
        check("ttlog_snapshot() ≤ 20 ms (8 MiB of rings)", "", None, peer_text=peers(None, None, None))
    # The reader's targets are for both cores of a quiet machine: the
    # CPUs and the load average while the table is made say how far this
    # run was from that.
    try:
        load = f"{os.getloadavg()[0]:.1f}"
    except OSError:
        load = "?"
    where = f" (--jobs {os.cpu_count() or 1}, load {load})"
    for key, name, target in (
            ("text_events_per_s", "ttlog view text ≥ 10 M events/s", 10e6),
            ("json_events_per_s", "ttlog view -o json ≥ 10 M events/s", 10e6),
            ("export_jsonl_events_per_s", "ttlog export --format jsonl ≥ 8 M events/s", 8e6)):
        v = med("ttlog", "recorder/reader", key)
        check(name, f"{v / 1e6:.1f} M/s{where}" if v else "",
              None if v is None else v >= target,
              peer_text=reader_floors(key))
    v = med("ttlog", "recorder/reader", "last_1s_s")
    check("ttlog view --last 1s ≤ 50 ms", f"{v * 1e3:.0f} ms" if v is not None else "",
          None if v is None else v <= 0.05, peer_text=peers(None, None, None))
    v = med("ttlog", "recorder/reader", "query_group_s")
    check("SQL GROUP BY level over every event ≤ 1 s (the reader's 10 M events)",
          f"{v:.2f} s" if v else "", None if v is None or args.quick else v <= 1.0,
          peer_text=peers(None, None, None))
    v = med("ttlog", "recorder/reader", "query_join_s")
    check("SQL join of events and spans ≤ 1 s (8 × 8 MiB of rings)", f"{v:.2f} s" if v else "",
          None if v is None or args.quick else v <= 1.0, peer_text=peers(None, None, None))
    snaps = [mk for (lk, mk) in store.ok if mk.startswith("recorder/snapshot/")]
    snap_peers = peers(None, None, None)
    if snaps:
        ratios = {mk: median(store.values("ttlog", mk, "text_ratio")) for mk in snaps}
        ratios = {k: v for k, v in ratios.items() if v is not None}
        if ratios:
            worst_mk = min(ratios, key=ratios.get)
            check("snapshot ≥ 10× smaller than the viewer's text (every ring size)",
                  f"{ratios[worst_mk]:.1f}× (worst: {worst_mk.split('/')[2]} MiB)",
                  ratios[worst_mk] >= 10, peer_text=snap_peers)
        else:
            check("snapshot ≥ 10× smaller than the viewer's text", "", None, peer_text=snap_peers)
    else:
        check("snapshot ≥ 10× smaller than the viewer's text", "", None, peer_text=snap_peers)
    return out


# --------------------------------------------------------------------------
# Rendering


def render_text(machine, rows, targets, legend):
    """Measurement names become title lines above their loggers' rows, so
    the columns stay narrow enough for a terminal."""
    head = HEADER[1:]
    widths = [len(h) for h in head]
    for r in rows:
        cells = r.cells[1:]
        for i, c in enumerate(cells):
            # A cell with nothing after it (a "not run: ..." line) is not
            # padded, so it does not widen its column either.
            if any(cells[i + 1:]):
                widths[i] = max(widths[i], len(c))

    def line(cells):
        # The notes column is last and is not padded.
        return ("  " + "  ".join(c.ljust(widths[i]) if i < len(cells) - 1 else c
                                 for i, c in enumerate(cells))).rstrip()

    out = list(machine) + [""]
    out.append(line(head))
    out.append(line(["-" * w for w in widths]))
    for r in rows:
        if r.cells[0]:
            out.append(r.cells[0])
        out.append(line(r.cells[1:]))
    out.append("")
    out.extend(legend)
    out.append("")
    out.append("Targets (a FAIL is reported, it does not fail the run):")
    for name, value, verdict in targets:
        out.append(f"  {verdict:4}  {name}" + (f": {value}" if value else ""))
    return "\n".join(out) + "\n"


def md_cell(text):
    return text.replace("|", "\\|") if text else " "


def render_markdown(machine, rows, targets, legend):
    out = ["```", *machine, "```", ""]
    out.append("| " + " | ".join(HEADER) + " |")
    out.append("|" + "---|" * len(HEADER))
    for r in rows:
        out.append("| " + " | ".join(md_cell(c) for c in r.cells) + " |")
    out.append("")
    out.extend(legend)
    out.append("")
    out.append("| target | measured | result |")
    out.append("|---|---|---|")
    for name, value, verdict in targets:
        out.append(f"| {md_cell(name)} | {md_cell(value)} | {verdict} |")
    return "\n".join(out) + "\n"


LEGEND = [
    "Median of the rounds; spread = smallest–largest round (empty with one round). Latency cells",
    "hold seven statistics in ns, after subtracting the empty timer: p50 / p90 / p99 / p99.9 /",
    "p99.99 / max / mean of the samples up to p99 (finer than the TSC's step, see the TSC line).",
    "ttlog ÷ logger < 1: ttlog is lower (better for ns and instructions, worse for calls/s).",
    "Instructions and the recorder benchmarks are measured once per run, not per round (the",
    "former are deterministic, the latter report the median of their own repetitions).",
]


# --------------------------------------------------------------------------
# Main


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="run.py",
        description="Run ttlog's benchmarks (latency, throughput, instructions per call, "
                    "recorder) against peer loggers and print one table.",
        epilog="Loggers: ttlog, ttlog-runtime, ttlog-shm, ttlog-stream, ttlog-stream-block, rdtsc, clock_gettime, nanolog, quill, "
               "quill-backtrace, fprintf, spdlog-block, spdlog-overrun, spdlog-backtrace, glog, "
               "lttng; 'recorder' names the ttlog-only recorder benchmarks, 'manysites' the programs with many log sites (bench/manysites). NanoLog and Quill "
               "are built when NANOLOG_DIR / QUILL_DIR name their source trees (bench/README.md). "
               "See docs/PERFORMANCE.md.")
    p.add_argument("--build", default="build", help="the CMake build directory configured with "
                   "-DTTLOG_BENCH=ON (default: build)")
    p.add_argument("--quick", action="store_true",
                   help="1 round, small counts, ttlog-only instruction counts, recorder --quick")
    p.add_argument("--rounds", type=int, help="rounds of every measurement (default 3; 1 with --quick)")
    p.add_argument("--only", help="comma-separated loggers to run (and/or 'recorder', 'manysites')")
    p.add_argument("--skip-instr", action="store_true", help="skip the callgrind instruction counts")
    p.add_argument("--out", help="directory for the JSON and Markdown results "
                   "(default: BUILD/bench-results)")
    p.add_argument("--smoke", action="store_true",
                   help="a check that the programs run, not a measurement: exit with "
                        "status 1, naming them, if any program that was built crashed, "
                        "failed or printed no result (CI runs it with --quick)")
    args = p.parse_args(argv)
    if args.rounds is not None and args.rounds < 1:
        p.error("--rounds must be at least 1")
    args.only = [s.strip() for s in args.only.split(",") if s.strip()] if args.only else None
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    build = os.path.abspath(args.build)
    plan = dict(QUICK_PLAN if args.quick else FULL_PLAN)
    if args.rounds:
        plan["rounds"] = args.rounds
    rounds = plan["rounds"]
    global SINGLE_ROUND
    SINGLE_ROUND = rounds == 1
    loggers = discover(build)
    known = {lg.key for lg in loggers} | {"recorder", "lttng", "manysites"}
    if args.only:
        unknown = [k for k in args.only if k not in known]
        if unknown:
            sys.exit(f"run.py: unknown logger(s) in --only: {', '.join(unknown)} "
                     f"(known: {', '.join(sorted(known))})")
    runnable = [lg for lg in loggers if lg.reason is None and args_includes(args, lg.key)]
    active = [lg for lg in runnable if not lg.stream]
    streamers = [lg for lg in runnable if lg.stream]
    recorders = recorder_exes(build) if args_includes(args, "recorder") else {}
    ms_progs, ms_why = manysites_programs(build) if args_includes(args, "manysites") else ([], None)
    valgrind = shutil.which("valgrind")
    progress = Progress()
    runner = Runner(build, plan, progress)
    store = Store()
    info = machine_info(build)
    info["peers"] = peer_versions(build)
    started = time.monotonic()
    plan_name = "quick run (--quick)" if args.quick else "full run"
    progress.line(f"bench: {plan_name}, {rounds} round(s), loggers: "
                  + ", ".join(lg.key for lg in runnable))

    tp_calls = {}

    def group(title, fn, items):
        t0 = time.monotonic()
        failed = []
        for lg in items:
            progress.step(f"{title}: {lg.key}")
            why = fn(lg)
            if why:
                failed.append(f"{lg.key} ({why})")
        progress.line(f"  {title}: {time.monotonic() - t0:.1f} s"
                      + (f"; not run: {'; '.join(failed)}" if failed else ""))

    try:
        for rnd in range(rounds):
            progress.line(f"round {rnd + 1}/{rounds}")
            for msg, variant, calls, warmup in plan["latency"]:
                group(f"latency {msg} {variant}",
                      lambda lg: run_latency(runner, store, lg, msg, variant, calls, warmup), active)

            # Throughput: a pilot per logger (first round) sets its count.
            for lg in active:
                if lg.key not in tp_calls:
                    progress.step(f"throughput pilot: {lg.key}")
                    res, _ = run_throughput(runner, store, lg, 1, plan["tp_pilot"], record=False)
                    rate = res.get("calls_per_s") if res else None
                    n = int(rate * plan["tp_budget"]) if rate else plan["tp_min"]
                    n = max(plan["tp_min"], min(plan["tp_max"], n))
                    tp_calls[lg.key] = n // 1000 * 1000
            for t in TP_THREADS:
                group(f"throughput args3 {t} thread(s)",
                      lambda lg: run_throughput(runner, store, lg, t, tp_calls[lg.key])[1], active)

            # Sustained rate to disk: the loggers that have a file (their
            # throughput runs said so) and ttlog's streaming mode.
            filers = [lg for lg in active
                      if any(r.get("file") for r in store.ok.get((lg.key, "throughput/args3/1"), []))]
            for t in SUSTAIN_THREADS:
                group(f"sustained to disk, {t} thread(s), {plan['sustain_seconds']:g} s",
                      lambda lg: run_sustain(runner, store, lg, t, plan["sustain_seconds"]),
                      filers + streamers)

            if rnd == 0 and not args.skip_instr and valgrind:
                who = [lg for lg in active if not plan["instr_only_ttlog"] or lg.key in INSTR_QUICK_KEYS]
                for msg in plan["instr_msgs"]:
                    group(f"instructions {msg} (callgrind)",
                          lambda lg: run_instr(runner, store, lg, msg, plan["instr_calls"],
                                               plan["instr_warmup"], valgrind), who)

            if rnd == 0 or plan["recorder_every_round"]:
                for name in RECORDER:
                    exe = recorders.get(name)
                    if not recorders:
                        break
                    if exe is None:
                        store.add("ttlog", f"recorder/{name}",
                                  reason=f"{os.path.relpath(build)}/bench/recorder/ttlog-bench-{name} not built",
                                  ran=False)
                        continue
                    t0 = time.monotonic()
                    progress.step(f"recorder {name}")
                    why = run_recorder(runner, store, name, exe, plan["recorder_quick"])
                    progress.line(f"  recorder {name}: {time.monotonic() - t0:.1f} s"
                                  + (f"; not run: {why}" if why else ""))
            if ms_progs:
                if rnd == 0:
                    measure_manysites_code(store, ms_progs)
                t0 = time.monotonic()
                failed = []
                for kind, n, exe, _ in ms_progs:
                    progress.step(f"many sites: {kind} {n}")
                    why = run_manysites(runner, store, kind, n, exe, plan["manysites_calls"])
                    if why:
                        failed.append(f"{kind} {n} ({why})")
                progress.line(f"  many sites: {time.monotonic() - t0:.1f} s"
                              + (f"; not run: {'; '.join(failed)}" if failed else ""))
            elif ms_why and rnd == 0:
                store.add("ttlog", "manysites/args3/10", reason=ms_why, ran=False)
                store.add("ttlog", "manysites-code/args3/10", reason=ms_why, ran=False)
    except KeyboardInterrupt:
        shutil.rmtree(runner.scratch_root, ignore_errors=True)
        progress.line("bench: interrupted")
        return 130
    runner.finish()

    elapsed = time.monotonic() - started
    machine = machine_lines(info, store, plan_name, rounds)
    machine.append(f"Run time:  {elapsed / 60:.1f} min (build excluded)")
    rows = build_rows(loggers, store, plan, args, bool(valgrind))
    targets = evaluate_targets(store, info, args, bool(valgrind), loggers)
    text = render_text(machine, rows, targets, LEGEND)
    sys.stdout.write("\n" + text)

    out_dir = os.path.abspath(args.out) if args.out else os.path.join(build, "bench-results")
    os.makedirs(out_dir, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = os.path.join(out_dir, f"bench-{'quick-' if args.quick else ''}{stamp}")
    raw = {
        "machine": info, "plan": {k: v for k, v in plan.items()}, "rounds": rounds,
        "options": {"quick": args.quick, "only": args.only, "skip_instr": args.skip_instr},
        "loggers": [{"key": lg.key, "label": lg.label, "exe": lg.exe, "not_built": lg.reason}
                    for lg in loggers],
        "throughput_calls": tp_calls,
        "runs": runner.log,
        "targets": [{"target": n, "measured": v, "result": r} for n, v, r in targets],
        "seconds": round(elapsed, 1),
    }
    with open(base + ".json", "w", encoding="utf-8") as f:
        json.dump(raw, f, indent=1)
        f.write("\n")
    with open(base + ".md", "w", encoding="utf-8") as f:
        f.write(render_markdown(machine, rows, targets, LEGEND))
    print(f"\nraw results: {base}.json\nMarkdown:    {base}.md")
    if not store.ok:
        print("run.py: nothing could be measured", file=sys.stderr)
        return 1
    if args.smoke and store.failed:
        for lkey, mkey, why in store.failed:
            print(f"run.py: {lkey} {mkey} failed: {why}", file=sys.stderr)
        print(f"run.py: --smoke: {len(store.failed)} measurement(s) failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
