// SPDX-License-Identifier: MIT
// decode.mjs - decodes every request that support/otlp_receiver.mjs kept
// with protobufjs and the official OpenTelemetry .proto files (protos.mjs),
// and prints one JSON document: the requests (path, encoding, gzip, bytes
// on the wire) and their log records, spans and metric data points made
// flat (with their resource's service.name, process.pid and snapshot
// reason, attributes as objects, ids as hex), plus "problems": what does
// not decode, a field or JSON member that the official definitions do not
// have, a resource without service.name, host.name or process.pid, a
// scope that is not ttlog's.
//
// A protobuf body is decoded with the request type of its path; an
// OTLP/JSON body is checked member by member against the same type (its
// names in lowerCamelCase, ids in hex as OTLP/JSON has them), then made a
// message with fromObject, so both encodings give the same output.
//
// Usage: node decode.mjs MODULES DIR
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { loadProtos } from './protos.mjs';

const [modules, dir] = process.argv.slice(2);
const require = createRequire(path.join(modules, 'x.js'));
const protobuf = require('protobufjs');
const root = loadProtos(protobuf, modules);

const types = {
	'/v1/logs': 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest',
	'/v1/traces': 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest',
	'/v1/metrics': 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest',
};
const idFields = new Set(['traceId', 'spanId', 'parentSpanId']);
const problems = [];

// Checks a JSON value against a protobufjs type; turns hex ids to base64
// for fromObject. Returns the value to give fromObject.
function checkJson(type, obj, where) {
	if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
		problems.push(`${where}: not an object`);
		return obj;
	}
	const out = {};
	for (const [key, value] of Object.entries(obj)) {
		const field = type.fields[key];
		if (!field) {
			problems.push(`${where}: ${type.name} has no field ${key}`);
			continue;
		}
		field.resolve();
		const one = (v, w) => {
			if (field.resolvedType instanceof protobuf.Type) return checkJson(field.resolvedType, v, w);
			if (idFields.has(key)) {
				if (typeof v !== 'string' || !/^([0-9a-f]{2})*$/.test(v)) problems.push(`${w}: ${key} is not lowercase hex`);
				return Buffer.from(v, 'hex').toString('base64');
			}
			if (['int64', 'uint64', 'fixed64', 'sfixed64', 'sint64'].includes(field.type) && typeof v !== 'string')
				problems.push(`${w}: ${key} (${field.type}) is not a decimal string`);
			return v;
		};
		if (field.repeated) {
			if (!Array.isArray(value)) problems.push(`${where}.${key}: not an array`);
			out[key] = (Array.isArray(value) ? value : []).map((v, i) => one(v, `${where}.${key}[${i}]`));
		} else {
			out[key] = one(value, `${where}.${key}`);
		}
	}
	return out;
}

const hex = (b) => (b && b.length ? Buffer.from(b).toString('hex') : '');
function anyValue(v) {
	if (!v) return null;
	for (const k of ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'bytesValue'])
		if (v[k] !== undefined) return v[k];
	if (v.arrayValue) return (v.arrayValue.values || []).map(anyValue);
	if (v.kvlistValue) return attrs(v.kvlistValue.values);
	return null;
}
function attrs(list) {
	const o = {};
	for (const kv of list || []) {
		if (Object.prototype.hasOwnProperty.call(o, kv.key)) problems.push(`attribute ${kv.key} twice`);
		o[kv.key] = anyValue(kv.value);
	}
	return o;
}

const out = { requests: [], logs: [], spans: [], metrics: [], problems };
const lines = fs.existsSync(path.join(dir, 'requests.jsonl'))
	? fs.readFileSync(path.join(dir, 'requests.jsonl'), 'utf8').split('\n').filter(Boolean) : [];
for (const line of lines) {
	const meta = JSON.parse(line);
	const type = root.lookupType(types[meta.path]);
	const body = fs.readFileSync(path.join(dir, meta.file));
	const json = meta.contentType.includes('json');
	let msg;
	try {
		if (json) {
			msg = type.fromObject(checkJson(type, JSON.parse(body.toString('utf8')), meta.file));
		} else {
			msg = type.decode(body);
			// A field the official definitions do not have would be
			// skipped by decode: the message encoded again would be shorter.
			const again = type.encode(msg).finish().length;
			if (again !== body.length)
				problems.push(`${meta.file}: ${body.length} bytes, ${again} encoded again: fields unknown to the definitions`);
		}
	} catch (e) {
		problems.push(`${meta.file} (${meta.path}): ${e.message}`);
		continue;
	}
	const obj = type.toObject(msg, { longs: String, enums: Number, defaults: false, arrays: true });
	out.requests.push({ path: meta.path, encoding: json ? 'json' : 'protobuf', gzip: meta.contentEncoding === 'gzip',
		wire: meta.wire, bytes: body.length, auth: meta.auth });
	const checkResource = (r, scopes) => {
		const res = attrs(r.resource && r.resource.attributes);
		for (const k of ['service.name', 'host.name', 'process.pid', 'process.executable.path'])
			if (res[k] === undefined || res[k] === '') problems.push(`${meta.file}: resource without ${k}`);
		for (const s of scopes || [])
			if (!s.scope || s.scope.name !== 'ttlog' || !s.scope.version) problems.push(`${meta.file}: scope ${JSON.stringify(s.scope)}`);
	};
	for (const r of obj.resourceLogs || []) checkResource(r, r.scopeLogs);
	for (const r of obj.resourceSpans || []) checkResource(r, r.scopeSpans);
	for (const r of obj.resourceMetrics || []) checkResource(r, r.scopeMetrics);
	for (const r of obj.resourceLogs || []) {
		const res = attrs(r.resource && r.resource.attributes);
		for (const s of r.scopeLogs || [])
			for (const l of s.logRecords || [])
				out.logs.push({ service: res['service.name'], pid: res['process.pid'], reason: res['ttlog.snapshot.reason'],
					time: l.timeUnixNano, observed: l.observedTimeUnixNano, severityNumber: l.severityNumber,
					severityText: l.severityText, body: anyValue(l.body), attributes: attrs(l.attributes),
					traceId: hex(l.traceId), spanId: hex(l.spanId) });
	}
	for (const r of obj.resourceSpans || []) {
		const res = attrs(r.resource && r.resource.attributes);
		for (const s of r.scopeSpans || [])
			for (const sp of s.spans || [])
				out.spans.push({ service: res['service.name'], pid: res['process.pid'],
					traceId: hex(sp.traceId), spanId: hex(sp.spanId), parentSpanId: hex(sp.parentSpanId),
					name: sp.name, kind: sp.kind, start: sp.startTimeUnixNano, end: sp.endTimeUnixNano,
					attributes: attrs(sp.attributes) });
	}
	for (const r of obj.resourceMetrics || []) {
		const res = attrs(r.resource && r.resource.attributes);
		for (const s of r.scopeMetrics || [])
			for (const m of s.metrics || []) {
				const data = m.sum || m.gauge || m.histogram || {};
				const kind = m.sum ? 'sum' : m.gauge ? 'gauge' : m.histogram ? 'histogram' : 'other';
				for (const p of data.dataPoints || [])
					out.metrics.push({ service: res['service.name'], pid: res['process.pid'], reason: res['ttlog.snapshot.reason'],
						name: m.name, kind,
						monotonic: data.isMonotonic, temporality: data.aggregationTemporality,
						attributes: attrs(p.attributes), time: p.timeUnixNano, asInt: p.asInt,
						asDouble: p.asDouble, count: p.count, sum: p.sum, min: p.min, max: p.max,
						bucketCounts: p.bucketCounts, explicitBounds: p.explicitBounds });
			}
	}
}
process.stdout.write(JSON.stringify(out) + '\n');
