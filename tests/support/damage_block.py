#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""damage_block.py - changes one event block of a ttlog file so that only
reading it finds it: 16 bytes in the middle of the largest EVTS block of
the file's middle third are set to 0xFF and the chunk's CRC is made right
again (docs/FORMAT.md: file header, then chunks of type, flags, length,
CRC-32C and payload). 0xFF is no packed record's header byte, and a
varint that runs into it is refused (past 64 bits): no record's ticks or
kind come out changed (a raw argument's bytes may), and the record they
reach, or the next, fails to decode. (Flipped bits could leave records
that decode with other values:
a span begin 12 s later than its block was one, and a time range or a
part of the file stops at such a record; docs/DESIGN.md says so.)

  damage_block.py SRC DST    writes DST; prints the number of EVTS blocks
"""
import struct
import sys

from mkseg import crc_final


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    data = bytearray(open(sys.argv[1], "rb").read())
    off, evts = 24, []
    while off + 16 <= len(data):
        ln = struct.unpack_from("<I", data, off + 8)[0]
        if data[off:off + 4] == b"EVTS":
            evts.append((off, ln))
        off += 16 + ln
    if not evts:
        sys.exit("damage_block.py: %s has no EVTS block" % sys.argv[1])
    off, ln = max(evts[len(evts) // 3:2 * len(evts) // 3] or evts, key=lambda e: e[1])
    for i in range(ln // 2, min(ln, ln // 2 + 16)):
        data[off + 16 + i] = 0xFF
    covered = bytes(data[off:off + 12]) + bytes(data[off + 16:off + 16 + ln])
    struct.pack_into("<I", data, off + 12, crc_final(covered))
    open(sys.argv[2], "wb").write(data)
    print(len(evts))


if __name__ == "__main__":
    main()
