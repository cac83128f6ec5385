// Runbook steps more than one test world runs, as YAML under `steps:` (see world.ts's `steps`).

/**
 * A memory test over SSH in two steps: memcheck-start writes `result` to `<work>/memtest-<short host>`
 * on the host, memcheck-wait reads that file back every second until it starts with PASSED (60s).
 */
export const memcheckSteps = (work: string, result: string) => `
memcheck-start:
  kind: ssh
  target: '{{ host }}'
  commands: ['echo ${result} > ${work}/memtest-{{ host.short }}']
  timeout: 20s
memcheck-wait:
  kind: wait
  target: '{{ host }}'
  check: cat ${work}/memtest-{{ host.short }}
  done_when: { output: '^PASSED' }
  interval: 1s
  timeout: 60s
`;
