// One HTTP exchange of the Jira transport (transport.ts), over node:http and node:https with
// keep-alive agents. Not fetch: at ~45 Jira calls per ticket, fetch (undici's WHATWG streams and
// Response objects) cost ~0.2 ms more CPU per call than node:http does for the same answer (measured
// side by side on loopback), and the answers are read whole anyway. What fetch did and this keeps:
// undici's timeouts (10 s to connect, 300 s without a byte of the answer), gzip/deflate/br answers
// decoded, the status, its text and the headers; failures keep Node's error codes (ECONNRESET…),
// which the transport classifies. Redirects are not followed: Jira's REST API does not send them,
// and a 3xx is reported as the failed answer it is.
import http from 'node:http';
import https from 'node:https';
import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';

/** An answer read whole. `headers.get` reads like fetch's Headers (case-insensitive, null when absent). */
export interface HttpAnswer {
  status: number;
  statusText: string;
  ok: boolean;
  headers: { get(name: string): string | null };
  text: string;
}

export interface HttpRequest {
  method: string;
  headers: Record<string, string>;
  body?: string;
}

/** undici's defaults, which fetch applied: connecting, and waiting for the answer's next byte. */
const CONNECT_TIMEOUT_MS = 10_000;
const IDLE_TIMEOUT_MS = 300_000;
/** A kept-alive socket idle this long is closed, before a server would close it under a new request
 * (Node's own servers close idle sockets after 5 s). */
const FREE_SOCKET_MS = 4_000;

const agents = {
  'http:': new http.Agent({ keepAlive: true, timeout: FREE_SOCKET_MS }),
  'https:': new https.Agent({ keepAlive: true, timeout: FREE_SOCKET_MS }),
};

export function sendHttp(url: string, init: HttpRequest): Promise<HttpAnswer> {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  return new Promise((resolve, reject) => {
    let connectTimer: NodeJS.Timeout | undefined;
    const fail = (error: Error) => {
      clearTimeout(connectTimer);
      reject(error);
    };
    const request = (secure ? https : http).request(target, {
      method: init.method,
      agent: secure ? agents['https:'] : agents['http:'],
      headers: {
        'accept-encoding': 'gzip, deflate, br',
        ...init.headers,
        ...(init.body !== undefined ? { 'content-length': String(Buffer.byteLength(init.body)) } : {}),
      },
    });
    request.on('socket', (socket) => {
      if (!socket.connecting) return;
      connectTimer = setTimeout(
        () => request.destroy(timedOut(`connecting took over ${CONNECT_TIMEOUT_MS / 1000} s`)),
        CONNECT_TIMEOUT_MS,
      );
      socket.once(secure ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
    });
    request.setTimeout(IDLE_TIMEOUT_MS, () =>
      request.destroy(timedOut(`no answer for ${IDLE_TIMEOUT_MS / 1000} s`)),
    );
    request.on('error', fail);
    request.on('response', (response) => {
      clearTimeout(connectTimer);
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', fail);
      response.on('end', () => {
        let text: string;
        try {
          text = decode(Buffer.concat(chunks), response.headers['content-encoding']).toString('utf8');
        } catch (error) {
          fail(error as Error);
          return;
        }
        const status = response.statusCode ?? 0;
        resolve({
          status,
          statusText: response.statusMessage ?? '',
          ok: status >= 200 && status < 300,
          headers: headersOf(response.headers),
          text,
        });
      });
      // Closed before the whole answer came (the socket was reset): a network failure.
      response.on('close', () => {
        if (!response.complete)
          fail(Object.assign(new Error('the answer was cut off'), { code: 'ECONNRESET' }));
      });
    });
    request.end(init.body);
  });
}

function decode(body: Buffer, encoding: string | undefined): Buffer {
  switch (encoding?.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return gunzipSync(body);
    case 'deflate':
      // zlib-wrapped as the RFC says, or raw as some servers send it (fetch reads both).
      try {
        return inflateSync(body);
      } catch {
        return inflateRawSync(body);
      }
    case 'br':
      return brotliDecompressSync(body);
    default:
      return body;
  }
}

function headersOf(raw: http.IncomingHttpHeaders): HttpAnswer['headers'] {
  return {
    get(name) {
      const value = raw[name.toLowerCase()];
      return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

function timedOut(what: string): Error {
  return Object.assign(new Error(`timed out: ${what}`), { code: 'ETIMEDOUT' });
}
