/** Markdown tables for the ack-latency benchmark. */
import type { ProcStats } from './child.ts';
import { median, type LoadResult } from './load.ts';
import type { CpuWindow } from './machine.ts';

export type AppName = 'bare' | 'bot';

export interface Round {
  app: AppName;
  round: number;
  load: LoadResult;
  /** The app's process during the load window. */
  proc: ProcStats;
  /** The fake Slack's process during the load window. */
  fake: ProcStats;
  /** The load generator (this process), the benchmark's processes and the machine during the load window. */
  cpu: CpuWindow;
  /** Cores used by other work on the machine just before the round (see waitForQuiet). */
  othersBefore: number;
  /** How many times the round was measured again because other work disturbed it. */
  repeats: number;
  /** Reports the fake Slack received (chat.postMessage): during the load window, and once the app was idle again. */
  postedDuringLoad: number;
  postedTotal: number;
  /** Shared reports updated in place (chat.update), and answers through response_url, by the time the app was idle. */
  updates: number;
  responses: number;
  /** Commands the bot finished (opsbot_commands_total): during the load window, and once idle; and those refused as busy. */
  completedDuringLoad: number;
  completedTotal: number;
  busy: number;
  failedCalls: number;
  /** How long the app still worked after the load stopped. */
  drainMs: number;
}

export interface Summary {
  p50: number;
  p99: number;
  rps: number;
  non2xx: number;
  errors: number;
}

export const LABEL: Record<AppName, string> = { bare: 'bare Bolt app (ack only)', bot: 'opsbot' };
export const GOALS = { p99Ratio: 1.25, rpsRatio: 0.8 };

const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');
const int = (v: number) => Math.round(v).toLocaleString('en-US');
const pct = (v: number) => `${(v * 100).toFixed(0)}%`;

/** Medians across rounds; error counts are summed, since any one of them matters. */
export function summarize(rounds: Round[]): Summary {
  return {
    p50: median(rounds.map((r) => r.load.p50)),
    p99: median(rounds.map((r) => r.load.p99)),
    rps: median(rounds.map((r) => r.load.rps)),
    non2xx: rounds.reduce((n, r) => n + r.load.non2xx, 0),
    errors: rounds.reduce((n, r) => n + r.load.errors + r.load.timeouts, 0),
  };
}

export function headline(bare: Summary, bot: Summary, rounds: number): string {
  const row = (name: string, s: Summary) => `| ${name} | ${ms(s.p50)} | ${ms(s.p99)} | ${int(s.rps)} | ${s.non2xx} | ${s.errors} |`;
  const p99Ratio = bot.p99 / bare.p99;
  const rpsRatio = bot.rps / bare.rps;
  const pass = (ok: boolean) => (ok ? '**PASS**' : '**FAIL**');
  return [
    `Medians of ${rounds} interleaved rounds:`,
    '',
    '| app | p50 ack (ms) | p99 ack (ms) | acks/s | non-2xx | errors |',
    '|---|---:|---:|---:|---:|---:|',
    row(LABEL.bare, bare),
    row(LABEL.bot, bot),
    '',
    '| goal | measured | target | result |',
    '|---|---:|---:|---|',
    `| p99 latency, opsbot / bare | ${p99Ratio.toFixed(2)}× | ≤ ${GOALS.p99Ratio.toFixed(2)}× | ${pass(p99Ratio <= GOALS.p99Ratio)} |`,
    `| throughput, opsbot / bare | ${pct(rpsRatio)} | ≥ ${pct(GOALS.rpsRatio)} | ${pass(rpsRatio >= GOALS.rpsRatio)} |`,
  ].join('\n');
}

const cores = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');

export function roundsTable(rounds: Round[]): string {
  const lines = [
    '| round | app | p50 (ms) | p99 (ms) | max (ms) | acks/s | non-2xx | other load before / during (cores) | repeated |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rounds) {
    lines.push(
      `| ${r.round} | ${r.app} | ${ms(r.load.p50)} | ${ms(r.load.p99)} | ${ms(r.load.max)} | ${int(r.load.rps)} | ${r.load.non2xx} | ${cores(r.othersBefore)} / ${cores(r.cpu.others)} | ${r.repeats} |`,
    );
  }
  return lines.join('\n');
}

/** Where the CPU went in each round, in cores (1.00 = one core busy for the whole round). */
export function cpuTable(rounds: Round[]): string {
  const lines = [
    '| round | app | app process | app event loop busy | app loop delay p99 / max (ms) | fake Slack | load generator | PostgreSQL, Redis, df… | whole benchmark | other processes |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rounds) {
    const app = r.proc.cpuMs / r.proc.wallMs;
    const fake = r.fake.cpuMs / r.fake.wallMs;
    const servers = r.cpu.ours - app - fake - r.cpu.self;
    lines.push(
      `| ${r.round} | ${r.app} | ${cores(app)} | ${pct(r.proc.elu)} | ${ms(r.proc.loopDelayP99)} / ${ms(r.proc.loopDelayMax)} | ${cores(fake)} | ${cores(r.cpu.self)} | ${cores(Math.max(0, servers))} | ${cores(r.cpu.ours)} | ${cores(r.cpu.others)} |`,
    );
  }
  return lines.join('\n');
}

/** What the bot did after its acks: commands finished, how they were answered, and the drain time. */
export function workTable(rounds: Round[]): string {
  const lines = [
    '| round | acks (2xx) | commands finished during load | finished in all | refused busy | reports posted | report updates | response_url answers | failed Web API calls | drain after load (s) | bot RSS / peak RSS / heap used (MB) |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rounds.filter((x) => x.app === 'bot')) {
    lines.push(
      `| ${r.round} | ${int(r.load.ok2xx)} | ${int(r.completedDuringLoad)} (${pct(r.completedDuringLoad / r.load.ok2xx)}) | ${int(r.completedTotal)} | ${int(r.busy)} | ${int(r.postedTotal)} | ${int(r.updates)} | ${int(r.responses)} | ${r.failedCalls} | ${(r.drainMs / 1000).toFixed(1)} | ${int(r.proc.rssMB)} / ${int(r.proc.peakRssMB)} / ${int(r.proc.heapMB)} |`,
    );
  }
  return lines.join('\n');
}
