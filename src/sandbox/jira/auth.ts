// Jira sandbox: who may call, the way Jira Cloud decides it. On the site URL, HTTP basic auth (email
// + API token). Through the API gateway prefix `/ex/jira/{cloudId}` (api.atlassian.com), basic auth
// too, or `Authorization: Bearer` with a scoped / service-account API token or an OAuth access token;
// a Bearer token on the site URL is refused, as Jira does. `POST /oauth/token` stands in for
// auth.atlassian.com: the client-credentials grant, short-lived tokens on the sandbox's clock.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { notAuthenticated } from './errors.js';
import type { Actor, SandboxAuthOptions } from './types.js';

const ANONYMOUS = 'anonymous@sandbox.invalid';
/** The account a Bearer token acts as (a service account has an email-like name too). */
const SERVICE_ACCOUNT = 'runbot-service@serviceaccount.atlassian.com';
export const TOKEN_PATH = '/oauth/token';
const GATEWAY = /^\/ex\/jira\/([^/]+)(\/.*)?$/;

export interface TokenReply {
  status: number;
  body: unknown;
}

export class SandboxAuth {
  private readonly issued = new Map<string, number>();

  constructor(
    private readonly options: SandboxAuthOptions,
    private readonly now: () => number,
  ) {}

  /**
   * Splits the gateway prefix off a path: `{ path, gateway }`, or undefined for a gateway path naming
   * another cloud id (Jira's gateway answers 404 for a site it does not know).
   */
  route(pathname: string): { path: string; gateway: boolean } | undefined {
    const found = GATEWAY.exec(pathname);
    if (!found) return { path: pathname, gateway: false };
    if (decodeURIComponent(found[1] ?? '') !== this.cloudId) return undefined;
    return { path: found[2] ?? '/', gateway: true };
  }

  get cloudId(): string {
    return this.options.cloudId ?? 'sandbox-cloud';
  }

  /** The caller; throws Jira's 401 when credentials are configured and these do not match. */
  authenticate(header: string | undefined, gateway: boolean): Actor {
    const [scheme = '', value = ''] = (header ?? '').trim().split(/\s+/, 2);
    const open =
      !this.options.credentials && !this.options.bearerTokens?.length && !this.options.oauthClients?.length;
    if (/^basic$/i.test(scheme)) {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const email = colon > 0 ? decoded.slice(0, colon) : '';
      const expected = this.options.credentials;
      if (!expected) {
        if (open) return { email: email || ANONYMOUS };
        throw notAuthenticated();
      }
      if (email !== expected.email || !same(decoded.slice(colon + 1), expected.apiToken))
        throw notAuthenticated();
      return { email };
    }
    if (/^bearer$/i.test(scheme)) {
      // OAuth and scoped tokens work only through api.atlassian.com/ex/jira/{cloudId}.
      if (open) return { email: SERVICE_ACCOUNT };
      if (!gateway || !this.bearerValid(value)) throw notAuthenticated();
      return { email: SERVICE_ACCOUNT };
    }
    if (open) return { email: ANONYMOUS };
    throw notAuthenticated();
  }

  private bearerValid(token: string): boolean {
    if ((this.options.bearerTokens ?? []).some((known) => same(token, known))) return true;
    const expires = this.issued.get(token);
    return expires !== undefined && this.now() < expires;
  }

  /** `POST /oauth/token` with the client-credentials grant, as JSON or a form. */
  issueToken(body: string, contentType: string | undefined): TokenReply {
    const fields = parseTokenRequest(body, contentType);
    if (fields.grant_type !== 'client_credentials') {
      return {
        status: 400,
        body: { error: 'unsupported_grant_type', error_description: 'Unsupported grant type' },
      };
    }
    const client = (this.options.oauthClients ?? []).find(
      (candidate) =>
        candidate.clientId === fields.client_id && same(fields.client_secret ?? '', candidate.clientSecret),
    );
    if (!client) return { status: 401, body: { error: 'access_denied', error_description: 'Unauthorized' } };
    const token = `sbx-oauth-${randomBytes(18).toString('base64url')}`;
    const ttl = this.options.oauthTokenTtlSeconds ?? 3600;
    this.issued.set(token, this.now() + ttl * 1000);
    for (const [old, expires] of this.issued) if (expires <= this.now()) this.issued.delete(old);
    return {
      status: 200,
      body: {
        access_token: token,
        token_type: 'Bearer',
        expires_in: ttl,
        scope: 'read:jira-work write:jira-work',
      },
    };
  }
}

function parseTokenRequest(
  body: string,
  contentType: string | undefined,
): Record<string, string | undefined> {
  if (contentType?.includes('application/x-www-form-urlencoded'))
    return Object.fromEntries(new URLSearchParams(body));
  try {
    const parsed = JSON.parse(body) as unknown;
    if (typeof parsed !== 'object' || parsed === null) return {};
    return Object.fromEntries(
      Object.entries(parsed).map(([key, value]) => [key, typeof value === 'string' ? value : undefined]),
    );
  } catch {
    return {};
  }
}

function same(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
