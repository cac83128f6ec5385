// The simulated Redfish BMC (sandbox only: demo and tests).
export { RedfishSimulator, type RedfishCall, type RedfishSimulatorOptions } from './server.js';
export { makeBmcCertificate, type BmcCertificate } from './cert.js';
export type { BmcState, Health, PowerState } from './resources.js';
