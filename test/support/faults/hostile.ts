// Seeds tickets the bot must refuse: whatever a person (or an attacker with Jira access) can type
// into the fields, through the REST API like any Jira user. No validation here, on purpose.
import { HOST_FIELD } from '../../../src/sandbox/rma-jira.js';
import { CREDENTIALS } from './env.js';

export interface HostileTicket {
  /** What makes it hostile, for test names. */
  name: string;
  /** The "Service Hosts" value; absent: the field is not set at all. */
  host?: unknown;
  issueType?: string;
  /** The blocking RMA ticket: repaired (default), still open, or no link at all. */
  rma?: 'done' | 'open' | 'none';
}

export function hostileSeeder(jiraUrl: string, project: string, defaultIssueType: string) {
  const auth = `Basic ${Buffer.from(`${CREDENTIALS.email}:${CREDENTIALS.apiToken}`).toString('base64')}`;
  const post = async (url: string, body: unknown): Promise<{ key?: string }> => {
    const response = await fetch(`${jiraUrl}/rest/api/3${url}`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`Jira POST ${url} answered ${response.status}: ${text.slice(0, 500)}`);
    return text === '' ? {} : (JSON.parse(text) as { key?: string });
  };
  return async (ticket: HostileTicket): Promise<{ key: string; rma?: string }> => {
    const created = await post('/issue', {
      fields: {
        project: { key: project },
        issuetype: { name: ticket.issueType ?? defaultIssueType },
        summary: `Restore after RMA (${ticket.name})`,
        ...(ticket.host === undefined ? {} : { [HOST_FIELD.id]: ticket.host }),
      },
    });
    if (!created.key) throw new Error(`Jira created the ticket "${ticket.name}" without a key`);
    if ((ticket.rma ?? 'done') === 'none') return { key: created.key };
    const rma = await post('/issue', {
      fields: { project: { key: 'RMA' }, issuetype: { name: 'RMA' }, summary: `RMA for ${ticket.name}` },
    });
    if (!rma.key) throw new Error('Jira created the RMA without a key');
    await post('/issueLink', {
      type: { name: 'Blocks' },
      outwardIssue: { key: rma.key },
      inwardIssue: { key: created.key },
    });
    return { key: created.key, rma: rma.key };
  };
}
