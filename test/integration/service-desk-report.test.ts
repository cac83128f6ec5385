// In a Jira Service Management project the bot's report of a move is its own internal comment (the
// documented `sd.public.comment` on POST …/comment), never a comment inside the transition, where
// Atlassian documents no comment properties (the sandbox drops them there, so it would be public).
// Posted and moved in two calls, it must still land once: twins of one visit, a lost answer.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createJiraAdapter } from '../../src/jira/index.js';
import { code, codeBlock, doc, paragraph } from '../../src/jira/adf.js';
import { commentRef } from '../../src/jira/comment-ref.js';
import { createLogger } from '../../src/logger.js';
import { JiraSandbox, type SandboxProject } from '../../src/sandbox/jira/index.js';
import { startLostAnswerProxy, type LostAnswerProxy } from '../support/faults/jira-proxy.js';

const EMAIL = 'runbot@example.com';
const TOKEN = 'sandbox-token';
const auth = `Basic ${Buffer.from(`${EMAIL}:${TOKEN}`).toString('base64')}`;

const project = (key: string, projectTypeKey: SandboxProject['projectTypeKey']): SandboxProject => ({
  key,
  name: key,
  issueTypes: ['Task'],
  projectTypeKey,
  workflow: {
    initial: 'Memtest',
    statuses: [
      { name: 'Memtest', category: 'indeterminate' },
      { name: 'Sync', category: 'indeterminate' },
      { name: 'Backlog', category: 'new' },
    ],
    transitions: [
      { id: '31', name: 'Sync', from: ['Memtest'], to: 'Sync' },
      { id: '11', name: 'Backlog', from: ['Memtest', 'Sync'], to: 'Backlog' },
    ],
  },
});

let sandbox: JiraSandbox;
let url: string;
let proxy: LostAnswerProxy | undefined;

async function api(path: string, init: { method?: string; body?: unknown } = {}, at = url) {
  const response = await fetch(`${at}/rest/api/3${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: auth, 'content-type': 'application/json', accept: 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  return text ? (JSON.parse(text) as unknown) : undefined;
}

async function createTask(projectKey: string, at = url): Promise<string> {
  const created = await api(
    '/issue',
    {
      method: 'POST',
      body: { fields: { project: { key: projectKey }, issuetype: { name: 'Task' }, summary: 'restore' } },
    },
    at,
  );
  return (created as { key: string }).key;
}

/** The ticket's comments as Jira shows them: text and whether a customer sees it on the portal. */
async function commentsOf(key: string) {
  const page = (await api(`/issue/${key}/comment`)) as {
    comments: { body: { content: { content: { text: string }[] }[] }; jsdPublic: boolean }[];
  };
  return page.comments.map((c) => ({
    text: c.body.content.map((block) => block.content.map((node) => node.text).join('')).join('\n'),
    jsdPublic: c.jsdPublic,
  }));
}

/** The calls `jira` makes from now on, by endpoint (only those it made). */
function callsFrom(jira: ReturnType<typeof adapter>) {
  const before = Object.fromEntries(jira.calls().map((c) => [c.endpoint, c.count]));
  return () =>
    Object.fromEntries(
      jira
        .calls()
        .map((c) => [c.endpoint, c.count - (before[c.endpoint] ?? 0)] as const)
        .filter(([, count]) => count > 0),
    );
}

function adapter(at = url) {
  return createJiraAdapter({
    url: at,
    email: EMAIL,
    apiToken: TOKEN,
    logger: createLogger({ level: 'silent' }),
  });
}

// Quotes a command and its output, as a step's report does.
const report = (key: string) =>
  doc([
    paragraph('Memtest passed on ', code('memtester 1G 1'), ', moving to Sync.'),
    codeBlock('Done.', 'text'),
    paragraph(commentRef(key, 2, 'memtest')),
  ]);
const move = { from: 'Memtest', to: 'Sync' };

beforeAll(async () => {
  sandbox = new JiraSandbox({
    projects: [project('DESK', 'service_desk'), project('SOFT', 'software')],
    credentials: { email: EMAIL, apiToken: TOKEN },
  });
  url = await sandbox.start(0);
});

afterEach(async () => {
  await proxy?.stop();
  proxy = undefined;
});

afterAll(async () => {
  await sandbox?.stop();
});

describe('the report of a move in a service project', () => {
  it('is its own internal comment, posted before a move that carries no comment', async () => {
    const key = await createTask('DESK');
    const jira = adapter();
    await expect(jira.transitionTo(key, move, { comment: report(key) })).resolves.toBe('transitioned');
    expect(sandbox.snapshot(key)?.status).toBe('Sync');
    expect(await commentsOf(key)).toEqual([
      { text: expect.stringContaining('Memtest passed') as string, jsdPublic: false },
    ]);
    const calls = Object.fromEntries(jira.calls().map((c) => [c.endpoint, c.count]));
    expect(calls['POST /rest/api/3/issue/{issueIdOrKey}/comment']).toBe(1);
    expect(calls['POST /rest/api/3/issue/{issueIdOrKey}/transitions']).toBe(1);
  });

  it('lands once when two jobs of one visit move the ticket at the same time', async () => {
    const key = await createTask('DESK');
    const outcomes = await Promise.all([
      adapter().transitionTo(key, move, { comment: report(key) }),
      adapter().transitionTo(key, move, { comment: report(key) }),
    ]);
    expect(outcomes.sort()).toEqual(['refused', 'transitioned']);
    expect(await commentsOf(key)).toHaveLength(1);
    expect((await commentsOf(key))[0]?.jsdPublic).toBe(false);
  });

  it('is not posted twice when the answer to the post is lost', async () => {
    const key = await createTask('DESK');
    proxy = await startLostAnswerProxy(
      url,
      ({ method, path, nth }) => method === 'POST' && path.endsWith('/comment') && nth === 1,
    );
    await expect(adapter(proxy.url).transitionTo(key, move, { comment: report(key) })).resolves.toBe(
      'transitioned',
    );
    expect(proxy.lost).toHaveLength(1);
    expect(await commentsOf(key)).toHaveLength(1);
  });

  it('is taken back when a person moved the ticket elsewhere before the move', async () => {
    const key = await createTask('DESK');
    // The person's move lands between the bot's post and its transition: the transition's 400 re-read.
    proxy = await startLostAnswerProxy(url, ({ method, path }) => {
      if (method === 'POST' && path.endsWith('/transitions')) sandbox.moveAsHuman(key, 'Backlog');
      return false;
    });
    await expect(adapter(proxy.url).transitionTo(key, move, { comment: report(key) })).resolves.toBe(
      'refused',
    );
    expect(sandbox.snapshot(key)?.status).toBe('Backlog');
    expect(await commentsOf(key)).toEqual([]);
  });
});

// A step's move: the worker read the ticket before the step ran, so the adapter knows the project is a
// service project before it reads where the ticket can go; that read comes after the post and is the
// report's read-back too.
describe('the report of a move after the worker read the ticket', () => {
  const shape = { inputFields: {} };
  const COMMENTS = 'GET /rest/api/3/issue/{issueIdOrKey}/comment';

  // The move carries the bookkeeping of the visit it begins, with the visit it left (`from`): a late
  // poster of that visit tells the bot's own move from a person's by it.
  const movedOn = (to: string) => ({ status: to, visit: 3, enteredAt: new Date().toISOString(), from: 2 });
  const failedReport = (key: string) =>
    doc([
      paragraph('Memtest failed on ', code('memtester 1G 1'), ', moving to Backlog.'),
      codeBlock('FAILURE', 'text'),
      paragraph(commentRef(key, 2, 'memtest')),
    ]);

  it('costs three calls: the post, one read that is also the read-back, the move', async () => {
    const [warm, key] = [await createTask('DESK'), await createTask('DESK')];
    const jira = adapter();
    // The first report also asks who the bot is (GET myself, once per process).
    await jira.getTicket(warm, shape);
    await jira.transitionTo(warm, move, { comment: report(warm) });
    await jira.getTicket(key, shape);
    const calls = callsFrom(jira);
    await expect(jira.transitionTo(key, move, { comment: report(key) })).resolves.toBe('transitioned');
    expect(calls()).toEqual({
      'POST /rest/api/3/issue/{issueIdOrKey}/comment': 1,
      'GET /rest/api/3/issue/{issueIdOrKey}': 1,
      'POST /rest/api/3/issue/{issueIdOrKey}/transitions': 1,
    });
    expect(sandbox.snapshot(key)?.status).toBe('Sync');
    expect(await commentsOf(key)).toEqual([
      { text: expect.stringContaining('Memtest passed') as string, jsdPublic: false },
    ]);
  });

  it('lands once when two jobs of one visit move the ticket at the same time', async () => {
    const key = await createTask('DESK');
    const twins = [adapter(), adapter()];
    await Promise.all(twins.map((jira) => jira.getTicket(key, shape)));
    const outcomes = await Promise.all(
      twins.map((jira) => jira.transitionTo(key, move, { comment: report(key) })),
    );
    expect(outcomes.sort()).toEqual(['refused', 'transitioned']);
    expect(sandbox.snapshot(key)?.status).toBe('Sync');
    expect(await commentsOf(key)).toHaveLength(1);
  });

  it('lands once when a twin moved the ticket before this job posted', async () => {
    const key = await createTask('DESK');
    const [first, late] = [adapter(), adapter()];
    await late.getTicket(key, shape);
    const moving = { comment: report(key), bookkeeping: movedOn('Sync') };
    await expect(first.transitionTo(key, move, moving)).resolves.toBe('transitioned');
    await expect(late.transitionTo(key, move, moving)).resolves.toBe('refused');
    expect(await commentsOf(key)).toHaveLength(1);
  });

  it('is taken back when a person moved the ticket elsewhere while the step ran', async () => {
    const key = await createTask('DESK');
    const jira = adapter();
    await jira.getTicket(key, shape);
    sandbox.moveAsHuman(key, 'Backlog');
    await expect(jira.transitionTo(key, move, { comment: report(key) })).resolves.toBe('refused');
    expect(sandbox.snapshot(key)?.status).toBe('Backlog');
    expect(await commentsOf(key)).toEqual([]);
  });

  it('is not posted twice when the answer to the post is lost', async () => {
    const key = await createTask('DESK');
    proxy = await startLostAnswerProxy(
      url,
      ({ method, path, nth }) => method === 'POST' && path.endsWith('/comment') && nth === 1,
    );
    const jira = adapter(proxy.url);
    await jira.getTicket(key, shape);
    await expect(jira.transitionTo(key, move, { comment: report(key) })).resolves.toBe('transitioned');
    expect(proxy.lost).toHaveLength(1);
    expect(await commentsOf(key)).toHaveLength(1);
  });

  it("keeps the visit's report when the bot's own move of the visit came first (its other check)", async () => {
    const key = await createTask('DESK');
    const [first, late] = [adapter(), adapter()];
    await first.getTicket(key, shape);
    await late.getTicket(key, shape);
    await expect(
      first.transitionTo(key, move, { comment: report(key), bookkeeping: movedOn('Sync') }),
    ).resolves.toBe('transitioned');
    await expect(
      late.transitionTo(
        key,
        { from: 'Memtest', to: 'Backlog' },
        { comment: failedReport(key), bookkeeping: movedOn('Backlog') },
      ),
    ).resolves.toBe('refused');
    expect(sandbox.snapshot(key)?.status).toBe('Sync');
    expect((await commentsOf(key)).map((c) => c.text)).toEqual([expect.stringContaining('Memtest passed')]);
  });

  it("keeps it when a person moved the ticket on after the bot's move", async () => {
    const key = await createTask('DESK');
    const [first, late] = [adapter(), adapter()];
    await late.getTicket(key, shape);
    await first.transitionTo(key, move, { comment: report(key), bookkeeping: movedOn('Sync') });
    sandbox.moveAsHuman(key, 'Backlog');
    await expect(
      late.transitionTo(key, move, { comment: report(key), bookkeeping: movedOn('Sync') }),
    ).resolves.toBe('refused');
    expect(await commentsOf(key)).toHaveLength(1);
  });

  it("keeps it when the bot moved the ticket on twice before a late poster read back (or an older bot's move wrote no from)", async () => {
    const key = await createTask('DESK');
    const [first, late] = [adapter(), adapter()];
    await late.getTicket(key, shape);
    await first.transitionTo(key, move, { comment: report(key), bookkeeping: movedOn('Sync') });
    // The next visit's own move: the property no longer names visit 2.
    const next = { status: 'Backlog', visit: 4, enteredAt: new Date().toISOString(), from: 3 };
    await first.transitionTo(key, { from: 'Sync', to: 'Backlog' }, { bookkeeping: next });
    await expect(
      late.transitionTo(key, move, { comment: report(key), bookkeeping: movedOn('Sync') }),
    ).resolves.toBe('refused');
    expect((await commentsOf(key)).map((c) => c.text)).toEqual([expect.stringContaining('Memtest passed')]);
  });

  it("takes it back when a person moved the ticket to the step's own target while it ran", async () => {
    const key = await createTask('DESK');
    const jira = adapter();
    await jira.getTicket(key, shape);
    sandbox.moveAsHuman(key, 'Sync');
    await expect(
      jira.transitionTo(key, move, { comment: report(key), bookkeeping: movedOn('Sync') }),
    ).resolves.toBe('refused');
    expect(await commentsOf(key)).toEqual([]);
  });

  it('reads the newest comments on their own when Jira did not embed them all', async () => {
    // Two comments per page: the issue embeds the oldest two of the five there after the post.
    const small = new JiraSandbox({
      projects: [project('DESK', 'service_desk')],
      credentials: { email: EMAIL, apiToken: TOKEN },
      commentPageMax: 2,
    });
    const at = await small.start(0);
    try {
      const key = await createTask('DESK', at);
      for (let n = 0; n < 3; n += 1) await adapter(at).addComment(key, doc([paragraph(`note ${n}`)]));
      // A twin's copy is already there, past the embedded page: the read-back must find it.
      await adapter(at).addComment(key, report(key));
      const jira = adapter(at);
      await jira.getTicket(key, shape);
      const calls = callsFrom(jira);
      await expect(jira.transitionTo(key, move, { comment: report(key) })).resolves.toBe('transitioned');
      expect(calls()[COMMENTS]).toBe(1);
      // Every comment, paged (the read a worker makes).
      const comments = (await adapter(at).getTicket(key, shape))?.comments ?? [];
      expect(comments).toHaveLength(4); // three notes and one report
      expect(comments.filter((c) => c.text.includes('Memtest passed'))).toHaveLength(1);
    } finally {
      await small.stop();
    }
  });

  it('rides in the transition in a software project, as without the read', async () => {
    const key = await createTask('SOFT');
    const jira = adapter();
    await jira.getTicket(key, shape);
    await expect(jira.transitionTo(key, move, { comment: report(key) })).resolves.toBe('transitioned');
    const calls = Object.fromEntries(jira.calls().map((c) => [c.endpoint, c.count]));
    expect(calls['POST /rest/api/3/issue/{issueIdOrKey}/comment']).toBeUndefined();
    expect(await commentsOf(key)).toHaveLength(1);
  });
});

describe('a plain note with a move in a service project', () => {
  it('rides in the transition: the gate opening quotes no command, so one call moves and explains', async () => {
    const key = await createTask('DESK');
    const jira = adapter();
    const note = doc([paragraph('▶ RMA done: moving to Sync.'), paragraph(commentRef(key, 1, 'gate'))]);
    await expect(jira.transitionTo(key, move, { comment: note })).resolves.toBe('transitioned');
    expect(await commentsOf(key)).toHaveLength(1);
    const calls = Object.fromEntries(jira.calls().map((c) => [c.endpoint, c.count]));
    expect(calls['POST /rest/api/3/issue/{issueIdOrKey}/comment']).toBeUndefined();
  });
});

describe('the report of a move in a software project', () => {
  it('rides in the transition: one call moves and explains', async () => {
    const key = await createTask('SOFT');
    const jira = adapter();
    await expect(jira.transitionTo(key, move, { comment: report(key) })).resolves.toBe('transitioned');
    expect(await commentsOf(key)).toHaveLength(1);
    const calls = Object.fromEntries(jira.calls().map((c) => [c.endpoint, c.count]));
    expect(calls['POST /rest/api/3/issue/{issueIdOrKey}/comment']).toBeUndefined();
    expect(calls['POST /rest/api/3/issue/{issueIdOrKey}/transitions']).toBe(1);
  });
});
