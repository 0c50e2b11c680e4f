// SPDX-License-Identifier: MIT
// protos.mjs - the OpenTelemetry protocol's .proto files as shipped by the
// npm package @opentelemetry/otlp-grpc-exporter-base (package.json pins
// it), loaded with protobufjs: the definitions the tests of `ttlog ship
// otlp` decode and check what arrived with.
import fs from 'node:fs';
import path from 'node:path';

export function protoDir(modules) {
	const dir = path.join(modules, 'node_modules/@opentelemetry/otlp-grpc-exporter-base/build/protos');
	if (!fs.existsSync(path.join(dir, 'opentelemetry/proto/collector/logs/v1/logs_service.proto')))
		throw new Error(`no opentelemetry-proto files under ${dir}`);
	return dir;
}

export function loadProtos(protobuf, modules) {
	const dir = protoDir(modules);
	const root = new protobuf.Root();
	root.resolvePath = (origin, target) => path.join(dir, target);
	root.loadSync([
		'opentelemetry/proto/collector/logs/v1/logs_service.proto',
		'opentelemetry/proto/collector/trace/v1/trace_service.proto',
		'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
	], { keepCase: false });
	root.resolveAll();
	return root;
}
