// The demo, in-process, with 6 tickets to Done: what it prints (the failures, retries and Action
// Required comments a newcomer should see, and the exact last line), what /metrics says after the
// run, and the service's logs captured through the whole run (no secret in any line).
import { Writable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CREDENTIALS } from '../../src/sandbox/demo-env.js';
import { runDemo } from '../../src/sandbox/demo.js';

interface Run {
  exitCode: number;
  lines: string[];
  metrics: string;
  logs: string;
}

let run: Run;

beforeAll(async () => {
  const lines: string[] = [];
  const logChunks: string[] = [];
  let metrics = '';
  const exitCode = await runDemo({
    tickets: 6,
    exitWhenDone: true,
    timeoutMs: 55_000,
    print: (line) => lines.push(line),
    logLevel: 'debug',
    logDestination: new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        logChunks.push(chunk.toString());
        done();
      },
    }),
    beforeStop: async (service) => {
      metrics = await (await fetch(`http://127.0.0.1:${service.httpPort}/metrics`)).text();
    },
  });
  run = { exitCode, lines, metrics, logs: logChunks.join('') };
}, 60_000);

/** The value of one sample, e.g. `runbot_steps_failed_total{workflow="rma-restore",kind="ssh",step="sync"}`. */
const sample = (metrics: string, series: string) => {
  const line = metrics.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};
const step = (family: string, kind: string, name: string) =>
  `${family}{workflow="rma-restore",kind="${kind}",step="${name}"}`;

describe('e2e: the demo with 6 tickets', () => {
  it('brings every ticket to Done and ends with the audit line: nothing failed or done twice', () => {
    expect(run.exitCode, run.lines.join('\n')).toBe(0);
    expect(run.lines.at(-1)).toMatch(
      /^demo: 6 done, 0 failed, 0 duplicate steps, 0 duplicate comments in \d+\.\d s$/,
    );
  });

  it('shows a newcomer a failure comment, the operator retrying, and Action Required comments', () => {
    const text = run.lines.join('\n');
    expect(text).toMatch(/HOT-\d+ comment: ❌ sync failed on manager-0\.dev2\.internal/);
    expect(text).toMatch(/HOT-\d+ operator: fixed the storage replica set, hands it back to Sync/);
    expect(text).toMatch(/HOT-\d+ comment: Action Required/);
    expect(text).toMatch(/HOT-\d+ Actionable → Sync/);
    expect(text).toContain('demo: summary: ');
    expect(text).toMatch(/2 tickets handed back by the operator/);
  });

  it('exposes the step, manual-step, queue, Jira and poll families on /metrics after the run', () => {
    const m = run.metrics;
    // Two syncs failed before the operator fixed them, so sync ran twice for those tickets.
    expect(sample(m, step('runbot_steps_failed_total', 'ssh', 'sync'))).toBe(2);
    expect(sample(m, step('runbot_steps_succeeded_total', 'ssh', 'sync'))).toBe(6);
    expect(sample(m, step('runbot_steps_started_total', 'ssh', 'sync'))).toBeGreaterThanOrEqual(8);
    expect(sample(m, step('runbot_steps_succeeded_total', 'manual', 'enable-alerting'))).toBe(6);
    expect(sample(m, step('runbot_steps_succeeded_total', 'wait', 'memcheck-wait'))).toBe(6);
    expect(sample(m, step('runbot_step_duration_seconds_count', 'ssh', 'rebalance'))).toBe(6);
    expect(
      sample(m, 'runbot_manual_steps_total{workflow="rma-restore",step="enable-alerting",reason="runbook"}'),
    ).toBe(6);
    expect(sample(m, 'runbot_manual_steps_total{workflow="rma-restore",step="sync",reason="failure"}')).toBe(
      2,
    );
    expect(sample(m, 'runbot_queue_jobs{state="completed"}')).toBeGreaterThan(0);
    // Ages are seconds, not milliseconds or epoch times: nothing in the run is older than the run.
    const runSeconds = Number(/in (\d+\.\d) s$/.exec(run.lines.at(-1) ?? '')?.[1]);
    expect(sample(m, 'runbot_queue_oldest_job_age_seconds')).toBeGreaterThanOrEqual(0);
    expect(sample(m, 'runbot_queue_oldest_job_age_seconds')).toBeLessThan(runSeconds);
    expect(
      sample(
        m,
        'runbot_jira_calls_total{endpoint="POST /rest/api/3/issue/{issueIdOrKey}/transitions",outcome="ok"}',
      ),
    ).toBeGreaterThanOrEqual(6 * 7 + 2); // 7 bot moves per ticket (one step is a person's), 2 to Actionable
    expect(sample(m, 'runbot_jira_rate_limited_total')).toBe(0);
    expect(sample(m, 'runbot_jira_backoff_seconds_total')).toBe(0);
    expect(sample(m, 'runbot_poll_cycles_total{outcome="ok"}')).toBeGreaterThan(1);
    expect(sample(m, 'runbot_poll_cycle_duration_seconds_count')).toBeGreaterThan(1);
    expect(sample(m, 'runbot_poll_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(sample(m, 'runbot_poll_lag_seconds')).toBeLessThan(runSeconds);
    expect(m).toContain('# TYPE runbot_tickets gauge');
  });

  it('never writes the Jira token, nor the Basic credentials made from it, to the logs', () => {
    const basic = Buffer.from(`${DEMO_CREDENTIALS.email}:${DEMO_CREDENTIALS.apiToken}`).toString('base64');
    expect(run.logs.length).toBeGreaterThan(1000);
    expect(run.logs).not.toContain(DEMO_CREDENTIALS.apiToken);
    expect(run.logs).not.toContain(basic);
  });

  it('puts ticket, workflow, job and step on every worker line about a step', () => {
    const lines = run.logs
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const done = lines.filter((line) => line.msg === 'job done');
    expect(done.length).toBeGreaterThan(6 * 8);
    for (const line of done) {
      expect(line.ticket).toMatch(/^HOT-\d+$/);
      expect(line.workflow).toBe('rma-restore');
      expect(line.job).toMatch(/^HOT-\d+\.v\d+\.[a-zA-Z]+/);
      if (line.decision !== 'transition') expect(line.step).toEqual(expect.any(String));
    }
  });
});
