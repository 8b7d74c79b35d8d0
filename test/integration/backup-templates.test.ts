/** The backup templates on the bot's own machine: a manifest far larger than one argv word is written whole, privately. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LocalHost } from '../../src/targets/local-host.ts';
import { writeTextOn } from '../../src/backup/dump.ts';

test('writeText takes the text on stdin: 1 MB with multi-byte characters arrives whole, mode 600, no .part left', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'opsbot-write-'));
  const path = join(dir, 'manifest.json');
  // Past Linux's 128 KiB limit for one argument, which the manifest of a big schema would pass.
  const text = `${JSON.stringify({ tables: Array.from({ length: 20_000 }, (_, i) => ({ name: `表_${i}`, rows: i })) })}\n`;
  assert.ok(Buffer.byteLength(text) > 512 * 1024);
  const r = await writeTextOn(new LocalHost(10_000), path, text);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(path, 'utf8'), text);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(dir), ['manifest.json']);
});
