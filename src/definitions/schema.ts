// Zod schemas for the three kinds of definition file. They are the single source of the types
// (z.infer) and of the JSON Schemas editors use. Our own files are strict: unknown keys are errors.
import { z } from 'zod';
import { BreakerDefault, SiteBreaker, SiteFreezes, SiteWindows } from './site-safety.js';
import { INPUT_FORMATS } from './formats.js';

const DURATION = /^(\d+)(s|m|h)$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600 } as const;

/** A duration in seconds, written as a number of seconds or as "90s", "10m", "12h". */
export const Duration = z
  .union([
    z.number().int().positive(),
    z.string().regex(DURATION, 'expected a duration like "90s", "10m" or "2h"'),
  ])
  .transform((value) => {
    if (typeof value === 'number') return value;
    const [, amount, unit] = DURATION.exec(value) ?? [];
    return Number(amount) * UNIT_SECONDS[unit as keyof typeof UNIT_SECONDS];
  });

/** A regular expression, checked to compile. */
const Pattern = z
  .string()
  .refine((source) => {
    try {
      new RegExp(source);
      return true;
    } catch {
      return false;
    }
  }, 'not a valid regular expression')
  .describe('a regular expression (JavaScript syntax)');

const OutputCheck = z.strictObject({
  output: Pattern.optional().describe("regular expression the command's stdout must match"),
  exit: z
    .number()
    .int()
    .min(0)
    .max(255)
    .optional()
    .describe('exit code the command must end with (default 0)'),
});

const Target = z.string().min(1).describe('where the commands run: "{{ host }}" or "{{ site.manager }}"');

const StepDescription = z.string().optional().describe('what the step does, for people');
const Command = z
  .string()
  .min(1)
  .describe('a shell command template; each {{ value }} becomes one quoted shell word');

const Approve = z
  .boolean()
  .optional()
  .describe(
    "post the step's plan and run it only after a person approves it (the workflow's approval statuses)",
  );

const SshStep = z.strictObject({
  kind: z.literal('ssh').describe('run commands on the target over SSH'),
  description: StepDescription,
  target: Target,
  commands: z.array(Command).min(1).describe('run in order; the step fails at the first that fails'),
  timeout: Duration.describe('limit of each command: seconds, or "90s", "10m", "2h"'),
  approve: Approve,
  expect: OutputCheck.optional().describe('what success looks like (default: exit 0)'),
  done_when: z
    .strictObject({
      command: Command,
      output: Pattern.optional().describe('regular expression its stdout must match (else: exit 0)'),
    })
    .optional()
    .describe('a check run first: when it passes, the step is already done and is not run again'),
});

const WaitStep = z.strictObject({
  kind: z.literal('wait').describe('check a long operation every interval until it is done'),
  description: StepDescription,
  target: Target,
  check: Command.describe('command run on every check; its stdout is matched by done_when / fail_when'),
  done_when: z
    .strictObject({ output: Pattern.describe('regular expression over the check output') })
    .describe('the operation is done (the ticket moves to next)'),
  fail_when: z
    .strictObject({ output: Pattern.describe('regular expression over the check output') })
    .optional()
    .describe('the operation failed (the ticket moves to the failure status)'),
  interval: Duration.describe('time between checks: seconds, or "90s", "10m", "2h"'),
  timeout: Duration.describe('give up this long after the start recorded in Jira'),
  check_timeout: Duration.default(60).describe('limit of one check command (default 60 s)'),
});

const InstructionBlock = z.strictObject({
  text: z.string().min(1).describe('a paragraph of the comment; {{ values }} are shown as they are'),
  commands: z.array(Command).optional().describe('commands shown in a code block under the text'),
});

const ManualStep = z.strictObject({
  kind: z.literal('manual').describe('post an Action Required comment; a person does the step'),
  description: StepDescription,
  target: Target,
  title: z.string().min(1).describe('heading of the Action Required comment'),
  instructions: z.array(InstructionBlock).min(1).describe('what to run and check, in order'),
  assign: z
    .union([
      z.strictObject({
        account_id: z
          .string()
          .regex(/^[A-Za-z0-9:_-]{1,128}$/, 'an Atlassian account id')
          .describe('the Atlassian account id of the person'),
      }),
      z.strictObject({
        field: z
          .string()
          .regex(/^[A-Za-z0-9_]+$/, 'a Jira field id')
          .describe('a ticket field holding a user or users (e.g. request participants): its first user'),
      }),
    ])
    .optional()
    .describe('who the ticket is assigned to when the instructions are posted (mentioned in the comment)'),
  due_in: Duration.optional().describe(
    "the ticket's due date: this long after the status was entered (Jira keeps the date, UTC)",
  ),
});

export const IPMI_ACTIONS = ['power-status', 'power-on', 'power-cycle', 'sel-read'] as const;

const IpmiStep = z.strictObject({
  kind: z.literal('ipmi').describe("power status/on/cycle or SEL read through the host's BMC"),
  description: StepDescription,
  /** The host whose BMC is addressed (the BMC's address comes from the site's `ipmi` access). */
  target: Target,
  action: z.enum(IPMI_ACTIONS).describe('what to do through the BMC'),
  approve: Approve,
  /** power-status only: the power state the step expects. */
  expect: z
    .strictObject({ power: z.enum(['on', 'off']).describe('the power state the step expects') })
    .optional()
    .describe('power-status only: what success looks like'),
  timeout: Duration.default(60).describe('limit of the BMC call (default 60 s)'),
  /** Where the site has no IPMI access: post these instructions (manual) or fail the step. */
  fallback: z
    .enum(['manual', 'fail'])
    .default('manual')
    .describe('where the site has no IPMI access: post the instructions (manual) or fail the step'),
  title: z.string().min(1).optional().describe('heading of the Action Required comment of the fallback'),
  instructions: z
    .array(InstructionBlock)
    .min(1)
    .optional()
    .describe('what a person runs instead, where the site has no IPMI access'),
});

export const REDFISH_ACTIONS = [
  'power-status',
  'power-on',
  'power-off',
  'power-cycle',
  'sel-read',
  'sel-clear',
  'boot-pxe',
  'boot-disk',
  'health',
] as const;

const RedfishStep = z.strictObject({
  kind: z
    .literal('redfish')
    .describe("power, SEL, one-time boot override or memory/CPU health through the host's Redfish BMC"),
  description: StepDescription,
  /** The host whose BMC is addressed (the BMC's address comes from the site's `redfish` access). */
  target: Target,
  action: z
    .enum(REDFISH_ACTIONS)
    .describe('what to do through the BMC; health fails the step when a DIMM or CPU is not OK'),
  expect: z
    .strictObject({ power: z.enum(['on', 'off']).describe('the power state the step expects') })
    .optional()
    .describe('power-status only: what success looks like'),
  timeout: Duration.default(60).describe('limit of each HTTPS call to the BMC (default 60 s)'),
  fallback: z
    .enum(['manual', 'fail'])
    .default('manual')
    .describe('where the site has no Redfish access: post the instructions (manual) or fail the step'),
  title: z.string().min(1).optional().describe('heading of the Action Required comment of the fallback'),
  instructions: z
    .array(InstructionBlock)
    .min(1)
    .optional()
    .describe('what a person runs instead, where the site has no Redfish access'),
});

export const StepSchema = z.discriminatedUnion('kind', [
  SshStep,
  WaitStep,
  ManualStep,
  IpmiStep,
  RedfishStep,
]);

export const RunbookSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes')
    .describe('unique name; workflows refer to the runbook by it'),
  description: z.string().optional().describe('what the runbook is for, for people'),
  inputs: z
    .record(
      z.string().regex(/^[a-z][a-z0-9_]*$/, 'lower-case letters, digits and underscores'),
      z
        .strictObject({
          pattern: Pattern.optional().describe('anchored regular expression (^…$) a ticket value must match'),
          format: z
            .enum(INPUT_FORMATS)
            .optional()
            .describe('a built-in format the value must have: hostname (RFC 1123, lower-case ASCII)'),
          description: z.string().optional().describe('where the value comes from, for people'),
        })
        .refine((input) => input.pattern !== undefined || input.format !== undefined, {
          message: 'an input needs a pattern or a format (or both)',
        }),
    )
    .describe('values taken from the ticket (host is required); templates name them as {{ input }}'),
  steps: z
    .record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'), StepSchema)
    .describe('the steps by name; a workflow binds each to a Jira status'),
});

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

const SshAccess = z.strictObject({
  user: z.string().min(1).describe('SSH user the bot logs in as (key authentication only)'),
  port: z.number().int().min(1).max(65535).default(22).describe('SSH port (default 22)'),
  address: z
    .string()
    .optional()
    .describe(
      'connect to this address instead of the host name (the host key is still checked for the name)',
    ),
  jump: z
    .strictObject({
      host: z.string().min(1).describe('name of the jump host; its key is checked under this name'),
      port: z.number().int().min(1).max(65535).default(22).describe('SSH port of the jump host'),
      user: z.string().min(1).optional().describe('user on the jump host (default: the ssh user)'),
      address: z.string().optional().describe('connect to this address instead of the jump host name'),
    })
    .optional()
    .describe('reach the hosts of the site through this jump host (like ssh -J)'),
  transport: z
    .enum(['node-ssh', 'openssh'])
    .default('node-ssh')
    .describe(
      'node-ssh (default): pinned host keys only; openssh: the OpenSSH client, which also trusts host certificates (@cert-authority) and logs in with RUNBOT_SSH_CERT',
    ),
});

const IpmiAccess = z.strictObject({
  /** BMC address template, e.g. "{{ host.short }}-ipmi.dev2.internal". */
  address: z
    .string()
    .min(1)
    .refine(
      (template) =>
        [...template.matchAll(/\{\{\s*([^}\s]*)\s*\}\}/g)].every((match) =>
          ['host', 'host.short', 'site.name'].includes(match[1] ?? ''),
        ),
      'the address may only use {{ host }}, {{ host.short }} and {{ site.name }}',
    )
    .describe('BMC address template, e.g. "{{ host.short }}-ipmi.dev2.internal"'),
  port: z.number().int().min(1).max(65535).default(623).describe('BMC port (default 623)'),
  user: z.string().min(1).describe('BMC user'),
  /** Name of the environment variable holding the BMC password (never the password itself). */
  password_env: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')
    .describe('name of the environment variable holding the BMC password (never the password itself)'),
});

const RedfishAccess = z
  .strictObject({
    address: IpmiAccess.shape.address.describe(
      'BMC address template (host name or IP of its Redfish service), e.g. "{{ host.short }}-bmc.dev2.internal"',
    ),
    port: z.number().int().min(1).max(65535).default(443).describe('HTTPS port of the BMC (default 443)'),
    user: z.string().min(1).describe('BMC user (a Redfish session is opened as this user)'),
    password_env: IpmiAccess.shape.password_env,
    fingerprint: z
      .string()
      .regex(
        /^(?:[0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f]{64}$/,
        'a SHA-256 fingerprint: 32 hex pairs separated by colons (openssl x509 -noout -fingerprint -sha256)',
      )
      .optional()
      .describe("pin the BMC's certificate by its SHA-256 fingerprint (for self-signed BMC certificates)"),
    ca: z
      .string()
      .min(1)
      .optional()
      .describe(
        "PEM file of the CA that signs the BMCs' certificates, absolute or relative to the inventory file",
      ),
    system: z
      .string()
      .min(1)
      .optional()
      .describe('Id of the ComputerSystem when the BMC lists several (default: its only system)'),
  })
  .refine((access) => !(access.fingerprint && access.ca), {
    message: 'give either fingerprint or ca, not both',
    path: ['ca'],
  });

/** Blast-radius caps: how many steps may run at once in the site, in total and per step. */
const SiteCaps = z.strictObject({
  per_site: z.number().int().positive().optional().describe('steps running at once in the site'),
  per_step: z
    .record(z.string(), z.number().int().positive())
    .optional()
    .describe('steps running at once in the site, per step name'),
});

export const SiteSchema = z.strictObject({
  hosts: Pattern.describe('regular expression matched against the full host name'),
  manager: z.string().min(1).describe("the site's manager host ({{ site.manager }})"),
  ssh: SshAccess.describe('how the bot reaches the hosts of the site'),
  /** How the bot reaches the site's BMCs; `none` turns ipmi steps into manual ones. */
  ipmi: z
    .union([z.literal('none'), IpmiAccess])
    .default('none')
    .describe('how the bot reaches the BMCs of the site, or none (ipmi steps fall back)'),
  caps: SiteCaps.optional().describe('how many steps may run at once in the site'),
  /** How the bot reaches the site's BMCs over Redfish; `none` turns redfish steps into manual ones. */
  redfish: z
    .union([z.literal('none'), RedfishAccess])
    .default('none')
    .describe('how the bot reaches the Redfish BMCs of the site (HTTPS), or none (redfish steps fall back)'),
  breaker: SiteBreaker.optional(),
  windows: SiteWindows.optional(),
  freezes: SiteFreezes.optional(),
});

export const InventorySchema = z.strictObject({
  sites: z
    .record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'), SiteSchema)
    .describe('sites by name; each host belongs to the one site whose pattern matches it'),
  breaker: BreakerDefault.optional(),
});

export type Step = z.infer<typeof StepSchema>;
export type SshStep = z.infer<typeof SshStep>;
export type WaitStep = z.infer<typeof WaitStep>;
export type ManualStep = z.infer<typeof ManualStep>;
export type IpmiStep = z.infer<typeof IpmiStep>;
export type IpmiAction = (typeof IPMI_ACTIONS)[number];
export type IpmiAccess = z.infer<typeof IpmiAccess>;
export type RedfishStep = z.infer<typeof RedfishStep>;
export type RedfishAccess = z.infer<typeof RedfishAccess>;
export type Runbook = z.infer<typeof RunbookSchema>;
export type Workflow = z.infer<typeof WorkflowSchema>;
export type Site = z.infer<typeof SiteSchema>;
export type Inventory = z.infer<typeof InventorySchema>;
