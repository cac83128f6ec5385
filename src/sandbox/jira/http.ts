// Jira sandbox: the node:http front — matches requests against the REST v3 path templates, checks
// basic auth, parses JSON bodies, counts calls per template, and renders JiraError as Jira's
// ErrorCollection, and injects the configured faults (429 with Retry-After, 5xx, latency) before a
// request touches any state. Handlers are plain functions from a RequestContext to a Reply.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { SandboxAuth } from './auth.js';
import { TOKEN_PATH } from './auth.js';
import { JiraError, badRequest } from './errors.js';
import type { Actor, SandboxFaults } from './types.js';

export interface RequestContext {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  actor: Actor;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** The spec's path template, e.g. `/rest/api/3/issue/{issueIdOrKey}/comment`. */
  template: string;
  handle: (context: RequestContext) => Reply;
}

export interface FrontOptions {
  routes: Route[];
  auth: SandboxAuth;
  now: () => number;
  counts: Map<string, number>;
  faults: () => SandboxFaults;
  random: () => number;
}

const MAX_BODY_BYTES = 10 * 1024 * 1024;

interface CompiledRoute extends Route {
  pattern: RegExp;
  names: string[];
}

function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  const source = route.template.replace(/\{(\w+)\}/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { ...route, pattern: new RegExp(`^${source}/?$`), names };
}

function match(routes: CompiledRoute[], method: string, path: string) {
  for (const route of routes) {
    if (route.method !== method) continue;
    const found = route.pattern.exec(path);
    if (!found) continue;
    const params = Object.fromEntries(
      route.names.map((name, i) => [name, decodeURIComponent(found[i + 1] ?? '')]),
    );
    return { route, params };
  }
  return undefined;
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const text = await readText(request);
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw badRequest(`Unexpected content in the request body: ${(error as Error).message}`);
  }
}

async function readText(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new JiraError(413, ['The request body is too large.']);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(response: ServerResponse, reply: Reply): void {
  if (reply.body === undefined) {
    response.writeHead(reply.status, reply.headers ?? {}).end();
    return;
  }
  const text = JSON.stringify(reply.body);
  response
    .writeHead(reply.status, {
      ...reply.headers,
      'content-type': 'application/json;charset=UTF-8',
      'content-length': Buffer.byteLength(text),
    })
    .end(text);
}

const SERVER_ERRORS = [500, 502, 503] as const;

/** A configured fault for this request, or undefined to serve it. Drawn before any state is touched. */
function injectedFault(options: FrontOptions): Reply | undefined {
  const faults = options.faults();
  if ((faults.rateLimitRate ?? 0) > 0 && options.random() < (faults.rateLimitRate ?? 0)) {
    // Atlassian's headers on a 429 (https://developer.atlassian.com/cloud/jira/platform/rate-limiting/).
    const retryAfter = faults.retryAfterSeconds ?? 1;
    return {
      status: 429,
      headers: {
        'retry-after': String(retryAfter),
        'ratelimit-reason': faults.rateLimitReason ?? 'jira-burst-based',
        'x-ratelimit-limit': '100',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': new Date(options.now() + retryAfter * 1000).toISOString(),
      },
      body: { errorMessages: ['Rate limit exceeded.'], errors: {} },
    };
  }
  if ((faults.serverErrorRate ?? 0) > 0 && options.random() < (faults.serverErrorRate ?? 0)) {
    const status = SERVER_ERRORS[Math.floor(options.random() * SERVER_ERRORS.length)] ?? 500;
    const retryAfter = status === 503 ? faults.serverErrorRetryAfterSeconds : undefined;
    return {
      status,
      ...(retryAfter !== undefined ? { headers: { 'retry-after': String(retryAfter) } } : {}),
      body: { errorMessages: ['Internal server error'], errors: {} },
    };
  }
  return undefined;
}

async function serve(
  request: IncomingMessage,
  options: FrontOptions,
  routes: CompiledRoute[],
): Promise<Reply> {
  const url = new URL(request.url ?? '/', 'http://sandbox.invalid');
  const method = request.method ?? 'GET';
  if (method === 'POST' && url.pathname === TOKEN_PATH) {
    // auth.atlassian.com's token endpoint, not Jira: no Jira faults, no Jira error shape.
    options.counts.set(`POST ${TOKEN_PATH}`, (options.counts.get(`POST ${TOKEN_PATH}`) ?? 0) + 1);
    return options.auth.issueToken(await readText(request), request.headers['content-type']);
  }
  const routed = options.auth.route(url.pathname);
  const pathname = routed?.path ?? url.pathname;
  const found = routed ? match(routes, method, pathname) : undefined;
  const counted = `${method} ${found?.route.template ?? pathname}`;
  options.counts.set(counted, (options.counts.get(counted) ?? 0) + 1);
  const latency = options.faults().latencyMs ?? 0;
  if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
  const fault = injectedFault(options);
  if (fault) {
    request.resume();
    return fault;
  }
  if (!routed) throw new JiraError(404, [`No Jira site with cloud id in ${url.pathname}.`]);
  const actor: Actor = options.auth.authenticate(request.headers.authorization, routed.gateway);
  const body = await readJson(request);
  if (!found) throw new JiraError(404, [`No ${method} ${pathname} in the Jira sandbox (REST v3 only).`]);
  const reply = found.route.handle({ params: found.params, query: url.searchParams, body, actor });
  const near = options.faults().nearLimitRemaining;
  if (near === undefined) return reply;
  return {
    ...reply,
    headers: {
      ...reply.headers,
      'x-ratelimit-nearlimit': 'true',
      'x-ratelimit-remaining': String(near),
      'x-ratelimit-reset': new Date(options.now() + 60_000).toISOString(),
    },
  };
}

export function createJiraServer(options: FrontOptions): Server {
  const routes = options.routes.map(compile);
  return createServer((request, response) => {
    serve(request, options, routes)
      .then((reply) => send(response, reply))
      .catch((error: unknown) => {
        if (error instanceof JiraError) {
          send(response, { status: error.status, body: error.toJSON() });
          return;
        }
        // A sandbox bug: answer like Jira's 500 and keep the cause visible to whoever runs it.
        console.error('jira sandbox: unexpected error', error);
        send(response, { status: 500, body: { errorMessages: ['Internal server error'], errors: {} } });
      });
  });
}
