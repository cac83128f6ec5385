// What every benchmark shares: the built service (dist/, so PROJECT_ROOT finds runbooks/ and
// workflows/), statistics, formatting, and the summary line run.js collects.
import process from 'node:process';
import console from 'node:console';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The build the benchmarks drive; BENCH_DIST points elsewhere (one level below the repo root, so
 * the service's PROJECT_ROOT still finds runbooks/ and workflows/). */
export const DIST = path.resolve(REPO, process.env.BENCH_DIST ?? 'dist');
// How the image runs the service, read from the Dockerfile's last stage so the benchmarks measure the
// shipped process and cannot drift from it: DEPLOYED_NODE_FLAGS are NODE_OPTIONS and the node flags
// in ENTRYPOINT (`node FLAGS… dist/cli.js`); DEPLOYED_ENV is the rest of its ENV that is not runbot's
// own configuration (RUNBOT_*, which each benchmark sets for itself), e.g. MALLOC_ARENA_MAX.
const runtimeStage = readFileSync(path.join(REPO, 'Dockerfile'), 'utf8')
  .replace(/\\\n/g, ' ')
  .split(/^FROM\s/m)
  .at(-1);
const imageEnv = Object.fromEntries(
  [...runtimeStage.matchAll(/^ENV\s+(.*)$/gm)].flatMap(([, line]) =>
    [...line.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=(?:"([^"]*)"|(\S*))/g)].map(([, name, quoted, bare]) => [
      name,
      quoted ?? bare,
    ]),
  ),
);
const entrypoint = JSON.parse(/^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(runtimeStage)?.[1] ?? '[]');
export const DEPLOYED_NODE_FLAGS = [
  imageEnv.NODE_OPTIONS ?? '',
  ...entrypoint.slice(1).filter((argument) => argument.startsWith('--')),
]
  .join(' ')
  .trim();
export const DEPLOYED_ENV = Object.fromEntries(
  Object.entries(imageEnv).filter(([name]) => name !== 'NODE_OPTIONS' && !name.startsWith('RUNBOT_')),
);

/** Imports a module of the built service, e.g. `dist('jira/index.js')`; says what to do if unbuilt. */
export async function dist(relative) {
  const file = path.join(DIST, relative);
  if (!existsSync(file)) {
    throw new Error(`bench: ${file} is missing; run \`npm run build\` first (or \`make bench\`).`);
  }
  return import(file);
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export const ms = (value) => `${value.toFixed(value < 10 ? 2 : 1)} ms`;
export const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
export const ratio = (value) => `${value.toFixed(2)}×`;

/** CPU time (user + system) of this process, in ms. */
export function cpuMs() {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** Peak and current resident set of a process, from /proc (Linux), in bytes. */
export function rssOf(pid = process.pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

/** Sums an adapter's `calls()` (or a diff of two) by endpoint, ok and failed together. */
export function callTotals(calls) {
  const totals = {};
  for (const { endpoint, count } of calls) totals[endpoint] = (totals[endpoint] ?? 0) + count;
  return totals;
}

export function diffTotals(after, before) {
  const diff = {};
  for (const [endpoint, count] of Object.entries(after)) {
    const delta = count - (before[endpoint] ?? 0);
    if (delta !== 0) diff[endpoint] = delta;
  }
  return diff;
}

export const sum = (totals) => Object.values(totals).reduce((a, b) => a + b, 0);

/** Short endpoint names for tables: `GET issue`, `POST transitions`, … */
export function shortEndpoint(endpoint) {
  return endpoint
    .replace('/rest/api/3/', '')
    .replace('/{issueIdOrKey}', '')
    .replace('/{propertyKey}', '')
    .replace('issue/', '');
}

export function describeCalls(totals) {
  return Object.entries(totals)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([endpoint, count]) =>
        `${shortEndpoint(endpoint)} ${Number.isInteger(count) ? count : count.toFixed(2)}`,
    )
    .join(', ');
}

/** A quiet pino logger for the service parts the benchmarks drive in-process. */
export async function quietLogger() {
  const { createLogger } = await dist('logger.js');
  return createLogger({ level: process.env.BENCH_LOG_LEVEL ?? 'warn', destination: process.stderr });
}

/** The last line each benchmark prints; run.js collects these. */
export function summary(name, text) {
  console.log(`SUMMARY ${name}: ${text}`);
}

export function heading(text) {
  console.log(`\n== ${text}`);
}
