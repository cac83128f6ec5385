// Maintenance-window and freeze arithmetic: local wall-clock times in the window's own zone, across
// DST changes (Europe/Berlin: 2026-03-29 02:00 → 03:00, 2026-10-25 03:00 → 02:00; America/New_York:
// 2026-11-01 02:00 → 01:00), overnight windows, and day lists.
import { describe, expect, it } from 'vitest';
import { InventorySchema } from '../../src/definitions/index.js';
import { insideWindow, nextOpening, parseDays, siteClosed, zonedInstant } from '../../src/planner/windows.js';

const BERLIN_OFFICE = { days: 'mon-fri', from: '09:00', to: '17:00', tz: 'Europe/Berlin' };
const at = (iso: string) => new Date(iso);

describe('maintenance windows: days', () => {
  it('reads ranges, lists, wrapping ranges and daily (0 = Sunday)', () => {
    expect([...parseDays('mon-fri')]).toEqual([1, 2, 3, 4, 5]);
    expect([...parseDays('sat,sun')].sort()).toEqual([0, 6]);
    expect([...parseDays('fri-mon')].sort()).toEqual([0, 1, 5, 6]);
    expect([...parseDays('mon,wed-thu')].sort()).toEqual([1, 3, 4]);
    expect(parseDays('daily').size).toBe(7);
  });
});

describe('maintenance windows: inside or outside, in the window’s zone', () => {
  it('keeps local office hours before and after Berlin springs forward', () => {
    // Friday before the change: CET, UTC+1.
    expect(insideWindow(BERLIN_OFFICE, at('2026-03-27T08:30Z'))).toBe(true); // 09:30 CET
    expect(insideWindow(BERLIN_OFFICE, at('2026-03-27T07:30Z'))).toBe(false); // 08:30 CET
    expect(insideWindow(BERLIN_OFFICE, at('2026-03-27T16:30Z'))).toBe(false); // 17:30 CET
    // Monday after: CEST, UTC+2. A fixed +1 offset would get both of these wrong.
    expect(insideWindow(BERLIN_OFFICE, at('2026-03-30T07:30Z'))).toBe(true); // 09:30 CEST
    expect(insideWindow(BERLIN_OFFICE, at('2026-03-30T15:30Z'))).toBe(false); // 17:30 CEST
  });

  it('is closed on days not listed (Saturday in Berlin, still Friday in UTC-less terms)', () => {
    expect(insideWindow(BERLIN_OFFICE, at('2026-03-28T10:00Z'))).toBe(false);
  });

  it('counts the repeated hour when Berlin falls back: a 01:00–04:00 window lasts four real hours', () => {
    const night = { days: 'daily', from: '01:00', to: '04:00', tz: 'Europe/Berlin' };
    expect(insideWindow(night, at('2026-10-24T23:00Z'))).toBe(true); // 01:00 CEST
    expect(insideWindow(night, at('2026-10-25T00:30Z'))).toBe(true); // 02:30 CEST
    expect(insideWindow(night, at('2026-10-25T01:30Z'))).toBe(true); // 02:30 CET, again
    expect(insideWindow(night, at('2026-10-25T02:59Z'))).toBe(true); // 03:59 CET
    expect(insideWindow(night, at('2026-10-25T03:00Z'))).toBe(false); // 04:00 CET
  });

  it('runs an overnight window into the next day, which need not be listed', () => {
    const fridayNight = { days: 'fri', from: '22:00', to: '06:00', tz: 'America/New_York' };
    expect(insideWindow(fridayNight, at('2026-11-07T03:30Z'))).toBe(true); // Fri 22:30 EST
    expect(insideWindow(fridayNight, at('2026-11-07T10:30Z'))).toBe(true); // Sat 05:30 EST
    expect(insideWindow(fridayNight, at('2026-11-07T11:30Z'))).toBe(false); // Sat 06:30 EST
    expect(insideWindow(fridayNight, at('2026-11-08T04:00Z'))).toBe(false); // Sat 23:00 EST
  });
});

describe('maintenance windows: when the next one opens', () => {
  it('from Friday evening in Berlin, Monday 09:00 CEST, after the clocks changed', () => {
    expect(nextOpening(BERLIN_OFFICE, at('2026-03-27T17:00Z'))?.toISOString()).toBe(
      '2026-03-30T07:00:00.000Z',
    );
  });

  it('later the same day when it has not opened yet', () => {
    expect(nextOpening(BERLIN_OFFICE, at('2026-03-30T05:00Z'))?.toISOString()).toBe(
      '2026-03-30T07:00:00.000Z',
    );
  });

  it('a local time that happens twice is the first; one that never happens is an hour later', () => {
    // 02:30 on 2026-10-25 in Berlin: 00:30Z (CEST) and 01:30Z (CET).
    expect(zonedInstant(2026, 10, 25, 150, 'Europe/Berlin').toISOString()).toBe('2026-10-25T00:30:00.000Z');
    // 02:30 on 2026-03-29 does not exist (02:00 CET → 03:00 CEST): 03:30 CEST.
    expect(zonedInstant(2026, 3, 29, 150, 'Europe/Berlin').toISOString()).toBe('2026-03-29T01:30:00.000Z');
    // New York falls back on 2026-11-01: 09:00 that day is EST (UTC-5).
    expect(zonedInstant(2026, 11, 1, 540, 'America/New_York').toISOString()).toBe('2026-11-01T14:00:00.000Z');
  });
});

describe('maintenance windows: a site closed for new steps', () => {
  const site = InventorySchema.parse({
    sites: {
      dev2: {
        hosts: '\\.dev2\\.internal$',
        manager: 'manager-0.dev2.internal',
        ssh: { user: 'runbot' },
        windows: [BERLIN_OFFICE, { days: 'sat', from: '10:00', to: '12:00', tz: 'UTC' }],
        freezes: [{ from: '2026-12-20T00:00Z', to: '2027-01-02T00:00Z', reason: 'year-end change freeze' }],
      },
    },
  }).sites.dev2!;

  it('is open inside any one of its windows', () => {
    expect(siteClosed('dev2', site, at('2026-11-23T10:00Z'))).toBeUndefined(); // Mon 11:00 CET
    expect(siteClosed('dev2', site, at('2026-11-28T11:00Z'))).toBeUndefined(); // Sat 11:00 UTC
  });

  it('says until when, in the zone of the window that opens first', () => {
    // Monday 17:30 CET: Berlin reopens Tuesday 09:00, before Saturday's UTC window.
    expect(siteClosed('dev2', site, at('2026-11-23T16:30Z'))).toEqual({
      kind: 'window',
      reason: 'outside maintenance window of dev2 until 09:00 Europe/Berlin',
      until: at('2026-11-24T08:00Z'),
    });
    // Friday 18:00 CET: Saturday 10:00 UTC comes first.
    expect(siteClosed('dev2', site, at('2026-11-27T17:00Z'))?.reason).toBe(
      'outside maintenance window of dev2 until 10:00 UTC',
    );
    // Saturday 12:30 UTC: Monday in Berlin, more than a day away, so the day is named.
    expect(siteClosed('dev2', site, at('2026-11-28T12:30Z'))?.reason).toBe(
      'outside maintenance window of dev2 until Mon 09:00 Europe/Berlin',
    );
  });

  it('is closed during a freeze even inside a window, until the freeze ends', () => {
    expect(siteClosed('dev2', site, at('2026-12-21T10:00Z'))).toEqual({
      kind: 'freeze',
      reason: 'dev2 frozen until 2027-01-02 00:00 UTC: year-end change freeze',
      until: at('2027-01-02T00:00Z'),
    });
  });

  it('is always open without windows or freezes', () => {
    expect(siteClosed('sm1', {}, at('2026-12-25T03:00Z'))).toBeUndefined();
  });
});

describe('maintenance windows: the inventory refuses what it cannot mean', () => {
  const parse = (site: Record<string, unknown>) =>
    InventorySchema.safeParse({
      sites: { dev2: { hosts: 'x', manager: 'm', ssh: { user: 'runbot' }, ...site } },
    });
  const messages = (result: ReturnType<typeof parse>) =>
    result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);

  it('an unknown time zone, a time without its zone offset, a freeze that ends before it begins', () => {
    expect(messages(parse({ windows: [{ ...BERLIN_OFFICE, tz: 'Europe/Berlinn' }] }))).toEqual([
      'sites.dev2.windows.0.tz: not an IANA time zone (e.g. Europe/Berlin, UTC)',
    ]);
    expect(messages(parse({ windows: [{ ...BERLIN_OFFICE, days: 'weekdays' }] }))[0]).toMatch(
      /^sites\.dev2\.windows\.0\.days: expected days like/,
    );
    expect(
      messages(parse({ freezes: [{ from: '2026-12-20T00:00', to: '2027-01-02T00:00Z', reason: 'x' }] })),
    ).toEqual([
      'sites.dev2.freezes.0.from: expected a time with its offset, e.g. 2026-12-20T00:00Z or 2026-12-20T00:00+01:00',
    ]);
    expect(
      messages(parse({ freezes: [{ from: '2027-01-02T00:00Z', to: '2026-12-20T00:00Z', reason: 'x' }] })),
    ).toEqual(['sites.dev2.freezes.0.to: to must be after from']);
  });
});
