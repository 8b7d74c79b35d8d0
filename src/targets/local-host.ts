import { spawn } from 'node:child_process';
import { readFile, stat, statfs } from 'node:fs/promises';
import { availableParallelism, hostname } from 'node:os';
import { UnavailableError } from '../core/errors.ts';
import { msg } from '../i18n/index.ts';
import { AbortedError, limit, TimedOutError } from './errors.ts';
import { NETWORK_FS, diskMounts, diskUsageOf, memoryUsage, outputOf, parseCores, parseDf, parseLoadavg, parseMeminfo, parseMounts, type Mount } from './host-parse.ts';
import { DEFAULT_MAX_BYTES, OutputCap, templates } from './templates.ts';
import type { DiskUsage, HostExecutor, HostHealth, RunOptions, RunResult, TemplateName, Templates } from './types.ts';

/** The machine opsbot runs on, read the way the manual does (§1.1: df, memory, load). */
export class LocalHost implements HostExecutor {
  readonly name = 'local';
  readonly where = hostname();

  constructor(private readonly timeoutMs: number) {}

  async health(): Promise<HostHealth> {
    // What the df, meminfo, loadavg and nproc templates give an SSH host, read in-process: the
    // bot must not fork for a /health (a storm of them would fork hundreds of times).
    const [disks, meminfo, loadavg] = await Promise.all([this.disks(), readFile('/proc/meminfo', 'utf8'), readFile('/proc/loadavg', 'utf8')]);
    return {
      disks,
      memory: memoryUsage(parseMeminfo(meminfo)),
      load: { ...parseLoadavg(loadavg), cores: parseCores(String(availableParallelism())) },
    };
  }

  /** df -P's rows from statfs over /proc/self/mounts; only network file systems still go through df. */
  async disks(): Promise<DiskUsage[]> {
    const mounts = diskMounts(parseMounts(await readFile('/proc/self/mounts', 'utf8')));
    const network = mounts.filter((m) => NETWORK_FS.test(m.type));
    const read = async (m: Mount, order: number) => {
      try {
        const [fs, st] = await Promise.all([statfs(m.mount, { bigint: true }), stat(m.mount, { bigint: true })]);
        // df leaves out what has no blocks, and what it cannot read.
        return fs.blocks > 0n ? { order, dev: st.dev, row: diskUsageOf(m, fs) } : null;
      } catch {
        return null;
      }
    };
    const rows = (await Promise.all(mounts.map((m, i) => (NETWORK_FS.test(m.type) ? null : read(m, i))))).filter((r) => r !== null);
    // One row per device, like df: a bind mount repeats its device, and the shortest mount point
    // (the one nearest the device's root) stands for it.
    const byDev = new Map<bigint, (typeof rows)[number]>();
    for (const r of rows) {
      const seen = byDev.get(r.dev);
      if (!seen || r.row.mount.length < seen.row.mount.length) byDev.set(r.dev, r);
    }
    const local = [...byDev.values()].sort((a, b) => a.order - b.order).map((r) => r.row);
    if (!network.length) return local;
    // statfs on a dead NFS server would hold a thread of the pool for good; df can be killed.
    const df = await this.run('dfPaths', [network.map((m) => m.mount)]).catch(() => undefined);
    return [...local, ...(df?.stdout.trim() ? parseDf(outputOf(this.name, 'df', df)) : [])];
  }

  run<K extends TemplateName>(template: K, args: Parameters<Templates[K]>, opts: RunOptions = {}): Promise<RunResult> {
    const argv = (templates[template] as (...a: unknown[]) => string[])(...args);
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const stdout = new OutputCap(opts.maxBytes ?? DEFAULT_MAX_BYTES);
    const stderr = OutputCap.forStderr();
    return new Promise((resolve, reject) => {
      // No shell: each argv word reaches the program as it is. Its own process group, so that
      // stopping a template that is a pipeline (sh -c 'tail | grep') stops all of it.
      // stdin is a pipe kept open only for templates that read it (backup templates: a secret on
      // the first line, and its end as the sign that the caller is gone).
      const child = spawn(argv[0], argv.slice(1), { env: { ...process.env, LC_ALL: 'C' }, stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], detached: true });
      if (opts.stdin !== undefined) {
        child.stdin?.on('error', () => {}); // a command that exits without reading it
        child.stdin?.write(opts.stdin);
      }
      let aborted = false;
      const kill = () => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      };
      const onAbort = () => {
        aborted = true;
        kill();
      };
      if (opts.signal?.aborted) onAbort();
      else opts.signal?.addEventListener('abort', onAbort, { once: true });
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        kill();
      }, timeoutMs);
      child.stdout!.on('data', (c: Buffer) => {
        if (!stdout.push(c)) kill();
      });
      child.stderr!.on('data', (c: Buffer) => stderr.push(c));
      child.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        // A missing program reads like it does over SSH: exit 127, not an exception.
        // i18n-exempt: what a shell prints on stderr, kept as the program's own output
        if (err.code === 'ENOENT') resolve({ stdout: '', stderr: `${argv[0]}: not found`, code: 127, truncated: false });
        else reject(new UnavailableError(msg('targets:local.cannot_run', { template, reason: err.message })));
      });
      child.once('close', (code) => {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        child.stdin?.destroy();
        if (aborted) reject(new AbortedError());
        else if (timedOut) reject(new TimedOutError(msg('targets:local.timed_out', { template, ...limit(timeoutMs) }), timeoutMs));
        else resolve({ stdout: stdout.text(), stderr: stderr.text(), code, truncated: stdout.truncated });
      });
    });
  }

  async close(): Promise<void> {}
}
