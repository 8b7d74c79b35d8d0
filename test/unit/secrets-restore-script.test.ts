/**
 * The host script that puts a secret's old file back, run here with the local sh: with the
 * rollback link it renames the old file into place; without it (a write that never reached its
 * rename) it says so with its own exit code, and touches nothing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { secretTemplates } from '../../src/secrets/templates.ts';

const run = (argv: string[]) => spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });

test('with the rollback link, the old file is put back by one rename', () => {
  const dir = mkdtempSync(join(tmpdir(), 'opsbot-secret-restore-'));
  const file = join(dir, 'db_password');
  const link = join(dir, '.db_password.opsbot-old');
  writeFileSync(file, 'new-value');
  writeFileSync(link, 'old-value');
  const r = run(secretTemplates.secretRestore(file, link));
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(file, 'utf8'), 'old-value');
  assert.equal(existsSync(link), false);
});

test('without the link, exit 5 and the file is left as it is', () => {
  const dir = mkdtempSync(join(tmpdir(), 'opsbot-secret-restore-'));
  const file = join(dir, 'db_password');
  writeFileSync(file, 'old-value');
  const r = run(secretTemplates.secretRestore(file, join(dir, '.db_password.opsbot-old')));
  assert.equal(r.status, 5);
  assert.match(r.stderr, /not replaced/);
  assert.equal(readFileSync(file, 'utf8'), 'old-value');
});
