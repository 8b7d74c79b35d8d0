/**
 * Log lines are an output path like Slack: every string in them is redacted, including
 * structured fields (`err`, nested objects, child bindings), not only the paths pino's `redact`
 * lists. The logger writes to a stream we capture, and the JSON it writes is searched.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../src/core/log.ts';
import { userMention } from '../../src/core/mention.ts';
import { boltLogger } from '../../src/slack/bolt-logger.ts';
import { ALL_SECRETS, SECRET_CASES } from '../fixtures/secrets-corpus.ts';

function capture(level = 'debug') {
  const lines: string[] = [];
  const log = createLogger(level, { write: (s: string) => void lines.push(s) });
  return { log, lines, text: () => lines.join('') };
}

function assertNoSecrets(output: string, secrets = ALL_SECRETS): void {
  for (const s of secrets) {
    assert.ok(!output.includes(s) && !output.includes(JSON.stringify(s).slice(1, -1)), `${JSON.stringify(s)} leaked into the log:\n${output.slice(0, 2000)}`);
  }
}

describe('log redaction', () => {
  test('the message, including printf-style arguments, is redacted', () => {
    const { log, text } = capture();
    for (const c of SECRET_CASES) log.info(c.text);
    for (const c of SECRET_CASES) log.info('ran %s then %j', c.text, { out: c.text });
    assertNoSecrets(text());
    for (const c of SECRET_CASES) for (const k of c.keep) assert.ok(text().includes(JSON.stringify(k).slice(1, -1)), `${JSON.stringify(k)} lost`);
  });

  test('err: an Error is serialized with its message, stack and own fields redacted', () => {
    const { log, lines } = capture();
    for (const c of SECRET_CASES) {
      const err = Object.assign(new Error(`connect failed: ${c.text}`), { code: 'ECONNREFUSED', detail: c.text, config: { connectionString: c.text } });
      log.error({ err }, 'query failed');
      log.error(err); // an Error as the only argument: pino takes its message as the line's msg
    }
    const out = lines.join('');
    assertNoSecrets(out);
    const first = JSON.parse(lines[0]);
    assert.equal(first.err.type, 'Error', 'serialized as pino does');
    assert.equal(first.err.code, 'ECONNREFUSED');
    assert.match(first.err.message, /^connect failed: connect postgres:\/\/u:\*\*\*@db\.internal/);
    assert.match(first.err.stack, /connect failed/);
    assert.match(JSON.parse(lines[1]).msg, /^connect failed: /);
  });

  test('an error with a cause and one given as a plain object are redacted too', () => {
    const { log, text } = capture();
    const cause = new Error('password=S3KRTcause');
    log.error({ err: new Error('outer postgres://u:S3KRTouter@h/db', { cause }) }, 'x');
    log.error({ err: { message: 'token=S3KRTplain', stack: 'at x (Authorization: Bearer S3KRTstack)' } }, 'y');
    assertNoSecrets(text(), ['S3KRTcause', 'S3KRTouter', 'S3KRTplain', 'S3KRTstack']);
    assert.match(text(), /postgres:\/\/u:\*\*\*@h\/db/);
  });

  test('strings at any depth, in arrays, in child bindings, and fields named like secrets', () => {
    const { log, text } = capture();
    const child = log.child({ target: 'postgres://ops:S3KRTbinding@db/x' });
    child.warn({
      detail: { deeper: { deepest: ['ok', { line: 'PGPASSWORD=S3KRTdeep psql' }] } },
      password: 'S3KRTfield1', // a value that looks like nothing is still a secret by its name
      dbPassword: 'S3KRTfield2',
      client_secret: 'S3KRTfield3',
      headers: { authorization: 'S3KRTfield4', cookie: 'S3KRTfield5' },
      config: { redis: { url: 'redis://:S3KRTurl@cache:6379' } },
      apiKey: 'S3KRTfield6',
    }, 'nested');
    const out = text();
    assertNoSecrets(out, ['S3KRTbinding', 'S3KRTdeep', 'S3KRTfield1', 'S3KRTfield2', 'S3KRTfield3', 'S3KRTfield4', 'S3KRTfield5', 'S3KRTurl', 'S3KRTfield6']);
    const line = JSON.parse(out);
    assert.equal(line.target, 'postgres://ops:***@db/x');
    assert.equal(line.config.redis.url, 'redis://:***@cache:6379', 'URLs keep their host');
    assert.equal(line.detail.deeper.deepest[0], 'ok');
  });

  test('objects with toJSON (URL) and circular objects are logged safely', () => {
    const { log, text } = capture();
    const loop: Record<string, unknown> = { note: 'token=S3KRTloop' };
    loop.self = loop;
    log.info({ url: new URL('postgres://u:S3KRTurlobj@db.internal/x'), loop }, 'objects');
    assertNoSecrets(text(), ['S3KRTurlobj', 'S3KRTloop']);
    assert.match(text(), /db\.internal/);
    assert.match(text(), /Circular/);
  });

  test('the caller’s object is not modified', () => {
    const { log } = capture();
    const fields = { detail: 'password=keepMe', nested: { token: 'keepMe2' } };
    log.info(fields, 'x');
    assert.deepEqual(fields, { detail: 'password=keepMe', nested: { token: 'keepMe2' } });
  });

  test('mention tokens are logged as plain text, never with their key', () => {
    const { log, text } = capture();
    log.info({ who: userMention('U0ADMIN') }, `asked by ${userMention('U0ADMIN')}`);
    assert.ok(!/[\uE000-\uE01F]/.test(text()), 'no sentinel character in the log');
    assert.equal(JSON.parse(text()).who, '@U0ADMIN');
  });

  test("Bolt's log calls go through the same redaction, and a circular argument does not throw", () => {
    const { log, text } = capture();
    const bolt = boltLogger(log);
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    bolt.error('An API error occurred: invalid_auth', { token: 'xoxb-1-2-S3KRTbolt' }, new Error('Authorization: Bearer S3KRTboltErr'));
    bolt.warn('loop', loop);
    assertNoSecrets(text(), ['S3KRTbolt', 'S3KRTboltErr']);
    assert.match(text(), /invalid_auth/);
  });
});
