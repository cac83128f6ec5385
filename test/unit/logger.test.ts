// The logger keeps secrets out of every line: by field name, and by value wherever a library put it.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  addSecrets,
  configSecrets,
  createLogger,
  inventorySecrets,
  REDACTED,
  wantsPretty,
} from '../../src/logger.js';

const TOKEN = 'ATATT3xFfGF0-not-a-real-token-9c1e';
const EMAIL = 'runbot@example.com';
const BASIC = Buffer.from(`${EMAIL}:${TOKEN}`).toString('base64');

function capture() {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { destination, text: () => chunks.join(''), lines: () => chunks.join('').trim().split('\n') };
}

describe('logger: secrets', () => {
  it('redacts fields named like secrets, at any of the first three levels', () => {
    const out = capture();
    const logger = createLogger({ destination: out.destination });
    logger.info(
      {
        apiToken: TOKEN,
        ipmi: { password: 'calvin-ipmi' },
        ssh: { key: { privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----abc' } },
        request: { headers: { authorization: `Basic ${BASIC}` } },
      },
      'configured',
    );
    const line = JSON.parse(out.text()) as Record<string, unknown>;
    expect(line).toMatchObject({
      apiToken: REDACTED,
      ipmi: { password: REDACTED },
      ssh: { key: { privateKey: REDACTED } },
      request: { headers: { authorization: REDACTED } },
    });
    expect(out.text()).not.toContain('calvin-ipmi');
    expect(out.text()).not.toContain('BEGIN OPENSSH');
  });

  it('redacts in arrays, a level deeper under headers, in errors and in bindings, and copies only', () => {
    const out = capture();
    const logger = createLogger({ destination: out.destination });
    const fields = {
      hosts: [{ password: 'in-an-array' }],
      call: { request: { headers: { Authorization: 'Bearer deep-header' } } },
      deep: { a: { b: { password: 'fourth-level, not a path' } } },
      err: Object.assign(new Error('login failed'), { passphrase: 'error-field' }),
    };
    logger.child({ ssh: { privateKey: 'in-bindings' } }).warn(fields, 'redaction');
    const line = JSON.parse(out.text()) as Record<string, unknown>;
    expect(line).toMatchObject({
      ssh: { privateKey: REDACTED },
      hosts: [{ password: REDACTED }],
      call: { request: { headers: { Authorization: REDACTED } } },
      err: { type: 'Error', message: 'login failed', passphrase: REDACTED },
    });
    expect((line.err as { stack?: string }).stack).toContain('login failed');
    for (const secret of ['in-an-array', 'deep-header', 'error-field', 'in-bindings'])
      expect(out.text()).not.toContain(secret);
    // Past the third level a field is not redacted by name (as pino's `*.*.name` paths), and the
    // caller's objects are left as they were.
    expect(out.text()).toContain('fourth-level, not a path');
    expect(fields.hosts[0]?.password).toBe('in-an-array');
    expect(fields.err.passphrase).toBe('error-field');
  });

  it('masks the token and its Basic credentials wherever they appear: messages, errors, causes', () => {
    const out = capture();
    const logger = createLogger({
      destination: out.destination,
      secrets: configSecrets({ JIRA_EMAIL: EMAIL, JIRA_API_TOKEN: TOKEN }),
    });
    const cause = Object.assign(new Error(`request failed: Authorization: Basic ${BASIC}`), {
      config: { url: `https://example.atlassian.net/?token=${TOKEN}` },
    });
    logger.warn({ err: new Error('jira call failed', { cause }) }, 'jira call failed, retrying');
    logger.info(`token was ${TOKEN}`);
    logger.info({ deep: { deeper: { deepest: { value: `x${TOKEN}y` } } } }, 'nested');
    const text = out.text();
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(BASIC);
    expect(text.split(REDACTED).length - 1).toBeGreaterThanOrEqual(4);
    // Still valid JSON lines after masking.
    for (const line of out.lines()) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });

  it('masks in pretty output too, which is not JSON', () => {
    const out = capture();
    const logger = createLogger({ destination: out.destination, pretty: true, secrets: [TOKEN] });
    logger.child({ ticket: 'HOT-7' }).info({ header: `Bearer ${TOKEN}` }, 'calling jira');
    expect(out.text()).toContain('calling jira');
    expect(out.text()).toContain('HOT-7');
    expect(out.text()).not.toContain(TOKEN);
    expect(() => JSON.parse(out.text()) as unknown).toThrow();
  });
});

describe('logger: lines', () => {
  it('writes one JSON object per line with the child bindings and an ISO time', () => {
    const out = capture();
    const logger = createLogger({ destination: out.destination, level: 'debug' });
    logger
      .child({ ticket: 'HOT-7', workflow: 'rma-restore', job: 'HOT-7.v3.runStep' })
      .child({ step: 'sync' })
      .debug('job done');
    const line = JSON.parse(out.text()) as Record<string, unknown>;
    expect(line).toMatchObject({
      level: 20,
      msg: 'job done',
      service: 'runbot',
      ticket: 'HOT-7',
      workflow: 'rma-restore',
      job: 'HOT-7.v3.runStep',
      step: 'sync',
    });
    expect(line.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('chooses pretty output only when asked, or on a terminal when auto', () => {
    expect(wantsPretty(true)).toBe(true);
    expect(wantsPretty(false)).toBe(false);
    expect(wantsPretty('auto')).toBe(process.stdout.isTTY === true);
  });
});

describe('logger: secrets known later', () => {
  it('masks BMC passwords named by the inventory from then on, in children made before too', () => {
    const out = capture();
    const logger = createLogger({ destination: out.destination });
    const child = logger.child({ ticket: 'HOT-9' });
    const inventory = {
      sites: {
        dev2: { ipmi: { password_env: 'BMC_PW_DEV2' } },
        sm1: { ipmi: 'none' as const },
      },
    };
    const secrets = inventorySecrets(inventory, { BMC_PW_DEV2: 'calvin-bmc-dev2' });
    expect(secrets).toEqual(['calvin-bmc-dev2']);
    addSecrets(logger, secrets);
    child.warn({ stderr: 'ipmitool -P calvin-bmc-dev2 failed' }, 'ipmi failed');
    expect(out.text()).toContain('ipmi failed');
    expect(out.text()).not.toContain('calvin-bmc-dev2');
  });

  it('knows the Redfish passwords the inventory names too', () => {
    const inventory = {
      sites: {
        dev2: { ipmi: { password_env: 'BMC_PW_DEV2' }, redfish: 'none' as const },
        sm1: { ipmi: 'none' as const, redfish: { password_env: 'REDFISH_PW_SM1' } },
      },
    };
    expect(
      inventorySecrets(inventory, { BMC_PW_DEV2: 'ipmi-secret', REDFISH_PW_SM1: 'redfish-secret' }),
    ).toEqual(['ipmi-secret', 'redfish-secret']);
  });
});
