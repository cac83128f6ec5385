// The HTTP transport under jira.js: jira.js builds each request (path, query, body) and we send it
// (over node:http with keep-alive, http-send.ts).
// Ours rather than jira.js's own because jira.js keeps no response headers: it drops `Retry-After`
// on a 503 and never shows `RateLimit-Reason`, `X-RateLimit-*` or `X-RateLimit-NearLimit`, which
// Atlassian asks clients to act on (https://developer.atlassian.com/cloud/jira/platform/rate-limiting/).
// It also keeps the base URL's path (the API gateway's `/ex/jira/{cloudId}`), asks the credentials
// for the Authorization header on every request (an OAuth token may have been refreshed), and
// fetches a new OAuth token once on a 401. Failures become jira.js's own error classes, so the
// predicates (`isRateLimitError`…) and the rest of the adapter work unchanged.
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  ApiError,
  AuthError,
  ForbiddenError,
  NetworkError,
  NotFoundError,
  RateLimitError,
  ScopeError,
  ServerError,
} from 'jira.js';
import type { Client, SendRequestOptions } from 'jira.js/core';
import type { JiraCredentials } from './auth.js';
import { jiraEndpointUrl } from './auth.js';
import { sendHttp, type HttpAnswer } from './http-send.js';
import { readRateLimitHeaders, type RateLimitSignal } from './rate-limit.js';

/** What one attempt saw of Jira's rate-limit headers; the adapter reads it after the attempt. */
export interface ResponseNotes {
  signal?: RateLimitSignal;
}

/** Carries each attempt's notes from the adapter's call wrapper to the transport, call by call. */
export const responseNotes = new AsyncLocalStorage<ResponseNotes>();

export interface TransportOptions {
  /** REST base URL, path kept (`https://x.atlassian.net` or `https://api.atlassian.com/ex/jira/{cloudId}`). */
  baseUrl: string;
  credentials: JiraCredentials;
  /** Clock for HTTP-date headers (default Date.now). */
  now?: () => number;
}

const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

export function createJiraTransport(options: TransportOptions): Client {
  const now = options.now ?? Date.now;
  return {
    async sendRequest<T>(request: SendRequestOptions<T>): Promise<T> {
      const url = withQuery(jiraEndpointUrl(options.baseUrl, request.url), request.searchParams);
      const method = request.method ?? 'GET';
      const body =
        request.body === undefined || request.body === null ? undefined : JSON.stringify(request.body);
      const send = async (authorization: string) => {
        try {
          return await sendHttp(url, {
            method,
            headers: {
              accept: 'application/json',
              ...(body !== undefined || !['GET', 'HEAD'].includes(method)
                ? { 'content-type': 'application/json' }
                : {}),
              authorization,
              ...request.headers,
            },
            ...(body !== undefined ? { body } : {}),
          });
        } catch (error) {
          throw toNetworkError(error, url);
        }
      };
      let authorization = await options.credentials.authorization();
      let response = await send(authorization);
      if (response.status === 401 && options.credentials.rejected(authorization)) {
        // An OAuth token expired early or was revoked: one fresh token, one more try.
        authorization = await options.credentials.authorization();
        response = await send(authorization);
      }
      const signal = readRateLimitHeaders(response.status, response.headers, now());
      const notes = responseNotes.getStore();
      if (notes) notes.signal = signal;
      const { text } = response;
      if (!response.ok) throw toApiError(response, text, signal);
      if (response.status === 204 || text === '') return undefined as T;
      // jira.js's own response schema (`request.schema`) is not run: it is stricter than Jira, a failed
      // parse was ignored anyway, and the adapter validates the slices it reads with its own lenient
      // schemas (issue-schema.ts, site-reads.ts). Its only transforms (timestamps into Dates) are read
      // nowhere; parsing it cost ~3 % of the service's CPU in the batch benchmark.
      return parseJson(text) as T;
    },
  };
}

function withQuery(url: string, params: Record<string, unknown> | undefined): string {
  if (!params) return url;
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    // Arrays repeat the parameter, as jira.js does and Jira reads them.
    if (Array.isArray(value)) for (const item of value) query.append(key, String(item));
    else query.set(key, typeof value === 'string' ? value : JSON.stringify(value));
  }
  const text = query.toString();
  return text ? `${url}?${text}` : url;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text || undefined;
  }
}

function toApiError(response: HttpAnswer, text: string, signal: RateLimitSignal | undefined): ApiError {
  const body = parseJson(text);
  const message = `Request failed: ${response.status} ${response.statusText}${text ? ` - ${text}` : ''}`;
  const { status, statusText } = response;
  if (status === 401) {
    const said = typeof body === 'object' && body !== null ? (body as { message?: unknown }).message : body;
    return typeof said === 'string' && /scope does not match/i.test(said)
      ? new ScopeError(message, statusText, body)
      : new AuthError(message, statusText, body);
  }
  if (status >= 300 && status < 400) {
    // Not followed (http-send.ts): say where it points, so JIRA_URL can be set there.
    const location = response.headers.get('location');
    const where = location ? `redirected to ${location}` : 'redirected, with no Location';
    return new ApiError(message, status, statusText, { errorMessages: [where] });
  }
  if (status === 403) return new ForbiddenError(message, statusText, body);
  if (status === 404) return new NotFoundError(message, statusText, body);
  if (status === 429)
    return new RateLimitError(message, statusText, body, { retryAfterMs: signal?.retryAfterMs });
  if (status >= 500) {
    // jira.js's ServerError has no Retry-After; a 503 may carry one ("handle it like a 429", Atlassian).
    const error = new ServerError(message, status, statusText, body);
    return signal?.retryAfterMs === undefined
      ? error
      : Object.assign(error, { retryAfterMs: signal.retryAfterMs });
  }
  return new ApiError(message, status, statusText, body);
}

function toNetworkError(error: unknown, url: string): NetworkError {
  let code: string | undefined;
  let cursor = error;
  for (let depth = 0; cursor instanceof Error && depth < 5 && !code; depth += 1) {
    code = (cursor as { code?: string }).code;
    cursor = cursor.cause;
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new NetworkError(`Request to ${url} failed: ${reason}${code ? ` (${code})` : ''}`, {
    cause: error,
    ...(code ? { code } : {}),
    transient: code !== undefined && (TRANSIENT_CODES.has(code) || code.startsWith('ERR_SSL_')),
  });
}
