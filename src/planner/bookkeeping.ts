// The bookkeeping a visit goes through, as pure functions: each takes the visit as it stands and
// returns the record to write. The runner writes them (in the same call as a transition or alone),
// the planner reads them back on the next plan. One place, so the record cannot drift between writers.
import type { StepVisit } from './decision.js';
import type { Bookkeeping } from './ticket.js';

/** A status entered: a new visit begins there (the transition carries it, or the planner derives it). */
export function entered(previous: Bookkeeping | undefined, status: string, now: Date): Bookkeeping {
  return { status, visit: (previous?.visit ?? 0) + 1, enteredAt: now.toISOString() };
}

/** The bot moves the ticket to `status`: a new visit, and which visit the move left. */
export function movedOn(previous: Bookkeeping | undefined, status: string, now: Date): Bookkeeping {
  return { ...entered(previous, status, now), ...(previous ? { from: previous.visit } : {}) };
}

/** The running mark, written before a step runs: the next plan knows the step began (at-most-once),
 * and after a Redis loss the claimant whose `claim` token stays runs it. */
export function running(visit: StepVisit, step: string, now: Date, claim: string): Bookkeeping {
  return { ...visit.bookkeeping, running: { step, since: now.toISOString(), claim } };
}

/** The running mark taken back: nothing reached the host, so the step may run again. */
export function cleared(visit: StepVisit): Bookkeeping {
  return visit.bookkeeping;
}

/** A manual step's instructions were posted in this visit. */
export function instructed(visit: StepVisit): Bookkeeping {
  return { ...visit.bookkeeping, instructed: true };
}

/** A wait step's start, when a person moved the ticket in (the bot's own move records enteredAt). */
export function started(visit: StepVisit, startedAt: string): Bookkeeping {
  return { ...visit.bookkeeping, startedAt };
}

/** The ticket was told why its step waits (holds.ts, `holdMark`). */
export function toldHeld(visit: StepVisit, mark: string): Bookkeeping {
  return { ...visit.bookkeeping, held: mark };
}

/** At the gate, the ticket was told which ticket holds its exclusive value. */
export function heldBy(visit: StepVisit, holder: string): Bookkeeping {
  return { ...visit.bookkeeping, heldBy: holder };
}
