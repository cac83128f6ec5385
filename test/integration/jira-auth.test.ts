// The three auth modes end to end against the sandbox, through the real adapter, transport and
// /readyz check: basic on the site URL; a scoped / service-account token as Bearer through the API
// gateway prefix `/ex/jira/{cloudId}` (kept on every call); OAuth 2.0 client credentials with a token
// endpoint issuing short-lived tokens, fetched once, refreshed before expiry and once on a 401.
// A wrong secret in each mode ends in an error that names what to check and never the secret.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { jiraCheck } from '../../src/http/readiness.js';
import { createJiraCredentials, type JiraAuthSettings } from '../../src/jira/auth.js';
import { runDoctor } from '../../src/jira/doctor.js';
import { createJiraAdapter, JiraRequestError } from '../../src/jira/index.js';
import { createLogger } from '../../src/logger.js';
import { JiraSandbox } from '../../src/sandbox/jira/index.js';
import type { SandboxProject } from '../../src/sandbox/jira/index.js';
import { jiraConnection } from '../../src/service/jira-connection.js';

const EMAIL = 'runbot@example.com';
const API_TOKEN = 'basic-api-token-7f3a';
const SCOPED_TOKEN = 'ATSTT3xScoped-service-account-token-91c2';
const CLIENT = { clientId: 'svc-client-1', clientSecret: 'svc-client-secret-5d1e' };
const CLOUD_ID = '11223344-a1b2-3b33-c444-def123456789';
const TTL_SECONDS = 300;
const SEARCH = 'GET /rest/api/3/search/jql';
const TOKEN_CALLS = 'POST /oauth/token';

const PROJECT: SandboxProject = {
  key: 'OPS',
  name: 'Operations',
  issueTypes: ['Task'],
  workflow: {
    initial: 'Open',
    statuses: [
      { name: 'Open', category: 'new' },
      { name: 'Done', category: 'done' },
    ],
    transitions: [{ id: '11', name: 'Finish', from: ['Open'], to: 'Done' }],
  },
};
const shape = { inputFields: {} };

let sandboxClock = Date.parse('2026-04-01T08:00:00.000Z');
let clientClock = sandboxClock;
let sandbox: JiraSandbox;
let site: string;
let gateway: string;
let lines: string[];

const logger = () =>
  createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(line) } });

function adapter(url: string, settings: JiraAuthSettings) {
  return createJiraAdapter({
    url,
    credentials: createJiraCredentials(settings, { now: () => clientClock }),
    logger: logger(),
    maxAttempts: 1,
  });
}

const delta = (before: Record<string, number>, key: string) =>
  (sandbox.requestCounts()[key] ?? 0) - (before[key] ?? 0);

beforeAll(async () => {
  sandbox = new JiraSandbox({
    projects: [PROJECT],
    credentials: { email: EMAIL, apiToken: API_TOKEN },
    bearerTokens: [SCOPED_TOKEN],
    cloudId: CLOUD_ID,
    oauthClients: [CLIENT],
    oauthTokenTtlSeconds: TTL_SECONDS,
    now: () => sandboxClock,
  });
  site = await sandbox.start(0);
  gateway = `${site}/ex/jira/${CLOUD_ID}`;
});

afterAll(async () => {
  await sandbox.stop();
});

beforeEach(() => {
  lines = [];
});

describe('jira auth: basic (email + API token) on the site URL', () => {
  it('searches with basic auth', async () => {
    const page = await adapter(site, { mode: 'basic', email: EMAIL, apiToken: API_TOKEN }).searchPage(
      'project = OPS',
      shape,
    );
    expect(page.tickets).toEqual([]);
  });

  it('a wrong token is a 401 naming JIRA_EMAIL and JIRA_API_TOKEN, not the token', async () => {
    const error = await adapter(site, { mode: 'basic', email: EMAIL, apiToken: 'wrong-basic-token' })
      .searchPage('project = OPS', shape)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JiraRequestError);
    expect((error as JiraRequestError).status).toBe(401);
    expect((error as Error).message).toContain('Check JIRA_EMAIL and JIRA_API_TOKEN');
    expect((error as Error).message).not.toContain('wrong-basic-token');
  });
});

describe('jira auth: scoped or service-account token as Bearer through /ex/jira/{cloudId}', () => {
  it('keeps the gateway path on every call: search, read, move', async () => {
    const before = sandbox.requestCounts();
    const jira = adapter(gateway, { mode: 'bearer', token: SCOPED_TOKEN });
    const created = await fetch(`${gateway}/rest/api/3/issue`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SCOPED_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        fields: { project: { key: 'OPS' }, issuetype: { name: 'Task' }, summary: 'x' },
      }),
    });
    const { key } = (await created.json()) as { key: string };
    expect(await jira.getTicket(key, shape)).toMatchObject({ key, status: 'Open' });
    await expect(jira.transitionTo(key, { from: 'Open', to: 'Done' }, {})).resolves.toBe('transitioned');
    await jira.searchPage('project = OPS', shape);
    expect(delta(before, SEARCH)).toBe(1);
    expect(delta(before, 'POST /rest/api/3/issue/{issueIdOrKey}/transitions')).toBe(1);
    expect(sandbox.snapshot(key)?.status).toBe('Done');
  });

  it('is refused on the site URL, as Jira refuses a Bearer token there', async () => {
    const error = await adapter(site, { mode: 'bearer', token: SCOPED_TOKEN })
      .searchPage('project = OPS', shape)
      .catch((e: unknown) => e);
    expect((error as JiraRequestError).status).toBe(401);
  });

  it('a wrong token is a 401 naming JIRA_API_TOKEN and JIRA_CLOUD_ID, not the token', async () => {
    const error = await adapter(gateway, { mode: 'bearer', token: 'ATSTT3x-revoked-token' })
      .searchPage('project = OPS', shape)
      .catch((e: unknown) => e);
    expect((error as JiraRequestError).status).toBe(401);
    expect((error as Error).message).toContain(
      'Check JIRA_API_TOKEN (a scoped or service-account token) and JIRA_CLOUD_ID',
    );
    expect((error as Error).message).not.toContain('ATSTT3x-revoked-token');
  });

  it("runbot doctor's refused credentials name the bearer mode's variables too", async () => {
    const rows = await runDoctor(adapter(gateway, { mode: 'bearer', token: 'ATSTT3x-revoked-token' }), []);
    expect(rows.map((row) => [row.check, row.result])).toEqual([['auth (GET /myself)', 'problem']]);
    expect(rows[0]?.fix).toContain(
      'Check JIRA_API_TOKEN (a scoped or service-account token) and JIRA_CLOUD_ID',
    );
    expect(rows[0]?.fix).not.toContain('JIRA_EMAIL');
  });
});

describe('jira auth: OAuth 2.0 client credentials (service account)', () => {
  const oauth = (): JiraAuthSettings => ({ mode: 'oauth', ...CLIENT, tokenUrl: `${site}/oauth/token` });

  it('fetches one token for many calls, a new one before it expires, and one more after a 401', async () => {
    const before = sandbox.requestCounts();
    const jira = adapter(gateway, oauth());
    await jira.searchPage('project = OPS', shape);
    await jira.searchPage('project = OPS', shape);
    expect(delta(before, TOKEN_CALLS)).toBe(1);

    // Within a minute of its end (5 min lifetime): fetched again before Jira would refuse it.
    clientClock += (TTL_SECONDS - 30) * 1000;
    sandboxClock = clientClock;
    await jira.searchPage('project = OPS', shape);
    expect(delta(before, TOKEN_CALLS)).toBe(2);

    // Jira stops accepting the token early (revoked, or clocks apart): one 401, one new token, one retry.
    sandboxClock += TTL_SECONDS * 1000;
    await jira.searchPage('project = OPS', shape);
    expect(delta(before, TOKEN_CALLS)).toBe(3);
    expect(delta(before, SEARCH)).toBe(5); // 4 answered, 1 refused with 401 and sent again
    clientClock = sandboxClock;
  });

  it('a wrong client secret says the token endpoint refused it, naming the variables, not the secret', async () => {
    const error = await adapter(gateway, {
      ...oauth(),
      clientSecret: 'not-the-secret-0000',
    } as JiraAuthSettings)
      .searchPage('project = OPS', shape)
      .catch((e: unknown) => e);
    expect((error as Error).name).toBe('JiraAuthError');
    expect((error as Error).message).toContain(
      `${site}/oauth/token answered 401 (access_denied: Unauthorized)`,
    );
    expect((error as Error).message).toContain('Check JIRA_CLIENT_ID, JIRA_CLIENT_SECRET and JIRA_CLOUD_ID');
    expect((error as Error).message).not.toContain('not-the-secret-0000');
  });
});

describe('jira auth: configuration to a working connection', () => {
  it('JIRA_AUTH=oauth with JIRA_CLOUD_ID builds the gateway URL, and issued tokens never reach the logs', async () => {
    const config = loadConfig({
      JIRA_URL: site,
      JIRA_CLIENT_ID: CLIENT.clientId,
      JIRA_CLIENT_SECRET: CLIENT.clientSecret,
      JIRA_CLOUD_ID: CLOUD_ID,
      JIRA_OAUTH_TOKEN_URL: `${site}/oauth/token`,
    });
    const log = logger();
    const connection = jiraConnection(config, log);
    // The real gateway: this test only checks the URL, then talks to the sandbox's gateway path.
    expect(connection.url).toBe(`https://api.atlassian.com/ex/jira/${CLOUD_ID}`);
    const jira = createJiraAdapter({ ...connection, url: gateway, logger: log });
    await jira.searchPage('project = OPS', shape);
    const header = await connection.credentials.authorization();
    log.warn(
      { header, said: `the token was ${header.slice('Bearer '.length)}` },
      'a line that should not leak',
    );
    expect(lines.join('\n')).not.toContain(header.slice('Bearer '.length));
    expect(lines.join('\n')).toContain('[redacted]');
  });
});

describe('jira auth: /readyz through the gateway path', () => {
  it('is ready with a Bearer token through /ex/jira/{cloudId} (the path is kept)', async () => {
    const check = jiraCheck({
      url: gateway,
      credentials: createJiraCredentials({ mode: 'bearer', token: SCOPED_TOKEN }),
    });
    expect(await check()).toBeUndefined();
  });

  it('is ready with OAuth client credentials', async () => {
    const check = jiraCheck({
      url: `${gateway}/`,
      credentials: createJiraCredentials({ mode: 'oauth', ...CLIENT, tokenUrl: `${site}/oauth/token` }),
    });
    expect(await check()).toBeUndefined();
  });

  it('names the variables of the mode when Jira refuses the token', async () => {
    const check = jiraCheck({
      url: gateway,
      credentials: createJiraCredentials({ mode: 'bearer', token: 'nope-nope' }),
    });
    expect(await check()).toBe('jira: answered 401 (check JIRA_API_TOKEN and JIRA_CLOUD_ID)');
  });

  it('says when the token endpoint refuses the client', async () => {
    const check = jiraCheck({
      url: gateway,
      credentials: createJiraCredentials({
        mode: 'oauth',
        ...CLIENT,
        clientSecret: 'wrong-secret-1',
        tokenUrl: `${site}/oauth/token`,
      }),
    });
    expect(await check()).toMatch(/^jira: OAuth token endpoint .* answered 401 .*JIRA_CLIENT_SECRET/);
  });
});
