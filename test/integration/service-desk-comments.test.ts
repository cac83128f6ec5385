// Comments in a Jira Service Management project, over the real adapter and the sandbox: the bot's
// comment is its own internal comment (the documented `sd.public.comment` property on POST comment),
// posted before the move, never inside the transition's update.comment. A move that fails after its
// comment landed is retried without a second comment: the retry finds it by its reference.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJiraAdapter, type JiraAdapter } from '../../src/jira/index.js';
import { createLogger } from '../../src/logger.js';
import type { Decision, StepVisit } from '../../src/planner/index.js';
import type { ActionableDecision } from '../../src/queue/index.js';
import { JiraSandbox } from '../../src/sandbox/jira/index.js';
import { HOST_FIELD, RMA_PROJECT, restoreProject } from '../../src/sandbox/rma-jira.js';
import { jiraSeeder } from '../../src/sandbox/seed.js';
import { act, type ActContext } from '../../src/service/act.js';
import { loadDefinitions, type Workflow } from '../../src/definitions/index.js';
import { REPO_ROOT } from '../support/definitions.js';

const CREDENTIALS = { email: 'runbot@example.com', apiToken: 'service-desk-token' };
const logger = createLogger({ level: 'silent' });

let workflow: Workflow;
let sandbox: JiraSandbox;
let jira: JiraAdapter;
let url: string;

beforeAll(async () => {
  const loaded = (await loadDefinitions({ root: REPO_ROOT })).workflows.get('rma-restore');
  if (!loaded) throw new Error('the shipped workflow rma-restore is missing');
  workflow = loaded;
  sandbox = new JiraSandbox({
    projects: [restoreProject(workflow), RMA_PROJECT], // HOT is a service project (service_desk)
    customFields: [HOST_FIELD],
    credentials: CREDENTIALS,
  });
  url = await sandbox.start(0);
  jira = createJiraAdapter({ url, ...CREDENTIALS, logger });
});
afterAll(async () => {
  await sandbox?.stop();
});

function context(transitionFields?: ActContext['transitionFields']): ActContext {
  return {
    jira,
    runner: { run: () => Promise.reject(new Error('nothing runs here')), close: () => Promise.resolve() },
    now: () => new Date('2026-11-23T12:00:00Z'),
    dryRun: false,
    logger,
    failureStatus: workflow.failure,
    ...(transitionFields ? { transitionFields } : {}),
  };
}

describe('service desk comments', () => {
  it('posts the comment on its own (internal) before the move, and a retry moves without a second one', async () => {
    const seeded = await jiraSeeder(url, CREDENTIALS).restoreTicket(workflow, 'web-1.dev2.internal');
    const last = Object.keys(workflow.statuses).at(-1) ?? '';
    sandbox.moveAsHuman(seeded.key, workflow.failure);
    sandbox.moveAsHuman(seeded.key, last);
    const visit: StepVisit = {
      key: seeded.key,
      workflow: workflow.name,
      status: last,
      bookkeeping: { status: last, visit: 4, enteredAt: '2026-11-23T11:00:00.000Z' },
      isNew: false,
    };
    const decision: Decision = { kind: 'transition', visit, to: workflow.done, reason: 'all steps done' };

    // First attempt: the move fails after the comment landed (Done's screen wants a Resolution).
    const first = await act(decision as ActionableDecision, context(), {
      lastAttempt: false,
      comments: [],
    }).catch((error: unknown) => error);
    expect(first).toMatchObject({ status: 400, messages: ['resolution: Resolution is required.'] });
    const afterFirst = sandbox.snapshot(seeded.key);
    expect(afterFirst?.status).toBe(last);
    expect(afterFirst?.comments).toHaveLength(1);

    // The retry re-reads the ticket (as the worker does) and finds its comment by the reference.
    const fresh = await jira.getTicket(seeded.key, { inputFields: {} });
    const outcome = await act(decision, context(workflow.transitions), {
      lastAttempt: true,
      comments: fresh?.comments ?? [],
    });
    expect(outcome).toBe('transitioned');
    const after = sandbox.snapshot(seeded.key);
    expect(after?.status).toBe(workflow.done);
    expect(after?.comments).toHaveLength(1);
    // Internal through the documented comment property: Jira answers jsdPublic false.
    const page = (await fetch(`${url}/rest/api/3/issue/${seeded.key}/comment`, {
      headers: {
        authorization: `Basic ${Buffer.from(`${CREDENTIALS.email}:${CREDENTIALS.apiToken}`).toString('base64')}`,
      },
    }).then((response) => response.json())) as { comments: { jsdPublic: boolean }[] };
    expect(page.comments.map((comment) => comment.jsdPublic)).toEqual([false]);
  });
});
