/**
 * A storm in one channel: 1,000 signed /health from 100 users in one channel within 2 s, sent to
 * opsbot and, in the same run, to a bare Bolt app whose /health only acks.
 *
 *   npx tsx bench/storm.ts [--requests 1000] [--users 100] [--seconds 2] [--rounds 3]
 *                          [--quiet-wait 30] [--profile DIR] [--bot-config '{"storm":{"health_cache":"0s"}}']
 *
 * Goals (the issue): every request acked within 3 s; the checks run at most twice; at most one
 * chat.postMessage a second to that channel; every requester named on a report or answered.
 * Also reported: the bot's peak RSS (VmHWM). Requests are sent evenly spaced (open loop) over
 * keep-alive connections, each signed with its own user; latency counts from when it was due.
 * Check runs come from the bot's own counter (opsbot_health_check_runs_total on /metrics), posts
 * from the fake Slack's record of each chat.postMessage. Prints markdown; exits 0 whatever the figures.
 */
import http from 'node:http';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { commandBody } from '../test/harness/slack-client.ts';
import type { ProcStats } from './lib/child.ts';
import { codeFingerprint } from './lib/fingerprint.ts';
import { percentile, signedRequest } from './lib/load.ts';
import { waitForQuiet } from './lib/machine.ts';
import { botMetric, merge, SECRET, startStack } from './lib/stack.ts';
import type { ChannelRecord } from './serve-fake-slack.ts';

const { values: opt } = parseArgs({
  options: {
    requests: { type: 'string', default: '1000' },
    users: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
    'quiet-wait': { type: 'string', default: '30' },
    profile: { type: 'string' },
    'bot-config': { type: 'string' },
  },
  // `npm run bench -- --duration 5` passes ack-latency's options to every benchmark.
  strict: false,
});
const num = (k: string) => Number(opt[k] as string);
const requests = num('requests');
const userCount = num('users');
const seconds = num('seconds');
const roundCount = num('rounds');
const quietWaitMs = num('quiet-wait') * 1000;
const extra = typeof opt['bot-config'] === 'string' ? (JSON.parse(opt['bot-config']) as Record<string, unknown>) : {};
const log = (msg: string) => process.stderr.write(`[storm] ${msg}\n`);
const ACK_LIMIT_MS = 3000;
const HEALTH_CACHE = '10s';

const command = [
  'npx tsx bench/storm.ts',
  `--requests ${requests} --users ${userCount} --seconds ${seconds} --rounds ${roundCount}`,
  ...(opt['bot-config'] ? [`--bot-config '${opt['bot-config']}'`] : []),
].join(' ');

interface StormLoad {
  latencies: number[];
  statuses: Record<string, number>;
  errors: number;
}

/** `requests` signed /health, evenly spaced over `seconds`, user i % userCount; one response_url each. */
async function storm(url: string, channel: string, fakeBase: string): Promise<StormLoad> {
  const target = new URL(`${url}/slack/events`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 100 });
  const bodies = Array.from({ length: requests }, (_, i) => {
    const user = `U0STORM${String(i % userCount).padStart(3, '0')}`;
    return commandBody({ command: '/health', text: '', user_id: user, channel_id: channel, response_url: `${fakeBase}/response/${channel}-${user}-${i}` });
  });
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  const send = (body: string, due: number) =>
    new Promise<void>((resolve) => {
      const headers = { ...signedRequest(SECRET, body), 'Content-Length': String(Buffer.byteLength(body)) };
      const req = http.request({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers, agent, timeout: 10_000 }, (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(performance.now() - due);
          statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
  const interval = (seconds * 1000) / requests;
  const start = performance.now() + 5;
  const inFlight: Array<Promise<void>> = [];
  let sent = 0;
  await new Promise<void>((done) => {
    const tick = () => {
      while (sent < requests && start + sent * interval <= performance.now()) inFlight.push(send(bodies[sent], start + sent++ * interval));
      if (sent < requests) setTimeout(tick, Math.max(0, start + sent * interval - performance.now()));
      else done();
    };
    setTimeout(tick, 5);
  });
  await Promise.all(inFlight);
  agent.destroy();
  return { latencies, statuses, errors };
}

interface BotRound {
  round: number;
  load: StormLoad;
  acked3s: number;
  p50: number;
  p99: number;
  max: number;
  checkRuns: number;
  posts: number;
  minGapMs: number;
  maxPerSecond: number;
  updates: number;
  named: number;
  answeredDirectly: number;
  requestersCovered: number;
  requestsCovered: number;
  busy: number;
  drainMs: number;
  proc: ProcStats;
}

function summary(load: StormLoad) {
  const sorted = Float64Array.from(load.latencies).sort();
  return {
    acked3s: load.latencies.filter((l) => l <= ACK_LIMIT_MS).length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
  };
}

/** The most posts in any window of 1 s (a post at t counts for [t, t + 1000)). */
function maxPerSecond(times: number[]): number {
  let best = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i] - times[j] >= 1000) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

const stack = await startStack({
  log,
  profile: typeof opt.profile === 'string' ? opt.profile : undefined,
  botConfig: (t) => merge({
    channels: { ops: 'C0OPS' },
    health: { timeout: '2s' },
    targets: { postgres: { main: { url: t.pg } }, redis: { cache: { url: t.redis } } },
    storm: { share_window: '10s', health_cache: HEALTH_CACHE },
  }, extra),
});
try {
  const load0 = loadavg()[0];
  const code = codeFingerprint(new URL('..', import.meta.url).pathname);
  const { bot, bare, fake } = stack;
  // Warm both apps up with one command each (a different /health kind, so the storm's checks start cold).
  for (const app of [bare, bot]) {
    const body = commandBody({ command: '/health', text: 'postgres', user_id: 'U0WARM', channel_id: 'C0WARM', response_url: `${stack.fakeBase}/response/C0WARM-x` });
    const res = await fetch(`${app.ready.url}/slack/events`, { method: 'POST', headers: signedRequest(SECRET, body), body });
    if (res.status !== 200) throw new Error(`warm-up answered ${res.status}`);
  }
  await bot.call('idle');

  const bareRounds: Array<ReturnType<typeof summary> & { round: number; load: StormLoad; proc: ProcStats }> = [];
  const botRounds: BotRound[] = [];
  for (let round = 1; round <= roundCount; round++) {
    const channel = `C0STORM${round}`;
    await waitForQuiet(stack.roots, 0.15, quietWaitMs);
    await bare.call('mark');
    const bareLoad = await storm(bare.ready.url, channel, stack.fakeBase);
    bareRounds.push({ round, load: bareLoad, ...summary(bareLoad), proc: await bare.call<ProcStats>('stats') });
    log(`round ${round} bare: ${JSON.stringify(summary(bareLoad))}`);

    // The cache from the previous round must be gone, so that each round starts cold.
    await new Promise((r) => setTimeout(r, 11_000));
    await waitForQuiet(stack.roots, 0.15, quietWaitMs);
    const runs0 = await botMetric(bot, 'opsbot_health_check_runs_total');
    const busy0 = await botMetric(bot, 'opsbot_commands_total', /outcome="busy"/);
    await bot.call('mark');
    const botLoad = await storm(bot.ready.url, `${channel}`, stack.fakeBase);
    const proc = await bot.call<ProcStats>('stats');
    const drainMs = await bot.call<number>('idle');
    const runs = (await botMetric(bot, 'opsbot_health_check_runs_total')) - runs0;
    const busy = ((await botMetric(bot, 'opsbot_commands_total', /outcome="busy"/)) || 0) - (busy0 || 0);
    // Updates are coalesced to one a second; give the last one time to land.
    await new Promise((r) => setTimeout(r, 1500));
    const rec = await fake.call<ChannelRecord>('channel', channel);
    const times = rec.posts.filter((p) => p.status === 200).map((p) => p.at).sort((a, b) => a - b);
    const named = new Set(rec.texts.flatMap((t) => [...t.matchAll(/<@(U[A-Z0-9]+)>/g)].map((m) => m[1])));
    const answered = new Set(rec.responses.map((r) => r.target.split('-')[1]));
    const requestsNamed = rec.texts.reduce((n, t) => n + Number(/\((\d+) requests\)/.exec(t)?.[1] ?? (t.match(/<@U/g) ?? []).length), 0);
    const r: BotRound = {
      round, load: botLoad, ...summary(botLoad), checkRuns: runs, posts: times.length,
      minGapMs: times.slice(1).reduce((m, t, i) => Math.min(m, t - times[i]), Infinity),
      maxPerSecond: maxPerSecond(times), updates: rec.updates, named: named.size, answeredDirectly: rec.responses.length,
      requestersCovered: new Set([...named, ...answered]).size, requestsCovered: requestsNamed + rec.responses.length, busy, drainMs, proc,
    };
    botRounds.push(r);
    log(`round ${round} bot: acked ${r.acked3s}/${requests} within 3 s, p99 ${r.p99.toFixed(1)} ms, runs ${runs}, posts ${r.posts}, max/s ${r.maxPerSecond}, named ${r.named}, covered ${r.requestersCovered}/${userCount} users, ${r.requestsCovered} requests`);
  }

  const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : 'n/a');
  const pass = (ok: boolean) => (ok ? '**PASS**' : '**FAIL**');
  const worst = <T>(f: (r: BotRound) => T, cmp: (a: T, b: T) => boolean) => botRounds.map(f).reduce((a, b) => (cmp(b, a) ? b : a));
  const minAcked = worst((r) => r.acked3s, (a, b) => a < b);
  const maxRuns = worst((r) => r.checkRuns, (a, b) => a > b);
  const maxRate = worst((r) => r.maxPerSecond, (a, b) => a > b);
  const minCovered = worst((r) => r.requestersCovered, (a, b) => a < b);
  const peak = Math.max(...botRounds.map((r) => r.proc.peakRssMB));
  console.log([
    '## storm',
    '',
    `- command: \`${command}\``,
    `- machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}, load average ${load0.toFixed(2)} at start`,
    `- date: ${new Date().toISOString()}`,
    `- code: sha256 of src/ and commands/ (${code.files} files) begins ${code.hash}`,
    `- load: ${requests} signed \`/health\` from ${userCount} users in one channel, evenly spaced over ${seconds} s (open loop), ${roundCount} rounds; bot config adds \`storm: { share_window: 10s, health_cache: ${HEALTH_CACHE} }\`${opt['bot-config'] ? ` and \`${opt['bot-config']}\`` : ''}`,
    '',
    '| goal (worst round) | measured | target | result |',
    '|---|---:|---:|---|',
    `| requests acked (200) within 3 s | ${minAcked} / ${requests} | all | ${pass(minAcked === requests)} |`,
    `| check runs per storm | ${maxRuns} | ≤ 2 | ${pass(maxRuns <= 2)} |`,
    `| chat.postMessage to the channel in any 1 s | ${maxRate} | ≤ 1 | ${pass(maxRate <= 1)} |`,
    `| requesters named or answered | ${minCovered} / ${userCount} | all | ${pass(minCovered === userCount)} |`,
    `| opsbot peak RSS (VmHWM) | ${Math.round(peak)} MB | (reported) | |`,
    '',
    '| round | app | acked ≤ 3 s | p50 ack (ms) | p99 ack (ms) | max (ms) | non-200 / errors | app CPU (cores) | RSS / peak RSS (MB) |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|',
    ...bareRounds.flatMap((b, i) => {
      const o = botRounds[i];
      const non200 = (l: StormLoad) => `${Object.entries(l.statuses).filter(([s]) => s !== '200').reduce((n, [, c]) => n + c, 0)} / ${l.errors}`;
      const cpu = (p: ProcStats) => (p.cpuMs / p.wallMs).toFixed(2);
      return [
        `| ${b.round} | bare | ${b.acked3s} | ${ms(b.p50)} | ${ms(b.p99)} | ${ms(b.max)} | ${non200(b.load)} | ${cpu(b.proc)} | ${Math.round(b.proc.rssMB)} / ${Math.round(b.proc.peakRssMB)} |`,
        `| ${o.round} | opsbot | ${o.acked3s} | ${ms(o.p50)} | ${ms(o.p99)} | ${ms(o.max)} | ${non200(o.load)} | ${cpu(o.proc)} | ${Math.round(o.proc.rssMB)} / ${Math.round(o.proc.peakRssMB)} |`,
      ];
    }),
    '',
    "opsbot's answers (from the fake Slack's records):",
    '',
    '| round | check runs | posts | least gap between posts (ms) | most posts in 1 s | updates | users named | answered via response_url | requesters covered | requests covered | busy | drain after load (s) |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...botRounds.map((r) => `| ${r.round} | ${r.checkRuns} | ${r.posts} | ${Number.isFinite(r.minGapMs) ? Math.round(r.minGapMs) : '–'} | ${r.maxPerSecond} | ${r.updates} | ${r.named} | ${r.answeredDirectly} | ${r.requestersCovered} / ${userCount} | ${r.requestsCovered} / ${requests} | ${r.busy} | ${(r.drainMs / 1000).toFixed(1)} |`),
  ].join('\n'));
} catch (err) {
  log(`failed: ${(err as Error).stack ?? err}`);
  process.exitCode = 1;
} finally {
  await stack.stop();
}
