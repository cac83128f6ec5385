// Maintenance windows and freezes: is a site open for new steps at an instant, and if not, until
// when. Wall-clock arithmetic in the window's own time zone through Intl.DateTimeFormat (no library,
// no Temporal): days, from and to are local times, so a window keeps its local hours across DST.
import type { FreezeValue, MaintenanceWindowValue } from '../definitions/site-safety.js';

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const DAY_MS = 86_400_000;

/** Why a site is closed for new steps now, and when it opens again (undefined: not known). */
export interface SiteClosed {
  kind: 'window' | 'freeze';
  /** For people: "outside maintenance window of dev2 until 09:00 Europe/Berlin". */
  reason: string;
  until?: Date;
}

interface LocalTime {
  year: number;
  month: number;
  day: number;
  weekday: number;
  /** Minutes since local midnight. */
  minutes: number;
}

const formats = new Map<string, Intl.DateTimeFormat>();
function formatIn(zone: string): Intl.DateTimeFormat {
  let format = formats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    formats.set(zone, format);
  }
  return format;
}

function localTime(at: Date, zone: string): LocalTime {
  const parts = Object.fromEntries(
    formatIn(zone)
      .formatToParts(at)
      .map((part) => [part.type, part.value]),
  );
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    weekday: WEEKDAYS.indexOf((parts.weekday ?? '').toLowerCase() as (typeof WEEKDAYS)[number]),
    minutes: Number(parts.hour) * 60 + Number(parts.minute),
  };
}

/** Local minus UTC at an instant, in ms (to the minute, which every zone in use today keeps to). */
function offsetMs(instant: number, zone: string): number {
  const local = localTime(new Date(instant), zone);
  const wall = Date.UTC(local.year, local.month - 1, local.day) + local.minutes * 60_000;
  return wall - Math.floor(instant / 60_000) * 60_000;
}

/**
 * The instant a local wall time happens in a zone. In a DST fold (the time happens twice) the first;
 * in a DST gap (it never happens) the time as if the clock had not jumped, i.e. one hour later, as
 * Temporal's "compatible" disambiguation does.
 */
export function zonedInstant(year: number, month: number, day: number, minutes: number, zone: string): Date {
  const wall = Date.UTC(year, month - 1, day) + minutes * 60_000;
  // The offsets in force half a day before and after: a zone changes its offset at most once between.
  const candidates = [wall - offsetMs(wall - DAY_MS / 2, zone), wall - offsetMs(wall + DAY_MS / 2, zone)];
  const exact = candidates.filter((instant) => {
    const local = localTime(new Date(instant), zone);
    return Date.UTC(local.year, local.month - 1, local.day) + local.minutes * 60_000 === wall;
  });
  return new Date(exact.length > 0 ? Math.min(...exact) : Math.max(...candidates));
}

/** "mon-fri,sun" → the weekdays it names (0 = Sunday). */
export function parseDays(days: string): Set<number> {
  if (days === 'daily') return new Set([0, 1, 2, 3, 4, 5, 6]);
  const set = new Set<number>();
  for (const range of days.split(',')) {
    const [first, last = first] = range.split('-').map((name) => WEEKDAYS.indexOf(name as never));
    for (let day = first ?? 0; ; day = (day + 1) % 7) {
      set.add(day);
      if (day === last) break;
    }
  }
  return set;
}

const clock = (value: string) => Number(value.slice(0, 2)) * 60 + Number(value.slice(3, 5));

/** Is the window open at this instant? A window whose `to` is before its `from` closes the next day. */
export function insideWindow(window: MaintenanceWindowValue, at: Date): boolean {
  const local = localTime(at, window.tz);
  const days = parseDays(window.days);
  const from = clock(window.from);
  const to = clock(window.to);
  if (from < to) return days.has(local.weekday) && local.minutes >= from && local.minutes < to;
  const yesterday = (local.weekday + 6) % 7;
  return (days.has(local.weekday) && local.minutes >= from) || (days.has(yesterday) && local.minutes < to);
}

/** When the window next opens after `at` (it opens on one of its days within 8 local days). */
export function nextOpening(window: MaintenanceWindowValue, at: Date): Date | undefined {
  const local = localTime(at, window.tz);
  const days = parseDays(window.days);
  for (let ahead = 0; ahead <= 8; ahead += 1) {
    const date = new Date(Date.UTC(local.year, local.month - 1, local.day) + ahead * DAY_MS);
    if (!days.has(date.getUTCDay())) continue;
    const opens = zonedInstant(
      date.getUTCFullYear(),
      date.getUTCMonth() + 1,
      date.getUTCDate(),
      clock(window.from),
      window.tz,
    );
    if (opens.getTime() > at.getTime()) return opens;
  }
  return undefined;
}

/** "09:00 Europe/Berlin", or "Mon 09:00 Europe/Berlin" when it is more than a day away. */
function openingTime(opens: Date, zone: string, now: Date): string {
  const local = localTime(opens, zone);
  const hhmm = `${String(Math.floor(local.minutes / 60)).padStart(2, '0')}:${String(local.minutes % 60).padStart(2, '0')}`;
  const weekday = WEEKDAYS[local.weekday] ?? '';
  const prefix =
    opens.getTime() - now.getTime() > DAY_MS ? `${weekday[0]?.toUpperCase()}${weekday.slice(1)} ` : '';
  return `${prefix}${hhmm} ${zone}`;
}

function utcMinutes(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Whether a site takes new steps at `now`: a freeze first, then its windows (none: any time). */
export function siteClosed(
  name: string,
  site: { windows?: MaintenanceWindowValue[] | undefined; freezes?: FreezeValue[] | undefined },
  now: Date,
): SiteClosed | undefined {
  const freeze = (site.freezes ?? []).find(
    (period) => Date.parse(period.from) <= now.getTime() && now.getTime() < Date.parse(period.to),
  );
  if (freeze) {
    const until = new Date(freeze.to);
    return { kind: 'freeze', reason: `${name} frozen until ${utcMinutes(until)}: ${freeze.reason}`, until };
  }
  const windows = site.windows ?? [];
  if (windows.length === 0 || windows.some((window) => insideWindow(window, now))) return undefined;
  let first: { opens: Date; zone: string } | undefined;
  for (const window of windows) {
    const opens = nextOpening(window, now);
    if (opens && (!first || opens < first.opens)) first = { opens, zone: window.tz };
  }
  if (!first) return { kind: 'window', reason: `outside maintenance window of ${name}` };
  return {
    kind: 'window',
    reason: `outside maintenance window of ${name} until ${openingTime(first.opens, first.zone, now)}`,
    until: first.opens,
  };
}
