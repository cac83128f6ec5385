// The simulated BMC's resources, shaped after DMTF's published Redfish schemas (DSP8010):
// ServiceRoot, ComputerSystemCollection, ComputerSystem (PowerState, Boot, Actions), Memory,
// Processor, LogService (SEL) with LogEntry members, SessionService and Session. Pure builders over
// the simulator's state; the server decides who may read them.

export type PowerState = 'On' | 'Off';
export type Health = 'OK' | 'Warning' | 'Critical';

export interface BmcState {
  systemId: string;
  power: PowerState;
  boot: { target: string; enabled: string };
  memory: { id: string; health: Health; state: 'Enabled' | 'Absent' }[];
  processors: { id: string; health: Health }[];
  sel: { id: string; created: string; severity: Health; message: string }[];
}

export const ROOT = '/redfish/v1';
export const RESET_TYPES = [
  'On',
  'ForceOff',
  'GracefulShutdown',
  'GracefulRestart',
  'ForceRestart',
  'PowerCycle',
];
export const BOOT_TARGETS = ['None', 'Pxe', 'Hdd', 'Cd', 'Usb', 'BiosSetup'];

const collection = (id: string, type: string, name: string, members: string[]) => ({
  '@odata.id': id,
  '@odata.type': `#${type}.${type}`,
  Name: name,
  'Members@odata.count': members.length,
  Members: members.map((member) => ({ '@odata.id': member })),
});

export function serviceRoot() {
  return {
    '@odata.id': ROOT,
    '@odata.type': '#ServiceRoot.v1_15_0.ServiceRoot',
    Id: 'RootService',
    Name: 'Root Service',
    RedfishVersion: '1.15.0',
    UUID: '92384634-2938-2342-8820-489239905423',
    Systems: { '@odata.id': `${ROOT}/Systems` },
    Chassis: { '@odata.id': `${ROOT}/Chassis` },
    Managers: { '@odata.id': `${ROOT}/Managers` },
    SessionService: { '@odata.id': `${ROOT}/SessionService` },
    Links: { Sessions: { '@odata.id': `${ROOT}/SessionService/Sessions` } },
  };
}

export function systemPath(state: BmcState): string {
  return `${ROOT}/Systems/${state.systemId}`;
}

export function systems(state: BmcState) {
  return collection(`${ROOT}/Systems`, 'ComputerSystemCollection', 'Computer System Collection', [
    systemPath(state),
  ]);
}

export function computerSystem(state: BmcState) {
  const self = systemPath(state);
  const unhealthy = [...state.memory, ...state.processors].some(
    (part) => part.health !== 'OK' && !('state' in part && part.state === 'Absent'),
  );
  return {
    '@odata.id': self,
    '@odata.type': '#ComputerSystem.v1_20_0.ComputerSystem',
    Id: state.systemId,
    Name: 'Simulated server',
    SystemType: 'Physical',
    Manufacturer: 'runbot sandbox',
    PowerState: state.power,
    Status: { State: 'Enabled', Health: unhealthy ? 'Warning' : 'OK' },
    Boot: {
      BootSourceOverrideEnabled: state.boot.enabled,
      BootSourceOverrideTarget: state.boot.target,
      'BootSourceOverrideTarget@Redfish.AllowableValues': BOOT_TARGETS,
    },
    Memory: { '@odata.id': `${self}/Memory` },
    Processors: { '@odata.id': `${self}/Processors` },
    LogServices: { '@odata.id': `${self}/LogServices` },
    Actions: {
      '#ComputerSystem.Reset': {
        target: `${self}/Actions/ComputerSystem.Reset`,
        'ResetType@Redfish.AllowableValues': RESET_TYPES,
      },
    },
  };
}

export function memoryCollection(state: BmcState) {
  const self = `${systemPath(state)}/Memory`;
  return collection(
    self,
    'MemoryCollection',
    'Memory Module Collection',
    state.memory.map((dimm) => `${self}/${dimm.id}`),
  );
}

export function memory(state: BmcState, dimm: BmcState['memory'][number]) {
  return {
    '@odata.id': `${systemPath(state)}/Memory/${dimm.id}`,
    '@odata.type': '#Memory.v1_17_0.Memory',
    Id: dimm.id,
    Name: `Memory ${dimm.id}`,
    CapacityMiB: dimm.state === 'Absent' ? 0 : 32768,
    MemoryDeviceType: 'DDR4',
    Status: dimm.state === 'Absent' ? { State: 'Absent' } : { State: dimm.state, Health: dimm.health },
  };
}

export function processorCollection(state: BmcState) {
  const self = `${systemPath(state)}/Processors`;
  return collection(
    self,
    'ProcessorCollection',
    'Processors Collection',
    state.processors.map((cpu) => `${self}/${cpu.id}`),
  );
}

export function processor(state: BmcState, cpu: BmcState['processors'][number]) {
  return {
    '@odata.id': `${systemPath(state)}/Processors/${cpu.id}`,
    '@odata.type': '#Processor.v1_18_0.Processor',
    Id: cpu.id,
    Name: `Processor ${cpu.id}`,
    ProcessorType: 'CPU',
    TotalCores: 16,
    Status: { State: 'Enabled', Health: cpu.health },
  };
}

export function logServices(state: BmcState) {
  const self = `${systemPath(state)}/LogServices`;
  return collection(self, 'LogServiceCollection', 'Log Service Collection', [`${self}/SEL`]);
}

export function selService(state: BmcState) {
  const self = `${systemPath(state)}/LogServices/SEL`;
  return {
    '@odata.id': self,
    '@odata.type': '#LogService.v1_5_0.LogService',
    Id: 'SEL',
    Name: 'System Event Log',
    LogEntryType: 'SEL',
    OverWritePolicy: 'WrapsWhenFull',
    ServiceEnabled: true,
    Status: { State: 'Enabled', Health: 'OK' },
    Entries: { '@odata.id': `${self}/Entries` },
    Actions: { '#LogService.ClearLog': { target: `${self}/Actions/LogService.ClearLog` } },
  };
}

export function selEntry(state: BmcState, entry: BmcState['sel'][number]) {
  return {
    '@odata.id': `${systemPath(state)}/LogServices/SEL/Entries/${entry.id}`,
    '@odata.type': '#LogEntry.v1_15_0.LogEntry',
    Id: entry.id,
    Name: `Log Entry ${entry.id}`,
    EntryType: 'SEL',
    Created: entry.created,
    Severity: entry.severity,
    Message: entry.message,
  };
}

export function selEntries(state: BmcState) {
  const self = `${systemPath(state)}/LogServices/SEL/Entries`;
  return {
    '@odata.id': self,
    '@odata.type': '#LogEntryCollection.LogEntryCollection',
    Name: 'System Event Log Entries',
    'Members@odata.count': state.sel.length,
    Members: state.sel.map((entry) => selEntry(state, entry)),
  };
}

export function sessionService() {
  return {
    '@odata.id': `${ROOT}/SessionService`,
    '@odata.type': '#SessionService.v1_1_9.SessionService',
    Id: 'SessionService',
    Name: 'Session Service',
    ServiceEnabled: true,
    SessionTimeout: 600,
    Sessions: { '@odata.id': `${ROOT}/SessionService/Sessions` },
  };
}

export function sessions(ids: string[]) {
  return collection(
    `${ROOT}/SessionService/Sessions`,
    'SessionCollection',
    'Session Collection',
    ids.map((id) => `${ROOT}/SessionService/Sessions/${id}`),
  );
}

export function session(id: string, user: string) {
  return {
    '@odata.id': `${ROOT}/SessionService/Sessions/${id}`,
    '@odata.type': '#Session.v1_7_0.Session',
    Id: id,
    Name: `Session ${id}`,
    UserName: user,
  };
}

/** A Redfish error body (DSP0266 §9.6): `error` with code, message and @Message.ExtendedInfo. */
export function errorBody(messageId: string, message: string) {
  return {
    error: {
      code: `Base.1.16.0.${messageId}`,
      message,
      '@Message.ExtendedInfo': [
        { '@odata.type': '#Message.v1_1_2.Message', MessageId: `Base.1.16.0.${messageId}`, Message: message },
      ],
    },
  };
}
