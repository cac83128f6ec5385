// Tickets the bot must refuse, whatever was typed into them: shell syntax, quotes, control
// characters, look-alike letters, huge values, hosts outside the inventory, missing fields, a type
// no workflow covers, a missing RMA link. Each bad ticket goes to a person with one comment that
// says what is wrong, and not one command reaches any host (checked on the fleet's side).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plainText } from '../../src/jira/adf.js';
import { until } from '../support/poll.js';
import { startFaultEnvironment, type FaultEnvironment } from '../support/faults/env.js';
import { hostileSeeder, type HostileTicket } from '../support/faults/hostile.js';

const DECOY = 'decoy-01.dev2.internal'; // a real host of the inventory
// Fields are named as Jira names them (GET /rest/api/3/field), not by their ids.
const NOT_A_HOST = /Action Required: Field Service Hosts is not a valid host/;
const NOT_IN_INVENTORY = /Action Required: Host not in the inventory/;
const EMPTY = /Action Required: Field Service Hosts is empty/;

/** Refused tickets: what is in them, and the comment's title. */
const REFUSED: (HostileTicket & { says: RegExp })[] = [
  { name: 'semicolon', host: `${DECOY}; sudo reboot`, says: NOT_A_HOST },
  { name: 'command substitution', host: `$(sudo reboot).dev2.internal`, says: NOT_A_HOST },
  { name: 'backticks', host: '`sudo reboot`.dev2.internal', says: NOT_A_HOST },
  { name: 'single quote', host: `${DECOY}' ; sudo reboot ; '`, says: NOT_A_HOST },
  { name: 'double quote', host: `${DECOY}" && sudo reboot "`, says: NOT_A_HOST },
  { name: 'pipe and redirect', host: `${DECOY} | tee /etc/passwd > /dev/null`, says: NOT_A_HOST },
  { name: 'newline', host: `${DECOY}\nsudo reboot`, says: NOT_A_HOST },
  { name: 'NUL byte', host: `${DECOY}\u0000sudo reboot`, says: NOT_A_HOST },
  { name: 'option injection', host: '--help.dev2.internal', says: NOT_A_HOST },
  { name: 'two hosts', host: `${DECOY}, decoy-02.dev2.internal`, says: NOT_A_HOST },
  { name: 'unicode look-alike (Cyrillic e)', host: 'd\u0435coy-01.dev2.internal', says: NOT_A_HOST },
  { name: 'fullwidth dot', host: 'decoy-01\uff0edev2.internal', says: NOT_A_HOST },
  { name: 'upper case', host: 'DECOY-01.dev2.internal', says: NOT_A_HOST },
  {
    name: 'very long (32,714 characters)',
    host: `${'a'.repeat(32_700)}.dev2.internal`,
    says: NOT_A_HOST,
  },
  {
    // Every label valid and the site's suffix right: only format: hostname's 253 limit refuses it.
    name: 'very long, valid labels (5,000 characters)',
    host: `${'b'.repeat(26)}.${Array.from({ length: 80 }, () => 'a'.repeat(61)).join('.')}.dev2.internal`,
    says: NOT_A_HOST,
  },
  { name: 'upper case in the domain', host: 'decoy-01.DEV2.internal', says: NOT_A_HOST },
  { name: 'host outside the inventory', host: 'ghost-01.dev2.internal', says: NOT_IN_INVENTORY },
  { name: 'inventory host as a prefix', host: `${DECOY}.evil.example`, says: NOT_IN_INVENTORY },
  { name: 'missing field', says: EMPTY },
  { name: 'empty field', host: '', says: EMPTY },
  { name: 'blank field', host: '   \t ', says: EMPTY },
  { name: 'number instead of text', host: 42, says: NOT_A_HOST },
  { name: 'no RMA link', host: DECOY, rma: 'none', says: /Action Required: No linked RMA ticket/ },
];

/** Tickets the bot must leave alone, without a word. */
const LEFT_ALONE: (HostileTicket & { status: string })[] = [
  { name: 'RMA not repaired yet', host: DECOY, rma: 'open', status: 'Waiting for RMA' },
  { name: 'a type no workflow covers', host: DECOY, issueType: 'Task', status: 'Waiting for RMA' },
];

describe('faults: hostile tickets', () => {
  let env: FaultEnvironment | undefined;
  const keys = new Map<string, string>();
  beforeAll(async () => {
    env = await startFaultEnvironment({ extraIssueTypes: ['Task'] });
    await env.addHost(DECOY);
    const seed = hostileSeeder(env.jiraUrl, env.workflow.jira.project, env.workflow.jira.issue_type);
    for (const ticket of [...REFUSED, ...LEFT_ALONE]) {
      const { key, rma } = await seed(ticket);
      if (rma && (ticket.rma ?? 'done') === 'done') env.sandbox.moveAsHuman(rma, 'Done');
      keys.set(ticket.name, key);
    }
    env.processes.start('poll');
    env.processes.start('work');
  });
  afterAll(() => env?.stop());

  const commentsOf = (name: string) =>
    (env!.sandbox.snapshot(keys.get(name) ?? '')?.comments ?? []).map((comment) => plainText(comment.body));

  it('sends each bad ticket to Actionable with one comment that says what is wrong, and runs nothing', async () => {
    const w = env!;
    await until(
      'every refused ticket in Actionable',
      () => {
        w.processes.assertNoneCrashed();
        return REFUSED.every(({ name }) => w.sandbox.snapshot(keys.get(name) ?? '')?.status === 'Actionable');
      },
      { timeoutMs: 60_000 },
    ).catch((error: unknown) => {
      const where = REFUSED.map(({ name }) => `${name}: ${w.sandbox.snapshot(keys.get(name) ?? '')?.status}`);
      throw new Error(`${(error as Error).message}\n${where.join('\n')}\n${w.processes.report()}`);
    });
    // Three more poll cycles: a refused ticket stays refused, and is not commented on again.
    const searches = () => w.sandbox.requestCounts()['GET /rest/api/3/search/jql'] ?? 0;
    const before = searches();
    await until('three more poll cycles', () => searches() >= before + 3);

    for (const ticket of REFUSED) {
      const explaining = commentsOf(ticket.name).filter((text) => text.includes('Action Required'));
      expect(explaining, ticket.name).toHaveLength(1);
      expect(explaining[0], ticket.name).toMatch(ticket.says);
      expect(explaining[0], ticket.name).toMatch(/What next: /);
    }
    expect(w.fleet.commands()).toEqual([]);
  });

  it('leaves tickets waiting for their RMA, and tickets of other types, alone and silent', () => {
    const w = env!;
    for (const ticket of LEFT_ALONE) {
      expect(w.sandbox.snapshot(keys.get(ticket.name) ?? '')?.status, ticket.name).toBe(ticket.status);
      expect(commentsOf(ticket.name), ticket.name).toEqual([]);
    }
    expect(w.fleet.commands()).toEqual([]);
  });

  it('quotes a hostile value in its comment as inert text', () => {
    const [comment] = commentsOf('command substitution').filter((text) => text.includes('Action Required'));
    expect(comment).toContain('"$(sudo reboot).dev2.internal"');
  });

  it('names a look-alike character: which one, and where', () => {
    const [cyrillic] = commentsOf('unicode look-alike (Cyrillic e)').filter((t) =>
      t.includes('Action Required'),
    );
    expect(cyrillic).toContain('U+0435 CYRILLIC SMALL LETTER IE at position 2, which looks like "e"');
    const [fullwidth] = commentsOf('fullwidth dot').filter((t) => t.includes('Action Required'));
    expect(fullwidth).toContain('U+FF0E FULLWIDTH FULL STOP at position 9, which looks like "."');
  });

  // Every escalation quotes at most 200 characters of a ticket's value, however long the field.
  it('cuts a very long value to a readable length in its comment', () => {
    const texts = commentsOf('very long (32,714 characters)');
    expect(texts.length).toBeGreaterThan(0);
    for (const text of texts) expect(text.length).toBeLessThan(2_000);
  });
});
