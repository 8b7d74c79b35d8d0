/** The pure parts of /metrics: series names, label splitting, figures, sparklines, steps, the chart's times. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { translator } from '../../src/i18n/index.ts';
import { chartSpec } from '../../src/metrics/chart.ts';
import { columns, figures, formatValue, seriesName, sparkline, splitLabels, stepFor } from '../../src/metrics/format.ts';

const en = translator('en', 'UTC');
const zh = translator('zh-CN', 'UTC');

describe('series and labels', () => {
  test('a series is written as Prometheus writes it, labels sorted', () => {
    assert.equal(seriesName({ __name__: 'up', job: 'node', instance: 'a:9100' }), 'up{instance="a:9100", job="node"}');
    assert.equal(seriesName({ __name__: 'up' }), 'up');
    assert.equal(seriesName({ job: 'node' }), '{job="node"}');
    assert.equal(seriesName({}), '{}');
  });

  test('labels every series shares are set apart from those that tell them apart', () => {
    const { common, varying } = splitLabels([
      { __name__: 'up', job: 'node', instance: 'a' },
      { __name__: 'up', job: 'node', instance: 'b' },
      { __name__: 'up', job: 'node', instance: 'c', extra: 'x' },
    ]);
    assert.deepEqual(common, { __name__: 'up', job: 'node' });
    assert.deepEqual(varying, ['extra', 'instance']);
    // One series: nothing to factor out, every label is a column.
    assert.deepEqual(splitLabels([{ __name__: 'up', job: 'node' }]), { common: {}, varying: ['__name__', 'job'] });
  });

  test('columns line up, the last one unpadded', () => {
    assert.deepEqual(columns([['a', 'bb', 'x'], ['ccc', 'd', 'yy']]), ['a    bb  x', 'ccc  d   yy']);
  });
});

describe('figures', () => {
  test('values read well in both languages, and NaN and ±Inf as Prometheus writes them', () => {
    assert.equal(formatValue(en, 1), '1');
    assert.equal(formatValue(en, 0.052345), '0.05235');
    assert.equal(formatValue(en, 12.3456), '12.35');
    assert.equal(formatValue(en, 1234567.89), '1,234,567.9');
    assert.equal(formatValue(en, 0.00001234), '1.234e-5');
    assert.equal(formatValue(en, 2e18), '2e+18');
    assert.equal(formatValue(en, Number.NaN), 'NaN');
    assert.equal(formatValue(en, Infinity), '+Inf');
    assert.equal(formatValue(en, -Infinity), '-Inf');
    assert.equal(formatValue(zh, 1234567), '1,234,567');
  });

  test('min, max and last skip NaN; a series with no finite value has none', () => {
    assert.deepEqual(figures([[1, 3], [2, Number.NaN], [3, 1], [4, 2]]), { min: 1, max: 3, last: 2 });
    assert.equal(figures([[1, Number.NaN]]), undefined);
  });
});

describe('sparkline', () => {
  test('a rising series climbs from the lowest bar to the highest', () => {
    assert.equal(sparkline([0, 1, 2, 3, 4, 5, 6, 7]), '▁▂▃▄▅▆▇█');
  });

  test('it is scaled to the series itself, not to zero', () => {
    assert.equal(sparkline([1000, 1001]), '▁█');
  });

  test('a long series is averaged down to the width', () => {
    const line = sparkline(Array.from({ length: 300 }, (_, i) => i), 30);
    assert.equal([...line].length, 30);
    assert.equal(line[0], '▁');
    assert.equal([...line].at(-1), '█');
  });

  test('a flat series is a flat line, a gap is a space, and no data is nothing', () => {
    assert.equal(sparkline([5, 5, 5]), '▄▄▄');
    assert.equal(sparkline([0, Number.NaN, 7]), '▁ █');
    assert.equal(sparkline([Number.NaN]), '');
    assert.equal(sparkline([]), '');
  });
});

describe('step of a range query', () => {
  test('a round step giving at most 250 points, never under a second', () => {
    assert.equal(stepFor(60_000), 1);
    assert.equal(stepFor(5 * 60_000), 2);
    assert.equal(stepFor(3_600_000), 15);
    assert.equal(stepFor(86_400_000), 600);
    assert.equal(stepFor(31 * 86_400_000), 10_800);
    for (const range of [60_000, 3_600_000, 7 * 86_400_000, 31 * 86_400_000]) assert.ok(range / 1000 / stepFor(range) <= 250);
  });
});

describe('chart spec', () => {
  const at = Date.UTC(2026, 0, 1, 12, 0, 0) / 1000;

  test('times are shifted into the configured zone, on a UTC scale', () => {
    const spec = chartSpec([{ name: 'up', values: [[at, 1]] }], { timeZone: 'Asia/Shanghai', start: at * 1000 - 3_600_000, end: at * 1000 }) as { data: { values: Array<{ t: number }> }; encoding: { x: { scale: { domain: number[] } } } };
    assert.equal(spec.data.values[0].t, Date.UTC(2026, 0, 1, 20, 0, 0));
    // The axis spans the window asked for, in the same zone.
    assert.deepEqual(spec.encoding.x.scale.domain, [Date.UTC(2026, 0, 1, 19, 0, 0), Date.UTC(2026, 0, 1, 20, 0, 0)]);
  });

  test('daylight saving is the zone\'s at each point', () => {
    const summer = Date.UTC(2026, 6, 1, 12, 0, 0) / 1000;
    const spec = chartSpec([{ name: 'x', values: [[at, 1], [summer, 2]] }], { timeZone: 'Europe/Berlin', start: at * 1000, end: summer * 1000 }) as { data: { values: Array<{ t: number }> } };
    assert.equal(spec.data.values[0].t - at * 1000, 3_600_000);
    assert.equal(spec.data.values[1].t - summer * 1000, 7_200_000);
  });

  test('NaN samples are left out, and legends are redacted like messages', () => {
    const spec = chartSpec([{ name: 'probe{target="postgres://app:s3cret@db:5432/x"}', values: [[at, Number.NaN], [at + 1, 2]] }], { timeZone: 'UTC', start: at * 1000 - 60_000, end: at * 1000 }) as { data: { values: Array<{ s: string }> } };
    assert.equal(spec.data.values.length, 1);
    assert.doesNotMatch(spec.data.values[0].s, /s3cret/);
  });
});

test('a long label holding a URL password is redacted before it is cut, so no part of the password shows', () => {
  const password = 'Zq9'.repeat(13);
  const url = `postgres://admin:${password}@db.internal:5432/mitong`;
  const name = seriesName({ __name__: 'pg_up', dsn: url });
  assert.ok(!name.includes(password.slice(0, 8)), name);
  assert.match(name, /admin:\*\*\*/);
});
