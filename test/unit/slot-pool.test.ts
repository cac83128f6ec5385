import { describe, expect, it } from 'vitest';
import { SlotPool } from '../../src/queue/slots.js';

describe('queue: the slot pool shared by a process’s site workers', () => {
  it('gives out at most its size, then hands a released slot to the first waiter', async () => {
    const pool = new SlotPool(2);
    const [a, b] = [{}, {}];
    const first = await pool.acquire(a);
    await pool.acquire(a);
    expect(pool.taken).toBe(2);

    const order: string[] = [];
    const waitA = pool.acquire(a).then((release) => (order.push('a'), release));
    const waitB = pool.acquire(b).then((release) => (order.push('b'), release));
    first?.();
    const granted = await waitA;
    expect(order).toEqual(['a']);
    expect(pool.taken).toBe(2);

    granted?.();
    await waitB;
    expect(order).toEqual(['a', 'b']);
    expect(pool.taken).toBe(2);
  });

  it('counts a slot released twice once', async () => {
    const pool = new SlotPool(1);
    const release = await pool.acquire({});
    release?.();
    release?.();
    expect(pool.taken).toBe(0);
    await pool.acquire({});
    expect(pool.taken).toBe(1);
  });

  it('ends the waits of a closing worker without a slot, and keeps the others waiting', async () => {
    const pool = new SlotPool(1);
    const [closing, other] = [{}, {}];
    const held = await pool.acquire(other);
    const closingWait = pool.acquire(closing);
    let otherGranted = false;
    const otherWait = pool.acquire(other).then((release) => ((otherGranted = true), release));

    pool.abandon(closing);
    expect(await closingWait).toBeUndefined();
    expect(otherGranted).toBe(false);

    held?.();
    expect(await otherWait).toBeTypeOf('function');
    expect(pool.taken).toBe(1);
  });
});
