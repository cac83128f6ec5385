// Contract, `runbot doctor`: doctor reads a healthy site, a broken one, a project that does not
// exist and a site that refuses its credentials, all through the recording proxy, and every
// exchange — doctor's requests and the sandbox's answers — is validated against Atlassian's spec.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.js';
import { loadDefinitions } from '../../src/definitions/index.js';
import type { Workflow } from '../../src/definitions/index.js';
import { runDoctor, type DoctorRow } from '../../src/jira/doctor.js';
import { createJiraAdapter } from '../../src/jira/index.js';
import { createLogger } from '../../src/logger.js';
import { DEMO_CREDENTIALS } from '../../src/sandbox/demo-env.js';
import {
  DONE_RESOLUTION,
  brokenSite,
  seedOnePerStatus,
  withTransitionScreen,
} from '../../src/sandbox/doctor-jira.js';
import { JiraSandbox, type SandboxOptions } from '../../src/sandbox/jira/index.js';
import { HOST_FIELD, RMA_PROJECT, restoreProject } from '../../src/sandbox/rma-jira.js';
import { SpecValidator } from './openapi.js';
import { startRecordingProxy, type RecordingProxy } from './recording-proxy.js';

const logger = createLogger({ level: 'silent' });
const validator = new SpecValidator();
const sites: { sandbox: JiraSandbox; proxy: RecordingProxy }[] = [];
const results: Record<string, DoctorRow[]> = {};

/** A sandbox seeded directly (not through the proxy), behind a fresh recording proxy. */
async function site(options: Omit<SandboxOptions, 'credentials'>, workflow: Workflow) {
  const sandbox = new JiraSandbox({ ...options, credentials: DEMO_CREDENTIALS });
  const url = await sandbox.start(0);
  await seedOnePerStatus(sandbox, url, DEMO_CREDENTIALS, workflow);
  const proxy = await startRecordingProxy(url);
  sites.push({ sandbox, proxy });
  return proxy.url;
}

const doctor = (url: string, workflow: Workflow, apiToken = DEMO_CREDENTIALS.apiToken) =>
  runDoctor(createJiraAdapter({ url, ...DEMO_CREDENTIALS, apiToken, logger, maxAttempts: 1 }), [workflow]);

beforeAll(async () => {
  const definitions = await loadDefinitions({ root: PROJECT_ROOT });
  const shipped = definitions.workflows.get('rma-restore');
  if (!shipped) throw new Error('the shipped workflow rma-restore is missing');
  const healthy: Workflow = {
    ...shipped,
    transitions: { [shipped.done]: { fields: { resolution: { name: 'Done' } } } },
  };
  const healthyUrl = await site(
    {
      projects: [withTransitionScreen(restoreProject(shipped), shipped.done, DONE_RESOLUTION), RMA_PROJECT],
      customFields: [HOST_FIELD],
    },
    shipped,
  );
  results.healthy = await doctor(healthyUrl, healthy);
  results.noProject = await doctor(healthyUrl, { ...healthy, jira: { ...healthy.jira, project: 'NOPE' } });
  results.refused = await doctor(healthyUrl, healthy, 'revoked');
  const { projects, customFields, linkTypes, permissions } = brokenSite(shipped);
  const brokenUrl = await site({ projects, customFields, linkTypes, permissions }, shipped);
  results.broken = await doctor(brokenUrl, shipped);
});

afterAll(async () => {
  for (const { sandbox, proxy } of sites) {
    await proxy.stop();
    await sandbox.stop();
  }
});

describe("jira contract: runbot doctor's reads against the OpenAPI spec", () => {
  const exchanges = () => sites.flatMap((s) => s.proxy.exchanges);

  it('every request and every answer fits the spec', () => {
    const problems = exchanges().flatMap((exchange) => validator.check(exchange));
    expect(problems).toEqual([]);
  });

  it('reads only (GET), and covers every call doctor makes, with their failure answers', () => {
    const seen = new Set(
      exchanges().map(
        (e) => `${e.method} ${validator.templateOf(new URL(e.url, 'http://x').pathname) ?? '?'}`,
      ),
    );
    expect([...seen].sort()).toEqual([
      'GET /rest/api/3/field',
      'GET /rest/api/3/issue/{issueIdOrKey}/transitions',
      'GET /rest/api/3/issueLinkType',
      'GET /rest/api/3/mypermissions',
      'GET /rest/api/3/myself',
      'GET /rest/api/3/project/{projectIdOrKey}/statuses',
      'GET /rest/api/3/search/jql',
    ]);
    expect([...new Set(exchanges().map((e) => e.status))].sort()).toEqual([200, 401, 404]);
  });

  it('sees what the sandbox serves: a healthy site passes, a broken one does not', () => {
    expect(results.healthy?.filter((row) => row.result !== 'ok')).toEqual([]);
    expect(results.broken?.filter((row) => row.result === 'problem')).toHaveLength(6);
    expect(results.noProject?.find((row) => row.check.startsWith('project NOPE'))).toMatchObject({
      result: 'problem',
      found: "project NOPE does not exist or the bot's account cannot see it",
    });
    expect(results.refused).toEqual([
      expect.objectContaining({ check: 'auth (GET /myself)', result: 'problem' }),
    ]);
  });
});
