// Counts what must never happen, from the outside: a step command run on a host more often than the
// bot reported running it (one report comment per step visit), and the same bot comment posted twice.
import { plainText } from '../jira/adf.js';
import type { Fleet } from './fleet/index.js';
import type { JiraSandbox } from './jira/index.js';

const REF = /ref runbot\/([A-Z][A-Z0-9]*-\d+)\/(\d+)\/([a-z0-9-]+)/;

/** Fleet command patterns of the RMA runbook's automated steps, and the steps that run them. */
export const STEP_COMMANDS: { pattern: RegExp; steps: string[] }[] = [
  { pattern: /memcheck start/, steps: ['memcheck-start'] },
  { pattern: /storage-sync/, steps: ['sync', 'second-sync'] },
  { pattern: /blacklist remove/, steps: ['blacklist-removal'] },
  { pattern: /storage-rebalance/, steps: ['rebalance'] },
];

export interface Audit {
  duplicateSteps: number;
  duplicateComments: number;
  /** Bot comment references per ticket, in order. */
  refs: Map<string, string[]>;
}

export function audit(sandbox: JiraSandbox, fleet: Fleet, tickets: { key: string; host: string }[]): Audit {
  const refs = new Map<string, string[]>();
  let duplicateComments = 0;
  let duplicateSteps = 0;
  for (const { key, host } of tickets) {
    const seen = new Map<string, number>();
    for (const comment of sandbox.snapshot(key)?.comments ?? []) {
      const ref = REF.exec(plainText(comment.body))?.[0];
      if (ref) seen.set(ref, (seen.get(ref) ?? 0) + 1);
    }
    duplicateComments += [...seen.values()].reduce((sum, count) => sum + count - 1, 0);
    refs.set(key, [...seen.keys()]);
    for (const { pattern, steps } of STEP_COMMANDS) {
      const reported = [...seen.keys()].filter((ref) => steps.includes(REF.exec(ref)?.[3] ?? '')).length;
      duplicateSteps += Math.max(0, fleet.countAbout(host, pattern) - reported);
    }
  }
  return { duplicateSteps, duplicateComments, refs };
}
