// Seeds many tickets at once by writing the Jira sandbox's in-memory store directly: 10,000 tickets
// through the REST API would take the benchmark's whole budget, and how tickets got into Jira is
// not what is measured. The bot still reads them only through the REST API.

/**
 * The sandbox keeps its state in a TypeScript-private field; a benchmark of the sandbox's own
 * clients may reach it (the sandbox is test equipment, not the service).
 */
function storeOf(sandbox) {
  const store = sandbox.state?.store;
  if (!store)
    throw new Error('bench: the Jira sandbox no longer has state.store; update bench/support/seed.js');
  return store;
}

/** Host names the shipped example inventory (workflows/inventory.yaml) places in site dev2. */
export const hostName = (index) =>
  `container-${101 + Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}.dev2.internal`;

/**
 * One RMA ticket and one restore ticket blocked by it. `status` is the restore ticket's status;
 * `bookkeeping` (optional) is its `runbot` issue property; `rmaDone` closes the RMA ticket.
 */
export function seedRestore(sandbox, workflow, { host, status, bookkeeping, rmaDone = true, labels = [] }) {
  const store = storeOf(sandbox);
  const rma = store.create({
    projectKey: 'RMA',
    issueType: 'RMA',
    status: rmaDone ? 'Done' : 'Open',
    summary: `Replace failed DIMM in ${host}`,
    description: null,
    labels: [],
    custom: {},
  });
  const restore = store.create({
    projectKey: workflow.jira.project,
    issueType: workflow.jira.issue_type,
    status,
    summary: `Restore ${host} to Service after ${rma.key}`,
    description: null,
    labels,
    custom: { [workflow.fields.host]: host },
  });
  if (bookkeeping) store.mutate(restore.key, (draft) => (draft.properties.runbot = bookkeeping));
  store.addLink('Blocks', rma.key, restore.key);
  return { key: restore.key, rma: rma.key, host };
}

/** Status and properties read without copying (snapshot() deep-clones every comment). */
export function peek(sandbox, key) {
  return storeOf(sandbox).find(key);
}
