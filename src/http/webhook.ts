// POST /webhook/jira: a hint, never state. Jira's `jira:issue_updated` (and `jira:issue_created`)
// events ask for an early poll; the poll then reads the truth from Jira as always, so a lost,
// late, forged or repeated webhook costs at most one extra search. Jira delivers at least once and
// retries: deliveries are deduplicated by `X-Atlassian-Webhook-Identifier`, remembered in bounded
// memory (https://developer.atlassian.com/cloud/jira/platform/webhooks/#known-issues).
import type { IncomingMessage } from 'node:http';

export interface WebhookAnswer {
  status: number;
  body: string;
}

export interface JiraWebhookOptions {
  /** Asks for an early poll (the poller's `wake`). */
  onHint: () => void;
  /** Delivery ids remembered for deduplication (default 1000; the oldest is forgotten first). */
  remember?: number;
  /** Largest body read (default 1 MiB; Jira's issue payloads are far smaller). */
  maxBodyBytes?: number;
}

/** The events that can mean "a ticket the bot owns may have moved". */
const HINT_EVENTS = new Set(['jira:issue_updated', 'jira:issue_created']);
export const DELIVERY_HEADER = 'x-atlassian-webhook-identifier';

class BodyTooLarge extends Error {}

async function readBody(request: IncomingMessage, limit: number): Promise<string> {
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
  return Buffer.concat(chunks).toString('utf8');
}

function eventOf(text: string): string | undefined {
  try {
    const payload = JSON.parse(text) as unknown;
    if (typeof payload !== 'object' || payload === null) return undefined;
    const event = (payload as { webhookEvent?: unknown }).webhookEvent;
    return typeof event === 'string' ? event : undefined;
  } catch {
    return undefined;
  }
}

/** Handles one delivery: 202 when it asked for a poll, 200 when ignored (duplicate, other event). */
export function createJiraWebhook(options: JiraWebhookOptions) {
  const remember = options.remember ?? 1000;
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const seen = new Set<string>();

  return async function handle(request: IncomingMessage): Promise<WebhookAnswer> {
    let text: string;
    try {
      text = await readBody(request, maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLarge) return { status: 413, body: 'payload too large\n' };
      throw error;
    }
    const event = eventOf(text);
    if (event === undefined) {
      return { status: 400, body: 'expected a Jira webhook payload: JSON with "webhookEvent"\n' };
    }
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
    options.onHint();
    return { status: 202, body: 'accepted: polling early\n' };
  };
}
