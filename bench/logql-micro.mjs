// LogQL pipeline micro-benchmark on one core, against the built dist/.
//   npx tsc -p tsconfig.build.json && node bench/logql-micro.mjs [lines]
// Generates JSON app lines (~170 B, 10 streams, 10% level=error) and logfmt/nginx lines, then
// times planLogQuery(...).pipeline.process over them, and a metric query end to end.
import { evalMetricQuery, parseLogQL, planLogQuery } from '../dist/logql/index.js';

const N = Number(process.argv[2] ?? 1_000_000);
let seed = 7;
const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
const pick = (a) => a[(rnd() * a.length) | 0];
const words = 'request served user cache miss timeout retry ok handler db query latency upstream'.split(' ');
const msg = () => Array.from({ length: 4 + ((rnd() * 4) | 0) }, () => pick(words)).join(' ');
const levels = ['info', 'info', 'info', 'info', 'info', 'info', 'debug', 'warn', 'warn', 'error'];
const paths = ['/api/v1/items', '/api/v1/users', '/healthz', '/login'];

const streams = Array.from({ length: 10 }, (_, i) => Object.freeze({ app: 'api', namespace: 'prod', pod: `api-${i}`, container: 'api' }));
const jsonLines = new Array(N);
const logfmtLines = new Array(N);
const nginxLines = new Array(N);
for (let i = 0; i < N; i++) {
  const level = pick(levels);
  const status = level === 'error' ? 500 + ((rnd() * 4) | 0) : 200;
  const lat = (rnd() * 900) | 0;
  const path = pick(paths);
  jsonLines[i] = JSON.stringify({ ts: '2026-01-01T00:00:00.000Z', level, caller: 'server/handler.go:123', msg: msg(), status, path, latency_ms: lat, trace: { id: (rnd() * 1e9) | 0 } });
  logfmtLines[i] = `ts=2026-01-01T00:00:00.000Z level=${level} caller=server/handler.go:123 msg="${msg()}" status=${status} path=${path} duration=${lat}ms`;
  nginxLines[i] = `10.0.${(rnd() * 255) | 0}.${(rnd() * 255) | 0} - - [01/Jan/2026:00:00:00 +0000] "GET ${path} HTTP/1.1" ${status} ${(rnd() * 5000) | 0} "-" "curl/8.0"`;
}
const bytes = (arr) => arr.reduce((n, l) => n + l.length, 0);

function bench(name, query, lines) {
  const expr = parseLogQL(query);
  const { pipeline } = planLogQuery(expr);
  let kept = 0;
  // warm-up
  for (let i = 0; i < Math.min(50_000, N); i++) pipeline.process(lines[i], streams[i % 10], 0n);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    if (pipeline.process(lines[i], streams[i % 10], BigInt(i)) !== null) kept++;
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`${name.padEnd(44)} ${(N / s / 1e6).toFixed(2).padStart(6)} M lines/s  ${(bytes(lines) / s / 1048576).toFixed(0).padStart(4)} MiB/s  kept ${kept}`);
}

console.log(`${N} lines, node ${process.version}`);
{
  // Reference point for this machine: V8's JSON.parse alone, no labels.
  let kept = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) if (JSON.parse(jsonLines[i]).level === 'error') kept++;
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`${'(reference) JSON.parse(line).level === "error"'.padEnd(44)} ${(N / s / 1e6).toFixed(2).padStart(6)} M lines/s  ${(bytes(jsonLines) / s / 1048576).toFixed(0).padStart(4)} MiB/s  kept ${kept}`);
}
bench('| json | level="error"', '{app="api"} | json | level="error"', jsonLines);
bench('| json | status >= 500 | latency_ms > 500', '{app="api"} | json | status >= 500 | latency_ms > 500', jsonLines);
bench('| json level="level" | level="error"', '{app="api"} | json level="level" | level="error"', jsonLines);
bench('|= "error" (JS-side line filter)', '{app="api"} | json |= "error"', jsonLines);
bench('| logfmt | level="error"', '{app="api"} | logfmt | level="error"', logfmtLines);
bench('| pattern (nginx) | status >= 500', '{app="api"} | pattern `<ip> - - [<_>] "<method> <path> <_>" <status> <size> <_>` | status >= 500', nginxLines);
bench('| regexp (nginx) | status >= 500', '{app="api"} | regexp `^(?P<ip>\\S+) \\S+ \\S+ \\[[^\\]]+\\] "(?P<method>\\S+) (?P<path>\\S+) [^"]*" (?P<status>\\d+)` | status >= 500', nginxLines);
bench('| json | line_format "{{.level}} {{.msg}}"', '{app="api"} | json | line_format "{{.level}} {{.msg}}"', jsonLines);

// Metric query end to end: sum by (level) (count_over_time(... | json [1m])) over 1h at 15s steps.
const T0 = 1_767_225_600_000_000_000n;
const span = 3_600_000_000_000n;
const rows = jsonLines.map((line, i) => ({ tsNs: T0 + (BigInt(i) * span) / BigInt(N), labels: streams[i % 10], line }));
async function* source() {
  for (let i = 0; i < rows.length; i += 4096) yield rows.slice(i, i + 4096);
}
for (const q of ['sum by (level) (count_over_time({app="api"} | json [1m]))', 'sum by (pod) (rate({app="api"}[1m]))', 'quantile_over_time(0.99, {app="api"} | json | unwrap latency_ms [5m]) by (path)']) {
  const t0 = process.hrtime.bigint();
  const res = await evalMetricQuery(parseLogQL(q), source, { startNs: T0, endNs: T0 + span, stepNs: 15_000_000_000n });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`${q.padEnd(44).slice(0, 80)}  ${(N / s / 1e6).toFixed(2)} M lines/s  (${res.length} series)`);
}
