// A tiny HTTP proxy that records every exchange on its way through: the adapter talks to it exactly
// as it would talk to Jira (its URL is JIRA_URL), and the test reads the real traffic afterwards.
import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Exchange } from './openapi.js';

const FORWARDED_REQUEST = ['authorization', 'accept', 'content-type'];
const FORWARDED_RESPONSE = ['content-type', 'retry-after'];

export interface RecordingProxy {
  url: string;
  exchanges: Exchange[];
  stop(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** JSON text as a value; undefined for an empty body; the raw text when it is not JSON (a finding). */
function parsed(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const exchanges: Exchange[] = [];
  const server: Server = createServer((request, response) => {
    void (async () => {
      const method = request.method ?? 'GET';
      const url = request.url ?? '/';
      const requestText = await readBody(request);
      const headers: Record<string, string> = {};
      for (const name of FORWARDED_REQUEST) {
        const value = request.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      const answer = await fetch(`${target}${url}`, {
        method,
        headers,
        ...(requestText === '' ? {} : { body: requestText }),
      });
      const responseText = await answer.text();
      exchanges.push({
        method,
        url,
        requestBody: parsed(requestText),
        status: answer.status,
        responseBody: parsed(responseText),
      });
      const back: Record<string, string> = {};
      for (const name of FORWARDED_RESPONSE) {
        const value = answer.headers.get(name);
        if (value !== null) back[name] = value;
      }
      response.writeHead(answer.status, back).end(responseText);
    })().catch((error: unknown) => {
      response.writeHead(502, { 'content-type': 'text/plain' }).end(`recording proxy: ${String(error)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeIdleConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
