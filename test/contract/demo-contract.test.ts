// Contract, whole service: `runbot demo --jira-url` runs the demo (poller, workers, the people it
// plays) against a sandbox behind the recording proxy, and every exchange of that run is validated
// against Atlassian's OpenAPI spec — the calls the service makes in real use, not a script of them.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.js';
import { loadDefinitions } from '../../src/definitions/index.js';
import { runDemo } from '../../src/sandbox/demo.js';
import { DEMO_CREDENTIALS } from '../../src/sandbox/demo-env.js';
import { JiraSandbox } from '../../src/sandbox/jira/index.js';
import { HOST_FIELD, RMA_PROJECT, restoreProject } from '../../src/sandbox/rma-jira.js';
import { SpecValidator } from './openapi.js';
import { startRecordingProxy } from './recording-proxy.js';
import type { RecordingProxy } from './recording-proxy.js';

let sandbox: JiraSandbox;
let proxy: RecordingProxy;
let exitCode: number;
const lines: string[] = [];

beforeAll(async () => {
  const definitions = await loadDefinitions({ root: PROJECT_ROOT });
  const workflow = definitions.workflows.get('rma-restore');
  if (!workflow) throw new Error('the shipped workflow rma-restore is missing');
  // What `runbot sandbox` serves, here in-process so the test can stop it.
  sandbox = new JiraSandbox({
    projects: [restoreProject(workflow), RMA_PROJECT],
    customFields: [HOST_FIELD],
    credentials: DEMO_CREDENTIALS,
  });
  proxy = await startRecordingProxy(await sandbox.start(0));
  exitCode = await runDemo({
    tickets: 3, // the third host's sync fails once: a failure comment and a hand-back
    exitWhenDone: true,
    jiraUrl: proxy.url,
    timeoutMs: 150_000,
    print: (line) => lines.push(line),
    tty: false,
    logDestination: new Writable({ write: (_chunk, _encoding, done) => done() }),
  });
}, 180_000);

afterAll(async () => {
  await proxy?.stop();
  await sandbox?.stop();
});

describe('jira contract: the demo run through a validating proxy', () => {
  it('finishes every ticket with nothing done twice', () => {
    expect(exitCode, lines.join('\n')).toBe(0);
    expect(lines.at(-1)).toMatch(/^demo: 3 done, 0 failed, 0 duplicate steps, 0 duplicate comments/);
  });

  it('every request and every answer of the run fits the spec', () => {
    const validator = new SpecValidator();
    expect(proxy.exchanges.length).toBeGreaterThan(50);
    const problems = proxy.exchanges.flatMap((exchange) => validator.check(exchange));
    expect(problems).toEqual([]);
  });
});
