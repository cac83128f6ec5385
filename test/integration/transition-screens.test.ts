// Transition screens over the real parts: the sandbox's HOT project asks for a Resolution on the move
// to Done (as most Jira sites do). A workflow that gives no value is refused before its step runs —
// checked on the sshd's side — with one Action Required comment naming the field; the shipped way
// (workflow `transitions: Done: fields: resolution`) moves the ticket with the value.
import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/poll.js';
import { sshOf, startWorld, type World, type WorldParts } from '../support/world.js';

const HOST = 'web-1.screen.internal';

const steps = ({ work }: WorldParts) => `
sync:
  kind: ssh
  target: '{{ host }}'
  commands: ['echo synced > ${work}/sync-{{ host.short }}']
  timeout: 20s
`;

const inventory = ({ sshd }: WorldParts) => `sites:
  screen:
    hosts: '\\.screen\\.internal$'
    manager: ${HOST}
    ssh: ${sshOf(sshd)}
`;

/** A world whose workflow moves Sync to Done with these `transitions:`; one ticket, seeded before the service starts. */
async function startScreens(name: string, transitions: string): Promise<{ world: World; key: string }> {
  const world = await startWorld({
    name,
    steps,
    workflow: `statuses:
  Sync: { step: sync, next: Done }
${transitions}`,
    sshd: { knownHostsNames: [HOST] },
    inventory,
    roles: false,
  });
  try {
    const { key } = await world.seed(HOST);
    await world.startService();
    return { world, key };
  } catch (error) {
    await world.stop();
    throw error;
  }
}

describe('transition screens: a required field the workflow does not give', () => {
  let world: World | undefined;
  let key: string;

  beforeAll(async () => {
    // No value for Done's Resolution.
    ({ world, key } = await startScreens('screens', 'transitions: {}'));
  });
  afterAll(async () => {
    await world?.stop();
  });

  it('runs nothing and moves the ticket to Actionable with one comment naming Resolution', async () => {
    const w = world!;
    await until('the ticket in Actionable', () => w.status(key) === 'Actionable');
    await w.pollCycles(3);
    const comments = w.comments(key).filter((text) => text.includes('Action Required'));
    expect(comments).toHaveLength(1);
    expect(comments[0]).toContain('Jira requires Resolution to move this ticket');
    expect(comments[0]).toContain(
      'The transition from Sync to Done has a screen that requires Resolution (resolution)',
    );
    // Checked where it would have happened: no SSH login, no file from the step's command.
    expect(w.sshd!.acceptedLogins()).toBe(0);
    expect(await readdir(w.work)).toEqual([]);
  });
});

describe('transition screens: the workflow gives the value', () => {
  let world: World | undefined;
  let key: string;

  beforeAll(async () => {
    ({ world, key } = await startScreens(
      'screens-given',
      'transitions:\n  Done: { fields: { resolution: { name: Done } } }',
    ));
  });
  afterAll(async () => {
    await world?.stop();
  });

  it('runs the step and moves the ticket to Done with the Resolution set', async () => {
    const w = world!;
    await until('the ticket in Done', () => w.status(key) === 'Done');
    expect(w.sandbox.snapshot(key)?.fields.resolution).toMatchObject({ name: 'Done' });
    expect(await readdir(w.work)).toEqual(['sync-web-1']);
  });
});
