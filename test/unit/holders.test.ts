// The worker's fresh holders search: the workflow's JQL narrowed to tickets whose exclusive field
// holds the ticket's value (a text-search phrase), or the whole workflow when it cannot be narrowed.
import { describe, expect, it } from 'vitest';
import { holderSearchJql } from '../../src/service/holders.js';
import { workflowJql } from '../../src/service/context.js';
import type { Ticket } from '../../src/planner/index.js';
import { shippedRestore } from '../support/definitions.js';

const ticket = (host: string): Ticket =>
  ({ key: 'HOT-1', status: 'Waiting for RMA', inputs: { host } }) as unknown as Ticket;

describe('holders search', () => {
  it('narrows the workflow search to tickets naming the same host, as a phrase', async () => {
    const { workflow } = await shippedRestore();
    const field = workflow.fields.host?.replace('customfield_', '');
    const jql = holderSearchJql(workflow, ticket(' db-1.dev2.internal '));
    expect(jql).toBe(workflowJql(workflow, [`(cf[${field}] ~ "\\"db-1.dev2.internal\\"")`]));
    expect(jql).toMatch(/ AND \(cf\[\d+\] ~ "\\"db-1\.dev2\.internal\\""\) ORDER BY key ASC$/);
  });

  it('searches the whole workflow for a value the phrase cannot carry or too long for a URL, or a field that is not custom', async () => {
    const { workflow } = await shippedRestore();
    expect(holderSearchJql(workflow, ticket('db "1" OR x'))).toBe(workflowJql(workflow));
    // Too long for a URL (a hostile ticket): Jira would answer 431 before the planner refuses it.
    expect(holderSearchJql(workflow, ticket(`${'a'.repeat(300)}.dev2.internal`))).toBe(workflowJql(workflow));
    const onSummary = { ...workflow, fields: { ...workflow.fields, host: 'summary' } };
    expect(holderSearchJql(onSummary, ticket('db-1.dev2.internal'))).toBe(workflowJql(onSummary));
  });
});
