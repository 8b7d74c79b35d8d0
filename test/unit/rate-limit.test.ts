import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter } from '../../src/core/rate-limit.ts';

function clock(start = 1_700_000_000_000) {
  const c = { now: start, fn: () => c.now };
  return c;
}

test('60 requests in a minute are allowed, the 61st is refused', () => {
  const c = clock();
  const rl = new RateLimiter(60, c.fn);
  for (let i = 0; i < 60; i++) {
    assert.equal(rl.take('U1'), 0, `request ${i + 1}`);
    c.now += 100;
  }
  assert.notEqual(rl.take('U1'), 0, 'refused');
});

test('the wait is the time until the oldest request leaves the window', () => {
  const c = clock();
  const start = c.now;
  const rl = new RateLimiter(60, c.fn);
  for (let i = 0; i < 60; i++) {
    rl.take('U1');
    c.now += 500; // last one at start + 29.5 s
  }
  c.now = start + 40_000;
  assert.equal(rl.take('U1'), 20_000);
  c.now = start + 59_999;
  assert.equal(rl.take('U1'), 1, 'refusals do not count as requests');
});

test('the window slides: old requests free slots one by one', () => {
  const c = clock();
  const start = c.now;
  const rl = new RateLimiter(3, c.fn);
  assert.equal(rl.take('U1'), 0); // t=0
  c.now = start + 10_000;
  assert.equal(rl.take('U1'), 0); // t=10s
  c.now = start + 20_000;
  assert.equal(rl.take('U1'), 0); // t=20s
  c.now = start + 30_000;
  assert.equal(rl.take('U1'), 30_000);
  c.now = start + 60_000;
  assert.equal(rl.take('U1'), 0, 'the t=0 request has left the window');
  assert.equal(rl.take('U1'), 10_000, 'only one slot was freed; next frees when t=10s leaves');
  c.now = start + 70_000;
  assert.equal(rl.take('U1'), 0);
});

test('users are limited independently', () => {
  const c = clock();
  const rl = new RateLimiter(2, c.fn);
  assert.equal(rl.take('U1'), 0);
  assert.equal(rl.take('U1'), 0);
  assert.notEqual(rl.take('U1'), 0, 'refused');
  assert.equal(rl.take('U2'), 0, 'U1 being limited does not affect U2');
  assert.equal(rl.take('U2'), 0);
  assert.notEqual(rl.take('U2'), 0, 'refused');
});

test('an idle user starts afresh after a long pause, even after others were swept', () => {
  const c = clock();
  const rl = new RateLimiter(1, c.fn);
  assert.equal(rl.take('U1'), 0);
  assert.notEqual(rl.take('U1'), 0, 'refused');
  c.now += 10 * 60_000;
  assert.equal(rl.take('U2'), 0);
  assert.equal(rl.take('U1'), 0);
  assert.notEqual(rl.take('U1'), 0, 'refused');
});

test('by default it uses the real clock', () => {
  const rl = new RateLimiter(1);
  assert.equal(rl.take('U1'), 0);
  const wait = rl.take('U1');
  assert.ok(wait > 59_000 && wait <= 60_000, String(wait));
});
