// The ssh_config the openssh transport writes: strict checking always on, the bot's key and
// certificate only, no agent, nothing from ~/.ssh; and values that ssh_config would read another
// way (spaces, quotes, ssh's % tokens) refused or escaped rather than quoted by hand.
import { describe, expect, it } from 'vitest';
import { OpensshConfigError } from '../../src/executors/ssh/index.js';
import { opensshConfig } from '../../src/executors/ssh/openssh-config.js';

const hop = {
  host: 'web-1.dc1.internal',
  address: '10.0.0.5',
  port: 2222,
  user: 'runbot',
  knownHostsName: 'web-1.dc1.internal',
  controlPath: '/tmp/runbot-ssh-x/abc.sock',
};
const input = {
  target: hop,
  identityFile: '/etc/runbot/id_ed25519',
  certificateFile: '/etc/runbot/id_ed25519-cert.pub',
  knownHostsFile: '/etc/runbot/known_hosts',
  connectTimeoutSeconds: 20,
  keepaliveIntervalSeconds: 15,
};

describe('openssh transport: its ssh_config', () => {
  it('checks host keys strictly under the host name, with the bot’s key and certificate only', () => {
    const lines = opensshConfig(input).split('\n');
    for (const line of [
      'Host target',
      '  HostName 10.0.0.5',
      '  Port 2222',
      '  HostKeyAlias web-1.dc1.internal',
      '  BatchMode yes',
      '  StrictHostKeyChecking yes',
      '  UserKnownHostsFile /etc/runbot/known_hosts',
      '  GlobalKnownHostsFile /dev/null',
      '  IdentitiesOnly yes',
      '  IdentityAgent none',
      '  CertificateFile /etc/runbot/id_ed25519-cert.pub',
      '  PasswordAuthentication no',
    ]) {
      expect(lines).toContain(line);
    }
  });

  it('sends the target through the jump host’s own master', () => {
    const text = opensshConfig({
      ...input,
      jump: { ...hop, host: 'bastion', knownHostsName: 'bastion', controlPath: '/tmp/runbot-ssh-x/j.sock' },
    });
    expect(text).toContain('  ProxyJump jump\n');
    const jumpBlock = text.slice(text.indexOf('Host jump'), text.indexOf('Host *'));
    expect(jumpBlock).toContain('  ControlPath /tmp/runbot-ssh-x/j.sock\n');
    expect(jumpBlock).toContain('  ControlMaster no\n');
  });

  it('doubles % in paths, so ssh does not read it as a token', () => {
    expect(opensshConfig({ ...input, identityFile: '/keys/100%/id' })).toContain(
      '  IdentityFile /keys/100%%/id',
    );
  });

  it.each([
    ['user', { target: { ...hop, user: 'run bot' } }],
    ['address', { target: { ...hop, address: '10.0.0.5 -oProxyCommand=x' } }],
    ['host', { target: { ...hop, knownHostsName: 'web-%h' } }],
    ['RUNBOT_SSH_KEY', { identityFile: '/etc/runbot/my key' }],
    ['RUNBOT_KNOWN_HOSTS', { knownHostsFile: '/etc/runbot/"known"' }],
  ])('refuses a %s that would need quoting', (what, change) => {
    expect(() => opensshConfig({ ...input, ...change })).toThrow(OpensshConfigError);
    expect(() => opensshConfig({ ...input, ...change })).toThrow(what);
  });
});
