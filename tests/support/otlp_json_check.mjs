// SPDX-License-Identifier: MIT
// otlp_json_check.mjs - checks OTLP/JSON requests (what `ttlog export
// --format otlp-json` writes) against the official OpenTelemetry protocol
// definitions: the opentelemetry-proto .proto files as the npm package
// @elastic/mockotlpserver ships them, loaded with protobufjs (both pinned in
// tests/otlp_json/package-lock.json and installed into the build tree by
// tests/otlp_json.sh).
//
// Usage: node otlp_json_check.mjs MODULES_DIR FILE...
//   MODULES_DIR holds node_modules/; a FILE holds one request (a JSON
//   document, possibly over several lines) or JSON Lines of requests, one per
//   line. The signal of a request is told by its one member: resourceLogs,
//   resourceSpans or resourceMetrics.
//
// Each request is checked in three steps:
//   1. The JSON mapping, by walking the JSON next to the message
//      definitions: every member is a field of its message under its
//      lowerCamelCase name; 64-bit integers are decimal strings, other
//      integers numbers, enums numbers of a defined value, doubles numbers or
//      "NaN"/"Infinity"/"-Infinity"; trace and span ids lowercase hex of 16
//      and 8 bytes (OTLP's exception to the mapping); a oneof has one member.
//   2. Decoding: protobufjs' fromObject() and verify() on the request (the
//      ids turned into bytes first), then encoding to the protobuf wire
//      format and decoding that.
//   3. Nothing lost: the decoded message, written back as OTLP/JSON, equals
//      the input field for field; a member missing after the round trip is
//      allowed only if its value was the proto3 default (which the wire
//      format does not carry).
// Prints, per request that passes, "FILE[:N]: SIGNAL resources=N scopes=N
// records=N points=N" (N: the request's line; records: log records, spans or
// metrics; points: metric data points), and each problem on stderr as
// "FILE[:N]JSON-PATH: what"; exits 1 if there was any.

import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const [modules, ...files] = process.argv.slice(2);
if (!modules || files.length === 0) {
	console.error('usage: node otlp_json_check.mjs MODULES_DIR FILE...');
	process.exit(2);
}
const require = createRequire(path.join(path.resolve(modules), 'package.json'));
const protobuf = require('protobufjs');
const protoDir = path.join(path.resolve(modules), 'node_modules', '@elastic', 'mockotlpserver');

const root = new protobuf.Root();
root.resolvePath = (_origin, target) => path.join(protoDir, target);
root.loadSync([
	'opentelemetry/proto/collector/logs/v1/logs_service.proto',
	'opentelemetry/proto/collector/trace/v1/trace_service.proto',
	'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
]);
root.resolveAll();

const signals = {
	resourceLogs: ['logs', 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest'],
	resourceSpans: ['traces', 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'],
	resourceMetrics: ['metrics', 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest'],
};
// Bytes fields that OTLP/JSON writes as hex, and their lengths in bytes.
const hexIds = { traceId: 16, spanId: 8, parentSpanId: 8 };
const int64Types = new Set(['int64', 'uint64', 'fixed64', 'sfixed64', 'sint64']);
const int32Types = new Set(['int32', 'uint32', 'fixed32', 'sfixed32', 'sint32']);

let problems = 0;
function problem(where, what) {
	problems++;
	if (problems <= 200)
		console.error(`${where}: ${what}`);
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// Step 1: the JSON mapping.
function checkMessage(value, type, where) {
	if (!isObject(value)) {
		problem(where, `expected an object for ${type.name}`);
		return;
	}
	for (const oneof of type.oneofsArray) {
		const set = oneof.oneof.filter((name) => name in value);
		if (set.length > 1)
			problem(where, `oneof ${oneof.name} has ${set.length} members: ${set.join(', ')}`);
	}
	for (const [key, v] of Object.entries(value)) {
		const field = type.fields[key];
		if (!field) {
			const snake = Object.values(type.fields).find((f) => key === f.options?.json_name);
			problem(`${where}.${key}`, snake ? 'not the lowerCamelCase name'
				: `no field of that name in ${type.fullName}`);
			continue;
		}
		if (field.repeated) {
			if (!Array.isArray(v)) {
				problem(`${where}.${key}`, 'expected an array (repeated field)');
				continue;
			}
			v.forEach((e, i) => checkValue(e, field, `${where}.${key}[${i}]`));
		} else {
			checkValue(v, field, `${where}.${key}`);
		}
	}
}

function checkValue(v, field, where) {
	const t = field.resolvedType;
	if (t instanceof protobuf.Type)
		return checkMessage(v, t, where);
	if (t instanceof protobuf.Enum) {
		if (!Number.isInteger(v))
			problem(where, `enum ${t.name} not written as a number: ${JSON.stringify(v)}`);
		else if (!Object.values(t.values).includes(v))
			problem(where, `${v} is no value of enum ${t.name}`);
		return;
	}
	const ty = field.type;
	if (int64Types.has(ty)) {
		const signed = ty === 'int64' || ty === 'sfixed64' || ty === 'sint64';
		if (typeof v !== 'string' || !(signed ? /^-?(0|[1-9][0-9]*)$/ : /^(0|[1-9][0-9]*)$/).test(v)) {
			problem(where, `${ty} not written as a decimal string: ${JSON.stringify(v)}`);
			return;
		}
		const n = BigInt(v);
		const [lo, hi] = signed ? [-(2n ** 63n), 2n ** 63n - 1n] : [0n, 2n ** 64n - 1n];
		if (n < lo || n > hi)
			problem(where, `${v} is out of range for ${ty}`);
	} else if (int32Types.has(ty)) {
		if (!Number.isInteger(v))
			problem(where, `${ty} not an integer number: ${JSON.stringify(v)}`);
	} else if (ty === 'double' || ty === 'float') {
		if (typeof v !== 'number' && !['NaN', 'Infinity', '-Infinity'].includes(v))
			problem(where, `${ty} not a number: ${JSON.stringify(v)}`);
	} else if (ty === 'bool') {
		if (typeof v !== 'boolean')
			problem(where, `bool not true or false: ${JSON.stringify(v)}`);
	} else if (ty === 'string') {
		if (typeof v !== 'string')
			problem(where, `string expected: ${JSON.stringify(v)}`);
	} else if (ty === 'bytes') {
		const n = hexIds[field.name];
		if (n === undefined) {
			if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v))
				problem(where, `bytes not base64: ${JSON.stringify(v)}`);
		} else if (typeof v !== 'string' || !new RegExp(`^[0-9a-f]{${2 * n}}$`).test(v)) {
			problem(where, `${field.name} not ${n} bytes of lowercase hex: ${JSON.stringify(v)}`);
		} else if (/^0+$/.test(v)) {
			problem(where, `${field.name} is all zeros, which OTLP calls invalid`);
		}
	} else {
		problem(where, `unexpected field type ${ty}`);
	}
}

// The ids between hex (OTLP/JSON) and base64 (protobufjs' JSON form of bytes).
function mapIds(value, fn) {
	if (Array.isArray(value))
		return value.map((e) => mapIds(e, fn));
	if (!isObject(value))
		return value;
	const out = {};
	for (const [k, v] of Object.entries(value))
		out[k] = k in hexIds && typeof v === 'string' ? fn(v) : mapIds(v, fn);
	return out;
}
const hexToBase64 = (h) => Buffer.from(h, 'hex').toString('base64');
const base64ToHex = (b) => Buffer.from(b, 'base64').toString('hex');

// The proto3 default of a field, which the wire format leaves out.
function isDefault(v, field) {
	if (field.repeated)
		return Array.isArray(v) && v.length === 0;
	if (field.resolvedType instanceof protobuf.Type)
		return false; // a message present is written, even empty
	if (field.partOf && field.partOf.oneof.length > 0 && field.partOf.name !== `_${field.name}`)
		return false; // a oneof member present is written
	if (field.options?.proto3_optional || field.partOf?.name === `_${field.name}`)
		return false;
	return v === 0 || v === '0' || v === false || v === '' || v === '-0';
}

// Step 3: input against the round trip.
function compare(a, b, type, where) {
	for (const [key, av] of Object.entries(a)) {
		const field = type.fields[key];
		if (!field)
			continue; // reported by step 1
		if (!(key in b)) {
			if (!isDefault(av, field))
				problem(`${where}.${key}`, `lost in the round trip: ${JSON.stringify(av).slice(0, 80)}`);
			continue;
		}
		const bv = b[key];
		if (field.repeated) {
			if (!Array.isArray(av) || !Array.isArray(bv) || av.length !== bv.length) {
				problem(`${where}.${key}`, 'a different number of elements after the round trip');
				continue;
			}
			av.forEach((e, i) => compareValue(e, bv[i], field, `${where}.${key}[${i}]`));
		} else {
			compareValue(av, bv, field, `${where}.${key}`);
		}
	}
	for (const key of Object.keys(b))
		if (!(key in a))
			problem(`${where}.${key}`, `appeared in the round trip: ${JSON.stringify(b[key]).slice(0, 80)}`);
}

function compareValue(av, bv, field, where) {
	if (field.resolvedType instanceof protobuf.Type) {
		if (isObject(av) && isObject(bv))
			compare(av, bv, field.resolvedType, where);
		return;
	}
	let same;
	if (int64Types.has(field.type))
		same = BigInt(av) === BigInt(bv);
	else if (field.type === 'double' || field.type === 'float')
		same = Object.is(Number(av), Number(bv)) || (av === 0 && bv === 0);
	else
		same = av === bv;
	if (!same)
		problem(where, `${JSON.stringify(av)} came back as ${JSON.stringify(bv)}`);
}

function summary(signal, msg) {
	const top = { logs: 'resourceLogs', traces: 'resourceSpans', metrics: 'resourceMetrics' }[signal];
	const scopeKey = { logs: 'scopeLogs', traces: 'scopeSpans', metrics: 'scopeMetrics' }[signal];
	const itemKey = { logs: 'logRecords', traces: 'spans', metrics: 'metrics' }[signal];
	let resources = 0, scopes = 0, records = 0, points = 0;
	for (const r of msg[top] || []) {
		resources++;
		for (const s of r[scopeKey] || []) {
			scopes++;
			for (const item of s[itemKey] || []) {
				records++;
				for (const kind of ['sum', 'gauge', 'histogram', 'exponentialHistogram', 'summary'])
					if (item[kind])
						points += (item[kind].dataPoints || []).length;
			}
		}
	}
	return `${signal} resources=${resources} scopes=${scopes} records=${records} points=${points}`;
}

function checkRequest(json, where) {
	if (!isObject(json) || Object.keys(json).length !== 1 || !(Object.keys(json)[0] in signals)) {
		problem(where, 'not a request: expected one member, resourceLogs, resourceSpans or resourceMetrics');
		return;
	}
	const [signal, typeName] = signals[Object.keys(json)[0]];
	const type = root.lookupType(typeName);
	const before = problems;
	checkMessage(json, type, where);
	if (problems > before)
		return;
	let back;
	try {
		const msg = type.fromObject(mapIds(json, hexToBase64));
		const err = type.verify(msg);
		if (err) {
			problem(where, `does not verify as ${typeName}: ${err}`);
			return;
		}
		const wire = type.encode(msg).finish();
		back = type.toObject(type.decode(wire), { longs: String, enums: Number, bytes: String, json: true });
	} catch (e) {
		// protobufjs throws on a string that is not valid UTF-8, for one.
		problem(where, `does not decode as ${typeName}: ${e.message}`);
		return;
	}
	compare(json, mapIds(back, base64ToHex), type, where);
	if (problems === before)
		console.log(`${where}: ${summary(signal, json)}`);
}

for (const file of files) {
	const text = readFileSync(file, 'utf8');
	let docs;
	try {
		docs = [JSON.parse(text)];
	} catch {
		// JSON Lines: one request per line.
		docs = [];
		text.split('\n').forEach((line, i) => {
			if (line.trim() === '')
				return;
			try {
				docs.push(JSON.parse(line));
			} catch (e) {
				problem(`${file}:${i + 1}`, `not JSON: ${e.message}`);
			}
		});
	}
	if (docs.length === 0)
		problem(file, 'no request');
	docs.forEach((d, i) => checkRequest(d, docs.length > 1 ? `${file}:${i + 1}` : file));
}
if (problems > 200)
	console.error(`... ${problems} problems in all`);
process.exit(problems ? 1 : 0);
