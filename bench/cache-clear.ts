/**
 * `/cache clear 'cache:*'` against the manual's `redis-cli --scan --pattern 'cache:*' | xargs
 * redis-cli DEL` (§1.4), in the same run, on the same data.
 *
 *   npx tsx bench/cache-clear.ts [--rounds 3] [--configs 1000:2ms,2000:0ms] [--quiet-wait 20]
 *                                [--strings 999960] [--other DIR --configs other:1000:2ms,…] [--label TEXT]
 *
 * Goals (the issue): the clear's wall time at least 5× faster than the manual's; the max latency
 * of a concurrent client's GET during the clear under 10 ms; every key that does not match, and
 * every protected key, still there.
 *
 * A real redis-server (the test harness's startRedis; no persistence, lazyfree settings left at
 * their defaults, so DEL frees big values inline as on the manual's server) holds 2,000,000 keys:
 * 1,000,000 match `cache:*` (strings, half with a TTL, plus 20 hashes of 50,000 fields and 20
 * lists of 100,000 elements), 1,000,000 do not (sessions, big app hashes and lists, look-alikes
 * such as `Cache:1` and `cachex:1`, and Celery's keys: the `celery` list, `_kombu.binding.*`,
 * `unacked*`). It is loaded once through `redis-cli --pipe` and SAVEd; before every measured
 * run the server is restarted, so each run starts from the same freshly loaded dataset.
 *
 * Each round runs the manual's pipeline, then opsbot's clear for each `--configs` entry
 * (batch:pause; default: the config's defaults). An entry `other:batch:pause` runs the
 * executeClear of the checkout given by `--other` instead (`git worktree add DIR COMMIT`), to
 * compare a change with the code before it in the same run. opsbot's clear is the code an approved plan runs: clearPlan (untimed, as before
 * approval) and then executeClear with an ExecContext of its own (a RedisTarget, the English
 * translator, ctx.status collected); wall time is executeClear's. A separate process issues GET
 * of a non-matching key about once a millisecond over its own connection for the whole run and
 * reports the latencies of the GETs sent while the clear ran (and, for reference, over the second
 * before it). After each run: DEBUG DIGEST must equal the digest of the non-matching keys alone
 * (taken when they were loaded, so every surviving key is byte-identical and no `cache:*` key is
 * left), DBSIZE must be 1,000,000, and no SCAN MATCH `cache:*` may find a key. Redis's own CPU
 * (INFO cpu), its per-command figures (INFO commandstats) and its slowest commands (SLOWLOG over
 * 1 ms) come with each run, for the analysis. Prints markdown; exits 1 if a check fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { Plan } from '../src/approvals/plan.ts';
import { clearPlan, executeClear } from '../src/cache/clear.ts';
import { configSchema, type Config } from '../src/config/schema.ts';
import type { CommandContext, ExecContext } from '../src/core/define-command.ts';
import { translator } from '../src/i18n/index.ts';
import { RedisTarget } from '../src/targets/redis.ts';
import type { Targets } from '../src/targets/types.ts';
import type { RedisServer } from '../test/harness/redis.ts';
import { codeFingerprint } from './lib/fingerprint.ts';
import { median, percentile } from './lib/load.ts';
import { cpuWindow, waitForQuiet } from './lib/machine.ts';

// Reloading 2,000,000 keys from the RDB outlasts the harness's 10 s start limit on a busy machine.
process.env.OPSBOT_TEST_TIME_FACTOR ||= '6';
const { startRedis } = await import('../test/harness/redis.ts');

const { values: opt } = parseArgs({
  strict: false,
  options: {
    rounds: { type: 'string', default: '3' },
    configs: { type: 'string' },
    'quiet-wait': { type: 'string', default: '20' },
    strings: { type: 'string', default: '999960' },
    label: { type: 'string' },
    // Another checkout (e.g. a `git worktree` of an earlier commit): its executeClear is measured
    // too, in the same run, for the configs prefixed `other:`.
    other: { type: 'string' },
  },
});
const ROUNDS = Number(opt.rounds);
const QUIET_WAIT_MS = Number(opt['quiet-wait']) * 1000;
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error('--rounds must be a positive integer');

const GOALS = { speedup: 5, maxGetMs: 10 };
/** Other work above this many cores makes a run wait (up to --quiet-wait) before it starts. */
const QUIET_CORES = 0.3;
const REPO = new URL('..', import.meta.url).pathname;
const log = (m: string) => process.stderr.write(`[cache-clear] ${new Date().toISOString().slice(11, 19)} ${m}\n`);

// ---------- the dataset ----------

/** Matching strings; with the 40 big values below they make 1,000,000 by default. */
const STRINGS = Number(opt.strings);
const BIG_HASHES = 20;
const HASH_FIELDS = 50_000;
const BIG_LISTS = 20;
const LIST_ITEMS = 100_000;
const MATCHING = STRINGS + BIG_HASHES + BIG_LISTS;
/** Names a careless glob or a case-folding match would take; `cache:*` matches none of them. */
const LOOKALIKES = ['cache', 'Cache:1', 'CACHE:2', 'cachex:1', 'xcache:1', 'cache_1', 'cache-1', 'acache:1'];
const APP_BIG = 5;
const CELERY_TASKS = 10_000;
/** celery, 3 bindings, unacked, unacked_index, unacked_mutex. */
const CELERY_KEYS = 7;
const SESSIONS = MATCHING - CELERY_KEYS - LOOKALIKES.length - 2 * APP_BIG;
const NON_MATCHING = SESSIONS + CELERY_KEYS + LOOKALIKES.length + 2 * APP_BIG;
const TOTAL = MATCHING + NON_MATCHING;
if (!(SESSIONS > 0)) throw new Error('--strings too small');

/** One command in RESP, as redis-cli --pipe wants it. */
function resp(args: (string | number)[]): string {
  let s = `*${args.length}\r\n`;
  for (const a of args) {
    const v = String(a);
    s += `$${Buffer.byteLength(v)}\r\n${v}\r\n`;
  }
  return s;
}

/** A value of 20–200 bytes, different per key, like a cached page fragment or a session. */
const value = (kind: string, i: number) => `${kind}:${i}:${'x'.repeat(20 + ((i * 7919) % 180))}`;

/** Streams commands into `redis-cli --pipe`, minding back-pressure; resolves with its summary line. */
async function pipeLoad(r: RedisServer, gen: () => Generator<string>): Promise<string> {
  const child = spawn('redis-cli', ['-h', '127.0.0.1', '-p', String(r.port), '--pipe'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  let chunk = '';
  for (const cmd of gen()) {
    chunk += cmd;
    if (chunk.length >= 1 << 16) {
      if (!child.stdin.write(chunk)) await once(child.stdin, 'drain');
      chunk = '';
    }
  }
  child.stdin.end(chunk);
  const [code] = (await once(child, 'exit')) as [number];
  // "errors: 0, replies: N" is the last line; anything else is a failed load.
  if (code !== 0 || !/errors: 0,/.test(out)) throw new Error(`redis-cli --pipe failed (${code}): ${out}`);
  return out.trim().split('\n').pop()!;
}

function* nonMatching(): Generator<string> {
  for (let i = 0; i < SESSIONS; i++) yield resp(['SET', `session:${i}`, value('s', i)]);
  for (let b = 0; b < APP_BIG; b++) {
    for (let f = 0; f < HASH_FIELDS; f += 1000) {
      yield resp(['HSET', `app:big:hash:${b}`, ...Array.from({ length: 1000 }, (_, j) => [`f${f + j}`, `v${f + j}`]).flat()]);
    }
    for (let e = 0; e < LIST_ITEMS; e += 1000) yield resp(['RPUSH', `app:big:list:${b}`, ...Array.from({ length: 1000 }, (_, j) => `item${e + j}`)]);
  }
  for (const k of LOOKALIKES) yield resp(['SET', k, `lookalike ${k}`]);
  for (let t = 0; t < CELERY_TASKS; t += 1000) yield resp(['RPUSH', 'celery', ...Array.from({ length: 1000 }, (_, j) => `{"id":"task-${t + j}"}`)]);
  for (const b of ['celery', 'celery.pidbox', 'celeryev']) yield resp(['SADD', `_kombu.binding.${b}`, `${b}\x06\x16\x06\x16${b}`]);
  yield resp(['HSET', 'unacked', ...Array.from({ length: 100 }, (_, j) => [`tag${j}`, `{"id":"u${j}"}`]).flat()]);
  yield resp(['ZADD', 'unacked_index', ...Array.from({ length: 100 }, (_, j) => [j, `tag${j}`]).flat()]);
  yield resp(['SET', 'unacked_mutex', 'worker-1']);
}

function* matching(): Generator<string> {
  for (let i = 0; i < STRINGS; i++) {
    // Two shapes of name, half with a TTL (a day: none expires during the run).
    const key = i % 3 === 0 ? `cache:user:${i}:profile` : `cache:page:${i}`;
    yield i % 2 ? resp(['SET', key, value('c', i), 'EX', 86_400]) : resp(['SET', key, value('c', i)]);
  }
  for (let b = 0; b < BIG_HASHES; b++) {
    for (let f = 0; f < HASH_FIELDS; f += 1000) {
      yield resp(['HSET', `cache:big:hash:${b}`, ...Array.from({ length: 1000 }, (_, j) => [`f${f + j}`, `v${f + j}`]).flat()]);
    }
  }
  for (let b = 0; b < BIG_LISTS; b++) {
    for (let e = 0; e < LIST_ITEMS; e += 1000) yield resp(['RPUSH', `cache:big:list:${b}`, ...Array.from({ length: 1000 }, (_, j) => `item${e + j}`)]);
  }
}

// ---------- the concurrent client ----------

/**
 * The other client, in a process of its own so that neither side's event loop delays the other:
 * one connection, inline GET of a random session key about once a millisecond (the next goes at
 * the next millisecond mark, or at once when a reply was late). Latency: write to full reply.
 * Messages: "mark <name>" starts a window; "report <name>" answers with the window's latencies.
 */
const GETTER = String.raw`
const net = require('node:net');
const [port, sessions] = process.argv.slice(1).map(Number);
const sock = net.connect(port, '127.0.0.1');
sock.setNoDelay(true);
let buf = '', sentAt = 0, nextAt = 0, lat = [], errors = 0, recording = false;
function send() {
  sentAt = performance.now();
  sock.write('GET session:' + Math.floor(Math.random() * sessions) + '\r\n');
}
sock.on('data', (d) => {
  buf += d.toString('latin1');
  // A bulk reply: $<len>\r\n<value>\r\n, or $-1\r\n for a missing key (counted as an error).
  const eol = buf.indexOf('\r\n');
  if (eol < 0) return;
  const len = Number(buf.slice(1, eol));
  if (buf[0] !== '$') { errors++; buf = ''; }
  else if (len < 0) { errors++; buf = buf.slice(eol + 2); }
  else if (buf.length < eol + 2 + len + 2) return;
  else buf = buf.slice(eol + 2 + len + 2);
  const now = performance.now();
  if (recording) lat.push(now - sentAt);
  nextAt = Math.max(nextAt + 1, now);
  setTimeout(send, Math.max(0, nextAt - now));
});
sock.on('connect', () => { nextAt = performance.now(); send(); });
sock.on('error', (e) => { process.send({ error: String(e) }); process.exit(1); });
process.on('message', (m) => {
  if (m === 'mark') { lat = []; errors = 0; recording = true; }
  else if (m === 'report') { recording = false; process.send({ lat, errors }); }
  else if (m === 'quit') process.exit(0);
});
// Whatever becomes of the bench, this client must not outlive it.
process.on('disconnect', () => process.exit(0));
`;

interface GetStats { n: number; max: number; p999: number; p99: number; p50: number; over10: number; errors: number }

class Getter {
  private child: ChildProcess;
  private constructor(port: number) {
    this.child = spawn(process.execPath, ['-e', GETTER, String(port), String(SESSIONS)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  }
  static async start(port: number): Promise<Getter> {
    const g = new Getter(port);
    await new Promise((r) => setTimeout(r, 300));
    return g;
  }
  get pid(): number { return this.child.pid ?? 0; }
  mark(): void { this.child.send('mark'); }
  async report(): Promise<GetStats> {
    const reply = once(this.child, 'message');
    this.child.send('report');
    const [m] = (await reply) as [{ lat: number[]; errors: number; error?: string }];
    if (m.error) throw new Error(`the GET client failed: ${m.error}`);
    const s = Float64Array.from(m.lat).sort();
    return { n: s.length, max: s[s.length - 1] ?? NaN, p999: percentile(s, 99.9), p99: percentile(s, 99), p50: percentile(s, 50), over10: s.filter((x) => x > 10).length, errors: m.errors };
  }
  async stop(): Promise<void> {
    this.child.send('quit');
    await once(this.child, 'exit');
  }
}

// ---------- Redis's own figures ----------

const info = async (r: RedisServer, section: string) => Object.fromEntries((await r.cli('INFO', section)).split(/\r?\n/)
  .filter((l) => l.includes(':') && !l.startsWith('#')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]));
async function redisCpu(r: RedisServer): Promise<number> {
  const i = await info(r, 'cpu');
  return Number(i.used_cpu_user) + Number(i.used_cpu_sys);
}
/** calls and µs per command name, since CONFIG RESETSTAT. */
async function commandStats(r: RedisServer): Promise<Record<string, { calls: number; usec: number }>> {
  const out: Record<string, { calls: number; usec: number }> = {};
  for (const [k, v] of Object.entries(await info(r, 'commandstats'))) {
    const calls = /calls=(\d+)/.exec(v);
    const usec = /usec=(\d+)/.exec(v);
    if (calls && usec) out[k.replace(/^cmdstat_/, '')] = { calls: Number(calls[1]), usec: Number(usec[1]) };
  }
  return out;
}
/** The slowest command logged (µs) and how many took over 1 ms. */
async function slowest(r: RedisServer): Promise<{ maxUs: number; over1ms: number; what: string }> {
  const n = Number(await r.cli('SLOWLOG', 'LEN'));
  const raw = await r.cli('--json', 'SLOWLOG', 'GET', '1000').catch(() => '[]');
  let maxUs = 0;
  let what = '';
  try {
    for (const e of JSON.parse(raw) as [number, number, number, string[]][]) {
      if (e[2] > maxUs) {
        maxUs = e[2];
        what = `${e[3][0]} ${e[3].length - 1} args`;
      }
    }
  } catch {
    // an older redis-cli without --json: the count alone
  }
  return { maxUs, over1ms: n, what };
}

// ---------- the runs ----------

interface Conf { batch: number; pauseMs: number; name: string; other?: boolean }
const baseConfig = configSchema.parse({});
const confs: Conf[] = (opt.configs ? String(opt.configs).split(',') : [`${baseConfig.cache.batch}:${baseConfig.cache.pause}ms`]).map((c) => {
  const other = c.startsWith('other:');
  const [b, p] = c.replace(/^other:/, '').split(':');
  if (other && !opt.other) throw new Error('an other: config needs --other DIR');
  const cache = configSchema.parse({ cache: { batch: Number(b), pause: p } }).cache;
  return { batch: cache.batch, pauseMs: cache.pause, name: `${other ? 'other' : 'opsbot'} ${cache.batch}/${cache.pause}ms`, other };
});

interface Run {
  round: number;
  who: string;
  ms: number;
  get: GetStats;
  idle: GetStats;
  redisCpuS: number;
  clientCpuS: number;
  others: number;
  stats: Record<string, { calls: number; usec: number }>;
  slow: { maxUs: number; over1ms: number; what: string };
  deleted?: number;
  batches?: string;
  statuses?: number;
}

const runs: Run[] = [];
let failures = 0;
function check(ok: boolean, what: string): void {
  if (!ok) {
    failures++;
    log(`CHECK FAILED: ${what}`);
  }
}

/** The manual's command, as §1.4 writes it, with the bench server's address. */
const MANUAL = `redis-cli -h 127.0.0.1 -p "$1" --scan --pattern 'cache:*' | xargs redis-cli -h 127.0.0.1 -p "$1" DEL > /dev/null`;

/** Runs the manual's pipeline under bash's `time`: wall, and its processes' user+sys CPU. */
async function manual(port: number): Promise<Measured> {
  const script = `TIMEFORMAT='%R %U %S'; { time ( ${MANUAL} ) ; } 2>&1`;
  const child = spawn('bash', ['-o', 'pipefail', '-c', script, 'bench', String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const t0 = performance.now();
  const [code] = (await once(child, 'exit')) as [number];
  const ms = performance.now() - t0;
  if (code !== 0) throw new Error(`the manual's pipeline exited ${code}: ${out}`);
  const [, u, s] = out.trim().split('\n').pop()!.split(' ').map(Number);
  return { ms, cpuS: u + s };
}

const otherExecute = opt.other
  ? ((await import(new URL(`file://${String(opt.other).replace(/\/$/, '')}/src/cache/clear.ts`).href)) as { executeClear: typeof executeClear }).executeClear
  : undefined;

type Measured = { ms: number; cpuS: number; deleted?: number; batches?: string; statuses?: number };

/** Makes the plan, as the request does before approval (not measured), and returns the approved run. */
async function opsbot(r: RedisServer, c: Conf): Promise<() => Promise<Measured>> {
  const config: Config = configSchema.parse({ cache: { batch: c.batch, pause: `${c.pauseMs}ms` } });
  const redis = new RedisTarget('cache', r.url, 10_000);
  const plan: Plan = await clearPlan({ config } as unknown as CommandContext<unknown>, redis, { pattern: 'cache:*', db: 0, includeProtected: false });
  return async () => {
    const statuses: string[] = [];
    const ctx: ExecContext = {
      requestId: 'bench', requester: 'U0BENCH', t: translator('en'), config, targets: {} as Targets,
      log: pino({ level: 'silent' }),
      progress: async () => {},
      status: (s) => void statuses.push(s),
      signal: new AbortController().signal,
      stopped: () => undefined,
    };
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const report = await (c.other ? otherExecute! : executeClear)(ctx, redis, plan);
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    await redis.close();
    const summary = String(report.summary);
    const deleted = Number(/Deleted ([\d,]+) keys/.exec(summary)?.[1].replace(/,/g, '') ?? NaN);
    const batches = String(report.sections?.[0]?.lines?.[0] ?? '');
    return { ms, cpuS: (cpu.user + cpu.system) / 1e6, deleted, batches, statuses: statuses.length };
  };
}

async function verify(r: RedisServer, ref: string, who: string): Promise<void> {
  const digest = await r.cli('DEBUG', 'DIGEST');
  check(digest === ref, `${who}: DEBUG DIGEST ${digest} is not the non-matching keys' ${ref}`);
  check(Number(await r.cli('DBSIZE')) === NON_MATCHING, `${who}: DBSIZE is not ${NON_MATCHING}`);
  const left = await r.cli('EVAL', "local c, n = '0', 0 repeat local p = redis.call('SCAN', c, 'MATCH', 'cache:*', 'COUNT', 10000) c = p[1] n = n + #p[2] until c == '0' return n", '0');
  check(left === '0', `${who}: ${left} cache:* keys left`);
  check(await r.cli('LLEN', 'celery') === String(CELERY_TASKS), `${who}: celery's length changed`);
  check(await r.cli('EXISTS', '_kombu.binding.celery', '_kombu.binding.celery.pidbox', '_kombu.binding.celeryev', 'unacked', 'unacked_index', 'unacked_mutex') === '6', `${who}: a protected key is gone`);
}

async function main(): Promise<void> {
  const fp = codeFingerprint(REPO);
  log(`code ${fp.hash}; ${TOTAL.toLocaleString('en')} keys, ${MATCHING.toLocaleString('en')} matching; ${ROUNDS} rounds; ${confs.map((c) => c.name).join(', ')}`);
  const r = await startRedis({ args: ['--enable-debug-command', 'local', '--slowlog-log-slower-than', '1000', '--slowlog-max-len', '1000'] });
  let getter: Getter | undefined;
  try {
    let t0 = performance.now();
    log(`loading ${NON_MATCHING.toLocaleString('en')} non-matching keys… ${await pipeLoad(r, nonMatching)}`);
    const ref = await r.cli('DEBUG', 'DIGEST');
    log(`loading ${MATCHING.toLocaleString('en')} matching keys… ${await pipeLoad(r, matching)}`);
    const dbsize = Number(await r.cli('DBSIZE'));
    if (dbsize !== TOTAL) throw new Error(`loaded ${dbsize} keys, expected ${TOTAL}`);
    await r.cli('SAVE');
    const mem = (await info(r, 'memory')).used_memory_human;
    const loadS = (performance.now() - t0) / 1000;
    log(`loaded and saved in ${loadS.toFixed(1)} s; used_memory ${mem}`);

    const order = ['manual', ...confs.map((c) => c.name)];
    for (let round = 1; round <= ROUNDS; round++) {
      for (const who of order) {
        // A fresh server on the saved dataset: same keys, same table, no lazy free still running.
        t0 = performance.now();
        await getter?.stop();
        await r.stop();
        await r.start();
        if (Number(await r.cli('DBSIZE')) !== TOTAL) throw new Error('the dataset did not reload');
        getter = await Getter.start(r.port);
        const pidOf = Number((await info(r, 'server')).process_id);
        const others = await waitForQuiet(() => [pidOf, getter!.pid], QUIET_CORES, QUIET_WAIT_MS);
        const go = who === 'manual' ? () => manual(r.port) : await opsbot(r, confs.find((c) => c.name === who)!);
        getter.mark();
        await new Promise((res) => setTimeout(res, 1000));
        const idle = await getter.report();
        await r.cli('CONFIG', 'RESETSTAT');
        await r.cli('SLOWLOG', 'RESET');
        const cpu0 = await redisCpu(r);
        const window = cpuWindow(() => [pidOf, getter!.pid]);
        getter.mark();
        const res: Measured = await go();
        const get = await getter.report();
        const w = window();
        const redisCpuS = (await redisCpu(r)) - cpu0;
        const stats = await commandStats(r);
        const slow = await slowest(r);
        await verify(r, ref, `round ${round} ${who}`);
        const run: Run = {
          round, who, ms: res.ms, get, idle, redisCpuS, clientCpuS: res.cpuS, others: Math.max(others, w.others), stats, slow,
          deleted: res.deleted, batches: res.batches, statuses: res.statuses,
        };
        if (run.deleted !== undefined) check(run.deleted === MATCHING, `round ${round} ${who}: reported ${run.deleted} deleted, not ${MATCHING}`);
        runs.push(run);
        log(`round ${round} ${who}: ${(res.ms / 1000).toFixed(2)} s, GET max ${get.max.toFixed(1)} p99 ${get.p99.toFixed(2)} p50 ${get.p50.toFixed(2)} ms (${get.n}); ` +
          `redis CPU ${redisCpuS.toFixed(2)} s, client ${res.cpuS.toFixed(2)} s; slowest ${(slow.maxUs / 1000).toFixed(1)} ms (${slow.what}); others ${run.others.toFixed(2)} cores` +
          `${run.batches ? `; ${run.batches}` : ''} [${((performance.now() - t0) / 1000).toFixed(0)} s]`);
      }
    }
    await getter?.stop();
    getter = undefined;
    print(fp.hash, mem, loadS, order);
  } finally {
    await getter?.stop().catch(() => {});
    await r.stop();
  }
}

// ---------- the report ----------

const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '–');
const us = (s: { calls: number; usec: number } | undefined) => (s && s.calls ? `${s.calls.toLocaleString('en')} × ${f1(s.usec / s.calls)} µs` : '–');

function print(hash: string, mem: string, loadS: number, order: string[]): void {
  const med = (who: string, pick: (r: Run) => number) => median(runs.filter((r) => r.who === who).map(pick));
  const manualMs = med('manual', (r) => r.ms);
  const lines: string[] = [];
  lines.push(`\`npx tsx bench/cache-clear.ts --rounds ${ROUNDS}${opt.configs ? ` --configs ${opt.configs}` : ''}${opt.other ? ' --other DIR' : ''}\`${opt.label ? ` (${opt.label})` : ''}: code \`${hash}\`,`);
  lines.push(`${cpus().length} × ${cpus()[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GB RAM, Node ${process.version}, ${'redis-server'} on the same machine;`);
  lines.push(`${TOTAL.toLocaleString('en')} keys (${MATCHING.toLocaleString('en')} matching), used_memory ${mem}, loaded in ${loadS.toFixed(0)} s. Medians of ${ROUNDS} rounds.`);
  lines.push('');
  lines.push('| run | wall time | vs manual | GET max | GET p99 | GET p50 | GETs > 10 ms | Redis CPU | client CPU | others (cores) |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const who of order) {
    const ms = med(who, (r) => r.ms);
    lines.push(`| ${who} | ${f2(ms / 1000)} s | ${who === 'manual' ? '1×' : `${f2(manualMs / ms)}×`} | ${f1(med(who, (r) => r.get.max))} ms | ${f2(med(who, (r) => r.get.p99))} ms | ` +
      `${f2(med(who, (r) => r.get.p50))} ms | ${med(who, (r) => r.get.over10)} | ${f2(med(who, (r) => r.redisCpuS))} s | ${f2(med(who, (r) => r.clientCpuS))} s | ${f2(med(who, (r) => r.others))} |`);
  }
  lines.push('');
  lines.push('Every run:');
  lines.push('');
  lines.push('| round | run | wall | GET max / p99 / p50 (n) | idle GET max / p99 | Redis commands | slowest command | others | batches |');
  lines.push('|---:|---|---:|---|---|---|---|---:|---|');
  for (const r of runs) {
    const cmds = ['scan', 'unlink', 'del'].filter((c) => r.stats[c]).map((c) => `${c} ${us(r.stats[c])}`).join('; ');
    lines.push(`| ${r.round} | ${r.who} | ${f2(r.ms / 1000)} s | ${f1(r.get.max)} / ${f2(r.get.p99)} / ${f2(r.get.p50)} ms (${r.get.n}) | ${f1(r.idle.max)} / ${f2(r.idle.p99)} ms | ${cmds} | ` +
      `${f1(r.slow.maxUs / 1000)} ms ${r.slow.what}, ${r.slow.over1ms} over 1 ms | ${f2(r.others)} | ${r.batches ?? ''} |`);
  }
  lines.push('');
  for (const c of confs) {
    const ms = med(c.name, (r) => r.ms);
    const max = med(c.name, (r) => r.get.max);
    lines.push(`- ${c.name}: ${f2(manualMs / ms)}× the manual's speed (goal ≥ ${GOALS.speedup}×: ${manualMs / ms >= GOALS.speedup ? 'PASS' : 'FAIL'}); ` +
      `GET max ${f1(max)} ms (goal < ${GOALS.maxGetMs} ms: ${max < GOALS.maxGetMs ? 'PASS' : 'FAIL'}; worst run ${f1(Math.max(...runs.filter((r) => r.who === c.name).map((r) => r.get.max)))} ms).`);
  }
  lines.push(`- Keys not matching, protected keys: ${failures ? `**${failures} checks FAILED**` : 'intact after every run (digest, DBSIZE, no `cache:*` left, celery length, protected keys)'}.`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
process.exit(failures ? 1 : 0);
