/**
 * A short hash of the code under test (every file in src/ and commands/), printed with the
 * figures so that a result can be matched to the code it measured without asking git.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

function files(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

export function codeFingerprint(root: string, dirs = ['src', 'commands']): { hash: string; files: number } {
  const hash = createHash('sha256');
  let count = 0;
  for (const dir of dirs) {
    for (const file of files(join(root, dir))) {
      hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
      count++;
    }
  }
  return { hash: hash.digest('hex').slice(0, 12), files: count };
}
