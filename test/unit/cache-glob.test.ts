import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { anyGlob, glob, globProblem } from '../../src/cache/glob.ts';
import { escapeGlob, keyText } from '../../src/cache/target.ts';
import { queueGrewTooMuch } from '../../src/cache/flush.ts';
import { UserError } from '../../src/core/errors.ts';

const matches = (pattern: string, key: string | Buffer) => glob(pattern).test(typeof key === 'string' ? Buffer.from(key) : key);

describe('Redis glob', () => {
  test('* ? and literal bytes, anchored at both ends', () => {
    assert.ok(matches('cache:*', 'cache:'));
    assert.ok(matches('cache:*', 'cache:user:1'));
    assert.ok(!matches('cache:*', 'xcache:1'));
    assert.ok(matches('*:1', 'cache:user:1'));
    assert.ok(!matches('*:1', 'cache:user:12'));
    assert.ok(matches('u?er', 'user'));
    assert.ok(!matches('u?er', 'uer'));
    assert.ok(matches('a**b', 'ab'));
    assert.ok(matches('*', ''));
    assert.ok(!matches('?', ''));
  });

  test('sets, negated sets, ranges (reversed too) and escapes', () => {
    assert.ok(matches('k[abc]', 'kb'));
    assert.ok(!matches('k[abc]', 'kd'));
    assert.ok(matches('k[^abc]', 'kd'));
    assert.ok(!matches('k[^abc]', 'ka'));
    assert.ok(matches('k[a-c]', 'kb'));
    assert.ok(matches('k[c-a]', 'kb'));
    assert.ok(matches('k[\\]]', 'k]'));
    assert.ok(matches('a\\*b', 'a*b'));
    assert.ok(!matches('a\\*b', 'axb'));
    // As Redis: "[]" is an empty set that matches nothing, not a set holding "]".
    assert.ok(!matches('k[]x]', 'k]x]'));
    assert.ok(!matches('k[]x]', 'kxx]'));
    assert.ok(matches('k[^]', 'kz'), '[^] matches any byte, as Redis');
  });

  test('bytes, not text: a key that is not UTF-8 still matches', () => {
    const key = Buffer.from([0x63, 0x3a, 0xff, 0x00, 0x01]);
    assert.ok(glob('c:*').test(key));
    assert.ok(glob('c:???').test(key));
    assert.ok(!glob('c:??').test(key));
    // "é" is two bytes in UTF-8: ? takes one of them, as SCAN MATCH does.
    assert.ok(matches('caf??', 'café'));
    assert.ok(!matches('caf?', 'café'));
  });

  test('many stars stay fast on a long key (no exponential backtracking)', () => {
    const started = performance.now();
    assert.ok(!matches('*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(5000)));
    assert.ok(performance.now() - started < 500);
  });

  test('what Redis would quietly misread is refused, with a reason', () => {
    assert.equal(globProblem(''), 'empty');
    assert.equal(globProblem('cache:[1'), 'unclosed_set');
    assert.equal(globProblem('a-]'), undefined);
    assert.equal(globProblem('k[a-]'), 'unclosed_set', 'Redis reads "a-]" as a range, leaving the set open');
    assert.equal(globProblem('cache\\'), 'trailing_escape');
    assert.equal(globProblem('a\nb'), 'control');
    assert.equal(globProblem('x'.repeat(1025)), 'too_long');
    assert.throws(() => glob('cache:[1'), (err: unknown) => err instanceof UserError && /never closes/.test(err.message));
  });

  test('literal patterns are told apart, and escaping a key gives one', () => {
    assert.equal(glob('celery').literal, true);
    assert.equal(glob('cache:*').literal, false);
    assert.equal(glob(escapeGlob('a*b?[c]')).literal, true);
    assert.ok(matches(escapeGlob('a*b?[c]\\'), 'a*b?[c]\\'));
    assert.ok(!matches(escapeGlob('a*'), 'ab'));
  });

  test('the default protected patterns', () => {
    const isProtected = anyGlob(['celery', '_kombu.binding.*', 'unacked*']);
    for (const k of ['celery', '_kombu.binding.celery', '_kombu.binding.celery.pidbox', 'unacked', 'unacked_index', 'unacked_mutex']) assert.ok(isProtected(Buffer.from(k)), k);
    for (const k of ['celery-task-meta-1', 'cache:celery', '_kombu.bindingx', 'xunacked']) assert.ok(!isProtected(Buffer.from(k)), k);
  });
});

describe('keys as shown', () => {
  test('UTF-8 as is, other bytes and control characters escaped, long keys cut with their size', () => {
    assert.equal(keyText(Buffer.from('cache:用户:1')), 'cache:用户:1');
    assert.equal(keyText(Buffer.from([0x63, 0xff, 0x0a])), 'c\\xff\\x0a');
    assert.equal(keyText(Buffer.from('a\tb')), 'a\\x09b');
    const long = keyText(Buffer.from('k'.repeat(300)));
    assert.match(long, /^k{120}…\(300 B\)$/);
  });
});

describe('flush precheck tolerance', () => {
  test('a queue may move a little, not grow far past what was approved', () => {
    assert.equal(queueGrewTooMuch(0, 10), false);
    assert.equal(queueGrewTooMuch(0, 11), true);
    assert.equal(queueGrewTooMuch(1000, 1100), false);
    assert.equal(queueGrewTooMuch(1000, 1101), true);
    assert.equal(queueGrewTooMuch(50, 20), false);
  });
});
