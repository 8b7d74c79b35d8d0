/**
 * `npm run bench`: runs every benchmark in bench/ one after another, each in its own process,
 * so one benchmark's servers and heap cannot colour the next one's figures. A benchmark is a
 * top-level bench/*.ts other than this runner and the serve-*.ts child processes.
 * Arguments after `--` go to every benchmark (`npm run bench -- --duration 5`); a benchmark
 * name picks which to run (`npm run bench -- ack-latency`).
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';

const here = new URL('.', import.meta.url).pathname;
const all = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('serve-'))
  .map((f) => basename(f, '.ts'))
  .sort();

const args = process.argv.slice(2);
const chosen = args.filter((a) => all.includes(a));
const passOn = args.filter((a) => !all.includes(a));
const names = chosen.length ? chosen : all;

let failed = 0;
for (const name of names) {
  process.stderr.write(`\n=== bench/${name}.ts ${passOn.join(' ')}\n`);
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(here, `${name}.ts`), ...passOn], { stdio: 'inherit' });
  const code = await new Promise<number>((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
  if (code !== 0) {
    failed++;
    process.stderr.write(`bench/${name}.ts exited with ${code}\n`);
  }
}
process.exit(failed ? 1 : 0);
