// The simulated BMC's resources by method and path: what a GET reads, the two actions (Reset,
// ClearLog), the boot override PATCH and a session's DELETE. server.ts handles HTTPS, login and the
// call log around it.
import * as resource from './resources.js';
import type { BmcState } from './resources.js';

/** What a request may read or change: the BMC's state and its open sessions by token. */
export interface Bmc {
  state: BmcState;
  tokens: Map<string, { id: string; user: string }>;
}

export function route(
  bmc: Bmc,
  method: string,
  path: string,
  body: unknown,
): [number, unknown, Record<string, string>?] {
  const { state } = bmc;
  const system = resource.systemPath(state);
  const sessionPrefix = `${resource.ROOT}/SessionService/Sessions/`;
  if (method === 'DELETE' && path.startsWith(sessionPrefix)) {
    const id = path.slice(sessionPrefix.length);
    const token = [...bmc.tokens].find(([, open]) => open.id === id)?.[0];
    if (!token) return [404, resource.errorBody('ResourceMissingAtURI', `No session ${id}.`)];
    bmc.tokens.delete(token);
    return [204, undefined];
  }
  if (method === 'POST' && path === `${system}/Actions/ComputerSystem.Reset`) return reset(state, body);
  if (method === 'POST' && path === `${system}/LogServices/SEL/Actions/LogService.ClearLog`) {
    state.sel = [];
    return [204, undefined];
  }
  if (method === 'PATCH' && path === system) return patchSystem(state, body);
  if (method !== 'GET')
    return [405, resource.errorBody('ActionNotSupported', `${method} is not allowed on ${path}.`)];
  const found = read(bmc, path);
  if (found === undefined)
    return [404, resource.errorBody('ResourceMissingAtURI', `No resource at ${path}.`)];
  return path === system ? [200, found, { ETag: `W/"${etagOf(found)}"` }] : [200, found];
}

function read(bmc: Bmc, path: string): unknown {
  const { state } = bmc;
  const system = resource.systemPath(state);
  const fixed: Record<string, () => unknown> = {
    [`${resource.ROOT}/Systems`]: () => resource.systems(state),
    [system]: () => resource.computerSystem(state),
    [`${system}/Memory`]: () => resource.memoryCollection(state),
    [`${system}/Processors`]: () => resource.processorCollection(state),
    [`${system}/LogServices`]: () => resource.logServices(state),
    [`${system}/LogServices/SEL`]: () => resource.selService(state),
    [`${system}/LogServices/SEL/Entries`]: () => resource.selEntries(state),
    [`${resource.ROOT}/SessionService`]: () => resource.sessionService(),
    [`${resource.ROOT}/SessionService/Sessions`]: () =>
      resource.sessions([...bmc.tokens.values()].map((open) => open.id)),
    [`${resource.ROOT}/Chassis`]: () => ({
      ...resource.systems(state),
      '@odata.id': `${resource.ROOT}/Chassis`,
      '@odata.type': '#ChassisCollection.ChassisCollection',
      Name: 'Chassis Collection',
      Members: [],
      'Members@odata.count': 0,
    }),
    [`${resource.ROOT}/Managers`]: () => ({
      ...resource.systems(state),
      '@odata.id': `${resource.ROOT}/Managers`,
      '@odata.type': '#ManagerCollection.ManagerCollection',
      Name: 'Manager Collection',
      Members: [],
      'Members@odata.count': 0,
    }),
  };
  const fixedAnswer = fixed[path];
  if (fixedAnswer) return fixedAnswer();
  const member = /^(.*)\/([^/]+)$/.exec(path);
  const [, parent, id] = member ?? [];
  if (parent === `${system}/Memory`) {
    const dimm = state.memory.find((item) => item.id === id);
    return dimm && resource.memory(state, dimm);
  }
  if (parent === `${system}/Processors`) {
    const cpu = state.processors.find((item) => item.id === id);
    return cpu && resource.processor(state, cpu);
  }
  if (parent === `${system}/LogServices/SEL/Entries`) {
    const entry = state.sel.find((item) => item.id === id);
    return entry && resource.selEntry(state, entry);
  }
  if (parent === `${resource.ROOT}/SessionService/Sessions`) {
    const open = [...bmc.tokens.values()].find((item) => item.id === id);
    return open && resource.session(open.id, open.user);
  }
  return undefined;
}

function reset(state: BmcState, body: unknown): [number, unknown] {
  const resetType = (body as { ResetType?: unknown } | undefined)?.ResetType;
  if (typeof resetType !== 'string' || !resource.RESET_TYPES.includes(resetType)) {
    return [
      400,
      resource.errorBody(
        'ActionParameterValueNotInList',
        `ResetType ${String(resetType)} is not one of ${resource.RESET_TYPES.join(', ')}.`,
      ),
    ];
  }
  state.power = resetType === 'ForceOff' || resetType === 'GracefulShutdown' ? 'Off' : 'On';
  return [204, undefined];
}

function patchSystem(state: BmcState, body: unknown): [number, unknown] {
  const boot = (
    body as { Boot?: { BootSourceOverrideTarget?: unknown; BootSourceOverrideEnabled?: unknown } }
  )?.Boot;
  const target = boot?.BootSourceOverrideTarget ?? state.boot.target;
  const enabled = boot?.BootSourceOverrideEnabled ?? state.boot.enabled;
  if (
    typeof target !== 'string' ||
    !resource.BOOT_TARGETS.includes(target) ||
    typeof enabled !== 'string' ||
    !['Disabled', 'Once', 'Continuous'].includes(enabled)
  ) {
    return [
      400,
      resource.errorBody('PropertyValueNotInList', 'Boot override target or enabled value not supported.'),
    ];
  }
  state.boot = { target, enabled };
  return [200, resource.computerSystem(state)];
}

function etagOf(value: unknown): string {
  let hash = 0;
  for (const char of JSON.stringify(value)) hash = (hash * 31 + char.charCodeAt(0)) | 0;
  return (hash >>> 0).toString(16);
}
