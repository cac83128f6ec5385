// The failure-rate breaker over the real parts: its memory in a real redis-server (K of the last N,
// one trip when workers fail at once, reset, a flush forgets), and the service end to end with a
// real OpenSSH sshd and the Jira sandbox: a step fails K times at a site, the next ticket does not
// start there, is told once why, shows in `runbot status` and /metrics, and runs after
// `runbot resume --breaker`.
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InventorySchema } from '../../src/definitions/index.js';
import { createLogger } from '../../src/logger.js';
import type { ActionableDecision, StepRef, StepVisit } from '../../src/planner/index.js';
import { BreakerStore } from '../../src/queue/index.js';
import { resumeBreakerCommand } from '../../src/cli/breaker.js';
import { statusCommand } from '../../src/cli/status.js';
import { recordRun } from '../../src/runner/holds.js';
import { until } from '../support/poll.js';
import { startRedis, type RedisInstance } from '../support/redis.js';
import { inventorySite, sshOf, startWorld, type World } from '../support/world.js';

const LIMITS = { failures: 3, window: 5 };
const NOW = new Date('2026-11-23T12:00:00Z');

describe('breaker: its memory in Redis', () => {
  let server: RedisInstance;
  let redis: Redis;
  let store: BreakerStore;
  const run = (step: string, ticket: string, failed: boolean) =>
    store.record({ site: 'dev2', step, ticket, failed, limits: LIMITS, now: NOW });

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    store = new BreakerStore(redis, 'test');
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it('opens at 3 failures of the last 5 runs, not at 2, and names the failed tickets', async () => {
    expect(await run('sync', 'HOT-1', true)).toBeUndefined();
    expect(await run('sync', 'HOT-2', false)).toBeUndefined();
    expect(await run('sync', 'HOT-3', true)).toBeUndefined();
    expect(await store.open()).toEqual({});
    const opened = { failures: 3, window: 4, since: NOW.toISOString(), tickets: ['HOT-1', 'HOT-3', 'HOT-4'] };
    expect(await run('sync', 'HOT-4', true)).toEqual(opened);
    expect(await store.open()).toEqual({ 'dev2/sync': opened });
    // Runs that were already going when it opened finish and count, but it opens only once.
    expect(await run('sync', 'HOT-5', true)).toBeUndefined();
  });

  it('forgets runs older than the window', async () => {
    for (const [ticket, failed] of [
      ['A-1', true],
      ['A-2', true],
      ['A-3', false],
      ['A-4', false],
      ['A-5', false],
      ['A-6', true], // the window is A-2 … A-6: two failures
    ] as const) {
      expect(await run('rebalance', ticket, failed)).toBeUndefined();
    }
    expect(Object.keys(await store.open())).toEqual(['dev2/sync']);
  });

  it('opens once when several workers record failures at the same moment', async () => {
    const results = await Promise.all(
      ['B-1', 'B-2', 'B-3', 'B-4', 'B-5'].map((ticket) => run('second-sync', ticket, true)),
    );
    expect(results.filter((result) => result !== undefined)).toHaveLength(1);
  });

  it('reset closes it and starts a fresh window: one more failure does not open it again', async () => {
    expect(await store.reset('dev2', 'sync')).toBe(true);
    expect(await store.reset('dev2', 'sync')).toBe(false);
    expect(await run('sync', 'HOT-6', true)).toBeUndefined();
    expect(Object.keys(await store.open())).toEqual(['dev2/second-sync']);
  });

  it('logs a warning with the site, step and failed tickets when a run opens it', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    });
    const inventory = InventorySchema.parse({
      sites: { dev2: { hosts: 'x', manager: 'm', ssh: { user: 'r' }, breaker: { failures: 1, window: 1 } } },
    });
    const step: StepRef = { name: 'memcheck-start', runbook: 'r', runbookVersion: 'v', next: 'N' };
    const visit = { key: 'HOT-9' } as StepVisit;
    const decision = { kind: 'runStep', site: 'dev2', step, visit } as ActionableDecision & {
      kind: 'runStep';
    };
    let opened = '';
    const hooks = { store, onOpened: (site: string, name: string) => (opened = `${site}/${name}`) };
    await recordRun(hooks, decision, 'failed', inventory, NOW, logger);
    expect(opened).toBe('dev2/memcheck-start');
    const warning = JSON.parse(lines.find((line) => line.includes('breaker opened')) ?? '{}') as Record<
      string,
      unknown
    >;
    expect(warning).toMatchObject({
      level: 40,
      site: 'dev2',
      step: 'memcheck-start',
      failedTickets: ['HOT-9'],
    });
    // Outcomes that are neither a success nor a failure of the step are not counted.
    await store.reset('dev2', 'memcheck-start');
    await recordRun(hooks, decision, 'duplicate', inventory, NOW, logger);
    await recordRun(hooks, decision, 'escalated', inventory, NOW, logger);
    expect(await redis.llen('test:breaker:runs:dev2/memcheck-start')).toBe(0);
  });

  it('is forgotten, that is closed, when Redis loses its data', async () => {
    await redis.flushall();
    expect(await store.open()).toEqual({});
  });
});

const BAD = ['bad-1.a.internal', 'bad-2.a.internal'];
const GOOD = 'good-3.a.internal';
const FROZEN = 'node-1.b.internal';

describe('breaker: the service over sshd, Jira and Redis', () => {
  let world: World;
  let metricsUrl = '';
  let goodKey = '';
  const syncLog = () => world.workFile('sync.log') ?? '';
  const holdComments = (key: string) => world.comments(key).filter((text) => text.includes('/hold-sync'));

  beforeAll(async () => {
    world = await startWorld({
      name: 'breaker',
      steps: ({ work }) => `
sync:
  kind: ssh
  target: '{{ host }}'
  commands: ['case {{ host }} in bad-*) echo storage offline >&2; exit 3;; esac; echo sync {{ host.short }} >> ${work}/sync.log']
  timeout: 20s
`,
      workflow: 'statuses:\n  Sync: { step: sync, next: Done }\n',
      sshd: { knownHostsNames: [...BAD, GOOD, FROZEN] },
      inventory: ({ sshd }) =>
        'sites:\n' +
        inventorySite('a', { ssh: sshOf(sshd), breaker: '{ failures: 2, window: 4 }' }) +
        inventorySite('b', {
          ssh: sshOf(sshd),
          freezes: "[{ from: '2000-01-01T00:00Z', to: '2100-01-01T00:00Z', reason: 'rack move' }]",
        }),
      roles: { poll: true, work: true, http: true },
    });
    metricsUrl = `http://127.0.0.1:${world.services[0]!.httpPort}/metrics`;
  });
  afterAll(() => world?.stop());

  it('after K failures of sync at a site, the next ticket does not start and is told once why', async () => {
    const bad: string[] = [];
    for (const host of BAD) bad.push((await world.seed(host)).key);
    await until('both failing syncs in Actionable', () =>
      bad.every((key) => world.status(key) === 'Actionable'),
    );
    const metrics = await (await fetch(metricsUrl)).text();
    expect(metrics).toContain('runbot_breaker_open{site="a",step="sync"} 1');
    expect(metrics).toContain('runbot_breaker_trips_total{site="a",step="sync"} 1');

    const { key } = await world.seed(GOOD);
    goodKey = key;
    await until('the hold comment', () => holdComments(key).length > 0);
    const [comment] = holdComments(key);
    expect(comment).toContain('sync waits: breaker open for a/sync');
    // The failed tickets, in the order their runs ended (the two ran side by side).
    const failed = /2 of the last 2 runs failed \((HOT-\d+), (HOT-\d+)\)/.exec(comment ?? '');
    expect(failed?.slice(1).sort()).toEqual([...bad].sort());
    expect(comment).toContain('$ runbot resume --breaker a/sync');
    // Many poll cycles later: still in Sync, not failed, not run, and told only once.
    await world.pollCycles(10);
    expect(world.status(key)).toBe('Sync');
    expect(holdComments(key)).toHaveLength(1);
    expect(syncLog()).toBe('');
  });

  it('runbot status shows why each held ticket waits, and the open breaker', async () => {
    const { key: frozen } = await world.seed(FROZEN);
    const good = goodKey;
    // The frozen ticket's site is held by a freeze; the poller plans it and enqueues nothing.
    await world.pollCycles(2);
    const lines: string[] = [];
    expect(await statusCommand(world.config, (line) => lines.push(line))).toBe(0);
    const heldAt = lines.indexOf('  held back (2):');
    expect(heldAt).toBeGreaterThan(0);
    expect(lines.slice(heldAt + 1, heldAt + 3).sort()).toEqual(
      [
        `    ${good} breaker open for a/sync: 2 of the last 2 runs failed`,
        `    ${frozen} b frozen until 2100-01-01 00:00 UTC: rack move`,
      ].sort(),
    );
    expect(lines.at(-2)).toBe('breakers open (1), reset with runbot resume --breaker SITE/STEP:');
    expect(lines.at(-1)).toMatch(/^ {2}a\/sync since \S+: 2 of the last 2 runs failed \(HOT-\d+, HOT-\d+\)$/);
  });

  it('runs the held ticket once `runbot resume --breaker a/sync` closes the breaker', async () => {
    const printed: string[] = [];
    expect(await resumeBreakerCommand(world.config, 'a/nope', (line) => printed.push(line))).toBe(1);
    expect(printed.pop()).toBe('runbot resume --breaker: no step nope in the runbooks (steps: sync)');
    expect(await resumeBreakerCommand(world.config, 'a/sync', (line) => printed.push(line))).toBe(0);
    expect(printed.pop()).toBe(
      'breaker a/sync reset: its tickets start again; it opens again at 2 failures of the next 4 runs',
    );
    await until('the held ticket Done', () => syncLog() === 'sync good-3\n');
    await until('Done', () => world.status(goodKey) === 'Done');
    expect(holdComments(goodKey)).toHaveLength(1);
    const metrics = await (await fetch(metricsUrl)).text();
    expect(metrics).toContain('runbot_breaker_open{site="a",step="sync"} 0');
  });
});
