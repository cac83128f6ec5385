// How runbot proves who it is to Jira Cloud, in the three ways an Atlassian admin can give it an
// identity (https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/,
// https://support.atlassian.com/user-management/docs/create-oauth-2-0-credential-for-service-accounts/):
//  - basic:  a user's (or service account's) email + API token, against the site URL;
//  - bearer: a scoped or service-account API token sent as `Authorization: Bearer`, through the API
//            gateway `https://api.atlassian.com/ex/jira/{cloudId}`;
//  - oauth:  OAuth 2.0 client credentials of a service account: an access token (valid about an hour)
//            fetched from the token endpoint, cached, fetched again before it expires and once on a 401.
// One credential object per process serves the adapter and /readyz, so they share one token.

export type JiraAuthSettings =
  | { mode: 'basic'; email: string; apiToken: string }
  | { mode: 'bearer'; token: string }
  | { mode: 'oauth'; clientId: string; clientSecret: string; tokenUrl: string };

export type JiraAuthMode = JiraAuthSettings['mode'];

/** Atlassian's token endpoint for OAuth 2.0 (3LO and service-account client credentials). */
export const ATLASSIAN_TOKEN_URL = 'https://auth.atlassian.com/oauth/token';
/** The API gateway scoped tokens and OAuth tokens must go through. */
const ATLASSIAN_API_GATEWAY = 'https://api.atlassian.com';

export interface JiraCredentials {
  readonly mode: JiraAuthMode;
  /** The `Authorization` header value for the next request (fetches an OAuth token when needed). */
  authorization(): Promise<string>;
  /**
   * A request was answered 401 with `used` as its header: forget the token so the next
   * `authorization()` fetches a fresh one. False when a retry cannot help (basic, bearer, or a token
   * that was already replaced meanwhile counts as true: the caller may retry with the new one).
   */
  rejected(used: string): boolean;
  /** Which variables to check when Jira refuses these credentials. */
  readonly hint: string;
}

/** The token endpoint refused or failed: names the endpoint and the status, never the secret. */
class JiraAuthError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
    this.name = 'JiraAuthError';
  }
}

export interface CredentialOptions {
  /** Clock for token expiry (default Date.now). */
  now?: () => number;
  /** A new OAuth access token was issued: the logger masks it from then on. */
  onToken?: (token: string) => void;
  /** Refresh this long before the token's stated expiry (default 60 s, at most half its lifetime). */
  refreshMarginMs?: number;
}

const HINTS: Record<JiraAuthMode, string> = {
  basic: 'Check JIRA_EMAIL and JIRA_API_TOKEN; the token may be expired or revoked.',
  bearer:
    'Check JIRA_API_TOKEN (a scoped or service-account token) and JIRA_CLOUD_ID; the token may be expired, revoked or lack a scope.',
  oauth:
    "Check JIRA_CLIENT_ID, JIRA_CLIENT_SECRET and JIRA_CLOUD_ID; the service account's credential may be revoked or lack a scope.",
};

export function createJiraCredentials(
  settings: JiraAuthSettings,
  options: CredentialOptions = {},
): JiraCredentials {
  if (settings.mode === 'basic') {
    const header = `Basic ${Buffer.from(`${settings.email}:${settings.apiToken}`).toString('base64')}`;
    return {
      mode: 'basic',
      authorization: () => Promise.resolve(header),
      rejected: () => false,
      hint: HINTS.basic,
    };
  }
  if (settings.mode === 'bearer') {
    const header = `Bearer ${settings.token}`;
    return {
      mode: 'bearer',
      authorization: () => Promise.resolve(header),
      rejected: () => false,
      hint: HINTS.bearer,
    };
  }
  return oauthCredentials(settings, options);
}

function oauthCredentials(
  settings: Extract<JiraAuthSettings, { mode: 'oauth' }>,
  options: CredentialOptions,
): JiraCredentials {
  const now = options.now ?? Date.now;
  let current: { header: string; refreshAt: number } | undefined;
  // Concurrent callers share one token request.
  let pending: Promise<string> | undefined;

  async function fetchToken(): Promise<string> {
    let response: Response;
    try {
      // Atlassian's token endpoint takes the client-credentials grant as JSON (its 3LO examples do too).
      response = await fetch(settings.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({
          grant_type: 'client_credentials',
          client_id: settings.clientId,
          client_secret: settings.clientSecret,
        }),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      throw new JiraAuthError(
        `OAuth token endpoint ${settings.tokenUrl} unreachable (${error instanceof Error ? error.message : String(error)}). Check JIRA_OAUTH_TOKEN_URL and that this machine can reach it.`,
        undefined,
      );
    }
    const text = await response.text();
    if (!response.ok) {
      const said = oauthErrorOf(text);
      throw new JiraAuthError(
        `OAuth token endpoint ${settings.tokenUrl} answered ${response.status}${said ? ` (${said})` : ''}. ${HINTS.oauth}`,
        response.status,
      );
    }
    const body = parseJson(text) as { access_token?: unknown; expires_in?: unknown } | undefined;
    const token = typeof body?.access_token === 'string' ? body.access_token : undefined;
    if (!token) {
      throw new JiraAuthError(
        `OAuth token endpoint ${settings.tokenUrl} answered without an access_token. Check JIRA_OAUTH_TOKEN_URL.`,
        response.status,
      );
    }
    const lifetimeMs =
      (typeof body?.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 3600) * 1000;
    const margin = Math.min(options.refreshMarginMs ?? 60_000, lifetimeMs / 2);
    options.onToken?.(token);
    const header = `Bearer ${token}`;
    current = { header, refreshAt: now() + lifetimeMs - margin };
    return header;
  }

  return {
    mode: 'oauth',
    hint: HINTS.oauth,
    authorization() {
      if (current && now() < current.refreshAt) return Promise.resolve(current.header);
      pending ??= fetchToken().finally(() => {
        pending = undefined;
      });
      return pending;
    },
    rejected(used) {
      // Only the token that was refused is forgotten: another caller may have fetched a new one already.
      if (current?.header === used) current = undefined;
      return true;
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** RFC 6749's `error` / `error_description`, which never echo the secret. */
function oauthErrorOf(text: string): string | undefined {
  const body = parseJson(text) as { error?: unknown; error_description?: unknown } | undefined;
  const parts = [body?.error, body?.error_description].filter(
    (part): part is string => typeof part === 'string',
  );
  return parts.length > 0 ? parts.join(': ') : undefined;
}

/**
 * The base URL REST calls go to, kept with its path: the site for basic auth; for bearer and oauth
 * the gateway `…/ex/jira/{cloudId}`, either given whole as JIRA_URL or built from JIRA_CLOUD_ID.
 */
export function jiraApiBase(url: string, mode: JiraAuthMode, cloudId: string | undefined): string {
  const trimmed = url.replace(/\/+$/, '');
  if (mode === 'basic' || /\/ex\/jira\/[^/]+$/.test(new URL(trimmed).pathname)) return trimmed;
  if (!cloudId)
    throw new Error(
      `JIRA_CLOUD_ID is needed with JIRA_AUTH=${mode} unless JIRA_URL is the …/ex/jira/{cloudId} URL`,
    );
  return `${ATLASSIAN_API_GATEWAY}/ex/jira/${encodeURIComponent(cloudId)}`;
}

/** `base` + an absolute REST path, keeping the base's own path (`new URL(path, base)` would drop it). */
export function jiraEndpointUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path.startsWith('/') ? path : `/${path}`}`;
}
