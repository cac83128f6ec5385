import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redisSentinel } from '../../src/config.js';

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

  it('reads a dry-run flag', () => {
    expect(loadConfig({ ...VALID, RUNBOT_DRY_RUN: 'true' }).RUNBOT_DRY_RUN).toBe(true);
  });

  it('names each invalid variable and what was expected, without echoing the token', () => {
    const attempt = () =>
      loadConfig({ ...VALID, RUNBOT_HTTP_PORT: 'eighty', JIRA_URL: 'not a url', JIRA_API_TOKEN: '' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/RUNBOT_HTTP_PORT: .*\(got "eighty"\)/);
    expect(attempt).toThrow(/JIRA_URL: expected the Jira site URL/);
    expect(attempt).toThrow(/JIRA_API_TOKEN: expected an Atlassian API token$/m);
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
