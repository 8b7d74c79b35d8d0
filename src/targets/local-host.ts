import { readFile } from 'node:fs/promises';
import { availableParallelism, hostname, loadavg } from 'node:os';
import { run } from './exec.ts';
import { memoryUsedPercent, parseDf, parseFree, parseMeminfo } from './host-parse.ts';
import type { HostExecutor, HostHealth } from './types.ts';

// Pseudo file systems say nothing about disk space.
const SKIP_FS = ['tmpfs', 'devtmpfs', 'squashfs', 'efivarfs'].flatMap((t) => ['-x', t]);

/** The machine opsbot runs on, read the way the manual does (§1.1: df -h, free -h, load). */
export class LocalHost implements HostExecutor {
  readonly name = 'local';
  readonly where = hostname();

  constructor(private readonly timeoutMs: number) {}

  async health(): Promise<HostHealth> {
    const opts = { timeoutMs: this.timeoutMs };
    const [df, free, meminfo] = await Promise.all([
      run('df', ['-hP', ...SKIP_FS], opts),
      run('free', ['-h'], opts),
      readFile('/proc/meminfo', 'utf8'),
    ]);
    const mem = parseFree(free);
    const [one, five, fifteen] = loadavg();
    return {
      disks: parseDf(df),
      memory: { total: mem.total, used: mem.used, available: mem.available, usedPercent: memoryUsedPercent(parseMeminfo(meminfo)) },
      load: { one, five, fifteen, cores: availableParallelism() },
    };
  }

  async close(): Promise<void> {}
}
