// POST /webhook/jira over real HTTP (loopback): Jira's issue events ask for an early poll, each
// delivery at most once, and nothing in a payload is ever taken as state.
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHttpServer } from '../../src/http/server.js';
import { createJiraWebhook, signatureOf, type WebhookHint } from '../../src/http/webhook.js';

// The shape Jira Cloud sends for jira:issue_updated (trimmed; see the webhooks documentation).
const issueUpdated = (key: string) => ({
  timestamp: 1767607200000,
  webhookEvent: 'jira:issue_updated',
  issue_event_type_name: 'issue_generic',
  user: { accountId: '5b10a2844c20165700ede21g', displayName: 'Mia Krystof' },
  issue: { id: '10002', key, fields: { status: { name: 'Sync' } } },
  changelog: { id: '10100', items: [{ field: 'status', fromString: 'Memcheck', toString: 'Sync' }] },
});

let hints: number;
let server: Awaited<ReturnType<typeof startHttpServer>>;

beforeEach(async () => {
  hints = 0;
  server = await startHttpServer(0, {
    registry: new Registry(),
    readiness: () => Promise.resolve([]),
    onWebhook: () => {
      hints += 1;
    },
  });
});

afterEach(async () => {
  server.server.closeAllConnections();
  await server.close();
});

const deliver = async (body: unknown, delivery?: string) => {
  const response = await fetch(`http://127.0.0.1:${server.port}/webhook/jira`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(delivery ? { 'X-Atlassian-Webhook-Identifier': delivery } : {}),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, text: await response.text() };
};

describe('webhook hint: POST /webhook/jira', () => {
  it('asks for an early poll on jira:issue_updated', async () => {
    const answer = await deliver(issueUpdated('HOT-1'), 'delivery-1');
    expect(answer.status).toBe(202);
    expect(hints).toBe(1);
  });

  it('acts on a delivery once, however often Jira retries it', async () => {
    expect((await deliver(issueUpdated('HOT-1'), 'delivery-7')).status).toBe(202);
    expect(await deliver(issueUpdated('HOT-1'), 'delivery-7')).toEqual({
      status: 200,
      text: 'duplicate delivery\n',
    });
    expect((await deliver(issueUpdated('HOT-1'), 'delivery-8')).status).toBe(202);
    expect(hints).toBe(2);
  });

  it('answers other events 200 without polling, so Jira does not retry them', async () => {
    const answer = await deliver({ webhookEvent: 'comment_created', comment: { id: '1' } }, 'delivery-2');
    expect(answer).toEqual({ status: 200, text: 'ignored: comment_created\n' });
    expect(hints).toBe(0);
  });

  it('refuses a body that is not a Jira webhook payload', async () => {
    expect((await deliver('not json', 'delivery-3')).status).toBe(400);
    expect((await deliver({ hello: 'world' }, 'delivery-4')).status).toBe(400);
    expect(hints).toBe(0);
  });
});

/** A request as the handler sees it: a readable body and headers. */
const incoming = (body: Buffer, headers: Record<string, string> = {}) =>
  Object.assign(Readable.from([body]), { headers }) as unknown as IncomingMessage;

describe('webhook hint: bounded memory', () => {
  it('forgets the oldest delivery ids beyond its limit', async () => {
    let count = 0;
    const handle = createJiraWebhook({ onHint: () => (count += 1), remember: 2 });
    const request = (id: string) =>
      incoming(Buffer.from(JSON.stringify(issueUpdated('HOT-1'))), { 'x-atlassian-webhook-identifier': id });
    for (const id of ['a', 'b', 'c', 'a', 'c']) await handle(request(id));
    // 'a' was forgotten when 'c' arrived, so its retry polls again; 'c' is still remembered.
    expect(count).toBe(4);
  });

  it('refuses an oversized payload without reading it all', async () => {
    const handle = createJiraWebhook({ onHint: () => undefined, maxBodyBytes: 10 });
    expect(await handle(incoming(Buffer.alloc(64, 'x')))).toMatchObject({ status: 413 });
  });
});

describe('webhook hint: signed deliveries (RUNBOT_WEBHOOK_SECRET)', () => {
  const SECRET = 'whsec-3f9c1d7e';
  const signed = (body: string, secret = SECRET, extra: Record<string, string> = {}) =>
    incoming(Buffer.from(body), { 'x-hub-signature': signatureOf(secret, body), ...extra });
  const payload = JSON.stringify(issueUpdated('HOT-1'));

  it('accepts a delivery signed with the secret and passes on the issue it names', async () => {
    const seen: WebhookHint[] = [];
    const handle = createJiraWebhook({ onHint: (hint) => seen.push(hint), secret: SECRET });
    expect(await handle(signed(payload))).toMatchObject({ status: 202 });
    expect(seen).toEqual([{ verified: true, issueId: 10002, issueKey: 'HOT-1' }]);
  });

  it('checks the HMAC of the raw bytes, not of the JSON re-serialised', async () => {
    const seen: WebhookHint[] = [];
    const handle = createJiraWebhook({ onHint: (hint) => seen.push(hint), secret: SECRET });
    const spaced = `{ "webhookEvent" : "jira:issue_updated",  "issue": {"id": "10007", "key": "HOT-7", "fields": {"summary": "Łódź ✓"}} }`;
    expect(await handle(signed(spaced))).toMatchObject({ status: 202 });
    expect(seen).toEqual([{ verified: true, issueId: 10007, issueKey: 'HOT-7' }]);
  });

  it.each([
    ['unsigned', () => incoming(Buffer.from(payload))],
    ['signed with another secret', () => signed(payload, 'another-secret')],
    [
      'signed over another body',
      () => incoming(Buffer.from(payload), { 'x-hub-signature': signatureOf(SECRET, `${payload} `) }),
    ],
    [
      'signed without the sha256= prefix',
      () => incoming(Buffer.from(payload), { 'x-hub-signature': signatureOf(SECRET, payload).slice(7) }),
    ],
    [
      'signed with a truncated digest',
      () => incoming(Buffer.from(payload), { 'x-hub-signature': signatureOf(SECRET, payload).slice(0, 40) }),
    ],
  ])('answers 401 to a delivery %s and asks for nothing', async (_name, request) => {
    let hints = 0;
    const handle = createJiraWebhook({ onHint: () => (hints += 1), secret: SECRET });
    const answer = await handle(request());
    expect(answer.status).toBe(401);
    expect(answer.body).toContain('X-Hub-Signature');
    expect(hints).toBe(0);
  });

  it('does not let a forged delivery use up a real delivery id', async () => {
    let hints = 0;
    const handle = createJiraWebhook({ onHint: () => (hints += 1), secret: SECRET });
    const id = { 'x-atlassian-webhook-identifier': 'delivery-42' };
    expect((await handle(signed(payload, 'forger', id))).status).toBe(401);
    expect((await handle(signed(payload, SECRET, id))).status).toBe(202);
    expect(hints).toBe(1);
  });

  it('without a secret, asks for a poll but names no issue to reconcile (nothing is verified)', async () => {
    const seen: WebhookHint[] = [];
    const handle = createJiraWebhook({ onHint: (hint) => seen.push(hint) });
    expect(await handle(incoming(Buffer.from(payload)))).toMatchObject({ status: 202 });
    expect(seen).toEqual([{ verified: false, issueKey: 'HOT-1' }]);
  });
});
