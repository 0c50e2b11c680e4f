#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# event_pages.py - time per page of /api/events of `ttlog serve`: 50 pages of
# 200 and of 1000 events, paged by cursor from the middle of source 0.
# Usage: bench/serve/event_pages.py http://127.0.0.1:PORT
import json, sys, time, urllib.request
u = sys.argv[1]
ov = json.load(urllib.request.urlopen(u + "/api/overview?src=0&bins=1"))
mid = (ov["first_ns"] + ov["last_ns"]) // 2
for limit in (200, 1000):
    cur = None; ts = []
    for i in range(50):
        q = f"/api/events?src=0&limit={limit}&since={mid}" + (f"&cursor={cur}" if cur else "")
        t = time.time(); d = json.load(urllib.request.urlopen(u + q)); ts.append(time.time() - t)
        cur = d["next"]
    ts.sort()
    print("50 pages of %d from the middle: median %.1f ms, max %.1f ms" % (limit, ts[25] * 1000, ts[-1] * 1000))
