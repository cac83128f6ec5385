// POST /webhook/jira: a hint, never state. Jira's `jira:issue_updated` (and `jira:issue_created`)
// events ask for an early poll; the poll then reads the truth from Jira as always, so a lost,
// late, forged or repeated webhook costs at most one extra search. Jira delivers at least once and
// retries: deliveries are deduplicated by `X-Atlassian-Webhook-Identifier`, remembered in bounded
// memory (https://developer.atlassian.com/cloud/jira/platform/webhooks/#known-issues).
// With a secret (System → WebHooks → Secret), Jira signs each delivery: `X-Hub-Signature:
// sha256=<hex HMAC-SHA256 of the raw body>` (https://developer.atlassian.com/cloud/jira/platform/webhooks/#secure-admin-webhooks);
// a delivery without a valid signature is answered 401 before anything else is read from it. Only a
// verified delivery may name its issue for the next search's `reconcileIssues`.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export interface WebhookAnswer {
  status: number;
  body: string;
}

/** What a delivery asks for: an early poll, and (verified only) the issue that changed. */
export interface WebhookHint {
  /** The signature checked out (a secret is configured); only then is `issueId` passed on. */
  verified: boolean;
  /** The issue's numeric id, from a verified delivery's `issue.id`. */
  issueId?: number;
  issueKey?: string;
}

export interface JiraWebhookOptions {
  /** Asks for an early poll (the poller's `wake`), with the issue a verified delivery names. */
  onHint: (hint: WebhookHint) => void;
  /** Jira's webhook secret: deliveries must be signed with it (unset: unsigned deliveries accepted). */
  secret?: string | undefined;
  /** Delivery ids remembered for deduplication (default 1000; the oldest is forgotten first). */
  remember?: number;
  /** Largest body read (default 1 MiB; Jira's issue payloads are far smaller). */
  maxBodyBytes?: number;
}

/** The events that can mean "a ticket the bot owns may have moved". */
const HINT_EVENTS = new Set(['jira:issue_updated', 'jira:issue_created']);
const DELIVERY_HEADER = 'x-atlassian-webhook-identifier';
const SIGNATURE_HEADER = 'x-hub-signature';

class BodyTooLarge extends Error {}

async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      request.resume();
      throw new BodyTooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

interface Delivery {
  event: string;
  issueId?: number;
  issueKey?: string;
}

function deliveryOf(text: string): Delivery | undefined {
  try {
    const payload = JSON.parse(text) as unknown;
    if (typeof payload !== 'object' || payload === null) return undefined;
    const { webhookEvent: event, issue } = payload as { webhookEvent?: unknown; issue?: unknown };
    if (typeof event !== 'string') return undefined;
    const { id, key } = (typeof issue === 'object' && issue !== null ? issue : {}) as {
      id?: unknown;
      key?: unknown;
    };
    const issueId = typeof id === 'string' && /^\d{1,15}$/.test(id) ? Number(id) : undefined;
    return {
      event,
      ...(issueId !== undefined ? { issueId } : {}),
      ...(typeof key === 'string' ? { issueKey: key } : {}),
    };
  } catch {
    return undefined;
  }
}

/** `sha256=<hex>` over the raw body, compared in constant time. */
function signatureMatches(secret: string, body: Buffer, header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header[0] : header;
  const hex = /^sha256=([0-9a-f]{64})$/i.exec(value?.trim() ?? '')?.[1];
  if (!hex) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(hex, 'hex'));
}

/** The header Jira sends for `body` signed with `secret` (for tests and for checking a setup by hand). */
export function signatureOf(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Handles one delivery: 202 when it asked for a poll, 200 when ignored (duplicate, other event). */
export function createJiraWebhook(options: JiraWebhookOptions) {
  const remember = options.remember ?? 1000;
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const seen = new Set<string>();

  return async function handle(request: IncomingMessage): Promise<WebhookAnswer> {
    let raw: Buffer;
    try {
      raw = await readBody(request, maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLarge) return { status: 413, body: 'payload too large\n' };
      throw error;
    }
    // Before anything in the body is believed, including its delivery id (a forged id could mask a real one).
    if (
      options.secret !== undefined &&
      !signatureMatches(options.secret, raw, request.headers[SIGNATURE_HEADER])
    ) {
      return { status: 401, body: 'missing or wrong X-Hub-Signature: expected sha256=<HMAC of the body>\n' };
    }
    const parsed = deliveryOf(raw.toString('utf8'));
    if (parsed === undefined) {
      return { status: 400, body: 'expected a Jira webhook payload: JSON with "webhookEvent"\n' };
    }
    const { event } = parsed;
    const header = request.headers[DELIVERY_HEADER];
    const delivery = Array.isArray(header) ? header[0] : header;
    if (delivery !== undefined && seen.has(delivery)) return { status: 200, body: 'duplicate delivery\n' };
    if (delivery !== undefined) {
      seen.add(delivery);
      for (const oldest of seen) {
        if (seen.size <= remember) break;
        seen.delete(oldest);
      }
    }
    // 2xx either way: anything else makes Jira retry a delivery we have no use for.
    if (!HINT_EVENTS.has(event)) return { status: 200, body: `ignored: ${event}\n` };
    const verified = options.secret !== undefined;
    options.onHint({
      verified,
      ...(verified && parsed.issueId !== undefined ? { issueId: parsed.issueId } : {}),
      ...(parsed.issueKey !== undefined ? { issueKey: parsed.issueKey } : {}),
    });
    return { status: 202, body: 'accepted: polling early\n' };
  };
}
