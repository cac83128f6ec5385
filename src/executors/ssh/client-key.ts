// The client's private key, parsed once per runner. Given the key's text, ssh2 parses it again on
// every connect (its OpenSSH, PPK and PEM parsers in turn) and signs with its PEM text, which
// OpenSSL decodes again for each signature; here the text is parsed once and the signature made
// with a KeyObject decoded once. The key is the same, and so is each signature (ed25519 signatures
// are deterministic; the others are made by the same OpenSSL call with the same hash).
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import ssh2 from 'ssh2';
import type { ParsedKey } from 'ssh2';

/** The hash each key type signs with when ssh2 names none (ssh2's keyParser.js, per type). */
const DEFAULT_HASH: Record<string, string | null> = {
  'ssh-ed25519': null,
  'ssh-rsa': 'sha1',
  'ssh-dss': 'sha1',
  'ecdsa-sha2-nistp256': 'sha256',
  'ecdsa-sha2-nistp384': 'sha384',
  'ecdsa-sha2-nistp521': 'sha512',
};

/**
 * Parses an unencrypted private key (OpenSSH, PEM or PPK text, as ssh2 reads them) into the form
 * ssh2 takes as `key` of a publickey login. Throws with ssh2's own words when it cannot, as its
 * connect would have ("Cannot parse privateKey: …").
 */
function parseClientKey(text: string): ParsedKey {
  const parsed = ssh2.utils.parseKey(text);
  if (parsed instanceof Error) throw new Error(`Cannot parse privateKey: ${parsed.message}`);
  // OpenSSH's newer format holds one key.
  const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey) : parsed;
  const pem = key.getPrivatePEM();
  if (!key.isPrivateKey() || pem === null || pem === '') {
    throw new Error('privateKey value does not contain a (valid) private key');
  }
  const keyObject: KeyObject = createPrivateKey(pem);
  const defaultHash = DEFAULT_HASH[key.type] ?? null;
  // ssh2 reads everything else (type, public blob, isParsedKey's marker) through the prototype.
  const signer = Object.create(key) as ParsedKey;
  Object.defineProperty(signer, 'sign', {
    value(data: Buffer | string, algo?: string): Buffer | Error {
      try {
        return sign(algo || defaultHash, typeof data === 'string' ? Buffer.from(data) : data, keyObject);
      } catch (error) {
        // ssh2's sign returns its errors; the login code reports them as a failed signature.
        return error as Error;
      }
    },
  });
  return signer;
}

/**
 * The key's text (the option itself when it holds a PEM/OpenSSH block, else the file it names),
 * parsed; a parse failure is returned, a read failure thrown (as before: not an SshConnectError).
 */
export async function readClientKey(option: string): Promise<ParsedKey | Error> {
  let text = option;
  if (!option.includes('-----BEGIN')) {
    try {
      text = await readFile(option, 'utf8');
    } catch (error) {
      throw new Error(`Cannot read the SSH private key ${option}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  try {
    return parseClientKey(text);
  } catch (error) {
    return error as Error;
  }
}
