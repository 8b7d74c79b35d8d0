/**
 * /health's host check over many SSH hosts at once, against the slowest single host's check,
 * measured in the same run, in interleaved rounds.
 *
 *   npx tsx bench/health-fanout.ts [--hosts 10] [--rounds 5] [--netns] [--skip-rc] [--quiet-wait 30]
 *
 * Goal (the issue): checking all hosts takes at most 1.3× the slowest single host's check, i.e.
 * hosts are checked in parallel, not one after another. Starts --hosts real sshd (loopback,
 * each on its own port; --netns puts each in its own network namespace), builds the targets with
 * createTargets as the bot does, and times runChecks(targets, config, ['host']) over all hosts,
 * and over each host alone. "warm" rounds reuse the SSH connections, as a running bot does;
 * "cold" rounds build fresh targets, so every host also pays its SSH handshake (the first /health
 * after a start). Prints markdown; exits 0 whatever the figures.
 *
 * Every simulated host runs on this machine, so the hosts' own work (sshd, the login shell,
 * df) shares its cores, and they share one home directory and so one ~/.bashrc, which the login
 * shell of every SSH command runs. The CPU table shows how much of each round that work took, and
 * "CPU floor" the shortest time that work could take on this machine's cores however it were
 * scheduled. --skip-rc runs the benchmark in a private mount namespace where ~/.bashrc is an
 * empty file (nothing outside the benchmark sees it), to take this machine's rc file out.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, homedir, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startSshd, type SshHost as Sshd } from '../test/harness/sshd.ts';
import { runChecks } from '../src/checks/run.ts';
import { logT } from '../src/i18n/index.ts';
import { configSchema, type Config } from '../src/config/schema.ts';
import { createTargets } from '../src/targets/index.ts';
import type { Targets } from '../src/targets/types.ts';
import { cpuWindow, waitForQuiet, type CpuWindow } from './lib/machine.ts';

// Not strict: `npm run bench -- --duration 5` hands every benchmark the same arguments.
const { values: opt } = parseArgs({
  strict: false,
  options: {
    hosts: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '5' },
    netns: { type: 'boolean', default: false },
    'skip-rc': { type: 'boolean', default: false },
    'quiet-wait': { type: 'string', default: '30' },
  },
});
const hostCount = Number(opt.hosts);
const roundCount = Number(opt.rounds);
const quietWaitMs = Number(opt['quiet-wait']) * 1000;
if (!(hostCount >= 2) || !(roundCount >= 1) || !(quietWaitMs >= 0)) throw new Error('--hosts must be ≥ 2, --rounds ≥ 1, --quiet-wait ≥ 0');
const GOAL = 1.3;
/** Other work on the machine above this many cores makes a round wait (as in ack-latency). */
const QUIET_CORES = 0.15;

const command = `npx tsx bench/health-fanout.ts --hosts ${hostCount} --rounds ${roundCount}${opt.netns ? ' --netns' : ''}${opt['skip-rc'] ? ' --skip-rc' : ''}${opt['quiet-wait'] !== '30' ? ` --quiet-wait ${opt['quiet-wait']}` : ''}`;
const log = (msg: string) => process.stderr.write(`[health-fanout] ${msg}\n`);

if (opt['skip-rc'] && !process.env.OPSBOT_BENCH_RC_MASKED) {
  // Run this same script again in a private mount namespace, with an empty file bound over
  // ~/.bashrc; the sshd it starts and their sessions inherit the namespace.
  const dir = mkdtempSync(join(tmpdir(), 'opsbot-bench-rc-'));
  writeFileSync(join(dir, 'empty'), '');
  const child = spawn('unshare', [
    '--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount --bind "$1" "$2" && shift 2 && exec "$@"', 'sh',
    join(dir, 'empty'), join(homedir(), '.bashrc'), process.execPath, ...process.execArgv, ...process.argv.slice(1),
  ], { stdio: 'inherit', env: { ...process.env, OPSBOT_BENCH_RC_MASKED: '1' } });
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  rmSync(dir, { recursive: true, force: true });
  process.exit(code);
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (v: number) => v.toFixed(0);
const cores = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');

interface Round {
  kind: 'warm' | 'cold';
  round: number;
  /** Each host's check alone, ms (median of its repetitions). */
  singles: number[];
  /** All hosts in one runChecks, ms (median of the repetitions). */
  all: number;
  /** Over the all-hosts repetitions together. */
  cpu: CpuWindow;
  othersBefore: number;
  failed: number;
}

/** Warm checks take milliseconds; repeating them gives the 10 ms CPU ticks of /proc something to count. */
const REPS = { warm: 5, cold: 1 } as const;

const sshds: Sshd[] = [];

function config(): Config {
  const hosts = Object.fromEntries(sshds.map((h, i) => [`app${i + 1}`, {
    address: h.host, port: h.port, user: h.user, privateKey: h.privateKey, hostKey: h.hostKeyFingerprint,
  }]));
  // A generous timeout: the benchmark measures time taken, not time allowed.
  return configSchema.parse({ targets: { local: false, hosts }, health: { timeout: '30s' } });
}

/** Same executors, one host only: what /health costs for that host alone. */
function only(targets: Targets, name: string): Targets {
  return { ...targets, hosts: new Map([[name, targets.hosts.get(name)!]]) };
}

/**
 * runChecks over `pick(targets)`, `reps` times, each on the warm targets or on fresh ones (cold).
 * Counts host checks that failed: an unreachable host would fake a fast round.
 */
async function timed(kind: 'warm' | 'cold', warm: Targets, cfg: Config, pick: (t: Targets) => Targets): Promise<{ ms: number[]; failed: number }> {
  const times: number[] = [];
  let failed = 0;
  for (let i = 0; i < REPS[kind]; i++) {
    const targets = kind === 'warm' ? warm : createTargets(cfg);
    const t0 = performance.now();
    const run = await runChecks(pick(targets), cfg, ['host'], logT());
    times.push(performance.now() - t0);
    if (kind === 'cold') await targets.close();
    for (const l of run.lines.filter((x) => x.status === 'crit' && !/ (disk|memory|load)$/.test(x.name))) {
      failed++;
      log(`  ${l.name}: ${l.text}`);
    }
  }
  return { ms: times, failed };
}

async function measure(kind: 'warm' | 'cold', round: number, cfg: Config, warm: Targets): Promise<Round> {
  const othersBefore = await waitForQuiet(() => [], QUIET_CORES, quietWaitMs);
  let all = { ms: [NaN], failed: 0 };
  let cpu: CpuWindow = { machine: NaN, self: NaN, ours: NaN, others: NaN };
  const runAll = async () => {
    const close = cpuWindow(() => []);
    all = await timed(kind, warm, cfg, (t) => t);
    cpu = close();
  };
  // Alternate the order, so neither side always runs on a machine the other just warmed.
  if (round % 2 === 0) await runAll();
  const singles: number[] = [];
  let failed = 0;
  for (const name of Object.keys(cfg.targets.hosts)) {
    const r = await timed(kind, warm, cfg, (t) => only(t, name));
    singles.push(median(r.ms));
    failed += r.failed;
  }
  if (round % 2 === 1) await runAll();
  return { kind, round, singles, all: median(all.ms), cpu, othersBefore, failed: failed + all.failed };
}

/** CPU time the all-hosts run used (opsbot and hosts), spread over every core: no schedule on this machine is faster. */
function cpuFloor(r: Round): number {
  return (r.cpu.ours * r.all) / cpus().length; // cpu.ours is in cores over the repetitions; r.all one repetition
}

/**
 * Control: the same runChecks over hosts whose check only waits (LATENCY_MS, no CPU), as remote
 * hosts with cores of their own look from the bot. What is left over the wait is opsbot's own
 * fan-out cost.
 */
const LATENCY_MS = 100;
async function control(cfg: Config, warm: Targets): Promise<{ slowest: number; all: number }> {
  const facts = await warm.hosts.get('app1')!.health();
  const hosts = new Map([...warm.hosts.keys()].map((name) => [name, {
    name, where: 'stub', run: () => Promise.reject(new Error('stub')), close: async () => {},
    health: () => new Promise<typeof facts>((resolve) => setTimeout(() => resolve(facts), LATENCY_MS)),
  }]));
  const stub: Targets = { ...warm, hosts };
  const time = async (t: Targets) => {
    const t0 = performance.now();
    await runChecks(t, cfg, ['host'], logT());
    return performance.now() - t0;
  };
  const singles: number[] = [];
  const all: number[] = [];
  for (let i = 0; i < REPS.warm; i++) {
    for (const name of hosts.keys()) singles.push(await time(only(stub, name)));
    all.push(await time(stub));
  }
  return { slowest: Math.max(...singles), all: median(all) };
}

function report(rounds: Round[], sessionMs: number, ctl: { slowest: number; all: number }): string {
  const lines: string[] = [];
  for (const kind of ['warm', 'cold'] as const) {
    const rs = rounds.filter((r) => r.kind === kind);
    const slowest = median(rs.map((r) => Math.max(...r.singles)));
    const all = median(rs.map((r) => r.all));
    const sum = median(rs.map((r) => r.singles.reduce((a, b) => a + b, 0)));
    const ratio = all / slowest;
    const floor = median(rs.map(cpuFloor));
    lines.push(
      `| ${kind} | ${ms(median(rs.map((r) => median(r.singles))))} | ${ms(slowest)} | ${ms(sum)} | ${ms(all)} | ${ms(floor)} | ${ratio.toFixed(2)}× | ≤ ${GOAL}× | ${ratio <= GOAL ? '**PASS**' : '**FAIL**'} |`,
    );
  }
  const perRound = rounds.map((r) =>
    `| ${r.round} | ${r.kind} | ${ms(median(r.singles))} | ${ms(Math.max(...r.singles))} | ${ms(r.all)} | ${(r.all / Math.max(...r.singles)).toFixed(2)}× | ${cores(r.cpu.self)} | ${cores(r.cpu.ours - r.cpu.self)} | ${cores(r.cpu.machine * cpus().length)} | ${cores(r.othersBefore)} / ${cores(r.cpu.others)} | ${r.failed} |`);
  return [
    '## health-fanout',
    '',
    `- command: \`${command}\``,
    `- machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}, load average ${loadavg()[0].toFixed(2)} at the end`,
    `- date: ${new Date().toISOString()}`,
    `- hosts: ${hostCount} OpenSSH servers on this machine (${opt.netns ? 'each in its own network namespace' : 'loopback, one port each'}), ` +
      `login shell rc file ${opt['skip-rc'] ? 'masked (--skip-rc)' : `as it is (${homedir()}/.bashrc)`}, \`health.concurrency\` ${config().health.concurrency}; ` +
      `one SSH command (\`nproc\`) takes ${ms(sessionMs)} ms here (median of 5, one host, connection open)`,
    '',
    `Medians of ${roundCount} interleaved rounds, in ms (a warm round repeats each measurement ${REPS.warm} times and takes the median). ` +
      '"slowest single" is the slowest host\'s check run alone; "all hosts" is one /health over every host; ' +
      '"CPU floor" is the CPU time the all-hosts run used, divided by the cores: the shortest it could take on this machine:',
    '',
    '| connections | median single | slowest single | sum of singles | all hosts | CPU floor | all / slowest | goal | result |',
    '|---|---:|---:|---:|---:|---:|---:|---|---|',
    ...lines,
    '',
    'Every round. CPU in cores during the all-hosts run (1.00 = one core busy for the whole run; this machine has ' + cpus().length + '): ' +
      '"opsbot" is this process (the checks, ssh2), "hosts" the sshd processes and what they ran, "other" processes outside the benchmark before / during the round:',
    '',
    '| round | connections | median single | slowest single | all hosts | all / slowest | opsbot CPU | hosts CPU | machine busy | other load | failed checks |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...perRound,
    '',
    `Control, no SSH: the same runChecks over ${hostCount} stub hosts whose check waits ${LATENCY_MS} ms and uses no CPU, ` +
      `as hosts with their own cores look from the bot: slowest single ${ms(ctl.slowest)} ms, all hosts ${ms(ctl.all)} ms, ` +
      `**${(ctl.all / ctl.slowest).toFixed(2)}×**.`,
  ].join('\n');
}

try {
  log(`starting ${hostCount} sshd…`);
  for (let i = 0; i < hostCount; i++) sshds.push(await startSshd({ netns: Boolean(opt.netns) }));
  const cfg = config();
  const warm = createTargets(cfg);
  try {
    // Connect every host once, so warm rounds measure checks and not handshakes.
    const first = await timed('warm', warm, cfg, (t) => t);
    if (first.failed) throw new Error(`${first.failed} hosts failed their first check`);
    const session: number[] = [];
    const one = warm.hosts.get('app1')!;
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await one.run('nproc', []);
      session.push(performance.now() - t0);
    }
    const rounds: Round[] = [];
    for (let i = 1; i <= roundCount; i++) {
      for (const kind of ['warm', 'cold'] as const) {
        const r = await measure(kind, i, cfg, warm);
        rounds.push(r);
        log(`round ${i} ${kind}: slowest single ${ms(Math.max(...r.singles))} ms, all ${ms(r.all)} ms (${(r.all / Math.max(...r.singles)).toFixed(2)}×), failed ${r.failed}`);
      }
    }
    console.log(report(rounds, median(session), await control(cfg, warm)));
  } finally {
    await warm.close();
  }
} catch (err) {
  log(`failed: ${(err as Error).stack ?? err}`);
  process.exitCode = 1;
} finally {
  for (const h of sshds) await h.stop().catch((e) => log(`stopping sshd: ${e}`));
}
