import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redisSentinel, redisSettings } from '../../src/config.js';

const VALID = {
  JIRA_URL: 'https://example.atlassian.net',
  JIRA_EMAIL: 'bot@example.com',
  JIRA_API_TOKEN: 's3cret',
};

describe('config: environment to typed settings', () => {
  it('applies the documented defaults', () => {
    expect(loadConfig(VALID)).toMatchObject({
      REDIS_URL: 'redis://127.0.0.1:6379',
      RUNBOT_HTTP_PORT: 8080,
      RUNBOT_DRY_RUN: false,
      RUNBOT_POLL_INTERVAL: 30,
    });
  });

  it('reads the Jira calls in flight (JIRA_CONCURRENCY, default 4) and names a bad value', () => {
    expect(loadConfig(VALID).JIRA_CONCURRENCY).toBe(4);
    expect(loadConfig({ ...VALID, JIRA_CONCURRENCY: '' }).JIRA_CONCURRENCY).toBe(4);
    expect(loadConfig({ ...VALID, JIRA_CONCURRENCY: '16' }).JIRA_CONCURRENCY).toBe(16);
    expect(() => loadConfig({ ...VALID, JIRA_CONCURRENCY: '0' })).toThrow(
      /JIRA_CONCURRENCY: expected at least 1 Jira call in flight \(got "0"\)/,
    );
    expect(() => loadConfig({ ...VALID, JIRA_CONCURRENCY: '2.5' })).toThrow(
      /JIRA_CONCURRENCY: expected a whole number of Jira calls in flight/,
    );
    expect(() => loadConfig({ ...VALID, JIRA_CONCURRENCY: 'many' })).toThrow(
      /JIRA_CONCURRENCY: expected the number of Jira calls in flight at once, e.g. 4 \(got "many"\)/,
    );
    expect(() => loadConfig({ ...VALID, JIRA_CONCURRENCY: '100' })).toThrow(/at most 64/);
  });

  it('reads Redis sentinels as host:port pairs, and names an entry that is not one', () => {
    expect(redisSentinel(loadConfig(VALID))).toBeUndefined();
    const config = loadConfig({
      ...VALID,
      REDIS_SENTINELS: 'sentinel-1.internal:26379, 10.0.0.2:26380,[::1]:26381',
      REDIS_SENTINEL_NAME: 'runbot',
    });
    expect(redisSentinel(config)).toEqual({
      name: 'runbot',
      sentinels: [
        { host: 'sentinel-1.internal', port: 26379 },
        { host: '10.0.0.2', port: 26380 },
        { host: '::1', port: 26381 },
      ],
    });
    expect(redisSentinel(loadConfig({ ...VALID, REDIS_SENTINELS: 'a:1' }))?.name).toBe('mymaster');
    expect(() => loadConfig({ ...VALID, REDIS_SENTINELS: 'a:1,sentinel-2' })).toThrow(
      /REDIS_SENTINELS: "sentinel-2" is not host:port/,
    );
  });

  it('reads Redis Cluster seed nodes, and prefixes every key with the {runbot} hash tag by default', () => {
    expect(loadConfig(VALID).RUNBOT_QUEUE_PREFIX).toBe('runbot');
    expect(redisSettings(loadConfig(VALID))).toEqual({ redisUrl: 'redis://127.0.0.1:6379' });
    const config = loadConfig({
      ...VALID,
      REDIS_URL: 'rediss://runbot:pw@ignored:6379',
      REDIS_CLUSTER_NODES: 'redis-1.internal:6379,10.0.0.2:6380',
    });
    expect(config.RUNBOT_QUEUE_PREFIX).toBe('{runbot}');
    expect(redisSettings(config)).toEqual({
      redisUrl: 'rediss://runbot:pw@ignored:6379',
      cluster: [
        { host: 'redis-1.internal', port: 6379 },
        { host: '10.0.0.2', port: 6380 },
      ],
    });
    expect(
      loadConfig({ ...VALID, REDIS_CLUSTER_NODES: 'a:1', RUNBOT_QUEUE_PREFIX: '{prod}-runbot' })
        .RUNBOT_QUEUE_PREFIX,
    ).toBe('{prod}-runbot');
    expect(() => loadConfig({ ...VALID, REDIS_CLUSTER_NODES: 'a:1,redis-2' })).toThrow(
      /REDIS_CLUSTER_NODES: "redis-2" is not host:port \(e\.g\. redis-1\.internal:6379\)/,
    );
  });

  it('refuses what a Redis Cluster cannot do, saying what to change', () => {
    const cluster = { ...VALID, REDIS_CLUSTER_NODES: 'a:1' };
    expect(() => loadConfig({ ...cluster, RUNBOT_QUEUE_PREFIX: 'runbot' })).toThrow(
      /RUNBOT_QUEUE_PREFIX: with REDIS_CLUSTER_NODES it must start with a \{hash tag\}, e\.g\. \{runbot\}/,
    );
    expect(() => loadConfig({ ...cluster, REDIS_SENTINELS: 'b:2' })).toThrow(
      /REDIS_CLUSTER_NODES: REDIS_CLUSTER_NODES and REDIS_SENTINELS cannot both be set/,
    );
    expect(() => loadConfig({ ...cluster, REDIS_URL: 'redis://x:6379/2' })).toThrow(
      /REDIS_URL: a Redis Cluster has only database 0/,
    );
    // Braces only as a leading hash tag; a plain prefix stays valid without a cluster.
    expect(() => loadConfig({ ...VALID, RUNBOT_QUEUE_PREFIX: 'run{bot}' })).toThrow(/RUNBOT_QUEUE_PREFIX:/);
    expect(loadConfig({ ...VALID, RUNBOT_QUEUE_PREFIX: '{runbot}' }).RUNBOT_QUEUE_PREFIX).toBe('{runbot}');
  });

  it('reads a dry-run flag', () => {
    expect(loadConfig({ ...VALID, RUNBOT_DRY_RUN: 'true' }).RUNBOT_DRY_RUN).toBe(true);
  });

  it('names each invalid variable and what was expected, without echoing the token', () => {
    const attempt = () =>
      loadConfig({ ...VALID, RUNBOT_HTTP_PORT: 'eighty', JIRA_URL: 'not a url', JIRA_EMAIL: 'bot' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/RUNBOT_HTTP_PORT: .*\(got "eighty"\)/);
    expect(attempt).toThrow(/JIRA_URL: expected the Jira site URL/);
    expect(attempt).toThrow(/JIRA_EMAIL: expected the email address/);
    // Empty is unset (docker compose passes `${VAR:-}`): the mode then says what it needs.
    expect(() => loadConfig({ ...VALID, JIRA_API_TOKEN: '' })).toThrow(
      /JIRA_API_TOKEN: its Atlassian API token is required with JIRA_AUTH=basic \(the default\)$/m,
    );
  });

  it('makes comments internal unless told otherwise', () => {
    expect(loadConfig(VALID).RUNBOT_JIRA_INTERNAL_COMMENTS).toBe(true);
    expect(
      loadConfig({ ...VALID, RUNBOT_JIRA_INTERNAL_COMMENTS: 'false' }).RUNBOT_JIRA_INTERNAL_COMMENTS,
    ).toBe(false);
  });

  it('refuses an unknown dry-run spelling', () => {
    expect(() => loadConfig({ ...VALID, RUNBOT_DRY_RUN: 'maybe' })).toThrow(/RUNBOT_DRY_RUN/);
  });
});

describe('config: Jira auth modes', () => {
  const SITE = { JIRA_URL: 'https://example.atlassian.net' };
  const CLOUD = '11223344-a1b2-3b33-c444-def123456789';

  it('defaults to basic and names the missing variable', () => {
    expect(() => loadConfig({ ...SITE, JIRA_API_TOKEN: 's3cret' })).toThrow(
      /JIRA_EMAIL: the email address of the Jira account the bot uses is required with JIRA_AUTH=basic \(the default\)/,
    );
  });

  it('takes a Bearer token without an email, and needs the cloud id or a gateway URL', () => {
    const bearer = { ...SITE, JIRA_AUTH: 'bearer', JIRA_API_TOKEN: 'scoped' };
    expect(() => loadConfig(bearer)).toThrow(
      /JIRA_CLOUD_ID: the site's cloud id is required with JIRA_AUTH=bearer/,
    );
    expect(loadConfig({ ...bearer, JIRA_CLOUD_ID: CLOUD }).JIRA_EMAIL).toBeUndefined();
    expect(() =>
      loadConfig({ ...bearer, JIRA_URL: `https://api.atlassian.com/ex/jira/${CLOUD}` }),
    ).not.toThrow();
    expect(() => loadConfig({ ...SITE, JIRA_AUTH: 'bearer', JIRA_CLOUD_ID: CLOUD })).toThrow(
      /JIRA_API_TOKEN: the scoped or service-account API token is required with JIRA_AUTH=bearer/,
    );
  });

  it('infers oauth from a client id, names the missing secret, and never echoes one', () => {
    const attempt = () => loadConfig({ ...SITE, JIRA_CLIENT_ID: 'client', JIRA_CLOUD_ID: CLOUD });
    expect(attempt).toThrow(
      /JIRA_CLIENT_SECRET: the service account's OAuth 2.0 client secret is required with JIRA_AUTH=oauth \(JIRA_CLIENT_ID is set\)/,
    );
    const config = loadConfig({
      ...SITE,
      JIRA_CLIENT_ID: 'client',
      JIRA_CLIENT_SECRET: 'x',
      JIRA_CLOUD_ID: CLOUD,
    });
    expect(config.JIRA_OAUTH_TOKEN_URL).toBe('https://auth.atlassian.com/oauth/token');
    expect(() =>
      loadConfig({
        ...SITE,
        JIRA_AUTH: 'oauth',
        JIRA_CLIENT_ID: 'c',
        JIRA_CLIENT_SECRET: 'x',
        JIRA_CLOUD_ID: 'not a cloud id!',
      }),
    ).toThrow(/JIRA_CLOUD_ID: expected the site's cloud id/);
  });

  it('reads the webhook secret and the minimum interval of webhook-triggered cycles', () => {
    expect(loadConfig({ ...VALID, RUNBOT_WEBHOOK_SECRET: '' }).RUNBOT_WEBHOOK_SECRET).toBeUndefined();
    expect(loadConfig(VALID).RUNBOT_WEBHOOK_MIN_INTERVAL).toBe(5);
    expect(
      loadConfig({ ...VALID, RUNBOT_WEBHOOK_SECRET: 'shh', RUNBOT_WEBHOOK_MIN_INTERVAL: '0' }),
    ).toMatchObject({
      RUNBOT_WEBHOOK_SECRET: 'shh',
      RUNBOT_WEBHOOK_MIN_INTERVAL: 0,
    });
  });
});
