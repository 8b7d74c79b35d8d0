import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDf } from '../../src/targets/host-parse.ts';

test("parseDf keeps real disks and a root overlay, and skips containers' overlay mounts", () => {
  const df = [
    'Filesystem     1024-blocks     Used Available Capacity Mounted on',
    'overlay         263174212 24000000 225000000      10% /',
    '/dev/vda        263174212 24000000 225000000      10% /var/lib/docker',
    'overlay         263174212 24000000 225000000      10% /var/lib/docker/overlay2/abc/merged',
    '/dev/sdb1         1048576   943718    104858      90% /srv/backup dir',
  ].join('\n');
  const rows = parseDf(df);
  assert.deepEqual(rows.map((r) => r.mount), ['/', '/var/lib/docker', '/srv/backup dir']);
  assert.equal(rows[2].usePercent, 90);
});
