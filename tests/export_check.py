#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# export_check.py - a strict checker of the output of `ttlog export`, written
# from the specifications of each format, for tests/cli_export.sh.
#
#   export_check.py FORMAT FILE [--jsonl FILE]
#
# FORMAT is jsonl, csv, logfmt, chrome, otlp-logs or otlp-traces. The file
# is parsed and checked; any violation prints "FILE: what is wrong" and
# exits 1. On success it prints one line: "ok FORMAT: N records".
#
# --jsonl FILE (csv and logfmt): the same events exported as jsonl; each
# record's message and fields must equal theirs, once the documented
# changes of the format are applied (CSV: control characters as \xNN).
#
# What is checked:
#   jsonl    each line one JSON object (strict: no NaN), the members of
#            `ttlog view -o json` in their order; stack objects (kind
#            "stack") only after the events
#   csv      RFC 4180 as Python's csv module reads it: UTF-8, CRLF rows, the
#            fixed header, every row as many cells as the header
#   logfmt   each line a sequence of key=value pairs (a small parser of the
#            go-logfmt grammar: bare values, or quoted ones with \" \\ \n
#            \r \t \uXXXX escapes), the fixed keys first
#   chrome   the JSON object form of the Trace Event format: known phases
#            with their members and types, ts with at most 3 decimals (ns),
#            X with dur >= 0, B/E matched, and complete events nested
#            properly per (pid, tid)
#   otlp-*   ExportLogsServiceRequest / ExportTraceServiceRequest in the
#            OTLP/JSON encoding: exactly the field names of the .proto
#            messages (lowerCamelCase), int64/fixed64 as decimal strings,
#            enums as numbers in range, ids as lowercase hex of 32 and 16
#            digits (not all zero), AnyValue with one value, unique keys
import csv
from decimal import Decimal
import io
import json
import re
import sys


class Bad(Exception):
    pass


def need(cond, what):
    if not cond:
        raise Bad(what)


def strict_json(text, exact=False):
    """Parses JSON, refusing NaN and Infinity; exact: decimals as Decimal."""
    def no_constant(name):
        raise Bad("not JSON: %s" % name)
    try:
        return json.loads(text, parse_constant=no_constant, parse_float=Decimal if exact else float)
    except json.JSONDecodeError as e:
        raise Bad("not JSON: %s" % e)


VIEW_KEYS = ["time", "time_ns", "level", "tid", "thread", "file", "line", "function",
             "target", "site", "message", "args", "fields", "kind"]
SPAN_KEYS = {"trace_id", "span_id", "span_name", "parent_span_id", "duration_ns"}
# After the members above: a span's, and the file's service and a stream's
# promoted mark (revision 5) when there is one.
EXTRA_KEYS = SPAN_KEYS | {"service", "promoted"}


# A stack (a crash's), after the events: the members of `ttlog view -o json`.
STACK_KEYS = ["kind", "tid", "thread", "crashed", "origin", "arch", "truncated", "faulted", "frames"]
FRAME_KEYS = ["index", "address", "function", "file", "line", "module", "offset", "inlined"]


def check_jsonl(text):
    records = []
    stacks = 0
    for n, line in enumerate(text.split("\n")[:-1], 1):
        obj = strict_json(line)
        need(isinstance(obj, dict), "line %d: not an object" % n)
        keys = list(obj)
        if obj.get("kind") == "stack":
            need(keys == STACK_KEYS, "line %d: stack members %s" % (n, keys))
            need(isinstance(obj["frames"], list) and
                 all(list(f) == FRAME_KEYS for f in obj["frames"]), "line %d: frames" % n)
            stacks += 1
            continue
        need(not stacks, "line %d: an event after the stacks" % n)
        need(keys[:len(VIEW_KEYS)] == VIEW_KEYS, "line %d: members %s" % (n, keys))
        need(set(keys[len(VIEW_KEYS):]) <= EXTRA_KEYS, "line %d: members %s" % (n, keys))
        need(isinstance(obj["time_ns"], int) and obj["time"].endswith("Z"), "line %d: time" % n)
        need(obj["kind"] in ("log", "span_begin", "span_end"), "line %d: kind" % n)
        records.append(obj)
    need(text.endswith("\n") or text == "", "no newline at the end")
    return records


CSV_HEADER = ["time", "time_ns", "level", "tid", "thread", "file", "line", "function",
              "target", "kind", "message", "trace_id", "span_id"]


def check_csv(data):
    text = data.decode("utf-8")  # raises on bytes that are not UTF-8
    need(text.endswith("\r\n"), "the last row does not end in CRLF")
    rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    need(rows, "no header")
    header = rows[0]
    need(header[:len(CSV_HEADER)] == CSV_HEADER, "header %s" % header)
    need(len(set(header)) == len(header), "column names repeat: %s" % header)
    records = []
    for n, row in enumerate(rows[1:], 2):
        need(len(row) == len(header), "row %d: %d cells, %d columns" % (n, len(row), len(header)))
        need(re.fullmatch(r"-?[0-9]+", row[1]) is not None, "row %d: time_ns %r" % (n, row[1]))
        need(re.fullmatch(r"([0-9a-f]{32})?", row[11]) is not None, "row %d: trace_id" % n)
        need(re.fullmatch(r"([0-9a-f]{16})?", row[12]) is not None, "row %d: span_id" % n)
        records.append(dict(zip(header, row)))
    # Raw CRLF only ends rows: inside cells a line break is quoted.
    return records


LOGFMT_KEYS = ["time", "level", "tid", "thread", "file", "line", "function", "target",
               "kind", "msg"]
ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t"}


def parse_logfmt_line(line, n):
    pairs, i = [], 0
    while i < len(line):
        need(line[i] == " " or i == 0, "line %d, column %d: expected a space" % (n, i))
        if line[i] == " ":
            i += 1
        j = i
        while j < len(line) and line[j] not in '= "\\' and ord(line[j]) > 0x20:
            j += 1
        need(j > i and j < len(line) and line[j] == "=", "line %d, column %d: expected key=" % (n, i))
        key = line[i:j]
        i = j + 1
        if i < len(line) and line[i] == '"':
            i += 1
            value = []
            while True:
                need(i < len(line), "line %d: unterminated quoted value" % n)
                c = line[i]
                need(ord(c) >= 0x20 and c != "\x7f", "line %d: raw control character" % n)
                if c == '"':
                    i += 1
                    break
                if c == "\\":
                    need(i + 1 < len(line), "line %d: lone backslash" % n)
                    e = line[i + 1]
                    if e in ESCAPES:
                        value.append(ESCAPES[e])
                        i += 2
                    else:
                        need(e == "u" and re.fullmatch(r"[0-9a-f]{4}", line[i + 2:i + 6]),
                             "line %d: bad escape \\%s" % (n, e))
                        value.append(chr(int(line[i + 2:i + 6], 16)))
                        i += 6
                    continue
                value.append(c)
                i += 1
            value = "".join(value)
        else:
            j = i
            while j < len(line) and line[j] != " ":
                need(line[j] not in '="\\' and ord(line[j]) > 0x20 and line[j] != "\x7f",
                     "line %d: %r in a bare value" % (n, line[j]))
                j += 1
            need(j > i, "line %d: empty bare value for %s" % (n, key))
            value = line[i:j]
            i = j
        pairs.append((key, value))
    return pairs


def check_logfmt(data):
    text = data.decode("utf-8")
    need(text.endswith("\n") or text == "", "no newline at the end")
    records = []
    for n, line in enumerate(text.split("\n")[:-1], 1):
        pairs = parse_logfmt_line(line, n)
        keys = [k for k, _ in pairs]
        need(keys[:len(LOGFMT_KEYS)] == LOGFMT_KEYS, "line %d: keys %s" % (n, keys))
        need(len(set(keys)) == len(keys), "line %d: keys repeat: %s" % (n, keys))
        records.append(dict(pairs))
    return records


# ---- Chrome -----------------------------------------------------------------

def is_number(v):
    return isinstance(v, (int, float, Decimal)) and not isinstance(v, bool)


def nanos(v, what):
    """A ts or dur in microseconds as integer nanoseconds: the text of the
    number (read exactly) must have no digit below the nanosecond."""
    need(is_number(v), "%s: not a number: %r" % (what, v))
    ns = Decimal(v) * 1000
    need(ns == ns.to_integral_value(), "%s: finer than a nanosecond: %r" % (what, v))
    return int(ns)


def check_chrome(text):
    top = strict_json(text, exact=True)
    need(isinstance(top, dict), "not an object")
    need(set(top) <= {"traceEvents", "displayTimeUnit", "otherData"}, "members %s" % list(top))
    need(top.get("displayTimeUnit", "ms") in ("ms", "ns"), "displayTimeUnit")
    need(isinstance(top.get("otherData", {}), dict), "otherData")
    events = top["traceEvents"]
    need(isinstance(events, list), "traceEvents is not a list")
    complete, stacks = {}, {}
    for n, e in enumerate(events):
        where = "traceEvents[%d]" % n
        need(isinstance(e, dict), where + ": not an object")
        need(isinstance(e.get("name"), str), where + ": name")
        need(isinstance(e.get("pid"), int) and isinstance(e.get("tid"), int), where + ": pid/tid")
        ph = e.get("ph")
        allowed = {"name", "ph", "pid", "tid", "ts", "cat", "args"}
        if "args" in e:
            need(isinstance(e["args"], dict), where + ": args")
        if "cat" in e:
            need(isinstance(e["cat"], str), where + ": cat")
        if ph == "M":
            need(e["name"] in ("process_name", "thread_name", "thread_sort_index", "process_sort_index",
                               "process_labels"), where + ": metadata " + e["name"])
            arg = "sort_index" if e["name"].endswith("sort_index") else "name"
            need(isinstance(e["args"].get(arg), int if arg == "sort_index" else str),
                 where + ": args." + arg)
        elif ph == "X":
            allowed.add("dur")
            start = nanos(e.get("ts"), where + ".ts")
            dur = nanos(e.get("dur"), where + ".dur")
            need(dur >= 0, where + ": dur < 0")
            complete.setdefault((e["pid"], e["tid"]), []).append((start, start + dur, e["name"]))
        elif ph == "i":
            allowed.add("s")
            nanos(e.get("ts"), where + ".ts")
            need(e.get("s", "t") in ("g", "p", "t"), where + ": s")
        elif ph == "C":
            nanos(e.get("ts"), where + ".ts")
            need(e["args"] and all(is_number(v) for v in e["args"].values()), where + ": counter args")
        elif ph in ("B", "E"):
            ts = nanos(e.get("ts"), where + ".ts")
            stack = stacks.setdefault((e["pid"], e["tid"]), [])
            if ph == "B":
                stack.append(ts)
            else:
                need(stack and stack[-1] <= ts, where + ": E without its B")
                stack.pop()
        else:
            raise Bad(where + ": unknown phase %r" % ph)
        need(set(e) <= allowed, where + ": members %s" % sorted(set(e) - allowed))
    for track, stack in stacks.items():
        need(not stack, "thread %s: B without E" % (track,))
    # Complete events of a thread nest: sorted by start (longest first), each
    # lies inside every event still open at its start.
    for track, spans in complete.items():
        open_ends = []
        for start, end, name in sorted(spans, key=lambda s: (s[0], -s[1])):
            while open_ends and open_ends[-1] <= start:
                open_ends.pop()
            need(not open_ends or end <= open_ends[-1],
                 "thread %s: %s [%d, %d] overlaps an enclosing event" % (track, name, start, end))
            open_ends.append(end)
    return events


# ---- OTLP -------------------------------------------------------------------

U64 = re.compile(r"0|[1-9][0-9]*")
I64 = re.compile(r"0|-?[1-9][0-9]*")


def u64(v, what):
    need(isinstance(v, str) and U64.fullmatch(v) and int(v) < 2 ** 64, what + ": not a fixed64 string")
    return int(v)


def i64(v, what):
    need(isinstance(v, str) and I64.fullmatch(v) and -2 ** 63 <= int(v) < 2 ** 63,
         what + ": not an int64 string")


def u32(v, what):
    need(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2 ** 32, what + ": not a uint32")


def hex_id(v, digits, what):
    need(isinstance(v, str) and re.fullmatch("[0-9a-f]{%d}" % digits, v) and v != "0" * digits,
         what + ": not %d lowercase hex digits (not all zero): %r" % (digits, v))


def fields(obj, what, allowed, required=()):
    need(isinstance(obj, dict), what + ": not an object")
    need(set(obj) <= set(allowed), what + ": unknown members %s" % sorted(set(obj) - set(allowed)))
    for r in required:
        need(r in obj, what + ": no " + r)


def any_value(v, what):
    fields(v, what, ["stringValue", "boolValue", "intValue", "doubleValue", "arrayValue",
                     "kvlistValue", "bytesValue"])
    need(len(v) <= 1, what + ": more than one value")
    for k, x in v.items():
        if k == "stringValue":
            need(isinstance(x, str), what + ".stringValue")
        elif k == "boolValue":
            need(isinstance(x, bool), what + ".boolValue")
        elif k == "intValue":
            i64(x, what + ".intValue")
        elif k == "doubleValue":
            need(is_number(x) or x in ("NaN", "Infinity", "-Infinity"), what + ".doubleValue")
        elif k == "arrayValue":
            fields(x, what + ".arrayValue", ["values"])
            for n, y in enumerate(x.get("values", [])):
                any_value(y, "%s.arrayValue.values[%d]" % (what, n))
        elif k == "kvlistValue":
            fields(x, what + ".kvlistValue", ["values"])
            attributes(x.get("values", []), what + ".kvlistValue.values")
        else:
            need(isinstance(x, str) and re.fullmatch(r"[A-Za-z0-9+/]*=*", x), what + ".bytesValue")


def attributes(lst, what):
    need(isinstance(lst, list), what + ": not a list")
    keys = set()
    for n, kv in enumerate(lst):
        w = "%s[%d]" % (what, n)
        fields(kv, w, ["key", "value"], ["key", "value"])
        need(isinstance(kv["key"], str) and kv["key"], w + ".key")
        need(kv["key"] not in keys, w + ": key %r again" % kv["key"])
        keys.add(kv["key"])
        any_value(kv["value"], w + ".value")
    return {kv["key"]: kv["value"] for kv in lst}


def resource(r, what):
    fields(r, what, ["attributes", "droppedAttributesCount"])
    attrs = attributes(r.get("attributes", []), what + ".attributes")
    for key in ("service.name", "host.name"):
        need("stringValue" in attrs.get(key, {}), what + ": no " + key)
    need("intValue" in attrs.get("process.pid", {}), what + ": no process.pid")
    if "droppedAttributesCount" in r:
        u32(r["droppedAttributesCount"], what + ".droppedAttributesCount")


def scope(s, what):
    fields(s, what, ["name", "version", "attributes", "droppedAttributesCount"])
    need(isinstance(s.get("name", ""), str) and isinstance(s.get("version", ""), str), what)
    attributes(s.get("attributes", []), what + ".attributes")


def log_record(r, what):
    fields(r, what, ["timeUnixNano", "observedTimeUnixNano", "severityNumber", "severityText",
                     "body", "attributes", "droppedAttributesCount", "flags", "traceId", "spanId",
                     "eventName"])
    for k in ("timeUnixNano", "observedTimeUnixNano"):
        if k in r:
            u64(r[k], what + "." + k)
    if "severityNumber" in r:
        need(isinstance(r["severityNumber"], int) and 0 <= r["severityNumber"] <= 24,
             what + ".severityNumber")
    if "severityText" in r:
        need(isinstance(r["severityText"], str), what + ".severityText")
    if "body" in r:
        any_value(r["body"], what + ".body")
    attributes(r.get("attributes", []), what + ".attributes")
    if "flags" in r:
        u32(r["flags"], what + ".flags")
    if "traceId" in r:
        hex_id(r["traceId"], 32, what + ".traceId")
    if "spanId" in r:
        hex_id(r["spanId"], 16, what + ".spanId")
        need("traceId" in r, what + ": spanId without traceId")


def span(s, what):
    fields(s, what, ["traceId", "spanId", "traceState", "parentSpanId", "flags", "name", "kind",
                     "startTimeUnixNano", "endTimeUnixNano", "attributes", "droppedAttributesCount",
                     "events", "droppedEventsCount", "links", "droppedLinksCount", "status"],
           ["traceId", "spanId", "name", "startTimeUnixNano", "endTimeUnixNano"])
    hex_id(s["traceId"], 32, what + ".traceId")
    hex_id(s["spanId"], 16, what + ".spanId")
    if "parentSpanId" in s:
        hex_id(s["parentSpanId"], 16, what + ".parentSpanId")
    need(isinstance(s["name"], str) and s["name"], what + ".name")
    if "kind" in s:
        need(isinstance(s["kind"], int) and 0 <= s["kind"] <= 5, what + ".kind")
    start = u64(s["startTimeUnixNano"], what + ".startTimeUnixNano")
    end = u64(s["endTimeUnixNano"], what + ".endTimeUnixNano")
    need(start <= end, what + ": ends before it starts")
    attributes(s.get("attributes", []), what + ".attributes")
    if "status" in s:
        fields(s["status"], what + ".status", ["message", "code"])
        need(s["status"].get("code", 0) in (0, 1, 2), what + ".status.code")


def check_otlp(text, signal):
    top = strict_json(text)
    outer, inner, items, check = (("resourceLogs", "scopeLogs", "logRecords", log_record)
                                  if signal == "logs" else
                                  ("resourceSpans", "scopeSpans", "spans", span))
    fields(top, "request", [outer], [outer])
    records = []
    for i, rl in enumerate(top[outer]):
        w = "%s[%d]" % (outer, i)
        fields(rl, w, ["resource", inner, "schemaUrl"])
        resource(rl.get("resource", {}), w + ".resource")
        for j, sl in enumerate(rl.get(inner, [])):
            w2 = "%s.%s[%d]" % (w, inner, j)
            fields(sl, w2, ["scope", items, "schemaUrl"])
            scope(sl.get("scope", {}), w2 + ".scope")
            for k, rec in enumerate(sl.get(items, [])):
                check(rec, "%s.%s[%d]" % (w2, items, k))
                records.append(rec)
    return records


# ---- Comparison with jsonl ----------------------------------------------------

def csv_text(s):
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", lambda m: "\\x%02x" % ord(m.group()), s)


def replaced(s):
    """A jsonl string as csv and logfmt have it: each byte that is not UTF-8,
    \\udcXX in JSON (lossless), is U+FFFD there."""
    return re.sub("[\udc80-\udcff]", "\ufffd", s) if isinstance(s, str) else s


def value_text(v):
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def compare(fmt, records, jsonl):
    need(len(records) == len(jsonl), "%d records, %d in jsonl" % (len(records), len(jsonl)))
    for n, (rec, ev) in enumerate(zip(records, jsonl), 1):
        ev = dict(ev, message=replaced(ev["message"]),
                  fields={k: replaced(v) for k, v in ev["fields"].items()})
        if fmt == "csv":
            need(rec["message"] == csv_text(ev["message"]), "row %d: message %r" % (n, rec["message"]))
            need(rec["time_ns"] == str(ev["time_ns"]), "row %d: time_ns" % n)
            for key, value in ev["fields"].items():
                col = "field." + key if key in CSV_HEADER else key
                if isinstance(value, str):
                    # A string cut at the writer's limit ends in "..." as text.
                    need(rec[col] in (csv_text(value), csv_text(value) + "..."),
                         "row %d: field %s %r" % (n, key, rec[col]))
                elif value is not None and not isinstance(value, float):
                    need(rec[col] == value_text(value), "row %d: field %s %r" % (n, key, rec[col]))
        else:
            need(rec["msg"] == ev["message"], "line %d: msg %r" % (n, rec["msg"]))
            for key, value in ev["fields"].items():
                if not re.fullmatch(r"[!#-<>-\[\]-~]+", key):
                    continue  # a key logfmt had to change
                k = "field." + key if key in LOGFMT_KEYS + ["trace_id", "span_id"] else key
                if isinstance(value, str):
                    need(rec[k] in (value, value + "..."), "line %d: field %s %r" % (n, key, rec[k]))
                elif value is None:
                    need(rec[k] == "null", "line %d: field %s" % (n, key))
                elif not isinstance(value, float):
                    need(rec[k] == value_text(value), "line %d: field %s %r" % (n, key, rec[k]))


def main(argv):
    if len(argv) not in (3, 5) or (len(argv) == 5 and argv[3] != "--jsonl"):
        sys.stderr.write("usage: export_check.py FORMAT FILE [--jsonl FILE]\n")
        return 2
    fmt, path = argv[1], argv[2]
    with open(path, "rb") as f:
        data = f.read()
    try:
        if fmt == "jsonl":
            records = check_jsonl(data.decode("utf-8"))
        elif fmt == "csv":
            records = check_csv(data)
        elif fmt == "logfmt":
            records = check_logfmt(data)
        elif fmt == "chrome":
            records = check_chrome(data.decode("utf-8"))
        elif fmt in ("otlp-logs", "otlp-traces"):
            records = check_otlp(data.decode("utf-8"), fmt[5:])
        else:
            sys.stderr.write("export_check.py: unknown format %s\n" % fmt)
            return 2
        if len(argv) == 5:
            with open(argv[4], encoding="utf-8") as f:
                compare(fmt, records, check_jsonl(f.read()))
    except (Bad, UnicodeDecodeError, csv.Error) as e:
        print("%s: %s" % (path, e))
        return 1
    print("ok %s: %d records" % (fmt, len(records)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
