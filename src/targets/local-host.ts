import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { availableParallelism, hostname } from 'node:os';
import { UnavailableError } from '../core/errors.ts';
import { hostHealth, outputOf } from './host-parse.ts';
import { DEFAULT_MAX_BYTES, OutputCap, seconds, templates } from './templates.ts';
import type { HostExecutor, HostHealth, RunOptions, RunResult, TemplateName, Templates } from './types.ts';

/** The machine opsbot runs on, read the way the manual does (§1.1: df, memory, load). */
export class LocalHost implements HostExecutor {
  readonly name = 'local';
  readonly where = hostname();

  constructor(private readonly timeoutMs: number) {}

  async health(): Promise<HostHealth> {
    // Same template and parsers as an SSH host, but the /proc files are read directly and the
    // core count comes from Node: df is the only process spawned.
    const [df, meminfo, loadavg] = await Promise.all([
      this.run('df', []).then((r) => outputOf(this.name, 'df', r)),
      readFile('/proc/meminfo', 'utf8'),
      readFile('/proc/loadavg', 'utf8'),
    ]);
    return hostHealth({ df, meminfo, loadavg, nproc: String(availableParallelism()) });
  }

  run<K extends TemplateName>(template: K, args: Parameters<Templates[K]>, opts: RunOptions = {}): Promise<RunResult> {
    const argv = (templates[template] as (...a: unknown[]) => string[])(...args);
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const stdout = new OutputCap(opts.maxBytes ?? DEFAULT_MAX_BYTES);
    const stderr = OutputCap.forStderr();
    return new Promise((resolve, reject) => {
      // No shell: each argv word reaches the program as it is. Its own process group, so that
      // stopping a template that is a pipeline (sh -c 'tail | grep') stops all of it.
      const child = spawn(argv[0], argv.slice(1), { env: { ...process.env, LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      const kill = () => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      };
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        kill();
      }, timeoutMs);
      child.stdout.on('data', (c: Buffer) => {
        if (!stdout.push(c)) kill();
      });
      child.stderr.on('data', (c: Buffer) => stderr.push(c));
      child.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        // A missing program reads like it does over SSH: exit 127, not an exception.
        if (err.code === 'ENOENT') resolve({ stdout: '', stderr: `${argv[0]}: not found`, code: 127, truncated: false });
        else reject(new UnavailableError(`local: cannot run ${template}: ${err.message}`));
      });
      child.once('close', (code) => {
        clearTimeout(timer);
        if (timedOut) reject(new UnavailableError(`local: ${template} timed out after ${seconds(timeoutMs)} (killed)`));
        else resolve({ stdout: stdout.text(), stderr: stderr.text(), code, truncated: stdout.truncated });
      });
    });
  }

  async close(): Promise<void> {}
}
