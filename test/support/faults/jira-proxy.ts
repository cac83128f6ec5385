// A fault between the bot and Jira that the sandbox's own injection cannot make: the request
// reaches Jira and takes effect, but the answer is lost (a gateway times out after Jira committed).
// This is at-least-once delivery on the HTTP level: the client cannot tell "failed" from "done".
// It can also refuse a request outright, aimed at one ticket's calls (the sandbox's own 5xx fall at
// random): answered 503 without reaching Jira, so it takes no effect.
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LostAnswerProxy {
  url: string;
  /** Requests that took effect in Jira but were answered 504, by `METHOD path`. */
  lost: string[];
  /** Requests answered 503 without reaching Jira, by `METHOD path`. */
  refused: string[];
  stop(): Promise<void>;
}

/** Whether the proxy picks this request (to lose its answer, or to refuse it); `nth` counts requests
 * with the same method and path (1, 2, …). */
export type PicksRequest = (request: { method: string; path: string; nth: number }) => boolean;

export const isWrite = (method: string) => method !== 'GET' && method !== 'HEAD';

export async function startLostAnswerProxy(
  target: string,
  lose: PicksRequest,
  refuse: PicksRequest = () => false,
): Promise<LostAnswerProxy> {
  const upstream = new URL(target);
  const lost: string[] = [];
  const refused: string[] = [];
  const seen = new Map<string, number>();
  const server = createServer((incoming: IncomingMessage, outgoing: ServerResponse) => {
    const method = incoming.method ?? 'GET';
    const path = incoming.url ?? '/';
    const id = `${method} ${path.split('?')[0] ?? path}`;
    const nth = (seen.get(id) ?? 0) + 1;
    seen.set(id, nth);
    const asked = { method, path: path.split('?')[0] ?? path, nth };
    if (refuse(asked)) {
      refused.push(id);
      incoming.resume();
      outgoing.writeHead(503, { 'content-type': 'text/plain' }).end('Service Unavailable');
      return;
    }
    const loseAnswer = lose(asked);
    const forwarded = request(
      { host: upstream.hostname, port: upstream.port, method, path, headers: incoming.headers },
      (answer) => {
        if (loseAnswer) {
          answer.resume();
          answer.on('end', () => {
            lost.push(id);
            outgoing.writeHead(504, { 'content-type': 'text/plain' }).end('Gateway Timeout');
          });
          return;
        }
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', () => outgoing.writeHead(502).end());
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    lost,
    refused,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
