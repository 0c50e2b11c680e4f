#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""mkseg.py - writes ttlog segment files (and revision 5 snapshots) from
docs/FORMAT.md revision 5 alone, for the tests of the reader, the store and
`ttlog tail`: file header, HEAD (SEGMENT flag, service, segment, stream
start), SITE and SITX, EVTS (codec 0), PRMT, THRD with the stream counts,
INDX and END, with damaged variants; and revision 6's TNAM (--names). It shares no code with the writer.

Events are deterministic: thread t's k-th event has ticks
base + (k * threads + t) * 1000 and the arguments (t, k); the clock is the
FAKE calibration (one tick is one nanosecond from 2026-01-01T00:00:00Z).

  mkseg.py seg OUT [options]        a segment (closed unless --open)
  mkseg.py snap OUT [options]       a snapshot of the same records
  mkseg.py append OUT [options]     appends blocks to an open segment
Run with --help for the options.
"""
import argparse
import struct
import sys

NS0 = 1767225600000000000
MAGIC = b"\x89TTLOG\r\n"


def _crc_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 & -(c & 1))
        table.append(c)
    return table


CRC_TABLE = _crc_table()


def crc32c(data, crc=0xFFFFFFFF):
    """CRC-32C (Castagnoli), a byte at a time through a table."""
    t = CRC_TABLE
    for b in data:
        crc = (crc >> 8) ^ t[(crc ^ b) & 0xFF]
    return crc


def crc_final(data):
    return crc32c(data) ^ 0xFFFFFFFF


def s(text):
    b = text.encode()
    return struct.pack("<I", len(b)) + b


def chunk(fourcc, payload, flags=0):
    head = fourcc.encode() + struct.pack("<II", flags, len(payload))
    return head + struct.pack("<I", crc_final(head + payload)) + payload


def file_header():
    h = MAGIC + struct.pack("<HHII", 1, 24, 0, 0)
    return h + struct.pack("<I", crc_final(h))


# Sites: id -> (level, types, format, kind)
U32 = 8
SITES = {
    1: (2, [U32, U32], "event t=%u k=%u", 0),
    2: (1, [U32, U32], "debug t=%u k=%u", 0),
    3: (4, [U32, U32], "error t=%u k=%u", 0),
    4: (2, [U32], "req", 1),       # CONTEXT_PUSH
    5: (2, [], "", 2),             # CONTEXT_POP
}


def site_chunk(ids):
    p = struct.pack("<I", len(ids))
    for i in ids:
        level, types, fmt, _ = SITES[i]
        p += struct.pack("<IBBHI", i, level, len(types), 0, 10 + i) + bytes(types)
        p += s(fmt) + s("gen.c") + s("main") + s("gen.c")
    return chunk("SITE", p)


def sitx_chunk(ids):
    ext = [i for i in ids if SITES[i][3]]
    if not ext:
        return b""
    p = struct.pack("<I", len(ext))
    for i in ext:
        p += struct.pack("<IBBH", i, SITES[i][3], 0, 0)
    return chunk("SITX", p, flags=1)


def record(site, ticks, args):
    body = b"".join(struct.pack("<I", a) for a in args)
    size = (16 + len(body) + 7) & ~7
    return struct.pack("<IIQ", size, site, ticks) + body + bytes(size - 16 - len(body))


# Added to every thread index written (--thread-base).
THREAD_BASE = 0


def evts(thread, tid, recs, bad_size=False):
    data = b"".join(record(*r) for r in recs)
    if bad_size:  # the first record's size below its 16-byte header
        data = struct.pack("<I", 12) + data[4:]
    p = struct.pack("<IIIIQQB", THREAD_BASE + thread, tid, len(recs), len(data), recs[0][1],
                    recs[-1][1], 0)
    return chunk("EVTS", p + bytes(7) + data)


def prmt(thread, trigger_ticks, trigger_thread, scope=0):
    return chunk("PRMT", struct.pack("<IIQII", THREAD_BASE + thread, scope, trigger_ticks,
                                     THREAD_BASE + trigger_thread, 0),
                 flags=1)


def thrd(index, tid, events, name, lost=0, filtered=0, segment=True, partial=False):
    p = struct.pack("<IIIIQQQQ", THREAD_BASE + index, tid, 0, 0, events, 0, 0, 0) + s(name)
    if segment:
        p += struct.pack("<QQ", lost, filtered)
    if partial:
        p = p[:-8]
    return chunk("THRD", p)


def tnam(index, tid, name, short=False):
    """Revision 6: a thread's name before its THRD (FORMAT.md 17.5)."""
    p = struct.pack("<II", THREAD_BASE + index, tid) + s(name)
    if short:
        p = p[:-2]  # the name string runs past the payload
    return chunk("TNAM", p)


def head(a, segment=True, rev5=True):
    flags = 2 if segment else 0
    p = struct.pack("<IIqQqQqIIQ", a.pid, flags, a.created, 0, NS0, a.cal_ticks,
                    NS0 + (a.cal_ns if a.cal_ns is not None else a.cal_ticks), 3, 400, 0)
    p += s("/usr/bin/gen") + s("host1") + s("stream" if segment else "manual")
    if rev5:
        p += s(a.service) + struct.pack("<Qq", a.seq if segment else 0,
                                       a.stream_start if segment else 0)
    return chunk("HEAD", p)


def events_of(a):
    """(thread, [(site, ticks, args)]) main events and promoted ones."""
    main, promo = {}, {}
    for k in range(a.events):
        for t in range(a.threads):
            ticks = a.base + (k * a.threads + t) * 1000
            main.setdefault(t, []).append((3 if (a.promote and k == a.events - 1 and t == 0)
                                           else 1, ticks, [t, k + a.arg_add]))
            if a.promote and t == 0:
                promo.setdefault(t, []).append((2, ticks + 500, [t, k]))
    return main, promo


class Seg:
    def __init__(self):
        self.data = bytearray()
        self.index = []   # (offset, type, thread, first, last)
        self.blocks = 0
        self.promoted = 0

    def add(self, c, thread=0, first=0, last=0):
        off = len(self.data)
        self.data += c
        self.index.append((off, c[:4].decode(), thread, first, last))
        return off


def build_body(a, seg, main, promo, with_sites=True):
    if with_sites:
        ids = [1, 2, 3] + ([4, 5] if a.contexts else [])
        seg.add(site_chunk(ids))
        x = sitx_chunk(ids)
        if x:
            seg.add(x)
    per = a.per_block
    counts = {}
    for t, recs in sorted(main.items()):
        if a.contexts:
            # A context opened before the first event, closed after the last.
            first = recs[0][1]
            recs = [(4, first - 100, [77 + t])] + recs + [(5, recs[-1][1] + 100, [])]
        if a.names:
            seg.add(tnam(t, 1000 + t, "n%d" % t, short=a.damage == "tnam-short" and t == 0), t)
        for i in range(0, len(recs), per):
            part = recs[i:i + per]
            if a.damage == "prmt-other" and t == 0 and i == 0:
                seg.add(prmt(0, part[0][1], 0))
            bad = a.damage == "record-size" and t == 0 and i == per
            seg.add(evts(t, 1000 + t, part, bad_size=bad), t, part[0][1], part[-1][1])
            seg.blocks += 1
        counts[t] = sum(1 for r in recs)
    for t, recs in sorted(promo.items()):
        for i in range(0, len(recs), per):
            part = recs[i:i + per]
            pt = 1 if a.damage == "prmt-thread" else t
            seg.add(prmt(pt, recs[-1][1], t), pt)
            if a.damage == "prmt-then-thrd":
                continue
            seg.add(evts(t, 1000 + t, part), t, part[0][1], part[-1][1])
            seg.blocks += 1
            seg.promoted += len(part)
            counts[t] = counts.get(t, 0) + len(part)
    return counts


def close(a, seg, counts, nsites):
    total = 0
    lost = filt = 0
    for t in sorted(counts):
        ev = counts[t] + (1 if a.damage == "thrd-events" and t == 0 else 0)
        seg.add(thrd(t, 1000 + t, ev, "w%d" % t, a.lost, a.filtered,
                     partial=a.damage == "thrd-partial" and t == 0), t)
        total += counts[t]
        lost += a.lost
        filt += a.filtered
    indx_off = 0
    if not a.no_index:
        entries = list(seg.index[1:])
        if a.damage == "index-offset" and entries:
            e = entries[-1]
            entries[-1] = (e[0] + 3,) + e[1:]
        if a.damage == "index-ticks":
            entries = [(o, t, th, f - 1 if t == "EVTS" else f, l)
                       for o, t, th, f, l in entries]
        if a.damage == "index-type" and entries:
            e = entries[0]
            entries[0] = (e[0], "THRD") + e[2:]
        p = struct.pack("<II", len(entries), 0)
        for off, typ, thread, first, last in entries:
            p += struct.pack("<QIIQQ", off, struct.unpack("<I", typ.encode())[0],
                             thread, first, last)
        indx_off = len(seg.data)
        seg.data += chunk("INDX", p)
    promoted = seg.promoted + (1 if a.damage == "end-promoted" else 0)
    end = struct.pack("<QQQQQIIII", total, 0, 0, 0, 0, len(counts), nsites, seg.blocks, 0)
    end += struct.pack("<QQQQ", indx_off, lost, filt, promoted)
    seg.data += chunk("END ", end)


def write_seg(a):
    seg = Seg()
    seg.data += file_header()
    seg.add(head(a, rev5=a.damage != "head-old"))
    main, promo = events_of(a)
    counts = build_body(a, seg, main, promo)
    nsites = 3 + (2 if a.contexts else 0)
    if not a.open:
        close(a, seg, counts, nsites)
    data = bytes(seg.data)
    if a.damage == "crc":
        i = seg.index[3][0] + 40
        data = data[:i] + bytes([data[i] ^ 0xff]) + data[i + 1:]
    if a.cut:
        data = data[:a.cut if a.cut > 0 else len(data) + a.cut]
    with open(a.out, "wb") as f:
        f.write(data)


def write_snap(a):
    seg = Seg()
    seg.data += file_header()
    seg.add(head(a, segment=False))
    main, _ = events_of(a)
    ids = [1, 2, 3]
    seg.add(site_chunk(ids))
    total = 0
    for t, recs in sorted(main.items()):
        recs = recs[a.skip:]
        seg.add(evts(t, 1000 + t, recs))
        seg.blocks += 1
        seg.data += thrd(t, 1000 + t, len(recs), "w%d" % t, segment=False)
        total += len(recs)
    seg.data += chunk("END ", struct.pack("<QQQQQIIII", total, 0, 0, 0, 0, len(main), 3,
                                          seg.blocks, 0))
    with open(a.out, "wb") as f:
        f.write(bytes(seg.data))


def append(a):
    """Blocks of events a.base.. for every thread, no sites (they are in the
    file already), so that a reader of the growing file sees them."""
    seg = Seg()
    main, _ = events_of(a)
    for t, recs in sorted(main.items()):
        seg.add(evts(t, 1000 + t, recs))
    with open(a.out, "ab") as f:
        f.write(bytes(seg.data))


def main_():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=["seg", "snap", "append"])
    ap.add_argument("out")
    ap.add_argument("--pid", type=int, default=4242)
    ap.add_argument("--service", default="svc")
    ap.add_argument("--seq", type=int, default=1)
    ap.add_argument("--created", type=int, default=NS0)
    ap.add_argument("--stream-start", type=int, default=NS0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--thread-base", type=int, default=0,
                    help="added to each thread index (indexes no process makes)")
    ap.add_argument("--events", type=int, default=4, help="events per thread")
    ap.add_argument("--per-block", type=int, default=2)
    ap.add_argument("--base", type=int, default=1000000, help="ticks of the first event")
    ap.add_argument("--cal-ticks", type=int, default=1000000000,
                    help="ticks of calibration point 1 (point 0 is tick 0 at 2026-01-01)")
    ap.add_argument("--cal-ns", type=int, default=None,
                    help="ns of point 1 after point 0 (default: --cal-ticks, one tick a ns)")
    ap.add_argument("--promote", action="store_true", help="promoted debug events, thread 0")
    ap.add_argument("--contexts", action="store_true", help="a context around each thread")
    ap.add_argument("--context-key", default="req", help="the key of --contexts' context")
    ap.add_argument("--open", action="store_true", help="no THRD, INDX, END")
    ap.add_argument("--names", action="store_true", help="a TNAM before each thread's blocks (revision 6)")
    ap.add_argument("--no-index", action="store_true")
    ap.add_argument("--lost", type=int, default=0, help="stream_lost per thread")
    ap.add_argument("--filtered", type=int, default=0, help="filtered per thread")
    ap.add_argument("--arg-add", type=int, default=0,
                    help="added to each event's second argument (other records at the same times)")
    ap.add_argument("--skip", type=int, default=0, help="snap: leave out the first N per thread")
    ap.add_argument("--cut", type=int, default=0, help="keep N bytes (negative: drop -N)")
    ap.add_argument("--damage", default="", choices=[
        "", "prmt-other", "prmt-thread", "prmt-then-thrd", "index-offset", "index-type", "index-ticks",
        "end-promoted", "thrd-partial", "thrd-events", "head-old", "crc", "tnam-short",
        "record-size"])
    a = ap.parse_args()
    SITES[4] = (2, [U32], a.context_key, 1)
    global THREAD_BASE
    THREAD_BASE = a.thread_base
    {"seg": write_seg, "snap": write_snap, "append": append}[a.what](a)
    return 0


if __name__ == "__main__":
    sys.exit(main_())
