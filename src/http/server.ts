// One small HTTP server: /healthz (alive), /readyz (Redis and Jira reachable, definitions loaded),
// /metrics (Prometheus), and POST /webhook/jira, a hint that asks for an early poll (never state).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { createJiraWebhook, type WebhookHint } from './webhook.js';

export interface HttpDeps {
  registry: Registry;
  /** Returns the names of what is not ready; empty when ready. */
  readiness: () => Promise<string[]>;
  onWebhook?: (hint: WebhookHint) => void;
  /** Jira's webhook secret; deliveries without its signature are refused with 401. */
  webhookSecret?: string | undefined;
  beforeMetrics?: () => Promise<void>;
}

export async function startHttpServer(
  port: number,
  deps: HttpDeps,
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const webhook = createJiraWebhook({
    onHint: (hint) => deps.onWebhook?.(hint),
    ...(deps.webhookSecret !== undefined ? { secret: deps.webhookSecret } : {}),
  });
  const server = createServer((request, response) => {
    const send = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      response.writeHead(status, { 'content-type': type });
      response.end(body);
    };
    const url = request.url?.split('?')[0];
    void (async () => {
      if (request.method === 'GET' && url === '/healthz') return send(200, 'ok\n');
      if (request.method === 'GET' && url === '/readyz') {
        const missing = await deps.readiness().catch((error: unknown) => [String(error)]);
        return missing.length === 0 ? send(200, 'ready\n') : send(503, `not ready: ${missing.join(', ')}\n`);
      }
      if (request.method === 'GET' && url === '/metrics') {
        await deps.beforeMetrics?.();
        return send(200, await deps.registry.metrics(), deps.registry.contentType);
      }
      if (request.method === 'POST' && url === '/webhook/jira') {
        const answer = await webhook(request);
        return send(answer.status, answer.body);
      }
      return send(404, 'not found\n');
    })().catch((error: unknown) => send(500, `${String(error)}\n`));
  });
  await new Promise<void>((resolve) => server.listen(port, resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
