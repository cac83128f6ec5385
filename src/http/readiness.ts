// What /readyz checks: Redis answers PING, Jira answers GET /rest/api/3/myself with our credentials
// (cheap, and proves the token works), the definitions are loaded, and the process is not stopping.
// Each check returns undefined when fine, or a short reason an operator can act on.
import { jiraEndpointUrl, type JiraCredentials } from '../jira/auth.js';
import { createRedis, type RedisSettings } from '../queue/connection.js';

export type ReadinessCheck = () => Promise<string | undefined>;

const PROBE_TIMEOUT_MS = 3_000;

/** A dedicated connection that fails fast instead of queueing commands while Redis is away. */
export function redisCheck(settings: RedisSettings): { check: ReadinessCheck; close(): void } {
  const redis = createRedis(settings, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: PROBE_TIMEOUT_MS,
  });
  redis.on('error', () => undefined); // reported through the check, not as an unhandled event
  return {
    async check() {
      try {
        // Only a connection never opened (or closed by us) needs connect(); ioredis reconnects the rest.
        if (redis.status === 'wait' || redis.status === 'end') await redis.connect();
        return (await redis.ping()) === 'PONG' ? undefined : 'redis: no PONG';
      } catch (error) {
        return `redis: ${error instanceof Error ? error.message : String(error)}`;
      }
    },
    close: () => redis.disconnect(),
  };
}

/**
 * GET /rest/api/3/myself, remembered for `cacheMs` so that probes every few seconds cost Jira one
 * call per interval at most.
 */
export function jiraCheck(options: {
  /** REST base URL, path kept (the API gateway's `/ex/jira/{cloudId}` must not be dropped). */
  url: string;
  credentials: JiraCredentials;
  cacheMs?: number;
  fetch?: typeof fetch;
}): ReadinessCheck {
  const doFetch = options.fetch ?? fetch;
  const endpoint = jiraEndpointUrl(options.url, '/rest/api/3/myself');
  const check = CHECK[options.credentials.mode];
  let cached: { at: number; result: string | undefined } | undefined;
  return async () => {
    // A failure is remembered only briefly, so readiness returns soon after Jira does.
    const ttl = cached?.result === undefined ? (options.cacheMs ?? 10_000) : 1_000;
    if (cached && Date.now() - cached.at < ttl) return cached.result;
    let result: string | undefined;
    let authorization: string;
    try {
      authorization = await options.credentials.authorization();
    } catch (error) {
      // The OAuth token endpoint refused or failed; its message names it and what to check.
      result = `jira: ${error instanceof Error ? error.message : String(error)}`;
      cached = { at: Date.now(), result };
      return result;
    }
    try {
      const response = await doFetch(endpoint, {
        headers: { authorization, accept: 'application/json' },
        signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
      });
      await response.body?.cancel();
      if (response.status === 401) options.credentials.rejected(authorization); // next probe: a fresh token
      if (response.status === 401 || response.status === 403)
        result = `jira: answered ${response.status} (check ${check})`;
      else if (!response.ok) result = `jira: answered ${response.status}`;
    } catch (error) {
      result = `jira: unreachable (${error instanceof Error ? error.message : String(error)})`;
    }
    cached = { at: Date.now(), result };
    return result;
  };
}

const CHECK: Record<JiraCredentials['mode'], string> = {
  basic: 'JIRA_EMAIL and JIRA_API_TOKEN',
  bearer: 'JIRA_API_TOKEN and JIRA_CLOUD_ID',
  oauth: 'JIRA_CLIENT_ID, JIRA_CLIENT_SECRET and JIRA_CLOUD_ID',
};

/** Runs every check at once; the reasons of those that fail, empty when ready. */
export function readiness(checks: ReadinessCheck[]): () => Promise<string[]> {
  return async () =>
    (await Promise.all(checks.map((check) => check()))).filter(
      (reason): reason is string => reason !== undefined,
    );
}
