// The nock harness (after Renovate's test/http-mock.ts): no network while a test runs, and a test
// fails on any request nock had no mock for and on any mock it never used. nock intercepts
// node:http, which the Jira transport uses, and native fetch, which the OAuth token fetch uses
// (test/unit/jira-adapter.test.ts proves the first).
import nock from 'nock';
import { afterEach, beforeEach, expect } from 'vitest';

/** Call at the top of a test file: every test in it runs against nock only. */
export function useHttpMock(): void {
  let unmatched: string[] = [];
  const onNoMatch = (request: { method?: string; path?: string; url?: string }) =>
    unmatched.push(`${request.method ?? ''} ${request.url ?? request.path ?? ''}`);

  beforeEach(() => {
    unmatched = [];
    nock.disableNetConnect();
    nock.emitter.on('no match', onNoMatch);
  });

  afterEach(() => {
    nock.emitter.removeListener('no match', onNoMatch);
    const pending = nock.pendingMocks();
    nock.cleanAll();
    nock.enableNetConnect();
    expect(unmatched, 'requests nock had no mock for').toEqual([]);
    expect(pending, 'mocks the test never used').toEqual([]);
  });
}
