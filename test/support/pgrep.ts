// Finding the processes a test started on this machine (the sshd's side of a command): a marker to
// put in a command line, and the ids of the processes whose command line matches.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** A number unique to one test, usable as an extra `sleep` argument so pgrep -f can find it. */
export function marker(): string {
  return `0.000${randomBytes(4).readUInt32BE(0)}`;
}

/** The ids of the processes whose command line matches `pattern` (pgrep -f); none: []. */
export async function pidsMatching(pattern: string): Promise<number[]> {
  try {
    const { stdout } = await exec('pgrep', ['-f', pattern]);
    return stdout.trim().split('\n').map(Number);
  } catch (error) {
    if ((error as { code?: unknown }).code === 1) return []; // pgrep: nothing matched
    throw error;
  }
}
