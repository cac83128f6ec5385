// The workflow file's schema (when: which Jira project and statuses run which steps). Strict:
// unknown keys are errors. Re-exported by schema.ts.
import { z } from 'zod';

const StatusBinding = z.strictObject({
  step: z.string().describe('the runbook step run while the ticket is in this status'),
  next: z
    .string()
    .describe('where the ticket goes when the step succeeds (for a manual step: where the person moves it)'),
});

export const WorkflowSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes')
    .describe('unique name of the workflow'),
  description: z.string().optional().describe('which tickets this is for, for people'),
  runbook: z.string().describe('name of the runbook whose steps the statuses run'),
  jira: z
    .strictObject({
      project: z.string().min(1).describe('Jira project key, e.g. HOT'),
      issue_type: z.string().min(1).describe('Jira issue type name, e.g. RMA Restore'),
      jql: z.string().optional().describe("extra JQL ANDed to the bot's own query"),
    })
    .describe('which Jira tickets the workflow covers'),
  fields: z
    .record(z.string(), z.string().min(1).describe('Jira field id, e.g. customfield_10042'))
    .describe('which Jira field feeds which runbook input, e.g. host: customfield_10042'),
  gate: z
    .strictObject({
      status: z.string().describe('status where tickets wait for the linked ticket'),
      link: z.string().describe('link phrase seen from the restore ticket, e.g. "is blocked by"'),
      next: z.string().describe('where the ticket goes once every linked ticket is done'),
    })
    .optional()
    .describe('work starts only when the linked tickets (e.g. the RMA) are done'),
  statuses: z
    .record(z.string().describe('Jira status name'), StatusBinding)
    .describe('which status runs which step, and where success goes'),
  failure: z.string().describe('human status for failures and bad tickets'),
  done: z.string().describe('the final status'),
  transitions: z
    .record(
      z.string().describe('target status name, e.g. Done'),
      z
        .object({
          fields: z
            .record(z.string(), z.unknown())
            .describe('Jira field id → value sent with the move, e.g. resolution: { name: Done }'),
        })
        .strict(),
    )
    .optional()
    .describe(
      "values for the fields a transition's screen requires, by target status (e.g. Resolution on Done)",
    ),
  pause_label: z
    .string()
    .default('runbot-pause')
    .describe('a ticket carrying this label is left alone (default runbot-pause)'),
  exclusive: z
    .strictObject({
      inputs: z
        .array(z.string())
        .min(1)
        .describe('runbook inputs (e.g. host) only one open ticket at a time may work on'),
      on_conflict: z
        .enum(['wait', 'fail'])
        .default('wait')
        .describe(
          'a ticket whose value another open ticket holds: wait at the gate (default), or go to the failure status',
        ),
    })
    .optional()
    .describe('one open ticket per value (e.g. one restore per host), held from the gate to done or failure'),
  approval: z
    .strictObject({
      status: z.string().describe('status where a step marked approve: true waits, its plan posted'),
      approved: z.string().describe('status a person moves the ticket to, to approve that plan'),
    })
    .optional()
    .describe('where steps marked approve: true wait for a person (needed when the runbook has such steps)'),
});

export type Workflow = z.infer<typeof WorkflowSchema>;
