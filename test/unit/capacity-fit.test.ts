import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DAY_MS, fitLine, reach, t95 } from '../../src/capacity/fit.ts';

const NOW = Date.UTC(2026, 0, 15);
/** Daily points ending now: value(i) for i = 0 (oldest) … n-1 (now). */
const daily = (n: number, value: (i: number) => number) =>
  Array.from({ length: n }, (_, i) => ({ at: NOW - (n - 1 - i) * DAY_MS, value: value(i) }));

describe('fitLine', () => {
  test('an exact line: its slope per day, no spread, a zero-width interval', () => {
    const fit = fitLine(daily(14, (i) => 67 + i))!;
    assert.equal(fit.n, 14);
    assert.ok(Math.abs(fit.slope - 1) < 1e-9);
    assert.ok(Math.abs(fit.latest - 80) < 1e-9);
    assert.equal(fit.spanDays, 13);
    assert.equal(fit.lastAt, NOW);
    assert.ok(fit.residualSe < 1e-9);
    assert.ok(Math.abs(fit.slopeLow - 1) < 1e-6 && Math.abs(fit.slopeHigh - 1) < 1e-6);
  });

  test('noise: the residual standard error and the slope interval match a hand computation', () => {
    // x = 0..4, y = 1, 3, 2, 5, 4: slope 0.8, intercept 1.4, residuals −0.4, 0.8, −1, 1.2, −0.6.
    const fit = fitLine(daily(5, (i) => [1, 3, 2, 5, 4][i]))!;
    assert.ok(Math.abs(fit.slope - 0.8) < 1e-9);
    assert.ok(Math.abs(fit.latest - 4.6) < 1e-9);
    const se = Math.sqrt((0.16 + 0.64 + 1 + 1.44 + 0.36) / 3);
    assert.ok(Math.abs(fit.residualSe - se) < 1e-9);
    const half = 3.182 * (se / Math.sqrt(10));
    assert.ok(Math.abs(fit.slopeLow - (0.8 - half)) < 1e-9);
    assert.ok(Math.abs(fit.slopeHigh - (0.8 + half)) < 1e-9);
  });

  test('unevenly spaced samples are fitted on their times, not their order', () => {
    const pts = [0, 0.5, 3, 3.25, 7].map((d) => ({ at: NOW - (7 - d) * DAY_MS, value: 50 + 2 * d }));
    const fit = fitLine(pts)!;
    assert.ok(Math.abs(fit.slope - 2) < 1e-9);
  });

  test('no line: fewer than three points, or all at one moment', () => {
    assert.equal(fitLine(daily(2, (i) => i)), undefined);
    assert.equal(fitLine([1, 2, 3].map((v) => ({ at: NOW, value: v }))), undefined);
  });

  test('t quantiles: the table, and near 1.96 for many samples', () => {
    assert.equal(t95(1), 12.706);
    assert.equal(t95(10), 2.228);
    assert.ok(t95(1000) > 1.96 && t95(1000) < 1.97);
    assert.equal(t95(0), Number.POSITIVE_INFINITY);
  });
});

describe('reach', () => {
  test('1% a day from 80% reaches 90% in 10 days', () => {
    const r = reach(fitLine(daily(14, (i) => 67 + i))!, 90, NOW);
    assert.equal(r.kind, 'days');
    if (r.kind === 'days') assert.ok(Math.abs(r.days - 10) < 1e-6, String(r.days));
  });

  test('counted from now: a day since the last sample is a day less', () => {
    const r = reach(fitLine(daily(14, (i) => 67 + i))!, 90, NOW + DAY_MS);
    assert.ok(r.kind === 'days' && Math.abs(r.days - 9) < 1e-6);
  });

  test('noise widens the range around the estimate', () => {
    const wobble = [0.3, -0.2, 0.1, -0.4, 0.2, 0, -0.1, 0.3, -0.3, 0.2, -0.2, 0.1, 0, 0];
    const r = reach(fitLine(daily(14, (i) => 67 + i + wobble[i]))!, 90, NOW);
    assert.equal(r.kind, 'days');
    if (r.kind === 'days') {
      assert.ok(r.early < r.days && r.days < r.late, JSON.stringify(r));
      assert.ok(r.days > 9 && r.days < 11, JSON.stringify(r));
    }
  });

  test('flat and falling series: no growth', () => {
    assert.equal(reach(fitLine(daily(14, () => 50))!, 90, NOW).kind, 'flat');
    assert.equal(reach(fitLine(daily(14, (i) => 70 - i))!, 90, NOW).kind, 'flat');
    // Level with noise: a slope indistinguishable from zero that would take years.
    const noisy = [50, 50.4, 49.7, 50.1, 49.9, 50.3, 49.8, 50, 50.2, 49.9, 50.1, 49.8, 50.2, 50];
    assert.equal(reach(fitLine(daily(14, (i) => noisy[i]))!, 90, NOW).kind, 'flat');
  });

  test('a slow growth that is not told apart from zero but comes within the horizon: a date, open-ended', () => {
    const r = reach(fitLine(daily(5, (i) => [80, 83, 79, 84, 82][i]))!, 90, NOW);
    assert.equal(r.kind, 'days');
    if (r.kind === 'days') assert.equal(r.late, Number.POSITIVE_INFINITY);
  });

  test('already at or past the limit', () => {
    assert.equal(reach(fitLine(daily(5, (i) => 88 + i))!, 90, NOW).kind, 'reached');
  });
});
