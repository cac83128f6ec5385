// The Jira transport's HTTP exchange (src/jira/http-send.ts) against a real local server: what it
// keeps of fetch's behaviour (compressed answers decoded, headers read case-insensitively, the
// status text), keep-alive reuse, and an answer cut off mid-body reported as a network failure.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateRawSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendHttp } from '../../src/jira/http-send.js';

const BODY = JSON.stringify({ key: 'OPS-1', text: 'ü'.repeat(5000) });

describe('jira transport: one HTTP exchange over node:http', () => {
  let server: http.Server;
  let base: string;
  const sockets = new Set<unknown>();
  const seen: http.IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      sockets.add(req.socket);
      seen.push(req.headers);
      let posted = '';
      req.on('data', (chunk: Buffer) => (posted += chunk.toString()));
      req.on('end', () => {
        if (req.url === '/gzip') {
          res.writeHead(200, { 'content-encoding': 'gzip', 'X-RateLimit-NearLimit': 'true' });
          res.end(gzipSync(BODY));
        } else if (req.url === '/deflate-raw') {
          res.writeHead(200, { 'content-encoding': 'deflate' });
          res.end(deflateRawSync(BODY));
        } else if (req.url === '/echo') {
          res.writeHead(201, 'Made It');
          res.end(posted);
        } else if (req.url === '/cut') {
          res.writeHead(200, { 'content-length': String(BODY.length * 2) });
          res.write(BODY.slice(0, 100));
          setImmediate(() => req.socket.destroy());
        } else {
          res.writeHead(404, 'Nope');
          res.end();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('decodes gzip and raw deflate answers and reads headers case-insensitively', async () => {
    const gzip = await sendHttp(`${base}/gzip`, { method: 'GET', headers: { accept: 'application/json' } });
    expect(gzip).toMatchObject({ status: 200, ok: true, text: BODY });
    expect(gzip.headers.get('x-ratelimit-nearlimit')).toBe('true');
    expect(gzip.headers.get('Retry-After')).toBeNull();
    const deflate = await sendHttp(`${base}/deflate-raw`, { method: 'GET', headers: {} });
    expect(deflate.text).toBe(BODY);
    expect(seen.at(-1)?.['accept-encoding']).toBe('gzip, deflate, br');
  });

  it('sends a body with its length, keeps the status text, and a failed status is not ok', async () => {
    const posted = await sendHttp(`${base}/echo`, { method: 'POST', headers: {}, body: BODY });
    expect(posted).toMatchObject({ status: 201, statusText: 'Made It', ok: true, text: BODY });
    expect(seen.at(-1)?.['content-length']).toBe(String(Buffer.byteLength(BODY)));
    const missing = await sendHttp(`${base}/nothing`, { method: 'GET', headers: {} });
    expect(missing).toMatchObject({ status: 404, statusText: 'Nope', ok: false, text: '' });
  });

  it('reuses one kept-alive connection for calls one after another', async () => {
    const before = sockets.size;
    for (let call = 0; call < 5; call += 1) await sendHttp(`${base}/echo`, { method: 'GET', headers: {} });
    expect(sockets.size - before).toBeLessThanOrEqual(1);
  });

  it('reports an answer cut off mid-body as a reset connection', async () => {
    await expect(sendHttp(`${base}/cut`, { method: 'GET', headers: {} })).rejects.toMatchObject({
      code: 'ECONNRESET',
    });
  });

  it('reports a refused connection with its code', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(sendHttp(`http://127.0.0.1:${port}/`, { method: 'GET', headers: {} })).rejects.toMatchObject(
      {
        code: 'ECONNREFUSED',
      },
    );
  });
});
