// SPDX-License-Identifier: MIT
// otlp_receiver.mjs - the OTLP/HTTP receiver of tests/ship_otlp.sh: listens on
// 127.0.0.1 on a free port (written to PORTFILE once listening) and keeps
// every export request that it acknowledges: its body, un-gzipped, in
// DIR/NNNNNN.bin and a line of DIR/requests.jsonl (path, content type,
// content encoding, bytes on the wire, file).
//
// What it answers is scripted by the test: POST /control with a JSON list
// of answers, used one per request, in order, before the default (200).
// An answer is {"status": N, "retryAfter": S, "message": TEXT} (an error:
// a google.rpc.Status with the message, in the request's encoding, and
// nothing kept) or {"status": 200, "rejected": N, "message": TEXT} (a
// partial success: the request is kept). GET /count gives the number of
// log records kept.
//
// The answers are encoded here by hand: the .proto files of the pinned
// package predate OTLP's partial success, and it ships no google.rpc.Status.
//
// Usage: node otlp_receiver.mjs PORTFILE DIR MODULES (where npm ci put tests/otlp/'s packages)
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';

const [portFile, dir, protoRoot] = process.argv.slice(2);
const require = createRequire(path.join(protoRoot, 'x.js'));
const protobuf = require('protobufjs');
const { loadProtos } = await import('../otlp/protos.mjs');
const root = loadProtos(protobuf, protoRoot);

// The JSON name of each signal's count of refused items.
const rejectedNames = { '/v1/logs': 'rejectedLogRecords', '/v1/traces': 'rejectedSpans',
	'/v1/metrics': 'rejectedDataPoints' };
const logsRequest = root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest');

let script = [];
let kept = 0;
let records = 0;
fs.mkdirSync(dir, { recursive: true });

function varint(n) {
	const out = [];
	for (; ; n = Math.floor(n / 128)) {
		if (n < 0x80) { out.push(n); break; }
		out.push((n & 0x7f) | 0x80);
	}
	return Buffer.from(out);
}
function lengthDelimited(tag, bytes) {
	return Buffer.concat([Buffer.from([tag]), varint(bytes.length), bytes]);
}
// google.rpc.Status { int32 code = 1; string message = 2; }
function rpcStatus(code, message) {
	return Buffer.concat([Buffer.from([0x08]), varint(code), lengthDelimited(0x12, Buffer.from(message, 'utf8'))]);
}
// Export*ServiceResponse { partial_success = 1 { int64 rejected = 1; string error_message = 2; } }
function partialSuccess(rejected, message) {
	const inner = Buffer.concat([Buffer.from([0x08]), varint(rejected),
		lengthDelimited(0x12, Buffer.from(message, 'utf8'))]);
	return lengthDelimited(0x0a, inner);
}

const server = http.createServer((req, res) => {
	const chunks = [];
	req.on('data', (c) => chunks.push(c));
	req.on('end', () => {
		const wire = Buffer.concat(chunks);
		if (req.url === '/control') {
			script = JSON.parse(wire.toString('utf8'));
			res.end('ok');
			return;
		}
		if (req.url === '/count') {
			res.end(String(records));
			return;
		}
		const rejectedName = rejectedNames[req.url];
		if (!rejectedName || req.method !== 'POST') {
			res.writeHead(404, { 'Content-Type': 'text/plain' });
			res.end(`no such path: ${req.url}`);
			return;
		}
		const json = (req.headers['content-type'] || '').includes('json');
		const answer = script.length ? script.shift() : { status: 200 };
		if (answer.status !== 200) {
			const headers = { 'Content-Type': json ? 'application/json' : 'application/x-protobuf' };
			if (answer.retryAfter !== undefined) headers['Retry-After'] = String(answer.retryAfter);
			res.writeHead(answer.status, headers);
			const message = answer.message || `status ${answer.status}`;
			res.end(json ? JSON.stringify({ code: 14, message }) : rpcStatus(14, message));
			return;
		}
		let body = wire;
		const gzip = req.headers['content-encoding'] === 'gzip';
		if (gzip) body = zlib.gunzipSync(wire);
		const n = String(++kept).padStart(6, '0');
		const file = `${n}.bin`;
		fs.writeFileSync(path.join(dir, file), body);
		const auth = req.headers.authorization || '';
		fs.appendFileSync(path.join(dir, 'requests.jsonl'), JSON.stringify({
			path: req.url, contentType: req.headers['content-type'] || '',
			contentEncoding: req.headers['content-encoding'] || '', wire: wire.length, file, auth,
		}) + '\n');
		if (req.url === '/v1/logs') {
			try {
				const m = json ? JSON.parse(body.toString('utf8')) : logsRequest.toObject(logsRequest.decode(body), { arrays: true });
				for (const r of m.resourceLogs || [])
					for (const sl of r.scopeLogs || []) records += (sl.logRecords || []).length;
			} catch (e) {
				process.stderr.write(`${file}: ${e.message}\n`);
			}
		}
		if (json) {
			res.writeHead(200, { 'Content-Type': 'application/json' });
			res.end(JSON.stringify(answer.rejected
				? { partialSuccess: { [rejectedName]: String(answer.rejected), errorMessage: answer.message || '' } } : {}));
		} else {
			res.writeHead(200, { 'Content-Type': 'application/x-protobuf' });
			res.end(answer.rejected ? partialSuccess(answer.rejected, answer.message || '') : Buffer.alloc(0));
		}
	});
});
server.listen(0, '127.0.0.1', () => {
	fs.writeFileSync(portFile + '.tmp', String(server.address().port));
	fs.renameSync(portFile + '.tmp', portFile);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
