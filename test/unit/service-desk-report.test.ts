// The report of a move in a service project over an in-memory comment list: posted once however the
// answers went, one copy kept (the earliest), a person's comment quoting the reference left alone.
import { describe, expect, it } from 'vitest';
import { doc, paragraph } from '../../src/jira/adf.js';
import { JiraRequestError } from '../../src/jira/errors.js';
import {
  allCommentsIn,
  keepEarliest,
  postOnce,
  postReport,
  settleLateReport,
  withdrawReport,
  type PostedComment,
  type ReportCalls,
} from '../../src/jira/service-desk-report.js';

const REF = 'ref runbot/OPS-1/2/memtest';
const BOT = 'bot-account';
const body = doc([paragraph('Memtest passed.'), paragraph(REF)]);

function comment(id: number, author: string, text = REF): PostedComment {
  return {
    id: String(id),
    created: new Date(1_000 + id).toISOString(),
    author: { accountId: author },
    body: doc([paragraph(text)]),
  };
}

/** A ticket's comments; `answers` says, per POST, whether it lands and what the bot hears. */
function ticket(existing: PostedComment[], answers: ('ok' | 'lost' | 'refused' | 'unsaved')[]) {
  const comments = [...existing];
  const log: string[] = [];
  const failure = (status: number) =>
    new JiraRequestError({ endpoint: 'POST comment', status, messages: [], issueKey: 'OPS-1', attempts: 1 });
  const calls: ReportCalls = {
    me: () => Promise.resolve(BOT),
    attempts: 3,
    pause: (failedAttempts) => (log.push(`pause ${failedAttempts}`), Promise.resolve()),
    post() {
      const answer = answers.shift() ?? 'ok';
      log.push(`post ${answer}`);
      if (answer === 'ok' || answer === 'lost') comments.push(comment(100 + comments.length, BOT));
      if (answer === 'lost') return Promise.reject(failure(504));
      if (answer === 'unsaved') return Promise.reject(failure(502));
      if (answer === 'refused') return Promise.reject(failure(400));
      return Promise.resolve(comments.at(-1)?.id);
    },
    recent: () => (log.push('recent'), Promise.resolve([...comments].reverse())),
    remove(_key, id) {
      log.push(`delete ${id}`);
      const at = comments.findIndex((c) => c.id === id);
      if (at >= 0) comments.splice(at, 1);
      return Promise.resolve();
    },
  };
  return { calls, comments, log };
}

describe('postReport', () => {
  it('posts once and keeps it', async () => {
    const t = ticket([], ['ok']);
    await postReport(t.calls, 'OPS-1', body, REF);
    expect(t.comments.map((c) => c.id)).toEqual(['100']);
    expect(t.log).toEqual(['post ok', 'recent']);
  });

  it('finds its comment after a lost answer instead of posting it again', async () => {
    const t = ticket([], ['lost']);
    await postReport(t.calls, 'OPS-1', body, REF);
    expect(t.comments).toHaveLength(1);
    expect(t.log).toEqual(['post lost', 'recent', 'recent']);
  });

  it('posts again when a 5xx left nothing on the ticket', async () => {
    const t = ticket([], ['unsaved', 'ok']);
    await postReport(t.calls, 'OPS-1', body, REF);
    expect(t.comments).toHaveLength(1);
    expect(t.log).toEqual(['post unsaved', 'recent', 'pause 1', 'post ok', 'recent']);
  });

  it('gives up after its attempts (three here) left nothing, with the last error', async () => {
    const t = ticket([], ['unsaved', 'unsaved', 'unsaved']);
    await expect(postReport(t.calls, 'OPS-1', body, REF)).rejects.toMatchObject({ status: 502 });
    expect(t.comments).toEqual([]);
  });

  it('does not look or post again after a 4xx: Jira did nothing', async () => {
    const t = ticket([], ['refused']);
    await expect(postReport(t.calls, 'OPS-1', body, REF)).rejects.toMatchObject({ status: 400 });
    expect(t.log).toEqual(['post refused']);
  });

  it("deletes its own copy when a twin's is earlier, and leaves a person's quote", async () => {
    const t = ticket(
      [comment(1, 'alice', `see ${REF}`), comment(2, BOT), comment(3, 'other text', 'unrelated')],
      ['ok'],
    );
    await postReport(t.calls, 'OPS-1', body, REF);
    expect(t.comments.map((c) => c.id)).toEqual(['1', '2', '3']);
    expect(t.log).toEqual(['post ok', 'recent', 'delete 103']);
  });

  it('keeps one of its own copies even when a person quoted the reference first', async () => {
    const t = ticket(
      [comment(1, 'alice', `see ${REF}`), comment(2, 'alice', `again ${REF}`)],
      ['ok', 'lost'],
    );
    await postReport(t.calls, 'OPS-1', body, REF);
    await postReport(t.calls, 'OPS-1', body, REF);
    expect(t.comments.map((c) => c.author?.accountId)).toEqual(['alice', 'alice', BOT]);
  });
});

describe('postOnce, then keepEarliest over comments the caller read', () => {
  it('reads nothing more when the caller read every comment after the post', async () => {
    const t = ticket([comment(2, BOT)], ['ok']);
    await postOnce(t.calls, 'OPS-1', body, REF);
    await keepEarliest(t.calls, 'OPS-1', REF, [...t.comments]);
    expect(t.comments.map((c) => c.id)).toEqual(['2']);
    expect(t.log).toEqual(['post ok', 'delete 101']);
  });

  it('reads the newest itself when the caller could not read them all', async () => {
    const t = ticket([comment(2, BOT)], ['ok']);
    await postOnce(t.calls, 'OPS-1', body, REF);
    await keepEarliest(t.calls, 'OPS-1', REF, undefined);
    expect(t.log).toEqual(['post ok', 'recent', 'delete 101']);
  });
});

// The ticket left the step's status before this poster read it back.
describe('settleLateReport', () => {
  it("takes back only its own copy when another is the visit's report already", async () => {
    const t = ticket([comment(1, 'alice', `see ${REF}`), comment(2, BOT)], ['ok']);
    const mine = await postOnce(t.calls, 'OPS-1', body, REF);
    expect(mine).toBe('102');
    // Earlier or later than the other copy, and whoever moved the ticket: the other stays.
    await settleLateReport(t.calls, 'OPS-1', REF, { mine, botMoved: false, seen: [...t.comments] });
    expect(t.comments.map((c) => c.id)).toEqual(['1', '2']);
  });

  it('does nothing when its copy is already gone and another stays', async () => {
    const t = ticket([comment(2, BOT)], []);
    await settleLateReport(t.calls, 'OPS-1', REF, { mine: '9', botMoved: false, seen: [...t.comments] });
    expect(t.comments.map((c) => c.id)).toEqual(['2']);
    expect(t.log).toEqual([]);
  });

  it('keeps its copy when it is the only one and the bot moved the visit on (the mover kept it)', async () => {
    const t = ticket([], ['ok']);
    const mine = await postOnce(t.calls, 'OPS-1', body, REF);
    await settleLateReport(t.calls, 'OPS-1', REF, { mine, botMoved: true, seen: [...t.comments] });
    expect(t.comments).toHaveLength(1);
  });

  it("takes every copy back when a person moved the ticket, a person's quote stays", async () => {
    const t = ticket([comment(1, 'alice', `see ${REF}`)], ['ok']);
    const mine = await postOnce(t.calls, 'OPS-1', body, REF);
    await settleLateReport(t.calls, 'OPS-1', REF, { mine, botMoved: false, seen: [...t.comments] });
    expect(t.comments.map((c) => c.id)).toEqual(['1']);
  });

  it('after a lost answer (its id unknown) decides by who moved the ticket', async () => {
    const moved = ticket([comment(2, BOT)], ['lost']);
    const unknown = await postOnce(moved.calls, 'OPS-1', body, REF);
    expect(unknown).toBeUndefined();
    await settleLateReport(moved.calls, 'OPS-1', REF, { mine: unknown, botMoved: true });
    expect(moved.comments.map((c) => c.id)).toEqual(['2']);
    const person = ticket([comment(2, BOT)], ['lost']);
    await postOnce(person.calls, 'OPS-1', body, REF);
    await settleLateReport(person.calls, 'OPS-1', REF, { mine: undefined, botMoved: false });
    expect(person.comments).toEqual([]);
  });
});

describe('allCommentsIn (GET issue embeds a page of comments)', () => {
  const page = (comments: PostedComment[], extra: object) => ({ comments, ...extra });

  it('is every comment when the page holds them all', () => {
    const all = [comment(1, BOT), comment(2, 'alice')];
    expect(allCommentsIn(page(all, { startAt: 0, total: 2 }))).toEqual(all);
  });

  it('is undefined when the page does not say it holds them all: more than embedded, no total, a bare list', () => {
    expect(allCommentsIn(page([comment(1, BOT)], { startAt: 0 }))).toBeUndefined();
    expect(allCommentsIn([comment(1, BOT)])).toBeUndefined();
    expect(allCommentsIn(page([comment(1, BOT)], { startAt: 0, total: 3 }))).toBeUndefined();
    expect(allCommentsIn(page([comment(3, BOT)], { startAt: 2, total: 3 }))).toBeUndefined();
    expect(allCommentsIn(undefined)).toBeUndefined();
    expect(allCommentsIn({ comments: [{ body: 'no id' }] })).toBeUndefined();
  });
});

describe('withdrawReport', () => {
  it('deletes every copy carrying the reference, nothing else', async () => {
    const t = ticket([comment(1, BOT, 'unrelated'), comment(2, BOT)], []);
    await withdrawReport(t.calls, 'OPS-1', REF);
    expect(t.comments.map((c) => c.id)).toEqual(['1']);
  });
});
