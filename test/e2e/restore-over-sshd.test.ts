// One ticket from its first status to Done: the Jira sandbox, a real redis-server, a real OpenSSH
// sshd on loopback, and the service's own poller and worker. The commands really run on the sshd
// side and the test reads their effect there.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/poll.js';
import { memcheckSteps } from '../support/runbooks.js';
import { startSshd } from '../support/sshd.js';
import { sshOf, startWorld, type World } from '../support/world.js';

const HOST = 'web-1.e2e.internal';
const MANAGER = 'manager-0.e2e.internal';

/** The steps of a small restore runbook, whose commands leave traces in `work` on the sshd side. */
const steps = (work: string) => `
${memcheckSteps(work, 'PASSED')}
sync:
  kind: ssh
  target: '{{ site.manager }}'
  commands: ['echo sync {{ host.short }} on "$(hostname)" >> ${work}/manager.log']
  timeout: 20s
enable-alerting:
  kind: manual
  target: '{{ site.manager }}'
  title: Enable alerting for {{ host }}
  instructions:
    - text: 'Run on {{ site.manager }}:'
      commands: ['sudo /usr/sbin/uc_nagios.py {{ host.short }} -e']
rebalance:
  kind: ssh
  target: '{{ site.manager }}'
  commands: ['echo rebalance {{ host.short }} >> ${work}/manager.log']
  timeout: 20s
`;

/** The workflow's own lines: the RMA gate, then each step's status in turn. */
const WORKFLOW = `gate: { status: Waiting for RMA, link: is blocked by, next: Memcheck }
statuses:
  Memcheck: { step: memcheck-start, next: Memcheck Running }
  Memcheck Running: { step: memcheck-wait, next: Sync }
  Sync: { step: sync, next: Enable Alerting }
  Enable Alerting: { step: enable-alerting, next: Rebalance }
  Rebalance: { step: rebalance, next: Done }
`;

/** The sshd plays both the host and the site's manager; with `pinWrongKey`, known_hosts pins another key. */
async function startRestoreWorld(options: { pinWrongKey?: boolean } = {}): Promise<World> {
  // A key that is not the server's: what the bot sees when a repaired host was reimaged.
  const wrongKey = options.pinWrongKey ? await otherHostKey() : undefined;
  return startWorld({
    name: 'restore-lite',
    steps: ({ work }) => steps(work),
    workflow: WORKFLOW,
    sshd: { knownHostsNames: [HOST, MANAGER] },
    inventory: ({ sshd }) =>
      `sites:\n  e2e:\n    hosts: '\\.e2e\\.internal$'\n    manager: ${MANAGER}\n    ssh: ${sshOf(sshd)}\n`,
    ...(wrongKey
      ? {
          files: {
            known_hosts: ({ sshd }) =>
              `[${HOST}]:${sshd!.port} ${wrongKey}\n[${MANAGER}]:${sshd!.port} ${wrongKey}\n`,
          },
          env: ({ root }) => ({ RUNBOT_KNOWN_HOSTS: path.join(root, 'known_hosts') }),
        }
      : {}),
  });
}

/** The public host key (type and base64) of a freshly started, already stopped, other sshd. */
async function otherHostKey(): Promise<string> {
  const other = await startSshd();
  try {
    return other.hostKeyPublic.split(' ').slice(0, 2).join(' ');
  } finally {
    await other.stop();
  }
}

describe('e2e: an RMA restore ticket over a real sshd', () => {
  let world: World | undefined;
  beforeAll(async () => {
    world = await startRestoreWorld();
  });
  afterAll(() => world?.stop());

  it('goes from Waiting for RMA to Done, with one Action Required comment the operator answers', async () => {
    const w = world!;
    const { key } = await w.seed(HOST, { rmaDone: true });

    await until(
      'the manual step',
      () =>
        w.status(key) === 'Enable Alerting' &&
        w.comments(key).some((text) => text.includes('Action Required')),
    );
    // The bot keeps polling while the ticket waits for a person; the instructions stay a single comment.
    await w.pollCycles(2);
    const actionRequired = w.comments(key).filter((text) => text.includes('Action Required'));
    expect(actionRequired, w.comments(key).join('\n----\n')).toHaveLength(1);
    expect(actionRequired[0]).toContain('sudo /usr/sbin/uc_nagios.py web-1 -e');
    expect(actionRequired[0]).toContain(`Run on ${MANAGER}:`);

    w.sandbox.moveAsHuman(key, 'Rebalance');
    await until('Done', () => w.status(key) === 'Done');

    // The commands ran on the sshd side, once each.
    expect(readFileSync(path.join(w.work, 'memtest-web-1'), 'utf8')).toBe('PASSED\n');
    expect(readFileSync(path.join(w.work, 'manager.log'), 'utf8').trim().split('\n')).toEqual([
      expect.stringMatching(/^sync web-1 on /),
      'rebalance web-1',
    ]);
    // The comments record what ran, where, and with which runbook version.
    const comments = w.comments(key);
    expect(comments.find((text) => text.includes('sync done on'))).toMatch(
      new RegExp(
        `sync done on ${MANAGER.replaceAll('.', '\\.')}[\\s\\S]*exit 0[\\s\\S]*runbook restore-lite@[0-9a-f]{12}`,
      ),
    );
    expect(comments.filter((text) => text.includes('rebalance done on'))).toHaveLength(1);
    expect(w.sandbox.snapshot(key)?.properties.runbot).toMatchObject({ status: 'Done' });
  });
});

describe('e2e: host key check', () => {
  let world: World | undefined;
  beforeAll(async () => {
    world = await startRestoreWorld({ pinWrongKey: true });
  });
  afterAll(() => world?.stop());

  it('refuses the step on a wrong host key and says so on the ticket', async () => {
    const w = world!;
    const { key } = await w.seed(HOST, { rmaDone: true });
    await until('the ticket in Actionable', () => w.status(key) === 'Actionable');
    const [comment] = w.comments(key).filter((text) => text.includes('Host key'));
    expect(comment).toContain(`Host key of ${HOST} changed`);
    // The fingerprint in the comment is the one OpenSSH shows for the server's real key.
    const fingerprint = execFileSync('ssh-keygen', ['-lf', w.sshd!.hostKeyPublicPath], {
      encoding: 'utf8',
    }).split(' ')[1];
    expect(fingerprint).toMatch(/^SHA256:/);
    expect(comment).toContain(fingerprint);
    expect(comment).toContain('ssh-keygen -R');
    expect(existsSync(path.join(w.work, 'memtest-web-1'))).toBe(false);
  });
});

describe('e2e: host certificates over the openssh transport', () => {
  let world: World | undefined;
  beforeAll(async () => {
    // The sshd's host certificate names the host and the manager; known_hosts trusts the host CA for
    // every name in the site and pins no key; the bot logs in with a user certificate only.
    world = await startWorld({
      name: 'restore-lite',
      steps: ({ work }) => steps(work),
      workflow: WORKFLOW,
      sshd: { hostCertificate: { principals: [HOST, MANAGER] }, userCertificate: {} },
      inventory: ({ sshd }) =>
        `sites:\n  e2e:\n    hosts: '\\.e2e\\.internal$'\n    manager: ${MANAGER}\n    ssh: { user: ${sshd!.user}, port: ${sshd!.port}, address: 127.0.0.1, transport: openssh }\n`,
      files: { known_hosts: ({ sshd }) => `@cert-authority *.e2e.internal ${sshd!.hostCa!.publicKey}\n` },
      env: ({ root, sshd }) => ({
        RUNBOT_KNOWN_HOSTS: path.join(root, 'known_hosts'),
        RUNBOT_SSH_CERT: sshd!.clientCertPath!,
      }),
    });
  });
  afterAll(() => world?.stop());

  it('runs the steps on a host trusted by its certificate alone', async () => {
    const w = world!;
    const { key } = await w.seed(HOST, { rmaDone: true });
    await until('the manual step', () => w.status(key) === 'Enable Alerting');
    expect(readFileSync(path.join(w.work, 'memtest-web-1'), 'utf8')).toBe('PASSED\n');
    expect(readFileSync(path.join(w.work, 'manager.log'), 'utf8')).toMatch(/^sync web-1 on /);
    expect(w.comments(key).some((text) => text.includes(`sync done on ${MANAGER}`))).toBe(true);
    expect(w.sshd!.log()).toMatch(/Accepted publickey for .*ED25519-CERT/);
  });

  it('refuses a host whose certificate does not name it, with a clear comment', async () => {
    const w = world!;
    const other = 'web-2.e2e.internal';
    const { key } = await w.seed(other, { rmaDone: true });
    await until('the ticket in Actionable', () => w.status(key) === 'Actionable');
    const [comment] = w.comments(key).filter((text) => text.includes('Host certificate'));
    expect(comment).toContain(`Host certificate of ${other} refused: principal mismatch`);
    expect(comment).toContain(`It names ${HOST}, ${MANAGER}, not ${other}.`);
    expect(comment).toContain('Nothing was run.');
    expect(comment).not.toContain(w.sshd!.clientKeyPath);
    expect(existsSync(path.join(w.work, 'memtest-web-2'))).toBe(false);
  });
});
