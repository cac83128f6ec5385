// What the batch benchmarks share (batch-restore.js, worker-scaling.js): seeding a batch of restore
// tickets over a few sites of the simulated fleet, runbot processes started and stopped by PID with
// the demo environment's configuration, and the loop that plays the operator and watches the batch
// until every ticket is Done or failed.
import process from 'node:process';
import { performance } from 'node:perf_hooks';
import { clearTimeout, setTimeout } from 'node:timers';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DEPLOYED_ENV, dist, DIST } from './common.js';
import { peek, seedRestore } from './seed.js';

const { fleetSites } = await dist('sandbox/demo-env.js');

/** Host `index` of a batch spread over `sites` sites: `node-0001.dc1.internal`, `node-0002.dc2…`. */
export const batchHost = (index, sites) =>
  `node-${String(index + 1).padStart(5, '0')}.dc${(index % sites) + 1}.internal`;

/**
 * N restore tickets (RMAs done, at the gate) and their fleet hosts, laid out as fleetSites does for
 * the demo (one site per domain, its manager, the hosts file, pinned keys), the tickets written to
 * the sandbox's store (bench/support/seed.js). Returns the seconds it took.
 */
export async function seedBatch(env, { tickets, sites }) {
  const started = performance.now();
  const hosts = fleetSites(env.fleet, {
    inventory: env.config.RUNBOT_INVENTORY,
    knownHosts: env.config.RUNBOT_KNOWN_HOSTS,
    hosts: env.config.RUNBOT_HOSTS_FILE,
  });
  for (let index = 0; index < tickets; index += 1) {
    const host = batchHost(index, sites);
    await hosts.add(host);
    const { key, rma } = seedRestore(env.sandbox, env.workflow, { host, status: 'Waiting for RMA' });
    env.tickets.push({ key, host, rma });
  }
  await hosts.write();
  return (performance.now() - started) / 1000;
}

/** CPU seconds (user + system) a process has used so far, from /proc/PID/stat. */
export function cpuSecondsOf(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

/**
 * `node dist/cli.js <role>` configured like a deployment, only through its environment: the demo
 * environment's Jira, Redis, inventory, key, known_hosts and hosts file, plus `settings`
 * (RUNBOT_POLL_INTERVAL, RUNBOT_TIME_SCALE, RUNBOT_CONCURRENCY…), and the image's process environment
 * (DEPLOYED_ENV: NODE_ENV, the allocator's settings). `nodeFlags` go before the script.
 */
export function startRunbot(role, config, settings, nodeFlags = []) {
  const env = {
    PATH: process.env.PATH,
    ...DEPLOYED_ENV,
    JIRA_URL: config.JIRA_URL,
    JIRA_EMAIL: config.JIRA_EMAIL,
    JIRA_API_TOKEN: config.JIRA_API_TOKEN,
    REDIS_URL: config.REDIS_URL,
    RUNBOT_HTTP_PORT: '0',
    RUNBOT_INVENTORY: config.RUNBOT_INVENTORY,
    RUNBOT_SSH_KEY: config.RUNBOT_SSH_KEY,
    RUNBOT_KNOWN_HOSTS: config.RUNBOT_KNOWN_HOSTS,
    RUNBOT_HOSTS_FILE: config.RUNBOT_HOSTS_FILE,
    RUNBOT_LOG_LEVEL: 'warn',
    RUNBOT_LOG_PRETTY: 'false',
    ...settings,
  };
  const child = spawn(process.execPath, [...nodeFlags, path.join(DIST, 'cli.js'), role], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail = [];
  const keep = (chunk) => {
    tail.push(chunk.toString());
    if (tail.length > 50) tail.shift();
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  return { role, child, tail };
}

/** SIGTERM (the process drains: running steps finish), SIGKILL after 45 s. */
export async function stopRunbot({ child }) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 45_000);
  await exited;
  clearTimeout(timer);
}

/** Tickets per status, read without copying. */
export function statusCounts(env) {
  const counts = {};
  for (const ticket of env.tickets) {
    const status = peek(env.sandbox, ticket.key)?.status ?? 'missing';
    counts[status] = (counts[status] ?? 0) + 1;
  }
  return counts;
}

/**
 * Plays the operator (each instructed Enable Alerting is moved on to Rebalance, as a person does
 * after following the comment) and counts the batch every `everyMs` until every ticket is Done or
 * failed, `timeoutS` passes, `stop()` says so, or a runbot process exits (then it throws with the
 * process's last output). `onTick(elapsed)` runs each round (peak RSS, progress lines).
 * Returns { done, failed, finished, wall, doneAt (seconds from the start, in order) }.
 */
export async function watchBatch(env, { processes, timeoutS, everyMs = 100, onTick, stop }) {
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  const doneAt = [];
  const total = env.tickets.length;
  let done = 0;
  let failed = 0;
  while (done + failed < total && elapsed() <= timeoutS && !stop?.()) {
    const dead = processes.find(({ child }) => child.exitCode !== null || child.signalCode !== null);
    if (dead)
      throw new Error(`bench: runbot ${dead.role} exited ${dead.child.exitCode}:\n${dead.tail.join('')}`);
    done = 0;
    failed = 0;
    for (const ticket of env.tickets) {
      const issue = peek(env.sandbox, ticket.key);
      if (issue?.status === env.workflow.failure) failed += 1;
      if (issue?.status === env.workflow.done) {
        done += 1;
        if (ticket.doneAt === undefined) {
          ticket.doneAt = elapsed();
          doneAt.push(ticket.doneAt);
        }
      } else if (issue?.status === 'Enable Alerting' && issue.properties.runbot?.instructed === true) {
        env.sandbox.moveAsHuman(ticket.key, 'Rebalance'); // the operator enabled alerting
      }
    }
    onTick?.(elapsed());
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return { done, failed, finished: done + failed === total, wall: elapsed(), doneAt };
}
