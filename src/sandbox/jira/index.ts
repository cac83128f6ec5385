// Jira sandbox: public surface — an in-memory Jira Cloud (REST v3) HTTP server for the demo and
// end-to-end tests. Nothing in the service core imports this folder.
export { JiraSandbox } from './sandbox.js';
export { RemoteJiraSandbox } from './remote.js';
export type { RemoteSandboxOptions } from './remote.js';
export type {
  IssueSnapshot,
  SandboxFaults,
  SandboxOptions,
  SandboxCustomField,
  SandboxProject,
  SandboxStatus,
  SandboxTransition,
  SandboxWorkflow,
  ScreenField,
} from './types.js';
