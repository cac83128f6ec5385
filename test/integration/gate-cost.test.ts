// The RMA gate's Jira cost (issue 13, item 3), counted by what arrived at the Jira sandbox: a ticket
// whose RMA is repaired leaves the gate with the worker's one consistent read (GET issue with
// expand=transitions.fields) and the move (POST …/transitions), which takes its transition from that
// read instead of reading the transitions again. An exclusive workflow (the shipped one: one restore
// per host) adds one search for the host's holders (src/service/holders.ts). A person's move between
// the read and the move still wins: the stale transition is refused, re-read once, not taken.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shippedRestore } from '../support/definitions.js';
import { type Definitions, type Workflow } from '../../src/definitions/index.js';
import type { CommandRunner } from '../../src/executors/types.js';
import { createJiraAdapter, type JiraAdapter } from '../../src/jira/index.js';
import { createLogger } from '../../src/logger.js';
import type { StepJob } from '../../src/queue/index.js';
import { DEMO_CREDENTIALS } from '../../src/sandbox/demo-env.js';
import { JiraSandbox } from '../../src/sandbox/jira/index.js';
import { HOST_FIELD, RMA_PROJECT, restoreProject } from '../../src/sandbox/rma-jira.js';
import { jiraSeeder } from '../../src/sandbox/seed.js';
import { pollOnce } from '../../src/service/poller.js';
import { createRunner } from '../../src/runner/runner.js';

const logger = createLogger({ level: 'silent' });
const GET_ISSUE = 'GET /rest/api/3/issue/{issueIdOrKey}';
const POST_TRANSITION = 'POST /rest/api/3/issue/{issueIdOrKey}/transitions';
const SEARCH = 'GET /rest/api/3/search/jql';

/** The gate runs no command: a call here fails the test. */
const noCommands: CommandRunner = {
  run: () => Promise.reject(new Error('the gate ran a command')),
  close: () => Promise.resolve(),
};

let shipped: Definitions;
let workflow: Workflow;

beforeAll(async () => {
  ({ definitions: shipped, workflow } = await shippedRestore());
});

/** A Jira sandbox with one restore ticket at the gate, its RMA repaired (or not). */
async function gateWorld(definitions: Definitions, host: string, rmaDone = true) {
  const sandbox = new JiraSandbox({
    projects: [restoreProject(workflow), RMA_PROJECT],
    customFields: [HOST_FIELD],
    credentials: DEMO_CREDENTIALS,
  });
  const url = await sandbox.start(0);
  const { key, rma } = await jiraSeeder(url, DEMO_CREDENTIALS).restoreTicket(workflow, host);
  if (rmaDone) sandbox.moveAsHuman(rma, 'Done');
  const jira = createJiraAdapter({ url, ...DEMO_CREDENTIALS, logger });
  // Display names are read once per process, not per ticket: read them before counting.
  await jira.fieldNames?.();
  return { sandbox, jira, key, definitions };
}

type GateWorld = Awaited<ReturnType<typeof gateWorld>>;

/** The gate job as the real poller makes it, then the real worker's processor on it; what arrived. */
async function openGate({ sandbox, jira, key, definitions }: GateWorld) {
  const jobs: StepJob[] = [];
  const now = () => new Date();
  await pollOnce({
    jira,
    definitions,
    enqueue: (job) => (jobs.push(job), Promise.resolve()),
    now,
    timeScale: 1,
    logger,
  });
  expect(jobs.map((job) => [job.key, job.kind])).toEqual([[key, 'transition']]);
  const runJob = createRunner({
    jira,
    runner: noCommands,
    definitions,
    now,
    dryRun: false,
    logger,
    timeScale: 1,
  });
  const before = sandbox.requestCounts();
  const outcome = await runJob(jobs[0]!, { number: 1, last: false });
  return { outcome, arrived: arrivedSince(sandbox, before) };
}

function arrivedSince(sandbox: JiraSandbox, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(sandbox.requestCounts())
      .map(([endpoint, count]) => [endpoint, count - (before[endpoint] ?? 0)] as const)
      .filter(([, count]) => count > 0),
  );
}

describe('the RMA gate costs its minimum of Jira calls', () => {
  let world: GateWorld | undefined;
  afterAll(async () => {
    await world?.sandbox.stop();
  });

  it('without exclusive inputs: 2 calls, the worker’s read and the move', async () => {
    const plain: Workflow = { ...workflow };
    delete plain.exclusive;
    const definitions = { ...shipped, workflows: new Map([[plain.name, plain]]) };
    world = await gateWorld(definitions, 'container-101-01.dev2.internal');
    const { outcome, arrived } = await openGate(world);
    expect(outcome).toMatchObject({ kind: 'done', result: 'transitioned' });
    expect(world.sandbox.snapshot(world.key)?.status).toBe(workflow.gate?.next);
    expect(arrived).toEqual({ [GET_ISSUE]: 1, [POST_TRANSITION]: 1 });
  });
});

describe('the RMA gate of an exclusive workflow (the shipped one)', () => {
  let world: GateWorld | undefined;
  afterAll(async () => {
    await world?.sandbox.stop();
  });

  it('3 calls: the read, one search for the host’s holders, the move', async () => {
    world = await gateWorld(shipped, 'container-101-02.dev2.internal');
    const { outcome, arrived } = await openGate(world);
    expect(outcome).toMatchObject({ kind: 'done', result: 'transitioned' });
    expect(world.sandbox.snapshot(world.key)?.status).toBe(workflow.gate?.next);
    expect(arrived).toEqual({ [GET_ISSUE]: 1, [SEARCH]: 1, [POST_TRANSITION]: 1 });
  });
});

describe('a person moves the ticket between the worker’s read and the move', () => {
  let world: GateWorld | undefined;
  afterAll(async () => {
    await world?.sandbox.stop();
  });

  it('the move is refused, re-read once, and the ticket stays where the person put it', async () => {
    world = await gateWorld(shipped, 'container-101-03.dev2.internal');
    const { sandbox, key } = world;
    const jira: JiraAdapter = world.jira;
    const gate = workflow.gate!;
    const read = await jira.getTicket(key, { inputFields: {} });
    expect(read?.status).toBe(gate.status);
    sandbox.moveAsHuman(key, workflow.failure);
    const before = sandbox.requestCounts();
    const outcome = await jira.transitionTo(
      key,
      { from: gate.status, to: gate.next },
      { bookkeeping: { status: gate.next, visit: 2, enteredAt: new Date().toISOString() }, freshRead: read! },
    );
    expect(outcome).toBe('refused');
    expect(sandbox.snapshot(key)?.status).toBe(workflow.failure);
    // The transition that read offered, refused by Jira (400), then the one re-read that finds the move gone.
    expect(arrivedSince(sandbox, before)).toEqual({ [POST_TRANSITION]: 1, [GET_ISSUE]: 1 });
  });
});
