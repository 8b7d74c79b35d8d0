import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRotated } from '../../src/logs/names.ts';
import { ruleFor } from '../../src/logs/logrotate.ts';
import { logTemplates } from '../../src/logs/templates.ts';
import { LOG_MARK } from '../../src/logs/templates.ts';

test('only numbered and dated copies are rotated, never the live log or a stranger', () => {
  assert.deepEqual(parseRotated('app.log', 'app.log.1'), { number: 1, date: null, compressed: false });
  assert.deepEqual(parseRotated('app.log', 'app.log.3.gz'), { number: 3, date: null, compressed: true });
  assert.deepEqual(parseRotated('app.log', 'app.log-20240101.gz'), { number: null, date: '20240101', compressed: true });
  for (const name of ['app.log', 'app.log.bak', 'app.log.1.bak', 'app.logx.1', 'app.log-2024', 'app.log.gz', 'other.log.1']) assert.equal(parseRotated('app.log', name), null, name);
});

test('the removal template refuses anything that is not a rotated sibling of its log', () => {
  const entry = { log: '/var/log/app/app.log', size: 1, mtime: 2 };
  assert.ok(logTemplates.removeRotatedLogs([{ ...entry, path: '/var/log/app/app.log.1.gz' }]).includes('/var/log/app/app.log.1.gz'));
  for (const path of ['/var/log/app/app.log', '/var/log/other/app.log.1', '/var/log/app/app.log.1/../../x', '/etc/passwd']) {
    assert.throws(() => logTemplates.removeRotatedLogs([{ ...entry, path }]), /not a rotated copy/, path);
  }
});

test('a logrotate rule is found by glob, with the globals before it and scripts skipped', () => {
  const configs = [
    `${LOG_MARK}\t/etc/logrotate.conf`, 'weekly', 'rotate 4', 'compress',
    `${LOG_MARK}\t/etc/logrotate.d/app`, '/srv/app/logs/*.log /srv/other.log {', '  size 10M', '  rotate 5', '  postrotate', '    rotate 99', '  endscript', '}',
  ].join('\n');
  assert.deepEqual(ruleFor(configs, '/srv/app/logs/app.log'), { file: '/etc/logrotate.d/app', pattern: '/srv/app/logs/*.log', rotate: 5, sizeBytes: 10 * 1024 * 1024, compress: true, delaycompress: false });
  assert.equal(ruleFor(configs, '/srv/app/logs/sub/app.log'), undefined);
});
