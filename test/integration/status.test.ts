// `runbot status` against a Jira (the sandbox): tickets per status in runbook order, the steps
// running (from the bookkeeping property, with what the plan says of each: how long its mark holds,
// or that its worker went quiet) and the tickets waiting for a person, read through search.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CREDENTIALS, startDemoEnvironment, type DemoEnvironment } from '../../src/sandbox/demo-env.js';
import { statusCommand } from '../../src/cli/status.js';

describe('runbot status', () => {
  let env: DemoEnvironment;
  const keys: string[] = [];

  beforeAll(async () => {
    env = await startDemoEnvironment();
    for (const host of ['web-1', 'web-2', 'web-3', 'web-4', 'web-5'])
      keys.push((await env.seedTicket(`${host}.dev2.internal`, { rmaDone: false })).key);
  });
  afterAll(() => env?.stop());

  /** Puts the ticket in `status` with a running mark of `step` set `agoMs` ago. */
  async function markRunning(key: string, status: string, step: string, agoMs: number) {
    // A person hands it to any status through the human queue.
    env.sandbox.moveAsHuman(key, 'Actionable');
    env.sandbox.moveAsHuman(key, status);
    const since = new Date(Date.now() - agoMs).toISOString();
    const auth = Buffer.from(`${DEMO_CREDENTIALS.email}:${DEMO_CREDENTIALS.apiToken}`).toString('base64');
    const put = await fetch(`${env.config.JIRA_URL}/rest/api/3/issue/${key}/properties/runbot`, {
      method: 'PUT',
      headers: { authorization: `Basic ${auth}`, 'content-type': 'application/json' },
      body: JSON.stringify({ status, visit: 2, enteredAt: since, running: { step, since } }),
    });
    expect(put.ok).toBe(true);
  }

  it('prints tickets per status, the running steps and who waits for a person', async () => {
    const [, running, failed, resumed, interrupted] = keys as [string, string, string, string, string];
    await markRunning(running, 'Memcheck', 'memcheck-start', 5_000);
    // Past every command's timeout and the grace: no worker has it. One can tell it is done
    // (done_when), one cannot.
    await markRunning(resumed, 'Blacklist Removal', 'blacklist-removal', 3 * 3_600_000);
    await markRunning(interrupted, 'Sync', 'sync', 3 * 3_600_000);
    env.sandbox.moveAsHuman(failed, 'Actionable');

    const lines: string[] = [];
    expect(await statusCommand(env.config, (line) => lines.push(line))).toBe(0);

    expect(lines[0]).toBe('rma-restore · HOT RMA Restore · 5 tickets');
    const rows = lines.slice(1, -3).map((line) => line.trim().split(/\s{2,}|\s(?=\d|·)/)[0]);
    // Every status but Done, in the order a ticket walks them, then the human queue.
    expect(rows).toEqual([
      'Waiting for RMA',
      'Memcheck',
      'Memcheck Running',
      'Sync',
      'Blacklist Removal',
      'Second Sync',
      'Enable Alerting',
      'Rebalance',
      'Actionable',
    ]);
    expect(lines).toContain('  Waiting for RMA      1 █');
    expect(lines).toContain('  Memcheck Running     ·');
    // The fresh mark holds for its commands' timeouts (2 × 60 s) and the 120 s grace, shown rounded
    // up to the minute.
    const until = /until (\d{4}-\d\d-\d\d \d\d:\d\d) UTC at most/.exec(lines.at(-3) ?? '')?.[1];
    const holds = Date.parse(`${until?.replace(' ', 'T')}:00Z`) - Date.now();
    expect(holds).toBeGreaterThan(0);
    expect(holds).toBeLessThanOrEqual(240_000 + 60_000);
    expect(lines.at(-3)).toMatch(
      new RegExp(
        `^  running \\(3\\): ${running} memcheck-start \\d+(\\.\\d)? s, until [^·]+ at most · ` +
          `${resumed} blacklist-removal 3\\.0 h, its worker went quiet: resumed through done_when next · ` +
          `${interrupted} sync 3\\.0 h, to Actionable next: Step sync was interrupted$`,
      ),
    );
    expect(lines.at(-2)).toBe(`  waiting for a person (1): ${failed} in Actionable`);
    // Redis (the demo environment's) holds no open breaker.
    expect(lines.at(-1)).toBe('breakers: all closed');
  });

  it('says what Jira answered and what to check when it refuses the credentials, exit 1', async () => {
    const lines: string[] = [];
    const config = { ...env.config, JIRA_API_TOKEN: 'revoked-token-3b9d' };
    expect(await statusCommand(config, (line) => lines.push(line))).toBe(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^runbot status: Jira GET \/rest\/api\/3\/search\/jql answered 401/);
    expect(lines[0]).toContain('Check JIRA_EMAIL and JIRA_API_TOKEN');
    expect(lines[0]).not.toContain('revoked-token-3b9d');
  });
});
