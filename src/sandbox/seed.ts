// Seeds tickets the way people use Jira: through its REST API. An RMA ticket for the repair, a
// restore ticket naming the host in "Service Hosts", and a "Blocks" link from the RMA to the restore.
import type { Workflow } from '../definitions/index.js';
import { HOST_FIELD } from './rma-jira.js';

export interface Credentials {
  email: string;
  apiToken: string;
}

export function jiraSeeder(jiraUrl: string, credentials: Credentials) {
  const auth = Buffer.from(`${credentials.email}:${credentials.apiToken}`).toString('base64');
  const post = async (url: string, body: unknown): Promise<{ key?: string }> => {
    const response = await fetch(`${jiraUrl}/rest/api/3${url}`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${auth}`,
        'content-type': 'application/json',
        accept: 'application/json',
      },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`Jira POST ${url} answered ${response.status}: ${text}`);
    return text === '' ? {} : (JSON.parse(text) as { key?: string });
  };
  const keyOf = (created: { key?: string }, what: string) => {
    if (!created.key) throw new Error(`Jira created the ${what} without returning its key`);
    return created.key;
  };

  return {
    async restoreTicket(workflow: Workflow, host: string): Promise<{ key: string; rma: string }> {
      const rma = keyOf(
        await post('/issue', {
          fields: {
            project: { key: 'RMA' },
            issuetype: { name: 'RMA' },
            summary: `Replace failed DIMM in ${host}`,
          },
        }),
        'RMA ticket',
      );
      const key = keyOf(
        await post('/issue', {
          fields: {
            project: { key: workflow.jira.project },
            issuetype: { name: workflow.jira.issue_type },
            summary: `Restore ${host} to Service after ${rma}`,
            [HOST_FIELD.id]: host,
          },
        }),
        'restore ticket',
      );
      await post('/issueLink', {
        type: { name: 'Blocks' },
        outwardIssue: { key: rma },
        inwardIssue: { key },
      });
      return { key, rma };
    },
  };
}
