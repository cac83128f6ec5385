// Inventory schemas of the site-wide safety controls: the failure-rate breaker, maintenance windows
// and freezes. Kept beside schema.ts, which names them under `sites.<site>` and the inventory's top.
import { z } from 'zod';

const BreakerLimits = z
  .strictObject({
    failures: z
      .number()
      .int()
      .positive()
      .describe('the breaker opens when this many of the last `window` runs failed'),
    window: z.number().int().positive().max(100).describe('how many of the latest runs are counted'),
  })
  .refine((limits) => limits.failures <= limits.window, {
    message: 'failures must not be more than window',
    path: ['failures'],
  });

/** The top level's default for every site and step; `off` turns the breaker off. */
export const BreakerDefault = z
  .union([z.literal('off'), BreakerLimits])
  .describe('default failure-rate breaker of every site and step (default 3 of 5), or off');

export const SiteBreaker = z
  .union([
    z.literal('off'),
    z.strictObject({
      failures: z.number().int().positive().optional().describe('failures that open it (default: top level)'),
      window: z
        .number()
        .int()
        .positive()
        .max(100)
        .optional()
        .describe('latest runs counted (default: top level)'),
      per_step: z
        .record(z.string(), z.union([z.literal('off'), BreakerLimits]))
        .optional()
        .describe('limits of single steps of the site, by step name, or off'),
    }),
  ])
  .describe("the site's failure-rate breaker: its limits, per-step limits, or off");

const CLOCK = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/;
const DAY_LIST =
  /^(daily|(mon|tue|wed|thu|fri|sat|sun)(-(mon|tue|wed|thu|fri|sat|sun))?(,(mon|tue|wed|thu|fri|sat|sun)(-(mon|tue|wed|thu|fri|sat|sun))?)*)$/;

function knownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const MaintenanceWindow = z
  .strictObject({
    days: z
      .string()
      .regex(DAY_LIST, 'expected days like "mon-fri", "sat,sun", "mon,wed-fri" or "daily"')
      .default('daily')
      .describe('days the window opens, in its time zone: "mon-fri", "sat,sun", "daily" (default)'),
    from: z
      .string()
      .regex(CLOCK, 'expected a time "HH:MM" (00:00 to 23:59)')
      .describe('opens at (HH:MM, local)'),
    to: z
      .string()
      .regex(CLOCK, 'expected a time "HH:MM" (00:00 to 24:00)')
      .describe('closes at (HH:MM, local); earlier than from: closes the next day'),
    tz: z
      .string()
      .refine(knownTimeZone, 'not an IANA time zone (e.g. Europe/Berlin, UTC)')
      .describe('IANA time zone of days, from and to, e.g. Europe/Berlin or UTC'),
  })
  .refine((window) => window.from !== window.to, { message: 'from and to are the same time', path: ['to'] });

/** An instant with an explicit offset: 2026-12-20T00:00Z, 2026-12-20T00:00:00+01:00. */
const Instant = z
  .string()
  .regex(
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/,
    'expected a time with its offset, e.g. 2026-12-20T00:00Z or 2026-12-20T00:00+01:00',
  )
  .refine((value) => Number.isFinite(Date.parse(value)), 'not a valid date');

export const Freeze = z
  .strictObject({
    from: Instant.describe('the freeze begins (ISO 8601 with Z or an offset)'),
    to: Instant.describe('the freeze ends (ISO 8601 with Z or an offset)'),
    reason: z.string().min(1).describe('why, shown to people while a step waits'),
  })
  .refine((freeze) => Date.parse(freeze.from) < Date.parse(freeze.to), {
    message: 'to must be after from',
    path: ['to'],
  });

export const SiteWindows = z
  .array(MaintenanceWindow)
  .min(1)
  .describe('new steps start only inside one of these windows (default: any time)');

export const SiteFreezes = z.array(Freeze).describe('no new step starts during these periods');

export type BreakerLimitsValue = z.infer<typeof BreakerLimits>;
export type MaintenanceWindowValue = z.infer<typeof MaintenanceWindow>;
export type FreezeValue = z.infer<typeof Freeze>;
