/** The local host's disks come from statfs, without forking df, and agree with what df -P prints. */
import assert from 'node:assert/strict';
import childProcess from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import { test } from 'node:test';
import { diskMounts, parseMounts } from '../../src/targets/host-parse.ts';
import { LocalHost } from '../../src/targets/local-host.ts';

/** `df -P -k` rows, parsed here on their own: mount point → KiB figures and Use%. */
function dfRows(): Map<string, { fs: string; size: number; used: number; avail: number; pct: number }> {
  const out = execFileSync('df', ['-P', '-k', '-x', 'tmpfs', '-x', 'devtmpfs', '-x', 'squashfs', '-x', 'efivarfs'], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  const rows = new Map<string, { fs: string; size: number; used: number; avail: number; pct: number }>();
  for (const line of out.trim().split('\n').slice(1)) {
    const m = /^(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)%\s+(.+)$/.exec(line);
    if (!m) continue;
    if (m[1] === 'overlay' && m[6] !== '/') continue; // containers' roots, skipped by both
    rows.set(m[6], { fs: m[1], size: Number(m[2]), used: Number(m[3]), avail: Number(m[4]), pct: Number(m[5]) });
  }
  return rows;
}

/** "252G", "23G", "1.5M" → KiB, for comparing against df's 1K blocks. */
function kib(human: string): number {
  const m = /^([\d.]+)([KMGTPE]?)$/.exec(human);
  assert.ok(m, `size ${human}`);
  return Number(m[1]) * 1024 ** ('KMGTPE'.indexOf(m[2]) + 1) / 1024;
}

test('LocalHost disks: the same mounts and figures as df -P, with no process forked', async () => {
  const cp = childProcess as unknown as Record<string, (...a: unknown[]) => unknown>;
  const originals = { spawn: cp.spawn, execFile: cp.execFile, exec: cp.exec, fork: cp.fork };
  const forks: string[] = [];
  for (const name of Object.keys(originals) as Array<keyof typeof originals>) {
    cp[name] = (...a: unknown[]) => {
      forks.push(`${name} ${String(a[0])}`);
      return originals[name](...a);
    };
  }
  syncBuiltinESMExports();
  let health;
  try {
    health = await new LocalHost(5000).health();
  } finally {
    Object.assign(cp, originals);
    syncBuiltinESMExports();
  }
  assert.deepEqual(forks, [], 'no child process for local disk usage');

  const df = dfRows();
  const ours = new Map(health.disks.map((d) => [d.mount, d]));
  assert.ok(df.size > 0);
  assert.deepEqual([...ours.keys()].sort(), [...df.keys()].sort(), 'the same mount points as df');
  for (const [mount, row] of df) {
    const d = ours.get(mount)!;
    assert.equal(d.filesystem, row.fs, mount);
    // Sizes as df -h rounds them (up, to 2 significant figures): within 10% plus a block.
    const near = (human: string, k: number, what: string) =>
      assert.ok(Math.abs(kib(human) - k) <= k * 0.1 + 1024, `${mount} ${what}: ${human} vs df ${k} KiB`);
    near(d.size, row.size, 'size');
    near(d.used, row.used, 'used');
    near(d.avail, row.avail, 'avail');
    // Files come and go between the two readings; Use% may drift by a point.
    assert.ok(Math.abs(d.usePercent - row.pct) <= 1, `${mount} Use% ${d.usePercent} vs df ${row.pct}`);
  }
});

test('diskMounts keeps real disks, skips pseudo file systems and containers\' overlays, and unescapes names', () => {
  const mounts = parseMounts([
    'proc /proc proc rw 0 0',
    'sysfs /sys sysfs rw 0 0',
    'overlay / overlay rw,lowerdir=/a 0 0',
    'devtmpfs /dev devtmpfs rw 0 0',
    'tmpfs /run tmpfs rw 0 0',
    'cgroup2 /sys/fs/cgroup cgroup2 rw 0 0',
    '/dev/vda1 /var/lib/docker ext4 rw 0 0',
    'overlay /var/lib/docker/overlay2/abc/merged overlay rw 0 0',
    'nsfs /run/docker/netns/x nsfs rw 0 0',
    '/dev/sdb1 /srv/backup\\040dir xfs rw 0 0',
    '/dev/loop0 /snap/core/1 squashfs ro 0 0',
    '/dev/sdc1 /data ext4 rw 0 0',
    '/dev/sdd1 /data ext4 rw 0 0',
  ].join('\n'));
  const kept = diskMounts(mounts);
  assert.deepEqual(kept.map((m) => `${m.device} ${m.mount}`), ['overlay /', '/dev/vda1 /var/lib/docker', '/dev/sdb1 /srv/backup dir', '/dev/sdd1 /data']);
});
