import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { createLogger } from '../../src/core/log.ts';
import { MASK, redactDeep, redactText, rememberSecret } from '../../src/core/redact.ts';

test('a value remembered at run time is masked in texts, payloads and logs from then on', () => {
  const value = randomBytes(24).toString('base64');
  const text = `stderr: cannot use ${value} here; again:${value}`;
  assert.equal(redactText(text), text, 'not masked before it is remembered');
  rememberSecret(`${value}\n`);
  assert.equal(redactText(text), `stderr: cannot use ${MASK} here; again:${MASK}`);
  assert.deepEqual(redactDeep({ blocks: [{ text: value }] }), { blocks: [{ text: MASK }] });
  const lines: string[] = [];
  createLogger('info', { write: (s: string) => void lines.push(s) }).info({ detail: `x ${value} y` }, 'failed with %s', value);
  assert.equal(lines.length, 1);
  assert.ok(!lines[0].includes(value), lines[0]);
});

test('each line of a multi-line value is remembered; short values are not (they would mangle ordinary text)', () => {
  const a = randomBytes(12).toString('hex');
  const b = randomBytes(12).toString('hex');
  rememberSecret(`${a}\n${b}\n`);
  assert.equal(redactText(`one ${a} two ${b}`), `one ${MASK} two ${MASK}`);
  rememberSecret('abc');
  assert.equal(redactText('abc abcdef'), 'abc abcdef');
});
