// SshRunners against a test's sshd, each closed after the test that made it (afterEach: `closeAll`).
import { SshRunner, type SshRunnerOptions } from '../../src/executors/ssh/index.js';
import type { Sshd } from './sshd.js';

export function sshRunners(sshd: () => Sshd) {
  const made: SshRunner[] = [];
  return {
    /** A runner with the sshd's client key and known_hosts, `options` on top. */
    runner: (options: Partial<SshRunnerOptions> = {}): SshRunner => {
      const created = new SshRunner({
        privateKey: sshd().clientKeyPath,
        knownHostsFile: sshd().knownHostsPath,
        ...options,
      });
      made.push(created);
      return created;
    },
    closeAll: async (): Promise<void> => {
      await Promise.all(made.splice(0).map((created) => created.close()));
    },
  };
}
