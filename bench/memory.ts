/**
 * Memory of the console (`npm start` with no SLACK_* variables): RSS idle and after N /health
 * commands, with the embedded store (PGlite: a first start on an empty data dir, which runs
 * initdb, then a restart on that dir) and with DATABASE_URL (a real PostgreSQL this script starts).
 *
 *   npx tsx bench/memory.ts [--commands 1000] [--in-flight 10] [--store pglite,postgres]
 *                           [--launch npm] [--settle 5] [--label TEXT]
 *
 * Goal (the issue): under 200 MB in both store modes, idle and after 1,000 commands.
 * The console reads the commands from a pipe, as `printf '/health\n' | npm start` does. The config
 * is the built-in default (the local host, and a PostgreSQL and a Redis at 127.0.0.1's default
 * ports, which fail fast when nothing listens there). Up to --in-flight commands are outstanding at
 * once; a command counts as done when its report is printed. "idle" is sampled --settle seconds
 * after the console answered its first line, "after N" --settle seconds after the Nth report.
 *
 * Each process of the tree `npm start` creates is measured from /proc: npm itself, the shell,
 * the tsx launcher (when the start script uses one), the bot's Node process and anything it
 * spawned (an esbuild service, df). "opsbot" is the bot's Node process and its descendants: what
 * a deployment runs; the goal is judged on it. "tree" adds the launcher processes (npm, sh, tsx),
 * as RSS (pages shared between processes counted once per process) and as PSS (shared pages
 * split between them). --launch takes another command line to compare (`--launch "node --import
 * tsx src/cli.ts start"`). Prints markdown; exits 0 whatever the figures. Linux only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { defaultConfigInput } from '../src/config/defaults.ts';
import { startPostgres, type PgServer } from '../test/harness/postgres.ts';
import { codeFingerprint } from './lib/fingerprint.ts';

// Not strict: `npm run bench -- --duration 5` hands every benchmark the same arguments.
const { values: opt } = parseArgs({
  strict: false,
  options: {
    commands: { type: 'string', default: '1000' },
    'in-flight': { type: 'string', default: '10' },
    store: { type: 'string', default: 'pglite,postgres' },
    launch: { type: 'string', default: 'npm start' },
    settle: { type: 'string', default: '5' },
    label: { type: 'string' },
  },
});
const commandCount = Number(opt.commands);
const inFlight = Number(opt['in-flight']);
const settleMs = Number(opt.settle) * 1000;
const stores = String(opt.store).split(',').filter(Boolean);
const launch = String(opt.launch).split(/\s+/).filter(Boolean);
if (!(commandCount >= 1) || !(inFlight >= 1) || !(settleMs >= 0)) throw new Error('--commands and --in-flight must be ≥ 1, --settle ≥ 0');
for (const s of stores) if (s !== 'pglite' && s !== 'postgres') throw new Error(`--store: unknown store ${s} (pglite, postgres)`);

const GOAL_MB = 200;
const REPO = new URL('..', import.meta.url).pathname;
/** A /health report as the console prints it: its title opens a line. */
const REPORT = /^Health\b/;
const READY = 'Type a slash command';
const log = (msg: string) => process.stderr.write(`[memory] ${msg}\n`);
const command = `npx tsx bench/memory.ts --commands ${commandCount} --in-flight ${inFlight} --store ${stores.join(',')}` +
  `${opt.launch !== 'npm start' ? ` --launch "${launch.join(' ')}"` : ''}${opt.settle !== '5' ? ` --settle ${opt.settle}` : ''}`;

interface Proc {
  pid: number;
  ppid: number;
  role: string;
  rssMB: number;
  pssMB: number;
  /** Peak RSS of the process so far (VmHWM). */
  peakMB: number;
}

interface Sample {
  /** The bot's Node process and its descendants. */
  opsbot: number;
  opsbotPss: number;
  /** The bot's Node process alone: current and peak. */
  bot: number;
  botPeak: number;
  tree: number;
  treePss: number;
  procs: Proc[];
}

function readProc(pid: number): { ppid: number; cmd: string; rssMB: number; peakMB: number; pssMB: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0) / 1024;
    const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    let pssMB = NaN;
    try {
      pssMB = Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? NaN) / 1024;
    } catch {
      // no smaps_rollup (old kernel): PSS stays unknown
    }
    return { ppid, cmd, rssMB: kb('VmRSS'), peakMB: kb('VmHWM'), pssMB };
  } catch {
    return undefined; // exited while we looked
  }
}

function role(cmd: string): string {
  if (/^(\/bin\/|\/usr\/bin\/)?(sh|bash|dash) /.test(cmd)) return 'sh';
  if (/\bcli\.(ts|m?js)\b|\bopsbot\.m?js\b/.test(cmd) && !/\.bin\/tsx|tsx\/dist\/cli/.test(cmd)) return 'opsbot (node)';
  if (/\.bin\/tsx|tsx\/dist\/cli/.test(cmd)) return 'tsx launcher';
  if (/npm-cli\.js|(^|\/)npm( |$)/.test(cmd)) return 'npm';
  if (/esbuild/.test(cmd)) return 'esbuild service';
  return cmd.split(' ')[0].split('/').pop() ?? cmd;
}

/** Every live process under `root`, root included. */
function tree(root: number): Proc[] {
  const all = new Map<number, Proc>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const p = readProc(Number(name));
    if (p) all.set(Number(name), { pid: Number(name), ppid: p.ppid, role: role(p.cmd), rssMB: p.rssMB, pssMB: p.pssMB, peakMB: p.peakMB });
  }
  const out: Proc[] = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    const p = all.get(pid);
    if (!p) continue;
    out.push(p);
    for (const c of all.values()) if (c.ppid === pid) stack.push(c.pid);
  }
  return out;
}

function sample(root: number): Sample {
  const procs = tree(root);
  const bot = procs.find((p) => p.role === 'opsbot (node)');
  const under = new Set<number>();
  if (bot) {
    under.add(bot.pid);
    for (let grew = true; grew;) {
      grew = false;
      for (const p of procs) if (!under.has(p.pid) && under.has(p.ppid)) under.add(p.pid), (grew = true);
    }
  }
  const sum = (ps: Proc[], f: (p: Proc) => number) => ps.reduce((a, p) => a + f(p), 0);
  const mine = procs.filter((p) => under.has(p.pid));
  return {
    opsbot: sum(mine, (p) => p.rssMB),
    opsbotPss: sum(mine, (p) => p.pssMB),
    bot: bot?.rssMB ?? NaN,
    botPeak: bot?.peakMB ?? NaN,
    tree: sum(procs, (p) => p.rssMB),
    treePss: sum(procs, (p) => p.pssMB),
    procs,
  };
}

interface Run {
  store: string;
  idle: Sample;
  after: Sample;
  startMs: number;
  commandsMs: number;
}

/** Starts the console, measures it idle, runs the commands, measures again, ends its input. */
async function run(store: string, env: Record<string, string | undefined>, configFile: string): Promise<Run> {
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...env, OPSBOT_CONFIG: configFile })) {
    if (v !== undefined && !k.startsWith('SLACK_') && !k.startsWith('npm_')) childEnv[k] = v;
  }
  const t0 = performance.now();
  const child: ChildProcess = spawn(launch[0], launch.slice(1), { cwd: REPO, env: childEnv, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  let reports = 0;
  let ready = false;
  let partial = '';
  let stderr = '';
  const wake = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      if (REPORT.test(line)) reports++;
      if (!ready && line.includes(READY)) ready = true;
    }
    for (const w of wake) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  let gone = false;
  void exited.then(() => {
    gone = true;
    for (const w of wake) w();
  });
  const until = async (what: string, ok: () => boolean, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!ok()) {
      if (gone) throw new Error(`the console exited while waiting for ${what}\n${stderr}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${stderr}`);
      await new Promise<void>((resolve) => {
        const w = () => (wake.delete(w), resolve());
        wake.add(w);
        setTimeout(w, 1000);
      });
    }
  };
  try {
    // The console answers :help only once the bot has started (store opened and migrated).
    child.stdin!.write(':help\n');
    await until('the console to start', () => ready, 300_000);
    const startMs = performance.now() - t0;
    await sleep(settleMs);
    const idle = sample(child.pid!);
    log(`${store}: idle after ${(startMs / 1000).toFixed(1)} s: opsbot ${idle.opsbot.toFixed(0)} MB, tree ${idle.tree.toFixed(0)} MB (${idle.procs.map((p) => `${p.role} ${p.rssMB.toFixed(0)}`).join(', ')})`);
    const t1 = performance.now();
    let sent = 0;
    while (reports < commandCount) {
      while (sent < commandCount && sent - reports < inFlight) {
        child.stdin!.write('/health\n');
        sent++;
      }
      const before = reports;
      await until(`report ${before + 1} of ${commandCount}`, () => reports > before, 60_000);
      if (reports % 100 === 0 && reports !== before) log(`${store}: ${reports} reports`);
    }
    const commandsMs = performance.now() - t1;
    await sleep(settleMs);
    const after = sample(child.pid!);
    log(`${store}: after ${commandCount} commands in ${(commandsMs / 1000).toFixed(1)} s: opsbot ${after.opsbot.toFixed(0)} MB (peak ${after.botPeak.toFixed(0)}), tree ${after.tree.toFixed(0)} MB (${after.procs.map((p) => `${p.role} ${p.rssMB.toFixed(0)}`).join(', ')})`);
    child.stdin!.end();
    const code = await Promise.race([exited, sleep(60_000).then(() => 'timeout' as const)]);
    if (code !== 0) throw new Error(`the console did not exit cleanly (${code})\n${stderr}`);
    return { store, idle, after, startMs, commandsMs };
  } finally {
    if (!gone) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

const mb = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : 'n/a');
const pass = (v: number) => (v < GOAL_MB ? '**PASS**' : '**FAIL**');

function report(runs: Run[]): string {
  const rows: string[] = [];
  const procRows: string[] = [];
  for (const r of runs) {
    for (const [phase, s] of [['idle', r.idle], [`after ${commandCount.toLocaleString('en-US')}`, r.after]] as const) {
      rows.push(`| ${r.store} | ${phase} | **${mb(s.opsbot)}** | ${mb(s.botPeak)} | ${mb(s.tree)} | ${mb(s.treePss)} | ${pass(s.opsbot)} |`);
      const byRole = new Map<string, number>();
      for (const p of s.procs) byRole.set(p.role, (byRole.get(p.role) ?? 0) + p.rssMB);
      procRows.push(`| ${r.store} | ${phase} | ${[...byRole].map(([k, v]) => `${k} ${mb(v)}`).join(', ')} |`);
    }
  }
  return [
    `## memory${opt.label ? `: ${opt.label}` : ''}`,
    '',
    `- command: \`${command}\``,
    `- launch: \`${launch.join(' ')}\` (in ${REPO})`,
    `- machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}, load average ${loadavg()[0].toFixed(2)} at the end`,
    `- date: ${new Date().toISOString()}, code \`${codeFingerprint(REPO).hash}\``,
    `- ${runs.map((r) => `${r.store}: started in ${(r.startMs / 1000).toFixed(1)} s, ${commandCount} /health in ${(r.commandsMs / 1000).toFixed(1)} s`).join('; ')}`,
    '',
    'RSS in MB. "opsbot" is the bot\'s Node process and its children; "peak" the bot process\'s peak RSS so far (VmHWM); ' +
      '"tree" every process `' + launch.join(' ') + '` created, as RSS and as PSS:',
    '',
    `| store | when | opsbot RSS | bot peak | tree RSS | tree PSS | opsbot < ${GOAL_MB} MB |`,
    '|---|---|---:|---:|---:|---:|---|',
    ...rows,
    '',
    'RSS by process (MB):',
    '',
    '| store | when | processes |',
    '|---|---|---|',
    ...procRows,
  ].join('\n');
}

const scratch = mkdtempSync(join(tmpdir(), 'opsbot-bench-mem-'));
const configFile = join(scratch, 'opsbot.yaml');
// The built-in defaults, with the per-user rate limit (60 a minute) raised so that one user can run them all.
writeFileSync(configFile, stringify({ ...defaultConfigInput, rate_limit: { requests_per_minute: 1_000_000 } }));
let pg: PgServer | undefined;
try {
  const runs: Run[] = [];
  for (const store of stores) {
    if (store === 'pglite') {
      const dataDir = join(scratch, 'data');
      runs.push({ ...(await run(store, { DATABASE_URL: undefined, OPSBOT_DATA_DIR: dataDir }, configFile)), store: 'embedded (PGlite), first start' });
      runs.push({ ...(await run(store, { DATABASE_URL: undefined, OPSBOT_DATA_DIR: dataDir }, configFile)), store: 'embedded (PGlite), restart' });
    } else {
      log('starting PostgreSQL…');
      pg = await startPostgres();
      const url = await pg.createDatabase();
      runs.push({ ...(await run(store, { DATABASE_URL: url }, configFile)), store: 'DATABASE_URL (PostgreSQL)' });
    }
  }
  console.log(report(runs));
} catch (err) {
  log(`failed: ${(err as Error).stack ?? err}`);
  process.exitCode = 1;
} finally {
  await pg?.stop().catch((e) => log(`stopping PostgreSQL: ${e}`));
  rmSync(scratch, { recursive: true, force: true });
}
