// The operator's HTTP surface of a running service: /healthz, /readyz (Redis, Jira, definitions),
// /metrics, against the Jira sandbox and a real redis-server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { startDemoEnvironment, type DemoEnvironment } from '../../src/sandbox/demo-env.js';
import { startService, type RunningService } from '../../src/service/app.js';
import { until } from '../support/poll.js';

const get = async (port: number | undefined, path: string) => {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text(), type: response.headers.get('content-type') };
};

describe('http: health, readiness and metrics of a running service', () => {
  let env: DemoEnvironment;
  let service: RunningService;
  let wrongToken: RunningService;

  beforeAll(async () => {
    env = await startDemoEnvironment();
    // Its RMA is not repaired yet, so the ticket waits at the gate and no step runs.
    await env.seedTicket('container-201-01.dev2.internal', { rmaDone: false });
    const logger = createLogger({ level: 'silent' });
    service = await startService(env.config, { poll: true, work: false, http: true }, logger);
    // The same service with a token Jira refuses: alive, but not ready.
    wrongToken = await startService(
      { ...env.config, JIRA_API_TOKEN: 'not-the-token', RUNBOT_QUEUE_PREFIX: 'wrongtoken' },
      { poll: false, work: false, http: true },
      logger,
    );
  });
  afterAll(async () => {
    await wrongToken?.stop();
    await service?.stop();
    await env?.stop();
  });

  it('answers /healthz with 200 while the process runs', async () => {
    expect(await get(service.httpPort, '/healthz')).toMatchObject({ status: 200, body: 'ok\n' });
    expect((await get(wrongToken.httpPort, '/healthz')).status).toBe(200);
  });

  it('is ready when Redis and Jira answer and the definitions are loaded', async () => {
    expect(await get(service.httpPort, '/readyz')).toMatchObject({ status: 200, body: 'ready\n' });
  });

  it('is not ready when Jira refuses the credentials, and says which to check', async () => {
    const readyz = await get(wrongToken.httpPort, '/readyz');
    expect(readyz.status).toBe(503);
    expect(readyz.body).toContain('jira: answered 401 (check JIRA_EMAIL and JIRA_API_TOKEN)');
    expect(readyz.body).not.toContain('redis');
    expect(readyz.body).not.toContain('not-the-token');
  });

  it('serves the Prometheus families, tickets by status from the poll cycle included', async () => {
    const metrics = await until('a poll cycle that saw the ticket', async () => {
      const { body } = await get(service.httpPort, '/metrics');
      return body.includes('runbot_tickets{status="Waiting for RMA"} 1') ? body : undefined;
    });
    expect((await get(service.httpPort, '/metrics')).type).toContain('text/plain');
    for (const family of [
      'runbot_poll_cycle_duration_seconds_count',
      'runbot_poll_cycles_total{outcome="ok"}',
      'runbot_poll_lag_seconds',
      'runbot_queue_jobs{state="waiting"}',
      'runbot_queue_oldest_job_age_seconds',
      'runbot_jira_calls_total{endpoint="GET /rest/api/3/search/jql",outcome="ok"}',
      'runbot_process_resident_memory_bytes',
    ])
      expect(metrics).toContain(family);
  });

  it('answers 404 for unknown paths', async () => {
    expect((await get(service.httpPort, '/nope')).status).toBe(404);
  });

  it('flips /readyz to 503 naming redis when Redis stops, while /healthz stays 200', async () => {
    await env.redis.stop();
    const readyz = await until('readyz to fail', async () => {
      const answer = await get(service.httpPort, '/readyz');
      return answer.status === 503 ? answer : undefined;
    });
    expect(readyz.body).toMatch(/^not ready: redis: /);
    expect(readyz.body).not.toContain('jira');
    expect((await get(service.httpPort, '/healthz')).status).toBe(200);
  });
});
