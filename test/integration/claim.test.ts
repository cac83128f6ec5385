// Twins of one job, as a Redis loss leaves them: the poller re-derives a job from Jira while a
// worker still holds the old copy, and BullMQ's job id no longer keeps them apart. The twins here
// are two step processors over the real adapter, the Jira sandbox, a real redis-server and a real
// sshd; a gate around the adapter holds both reads until both are back, so both plan to run the
// step before either has marked it running (the window the fault suite once hit).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadDefinitions, type Definitions } from '../../src/definitions/index.js';
import { SshRunner } from '../../src/executors/ssh/index.js';
import { createJiraAdapter, type JiraPort } from '../../src/jira/index.js';
import { createLogger } from '../../src/logger.js';
import type { StepJob } from '../../src/queue/index.js';
import { RedisEpoch } from '../../src/runner/claim.js';
import { outcomeLabel } from '../../src/runner/outcome.js';
import { createRunner, type Attempt } from '../../src/runner/runner.js';
import { pollOnce } from '../../src/service/poller.js';
import { startRedis, type RedisInstance } from '../support/redis.js';
import { sshOf, startWorld, type World } from '../support/world.js';

const MANAGER = 'manager-0.claim.internal';
const PROPERTY = '/rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}';

describe('claiming a step when its job may have a twin', () => {
  let world: World | undefined;
  let redis: Redis | undefined;
  let runner: SshRunner | undefined;
  let definitions: Definitions;
  let host = 0;
  const logger = createLogger({ level: 'silent' });

  beforeAll(async () => {
    world = await startWorld({
      name: 'claim',
      steps: ({ work }) => `
sync:
  kind: ssh
  target: '{{ site.manager }}'
  commands: ['echo sync {{ host.short }} >> ${work}/runs.log']
  done_when: { command: 'grep -qx sync.{{ host.short }} ${work}/runs.log' }
  timeout: 30s
check:
  kind: manual
  target: '{{ site.manager }}'
  title: Check {{ host }}
  instructions:
    - text: 'Run on {{ site.manager }}:'
      commands: ['check {{ host.short }}']
`,
      workflow: `statuses:
  Sync: { step: sync, next: Check }
  Check: { step: check, next: Done }
`,
      sshd: { knownHostsNames: [MANAGER] },
      inventory: ({ sshd }) =>
        `sites:\n  claim:\n    hosts: '\\.claim\\.internal$'\n    manager: ${MANAGER}\n    ssh: ${sshOf(sshd)}\n`,
      roles: false,
    });
    redis = new Redis(world.redis!.url);
    runner = new SshRunner({
      privateKey: world.config.RUNBOT_SSH_KEY,
      knownHostsFile: world.config.RUNBOT_KNOWN_HOSTS,
      logger,
    });
    definitions = await loadDefinitions({ root: world.root });
  });
  afterAll(async () => {
    await runner?.close();
    redis?.disconnect();
    await world?.stop();
  });
  afterEach(() => redis?.flushall());

  const adapter = () =>
    createJiraAdapter({
      url: world!.jiraUrl,
      email: world!.credentials.email,
      apiToken: world!.credentials.apiToken,
      logger,
    });

  /** A fresh ticket in Sync and the job the poller derives for it. */
  async function ticketAndJob(): Promise<{ key: string; short: string; job: StepJob }> {
    host += 1;
    const short = `web-${host}`;
    const { key } = await world!.seed(`${short}.claim.internal`, { rmaDone: true });
    return { key, short, job: await jobOf(key, 'runStep') };
  }

  /** The job the poller derives for the ticket now. */
  async function jobOf(key: string, kind: StepJob['kind']): Promise<StepJob> {
    const jobs: StepJob[] = [];
    await pollOnce({
      jira: adapter(),
      definitions,
      enqueue: (job) => Promise.resolve(void jobs.push(job)),
      now: () => new Date(),
      timeScale: 1,
      logger,
    });
    const job = jobs.find((candidate) => candidate.key === key);
    if (job?.kind !== kind) throw new Error(`no ${kind} job for ${key}: ${JSON.stringify(jobs)}`);
    return job;
  }

  /** Lets `getTicket` answer only once `readers` reads are back: every twin plans on the same state. */
  function readTogether(jira: JiraPort, readers: number): JiraPort {
    let waiting = readers;
    let release!: () => void;
    const allRead = new Promise<void>((resolve) => (release = resolve));
    return {
      ...jira,
      async getTicket(key, shape) {
        const ticket = await jira.getTicket(key, shape);
        waiting -= 1;
        if (waiting === 0) release();
        await allRead;
        return ticket;
      },
    };
  }

  /** A worker's runner, its claims settled over `epoch`. */
  const workerRunner = (jira: JiraPort, settleMs: number, epoch: RedisEpoch) =>
    createRunner({
      jira,
      runner: runner!,
      definitions,
      now: () => new Date(),
      dryRun: false,
      logger,
      timeScale: 1,
      claims: { epoch, settleMs },
    });

  /** A worker's runner; what it did, as the job's label (`transitioned`, `duplicate`, …). */
  const processor = (jira: JiraPort, settleMs: number, epoch: RedisEpoch) => {
    const run = workerRunner(jira, settleMs, epoch);
    return async (job: StepJob, attempt: Attempt) => {
      const outcome = await run(job, attempt);
      if (outcome.kind !== 'done' && outcome.kind !== 'stale') throw new Error(`job ${outcome.kind}`);
      return outcomeLabel(outcome);
    };
  };

  const runsOf = async (short: string) =>
    (await readFile(path.join(world!.work, 'runs.log'), 'utf8').catch(() => ''))
      .split('\n')
      .filter((line) => line === `sync ${short}`).length;

  const propertyCalls = (method: 'GET' | 'PUT') =>
    world!.sandbox.requestCounts()[`${method} ${PROPERTY}`] ?? 0;

  it('after a Redis loss, twins that both planned the step run it once: the later mark wins', async () => {
    const { key, short, job } = await ticketAndJob();
    // A fresh epoch is young: every claim made in it is settled in Jira.
    const epoch = new RedisEpoch(redis!, { prefix: 'claim', youngMs: 60_000 });
    const jira = readTogether(adapter(), 2);
    const reads = propertyCalls('GET');
    const attempt = { number: 1, last: false };

    const outcomes = await Promise.all([
      processor(jira, 500, epoch)(job, attempt),
      processor(jira, 500, epoch)(job, attempt),
    ]);

    expect(outcomes.sort()).toEqual(['duplicate', 'transitioned']);
    // Both twins marked the step and read the mark back: the race was real, and settled.
    expect(propertyCalls('GET') - reads).toBe(2);
    expect(await runsOf(short)).toBe(1);
    expect(world!.sandbox.snapshot(key)?.status).toBe('Check');
    expect(world!.comments(key).filter((text) => text.startsWith('✅ sync done'))).toHaveLength(1);
  });

  it('after a Redis loss, twins that both planned an Action Required comment post it once', async () => {
    const { key, job } = await ticketAndJob();
    const epoch = new RedisEpoch(redis!, { prefix: 'claim', youngMs: 60_000 });
    const attempt = { number: 1, last: false };
    expect(await processor(adapter(), 500, epoch)(job, attempt)).toBe('transitioned');
    const instruct = await jobOf(key, 'postInstructions');
    const jira = readTogether(adapter(), 2);

    const outcomes = await Promise.all([
      processor(jira, 500, epoch)(instruct, attempt),
      processor(jira, 500, epoch)(instruct, attempt),
    ]);

    expect(outcomes.sort()).toEqual(['duplicate', 'instructed']);
    expect(world!.comments(key).filter((text) => text.includes('Check web-'))).toHaveLength(1);
    expect(await adapter().getBookkeeping(key)).toMatchObject({ instructed: true });
  });

  it('with Redis steady, a claim costs no read and no wait', async () => {
    const { key, short, job } = await ticketAndJob();
    const epoch = new RedisEpoch(redis!, { prefix: 'claim', youngMs: 1 });
    const born = await epoch.read();
    await expect.poll(async () => (await epoch.read()).young).toBe(false);
    expect((await epoch.read()).id).toBe(born.id);
    const reads = propertyCalls('GET');

    const outcome = await processor(adapter(), 60_000, epoch)(job, { number: 1, last: false });

    expect(outcome).toBe('transitioned');
    expect(propertyCalls('GET')).toBe(reads);
    expect(await runsOf(short)).toBe(1);
    expect(world!.sandbox.snapshot(key)?.status).toBe('Check');
  });

  it('a twin slower than the settle bound runs nothing and leaves its mark, so the step is never guessed', async () => {
    const { key, short, job } = await ticketAndJob();
    const epoch = new RedisEpoch(redis!, { prefix: 'claim', youngMs: 60_000 });

    // A read and a write take longer than 1 ms: this claimant cannot prove it is alone.
    const outcome = await processor(adapter(), 1, epoch)(job, { number: 1, last: false });

    expect(outcome).toBe('contested');
    expect(await runsOf(short)).toBe(0);
    expect(world!.sandbox.snapshot(key)?.status).toBe('Sync');
    expect(await adapter().getBookkeeping(key)).toMatchObject({ running: { step: 'sync' } });
  });

  it("a resumed step's twin slower than the bound waits for the mark to lapse instead of keeping the resume's job id", async () => {
    const { key, short } = await ticketAndJob();
    // Its sync began ten minutes ago and its worker is gone: the poller plans to resume it.
    const since = new Date(Date.now() - 600_000).toISOString();
    await world!.setBookkeeping(key, {
      status: 'Sync',
      visit: 1,
      enteredAt: since,
      running: { step: 'sync', since },
    });
    const resume = await jobOf(key, 'runStep');
    expect(resume.resume).toBe(true);
    const run = workerRunner(adapter(), 1, new RedisEpoch(redis!, { prefix: 'claim', youngMs: 60_000 }));
    const attempt = { number: 1, last: false };

    // Completed, the job would keep KEY.v1.runStep.resume, and the poller could not resume the step
    // for as long as the queue keeps a finished job (an hour).
    expect(await run(resume, attempt)).toEqual({
      kind: 'deferred',
      reason: 'claim contested: the resume waits for the running mark to lapse',
    });
    expect(await runsOf(short)).toBe(0);
    // Back from its queue, it finds its own mark and waits until that lapses; nothing runs.
    expect(await run(resume, attempt)).toMatchObject({
      kind: 'deferred',
      reason: expect.stringMatching(/^sync may still be running \(until /) as unknown,
    });
    expect(await runsOf(short)).toBe(0);
    expect(world!.sandbox.snapshot(key)?.status).toBe('Sync');
  });
});

describe('RedisEpoch', () => {
  let server: RedisInstance | undefined;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(() => server?.stop());

  it('keeps one id while Redis keeps its keys, and tells a FLUSHALL or a silent Redis from it', async () => {
    const redis = new Redis(server!.url, { maxRetriesPerRequest: 0 });
    redis.on('error', () => undefined); // the test stops Redis on purpose
    try {
      const epoch = new RedisEpoch(redis, { prefix: 'epoch', youngMs: 300, timeoutMs: 500 });
      const first = await epoch.read();
      expect(first.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(first.young).toBe(true);
      await expect.poll(async () => (await epoch.read()).young).toBe(false);
      const steady = await epoch.read();
      expect(steady.id).toBe(first.id);
      expect(await epoch.mayHaveLostWork(steady)).toBe(false);
      // A mark read while the epoch was young says "maybe" even with the same id.
      expect(await epoch.mayHaveLostWork(first)).toBe(true);

      await redis.flushall();
      expect(await epoch.mayHaveLostWork(steady)).toBe(true);
      const reborn = await epoch.read();
      expect(reborn.id).not.toBe(first.id);

      // Redis forgot its scripts (as after a restart): the read sends the script once more.
      await redis.script('FLUSH');
      expect((await epoch.read()).id).toBe(reborn.id);

      await server!.stop();
      expect(await epoch.read()).toEqual({ id: undefined, young: true });
      expect(await epoch.mayHaveLostWork(reborn)).toBe(true);
    } finally {
      redis.disconnect();
    }
  });

  it('sends its script once, then reads by its SHA (EVALSHA)', async () => {
    const own = await startRedis();
    const redis = new Redis(own.url);
    try {
      await redis.config('RESETSTAT');
      const epoch = new RedisEpoch(redis, { prefix: 'sha', youngMs: 300 });
      for (let read = 0; read < 5; read += 1) expect((await epoch.read()).id).toBeDefined();
      const stats = await redis.info('commandstats');
      const calls = (command: string) =>
        Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(stats)?.[1] ?? 0);
      // Five reads: at most one carried the script's text (the EVAL after the first EVALSHA's
      // NOSCRIPT, which Redis counts as a failed call, not in `calls`); the others ran by SHA.
      expect(calls('eval')).toBeLessThanOrEqual(1);
      expect(calls('eval') + calls('evalsha')).toBe(5);
    } finally {
      redis.disconnect();
      await own.stop();
    }
  });
});
