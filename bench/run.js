// `npm run bench`: the five benchmarks, one process each (so memory and CPU figures are their own),
// one after the other, then every one-line summary together. `node bench/run.js ssh-overhead`
// runs only the named ones. Not part of `make test`: figures, not pass/fail.
import process from 'node:process';
import console from 'node:console';
import { performance } from 'node:perf_hooks';
import { execFileSync, spawn } from 'node:child_process';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import path from 'node:path';
import { REPO } from './support/common.js';

const BENCHMARKS = ['jira-cost', 'ssh-overhead', 'ssh-transports', 'planning', 'batch-restore'];
/** Run only when named: worker-scaling runs three batches (about 6 minutes on 2 cores). */
const ON_REQUEST = ['worker-scaling'];

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !BENCHMARKS.includes(name) && !ON_REQUEST.includes(name));
if (unknown.length > 0) {
  console.error(
    `bench: unknown benchmark ${unknown.join(', ')}; choose from ${[...BENCHMARKS, ...ON_REQUEST].join(', ')}`,
  );
  process.exit(2);
}
const selected = wanted.length > 0 ? wanted : BENCHMARKS;

const load = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
const gib = (bytes) => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
let kernel = '';
try {
  kernel = execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
} catch {
  kernel = 'unknown';
}
console.log(
  `machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), ${gib(totalmem())} memory (${gib(freemem())} free), ` +
    `node ${process.version}, Linux ${kernel}, load average ${load()}`,
);

function runOne(name) {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [path.join(REPO, 'bench', `${name}.js`)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const summaries = [];
    let buffered = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      summaries.push(...lines.filter((line) => line.startsWith('SUMMARY ')));
    });
    child.on('exit', (code, signal) => {
      if (buffered.startsWith('SUMMARY ')) summaries.push(buffered);
      resolve({ name, code: code ?? signal, seconds: (performance.now() - started) / 1000, summaries });
    });
  });
}

const started = performance.now();
const results = [];
for (const name of selected) {
  console.log(`\n######## ${name} (load average ${load()})`);
  results.push(await runOne(name));
}
const total = (performance.now() - started) / 1000;

console.log(`\n######## summaries (${total.toFixed(0)} s in all, load average ${load()})`);
for (const result of results) {
  if (result.code !== 0)
    console.log(`${result.name}: FAILED (exit ${result.code}) after ${result.seconds.toFixed(0)} s`);
  for (const line of result.summaries)
    console.log(`${line.replace(/^SUMMARY /, '')}  [${result.seconds.toFixed(0)} s]`);
}
process.exit(results.every((result) => result.code === 0) ? 0 : 1);
