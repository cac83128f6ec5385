// Jira sandbox: the node:http front — matches requests against the REST v3 path templates, checks
// basic auth, parses JSON bodies, counts calls per template, and renders JiraError as Jira's
// ErrorCollection, and injects the configured faults (429 with Retry-After, 5xx, latency) before a
// request touches any state. Handlers are plain functions from a RequestContext to a Reply.
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { JiraError, badRequest, notAuthenticated } from './errors.js';
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
  credentials: { email: string; apiToken: string } | undefined;
  counts: Map<string, number>;
  faults: () => SandboxFaults;
  random: () => number;
}

const MAX_BODY_BYTES = 10 * 1024 * 1024;
const ANONYMOUS = 'anonymous@sandbox.invalid';

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

/** The caller, from `Authorization: Basic …`; 401 when the sandbox has credentials and they do not match. */
function authenticate(header: string | undefined, credentials: FrontOptions['credentials']): Actor {
  const encoded = /^Basic\s+(\S+)$/i.exec(header ?? '')?.[1];
  const decoded = encoded ? Buffer.from(encoded, 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  const email = colon > 0 ? decoded.slice(0, colon) : '';
  if (!credentials) return { email: email || ANONYMOUS };
  if (email !== credentials.email || decoded.slice(colon + 1) !== credentials.apiToken)
    throw notAuthenticated();
  return { email };
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new JiraError(413, ['The request body is too large.']);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw badRequest(`Unexpected content in the request body: ${(error as Error).message}`);
  }
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
    return {
      status: 429,
      headers: { 'retry-after': String(faults.retryAfterSeconds ?? 1) },
      body: { errorMessages: ['Rate limit exceeded.'], errors: {} },
    };
  }
  if ((faults.serverErrorRate ?? 0) > 0 && options.random() < (faults.serverErrorRate ?? 0)) {
    const status = SERVER_ERRORS[Math.floor(options.random() * SERVER_ERRORS.length)] ?? 500;
    return { status, body: { errorMessages: ['Internal server error'], errors: {} } };
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
  const found = match(routes, method, url.pathname);
  const counted = `${method} ${found?.route.template ?? url.pathname}`;
  options.counts.set(counted, (options.counts.get(counted) ?? 0) + 1);
  const latency = options.faults().latencyMs ?? 0;
  if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
  const fault = injectedFault(options);
  if (fault) {
    request.resume();
    return fault;
  }
  const actor = authenticate(request.headers.authorization, options.credentials);
  const body = await readJson(request);
  if (!found) throw new JiraError(404, [`No ${method} ${url.pathname} in the Jira sandbox (REST v3 only).`]);
  return found.route.handle({ params: found.params, query: url.searchParams, body, actor });
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
