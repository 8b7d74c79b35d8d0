import { execFile } from 'node:child_process';

/**
 * Runs a local program with an argument array (never a shell), with a timeout and an output cap.
 */
export function run(file: string, args: string[], opts: { timeoutMs?: number; maxBytes?: number; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { timeout: opts.timeoutMs ?? 10_000, maxBuffer: opts.maxBytes ?? 1 << 20, env: opts.env ?? { ...process.env, LC_ALL: 'C' }, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        if (err) {
          const msg = String(stderr).trim() || err.message;
          reject(new Error(`${file} failed: ${msg}`));
        } else resolve(String(stdout));
      },
    );
  });
}
