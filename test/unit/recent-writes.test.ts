// The read-your-writes memory stays bounded and keeps the newest: ids learnt from reads (at most
// 10,000 keys, least recently read forgotten first) and writes (at most 50 reconciled).
import { describe, expect, it } from 'vitest';
import { createRecentWrites } from '../../src/jira/recent-writes.js';

const issue = (n: number) => ({ id: String(10_000 + n), key: `HOT-${n}` });

describe('recent writes', () => {
  it('forgets the least recently read key past 10,000, and only it', () => {
    const writes = createRecentWrites(() => 0);
    for (let n = 1; n <= 10_000; n += 1) writes.remember(issue(n));
    // Read again: HOT-1 becomes the newest, so HOT-2 is the oldest when one more key arrives.
    for (let round = 0; round < 3; round += 1) writes.remember(issue(1));
    writes.remember(issue(10_001));
    for (const n of [1, 2, 3, 10_001]) writes.wrote(`HOT-${n}`);
    expect(writes.reconcileList(undefined).sort()).toEqual([10_001, 10_003, 20_001]);
  });

  it('reconciles at most the 50 newest writes', () => {
    const writes = createRecentWrites(() => 0);
    for (let n = 1; n <= 60; n += 1) writes.remember(issue(n));
    for (let n = 1; n <= 60; n += 1) writes.wrote(`HOT-${n}`);
    const ids = writes.reconcileList(undefined);
    expect(ids).toHaveLength(50);
    expect(Math.min(...ids)).toBe(10_011);
  });
});
