#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make_seed.py - turns a snapshot, segment or shared-memory mapping written
on a build machine into a fuzz seed that names no machine: every occurrence
of the given directories in the file's plain (uncompressed) bytes is
replaced by a neutral path of the same length, the host name and this boot's id likewise, and
the CRCs of the file header and of every chunk are computed again (a
mapping has no CRCs; its bytes are only replaced).

  make_seed.py IN OUT --dir DIR [--dir DIR ...] [--host NAME] [--shard-bytes N]

--shard-bytes N (a mapping of layout 1.3): its metric shards, 4 MiB of
address space each, are cut to their first N bytes (a multiple of 4096
that holds every metric's slots) and to the shards handed out, and the
header's file size follows, so that a seed stays small; the mapping reads
the same.

Strings inside compressed blocks are left as they are: the seed programs
log no paths as arguments. Exits 1 if a directory is still in the output.
"""
import argparse
import struct
import sys

MAGIC = b"\x89TTLOG\r\n"


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


def neutral(text, fill):
    """A replacement of the same length: fill repeated, cut to size."""
    out = (fill * (len(text) // len(fill) + 1))[:len(text)]
    return out.encode()


def shrink_shards(data, keep):
    """The mapping with shards of `keep` bytes: docs/SHM-FORMAT.md 6.6."""
    if data[:8] != b"TTLOGSHM" or struct.unpack_from("<H", data, 10)[0] < 3:
        sys.exit("make_seed.py: --shard-bytes needs a mapping of layout 1.3")
    mo = struct.unpack_from("<Q", data, 248)[0]
    cap = struct.unpack_from("<I", data, mo + 12)[0]
    off, size = struct.unpack_from("<QQ", data, mo + 16)
    used = min(struct.unpack_from("<I", data, mo + 32)[0], cap)
    layout = struct.unpack_from("<I", data, mo + 36)[0]
    if keep % 4096 or keep < layout:
        sys.exit("make_seed.py: --shard-bytes must be a multiple of 4096 of at least %d" % layout)
    out = bytearray(data[:off])
    for k in range(used):
        out += data[off + k * size:off + k * size + keep]
    struct.pack_into("<I", out, mo + 12, used)
    struct.pack_into("<Q", out, mo + 24, keep)
    struct.pack_into("<Q", out, 16, len(out))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("inp")
    ap.add_argument("out")
    ap.add_argument("--dir", action="append", default=[])
    ap.add_argument("--host")
    ap.add_argument("--shard-bytes", type=int)
    a = ap.parse_args()
    data = bytearray(open(a.inp, "rb").read())
    if a.shard_bytes:
        data = shrink_shards(data, a.shard_bytes)
    for d in sorted(a.dir, key=len, reverse=True):
        data = bytearray(bytes(data).replace(d.encode(), neutral(d, "/src/ttlog")))
    if a.host:
        data = bytearray(bytes(data).replace(a.host.encode(), neutral(a.host, "host")))
    try:
        boot = open("/proc/sys/kernel/random/boot_id").read().strip().encode()
        data = bytearray(bytes(data).replace(boot, b"00000000-0000-4000-8000-000000000000"))
    except OSError:
        pass
    if data.startswith(MAGIC) and len(data) >= 24:
        struct.pack_into("<I", data, 20, crc32c(bytes(data[:20])))
        off = struct.unpack_from("<H", data, 10)[0]
        while off + 16 <= len(data):
            length = struct.unpack_from("<I", data, off + 8)[0]
            if off + 16 + length > len(data):
                break
            body = bytes(data[off:off + 12]) + bytes(data[off + 16:off + 16 + length])
            struct.pack_into("<I", data, off + 12, crc32c(body))
            off += 16 + length
    for d in a.dir:
        if d.encode() in data:
            sys.exit("make_seed.py: %s still in the output (in a compressed block?)" % d)
    open(a.out, "wb").write(data)


if __name__ == "__main__":
    main()
