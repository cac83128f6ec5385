// The inventory file's schema (where: sites, how to reach their hosts and BMCs, their caps, breakers,
// windows and freezes). Strict: unknown keys are errors. Re-exported by schema.ts.
import { z } from 'zod';
import { Pattern } from './schema-runbook.js';
import { BreakerDefault, SiteBreaker, SiteFreezes, SiteWindows } from './site-safety.js';

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

export type IpmiAccess = z.infer<typeof IpmiAccess>;
export type RedfishAccess = z.infer<typeof RedfishAccess>;
export type Site = z.infer<typeof SiteSchema>;
export type Inventory = z.infer<typeof InventorySchema>;
