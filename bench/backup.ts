/**
 * /backup and /restore of a pgbench database against the manual's commands, in the same run.
 *
 *   npx tsx bench/backup.ts [--scale 50] [--rss-scale 10|none] [--rounds 2] [--rss-rounds N]
 *                           [--jobs 2] [--writers docker|none] [--quiet-wait 30] [--label TEXT]
 *
 * Goals (the issue):
 * - backup wall time at most 0.7× the manual's `pg_dump DB | gzip > file.sql.gz`, and at least
 *   0.95× the speed of `pg_dump -Fd -j2` (its default compression);
 * - restore end to end (checksums, side restore, row counts, swap) at least 1.1× faster than the
 *   manual's `dropdb; createdb; gunzip | psql`;
 * - downtime (writers stopped) at most 5 s; the manual's downtime is its whole restore;
 * - the bot process's peak RSS during backup and restore under 200 MB, and flat from scale 10 to 50.
 *
 * A real PostgreSQL (the test harness's startPostgres) holds a `pgbench -i -s N` database; opsbot
 * runs as its own process (`node --import tsx src/cli.ts start`, Slack over HTTP) with a temp YAML
 * config: the target, `backups.postgres.main: { run_on: local, jobs }`, roles, permissions, a
 * one-manager restore rule, and `restore.stop_services: []`, so its downtime is the swap itself.
 * With `--writers docker` (default, when dockerd starts) a second bot process, on the same state
 * database, also has two busybox containers of the test dockerd as backend and worker writers, and
 * makes one more restore per scale to show the downtime with writers to stop and start.
 * Commands are signed slash commands and an approval click; the figures are read from the card.
 * Baselines run the same server's binaries (/usr/lib/postgresql/<v>/bin) on the same database,
 * interleaved with opsbot in every round: backups manual, -Fd -j2, opsbot; then restores manual,
 * opsbot. Medians across rounds. OS caches cannot be dropped here (no privilege over the host's
 * page cache in a container): every operation runs with the database (24 GB RAM) warm in it;
 * a CHECKPOINT and a wait for a quiet machine come before each. Prints markdown; exits 0 whatever
 * the figures.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startDocker, type DockerEngine } from '../test/harness/docker.ts';
import { startFakeSlack, type FakeSlack } from '../test/harness/fake-slack.ts';
import { pgbenchInit, startPostgres, type PgServer } from '../test/harness/postgres.ts';
import { APPROVALS, botBackup, botRestore, MGR, OPER, parseDuration, startBenchBot, TOKEN, type BenchBot, type CardTrace } from './lib/backup-bot.ts';
import { memStatus, watchProcess, type Watched } from './lib/backup-procs.ts';
import { codeFingerprint } from './lib/fingerprint.ts';
import { median } from './lib/load.ts';
import { cpuWindow, waitForQuiet } from './lib/machine.ts';
import { query } from '../test/helpers/sql.ts';

const { values: opt } = parseArgs({
  strict: false,
  options: {
    scale: { type: 'string', default: '50' },
    'rss-scale': { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    'rss-rounds': { type: 'string' },
    jobs: { type: 'string', default: '2' },
    writers: { type: 'string', default: 'docker' },
    'quiet-wait': { type: 'string', default: '30' },
    label: { type: 'string' },
  },
});
const SCALE = Number(opt.scale);
const RSS_SCALE = opt['rss-scale'] === 'none' ? undefined : Number(opt['rss-scale']);
const ROUNDS = Number(opt.rounds);
const RSS_ROUNDS = Number(opt['rss-rounds'] ?? opt.rounds);
const JOBS = Number(opt.jobs);
const QUIET_WAIT_MS = Number(opt['quiet-wait']) * 1000;
const WITH_WRITERS = opt.writers === 'docker';
for (const [k, v] of Object.entries({ scale: SCALE, rounds: ROUNDS, 'rss-rounds': RSS_ROUNDS, jobs: JOBS })) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a positive integer`);
}
if (RSS_SCALE !== undefined && !(Number.isInteger(RSS_SCALE) && RSS_SCALE >= 1)) throw new Error('--rss-scale must be a positive integer or none');
if (opt.writers !== 'docker' && opt.writers !== 'none') throw new Error('--writers: docker or none');

const GOALS = { backupVsManual: 0.7, speedVsFd: 0.95, restoreSpeedup: 1.1, downtimeMs: 5000, rssMB: 200, flatMB: 15 };
/** Other work on the machine above this many cores makes an operation wait (up to --quiet-wait). */
const QUIET_CORES = 0.15;
const OP_TIMEOUT_MS = 3_600_000;
const REPO = new URL('..', import.meta.url).pathname;
const log = (m: string) => process.stderr.write(`[backup] ${new Date().toISOString().slice(11, 19)} ${m}\n`);
const command = `npx tsx bench/backup.ts --scale ${SCALE} --rss-scale ${RSS_SCALE ?? 'none'} --rounds ${ROUNDS}` +
  `${opt['rss-rounds'] ? ` --rss-rounds ${RSS_ROUNDS}` : ''} --jobs ${JOBS} --writers ${opt.writers}`;

/** The bin dir of the highest installed major version, as the test harness picks the server. */
function pgBin(): string {
  const root = '/usr/lib/postgresql';
  const v = readdirSync(root).filter((x) => existsSync(join(root, x, 'bin', 'pg_ctl'))).sort((a, b) => parseFloat(b) - parseFloat(a))[0];
  return join(root, v, 'bin');
}
const BIN = pgBin();

function exec(file: string, args: string[]): Promise<{ ms: number; stdout: string; stderr: string }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    execFile(file, args, { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve({ ms: performance.now() - t0, stdout, stderr });
    });
  });
}
/** A bash script with pipefail; args are $1, $2, … */
const bash = (script: string, ...args: string[]) => exec('bash', ['-o', 'pipefail', '-c', script, 'bench', ...args]);

const q = query;
const dbUrl = (server: string, db: string) => {
  const u = new URL(server);
  u.pathname = `/${db}`;
  return u.toString();
};
function duBytes(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((n, f) => n + duBytes(join(path, f)), 0);
}

// ---------- what one operation records ----------

type Who = 'manual' | 'fd' | 'pg_restore' | 'opsbot' | 'opsbot+writers';
interface Op {
  scale: number;
  round: number;
  kind: 'backup' | 'restore';
  who: Who;
  /** Wall time: command (or approval click) to the final card / the process's exit. */
  ms: number;
  /** For opsbot's restore: from the /restore command itself, approval included. */
  fromCommandMs?: number;
  /** The bot's own figure: manifest duration for a backup. */
  reportedMs?: number;
  /** Until the bot marked the request finished (approval_requests.finished_at): the card's last update can wait up to 1 s more (one update a second per card). */
  botMs?: number;
  downtimeMs?: number;
  bytes?: number;
  othersBefore: number;
  othersDuring: number;
  oursDuring: number;
  watched?: Watched;
  card?: CardTrace;
  /** Manual restore: dropdb + createdb, and the gunzip | psql pipeline. */
  parts?: Record<string, number>;
  note?: string;
}

const ops: Op[] = [];
interface ScaleInfo {
  scale: number;
  dbBytes: number;
  initMs: number;
  idleRssMB: number;
  endHwmMB: number;
  writersHwmMB?: number;
  rounds: number;
  countMs: number;
  sha256Ms: number;
  sha256Bytes: number;
}
const scales: ScaleInfo[] = [];

let server: PgServer | undefined;
let fake: FakeSlack | undefined;
let docker: DockerEngine | undefined;
const bots: BenchBot[] = [];
let postmaster = 0;
const roots = () => (postmaster ? [postmaster] : []);
const work = mkdtempSync(join(tmpdir(), 'opsbot-bench-backup-'));
const startedAt = Date.now();

async function measured(live: string, fn: () => Promise<Omit<Op, 'othersBefore' | 'othersDuring' | 'oursDuring'>>): Promise<Op> {
  await q(live, 'checkpoint');
  const othersBefore = await waitForQuiet(roots, QUIET_CORES, QUIET_WAIT_MS);
  const close = cpuWindow(roots);
  const r = await fn();
  const cpu = close();
  const op: Op = { ...r, othersBefore, othersDuring: cpu.others, oursDuring: cpu.ours };
  ops.push(op);
  if (op.card && op.watched) {
    const t0 = op.card.doneAt - op.ms;
    const progs = Object.entries(op.watched.programs).map(([k, [a, b]]) => `${k} ${(a / 1000).toFixed(1)}–${(b / 1000).toFixed(1)}`).join(', ');
    const steps = op.card.updates.map((u) => `+${((u.at - t0) / 1000).toFixed(1)} ${u.text.split('\n').find((l) => /🔄|✅|❌|·/.test(l)) ?? u.text.split('\n')[0]}`).join(' | ');
    log(`  programs (s from start): ${progs}\n  card: ${steps}`);
  }
  log(`scale ${op.scale} round ${op.round}: ${op.kind} ${op.who} ${(op.ms / 1000).toFixed(1)} s` +
    `${op.downtimeMs !== undefined ? `, downtime ${op.downtimeMs} ms` : ''}${op.watched ? `, bot peak RSS ${op.watched.peakRssMB.toFixed(0)} MB` : ''}` +
    ` (others ${op.othersBefore.toFixed(2)} / ${op.othersDuring.toFixed(2)} cores)`);
  return op;
}

/** approval_requests.finished_at of the request the card names "(r-N)", in ms since the epoch. */
async function finishedAt(state: string, card: CardTrace): Promise<number> {
  const id = /\((r-\d+)\)/.exec(card.text)?.[1];
  if (!id) return NaN;
  const [r] = await q<{ f: string | null }>(state, 'select (extract(epoch from finished_at) * 1000)::text as f from approval_requests where id = $1', [id]);
  return r?.f ? Number(r.f) : NaN;
}

async function dropBefore(admin: string, db: string): Promise<void> {
  for (const { datname } of await q<{ datname: string }>(admin, `select datname from pg_database where datname like $1 || '\\_before\\_%'`, [db])) {
    await q(admin, `drop database "${datname}" with (force)`);
  }
}

async function checkRows(live: string, scale: number, what: string): Promise<void> {
  const [r] = await q<{ n: string }>(live, 'select count(*)::text as n from pgbench_accounts');
  if (Number(r.n) !== scale * 100_000) throw new Error(`${what}: pgbench_accounts has ${r.n} rows, expected ${scale * 100_000}`);
}

function botConfig(live: string, dir: string, writers?: { socket: string; project: string; backend: string; worker: string }): Record<string, unknown> {
  const base: Record<string, unknown> = {
    targets: { local: true, postgres: { main: { url: live } } },
    channels: { approvals: APPROVALS },
    roles: { operator: [OPER], manager: [MGR] },
    permissions: { backup: ['operator'], restore: ['operator'] },
    approvals: { rules: { restore: { approvers: ['manager'], count: 1 } } },
    backups: { postgres: { main: { run_on: 'local', dir, jobs: JOBS } } },
    restore: { stop_services: [] },
  };
  if (!writers) return base;
  const svc = (container: string) => ({ docker: 'local', container, stop_timeout: '10s', ready_timeout: '60s' });
  return {
    ...base,
    targets: { local: true, postgres: { main: { url: live } }, docker: { local: { socket: writers.socket, project: writers.project } } },
    services: { backend: svc(writers.backend), worker: svc(writers.worker) },
    restore: { stop_services: ['backend', 'worker'] },
  };
}

async function runScale(scale: number, rounds: number, writers?: { socket: string; project: string; backend: string; worker: string }): Promise<void> {
  const db = `mitong_s${scale}`;
  const live = await server!.createDatabase(db);
  const admin = dbUrl(server!.url, 'postgres');
  log(`scale ${scale}: pgbench -i -s ${scale}…`);
  const t0 = performance.now();
  await pgbenchInit(live, scale);
  const initMs = performance.now() - t0;
  const [{ size }] = await q<{ size: string }>(live, 'select pg_database_size(current_database())::text as size');
  log(`scale ${scale}: ${(Number(size) / 2 ** 20).toFixed(0)} MB in ${(initMs / 1000).toFixed(1)} s`);
  const state = await server!.createDatabase(`opsbot_state_s${scale}`);
  const dir = join(work, `s${scale}`);
  const backupDir = join(dir, 'opsbot');
  mkdirSync(backupDir, { recursive: true });

  const bot = await startBenchBot(`s${scale}`, { config: botConfig(live, backupDir), databaseUrl: state, fake: fake! });
  bots.push(bot);
  const withWriters = writers ? await startBenchBot(`s${scale}-writers`, { config: botConfig(live, backupDir, writers), databaseUrl: state, fake: fake! }) : undefined;
  if (withWriters) bots.push(withWriters);
  await new Promise((r) => setTimeout(r, 3000));
  const idleRssMB = memStatus(bot.pid).rssMB;
  log(`scale ${scale}: bot pid ${bot.pid} ready, ${idleRssMB.toFixed(0)} MB RSS idle`);

  let lastOpsbotId = '';
  for (let round = 1; round <= rounds; round++) {
    const manualFile = join(dir, `manual-${round}.sql.gz`);
    const fdDir = join(dir, `fd-${round}`);
    // Backups: the manual, pg_dump -Fd -j2, opsbot.
    await measured(live, async () => {
      const r = await bash('"$1/pg_dump" --dbname "$2" | gzip > "$3"', BIN, live, manualFile);
      return { scale, round, kind: 'backup', who: 'manual', ms: r.ms, bytes: duBytes(manualFile) };
    });
    await measured(live, async () => {
      const r = await exec(join(BIN, 'pg_dump'), ['-Fd', `-j${JOBS}`, '-f', fdDir, '--dbname', live]);
      return { scale, round, kind: 'backup', who: 'fd', ms: r.ms, bytes: duBytes(fdDir) };
    });
    await measured(live, async () => {
      const stop = watchProcess(bot.pid);
      const { t0: c0, card } = await botBackup(bot, fake!, OP_TIMEOUT_MS);
      const watched = stop();
      const id = /Backup (\S+) complete/.exec(card.text)?.[1];
      if (!id) throw new Error(`/backup did not complete:\n${card.text}\n${bot.output()}`);
      lastOpsbotId = id;
      const [row] = await q<{ ms: string; bytes: string }>(state, `select manifest->>'duration_ms' as ms, size_bytes::text as bytes from backups where id = $1`, [id]);
      return { scale, round, kind: 'backup', who: 'opsbot', ms: card.doneAt - c0, reportedMs: Number(row.ms), botMs: (await finishedAt(state, card)) - c0, bytes: Number(row.bytes), watched, card };
    });

    // Restores: the manual's (drops the live database first), then opsbot's.
    await measured(live, async () => {
      const parts: Record<string, number> = {};
      const t = performance.now();
      parts.dropdb = (await exec(join(BIN, 'dropdb'), ['--maintenance-db', admin, db])).ms;
      parts.createdb = (await exec(join(BIN, 'createdb'), ['--maintenance-db', admin, db])).ms;
      const load = await bash('gunzip -c "$1" | "$2/psql" -X -q --dbname "$3" > /dev/null', manualFile, BIN, live);
      parts.load = load.ms;
      const ms = performance.now() - t;
      const errors = load.stderr.split('\n').filter((l) => /ERROR/.test(l));
      return { scale, round, kind: 'restore', who: 'manual', ms, downtimeMs: ms, parts, note: errors.length ? `${errors.length} errors: ${errors[0]}` : undefined };
    });
    await checkRows(live, scale, 'manual restore');
    // For the profile: pg_restore alone, of the same opsbot backup, into a scratch database
    // (created and dropped outside the timing).
    const scratch = `${db}_raw`;
    await exec(join(BIN, 'createdb'), ['--maintenance-db', admin, scratch]);
    await measured(live, async () => {
      const r = await exec(join(BIN, 'pg_restore'), [`--jobs=${JOBS}`, '--exit-on-error', '--dbname', dbUrl(server!.url, scratch), join(backupDir, lastOpsbotId)]);
      return { scale, round, kind: 'restore', who: 'pg_restore', ms: r.ms };
    });
    await q(admin, `drop database "${scratch}" with (force)`);
    await measured(live, async () => {
      const stop = watchProcess(bot.pid);
      const { t0: c0, approvedAt, card } = await botRestore(bot, fake!, lastOpsbotId, OP_TIMEOUT_MS);
      const watched = stop();
      if (!/is live in/.test(card.text)) throw new Error(`/restore did not complete:\n${card.text}\n${bot.output()}`);
      const downtime = /writers stopped for ([^\n]+)/.exec(card.text)?.[1] ?? '';
      return { scale, round, kind: 'restore', who: 'opsbot', ms: card.doneAt - approvedAt, fromCommandMs: card.doneAt - c0, botMs: (await finishedAt(state, card)) - approvedAt, downtimeMs: parseDuration(downtime), watched, card };
    });
    await checkRows(live, scale, 'opsbot restore');
    await dropBefore(admin, db);
    rmSync(fdDir, { recursive: true, force: true });
    if (round < rounds) rmSync(manualFile, { force: true });
    // The next round's backups read a vacuumed database, as pgbench -i leaves it (hint bits set, statistics).
    log(`scale ${scale} round ${round}: vacuum analyze`);
    await q(live, 'vacuum analyze');
  }

  // One restore by the bot whose writers are two containers to stop and start.
  if (withWriters) {
    await measured(live, async () => {
      const stop = watchProcess(withWriters.pid);
      const { t0: c0, approvedAt, card } = await botRestore(withWriters, fake!, lastOpsbotId, OP_TIMEOUT_MS);
      const watched = stop();
      if (!/is live in/.test(card.text)) throw new Error(`/restore (with writers) did not complete:\n${card.text}\n${withWriters.output()}`);
      const downtime = /writers stopped for ([^\n]+)/.exec(card.text)?.[1] ?? '';
      return { scale, round: 0, kind: 'restore', who: 'opsbot+writers', ms: card.doneAt - approvedAt, fromCommandMs: card.doneAt - c0, botMs: (await finishedAt(state, card)) - approvedAt, downtimeMs: parseDuration(downtime), watched, card, note: /not healthy/.test(card.text) ? 'a writer was not healthy in time' : undefined };
    });
    await checkRows(live, scale, 'opsbot restore with writers');
    await dropBefore(admin, db);
  }

  // Where the time goes, measured on their own (warm cache, quiet machine): the bot's row count
  // (one count(*) per table, one after the other, as countRows does) and sha256sum of a backup.
  await waitForQuiet(roots, QUIET_CORES, QUIET_WAIT_MS);
  const tables = ['pgbench_accounts', 'pgbench_branches', 'pgbench_history', 'pgbench_tellers'];
  const c = new pg.Client({ connectionString: live });
  await c.connect();
  const tc = performance.now();
  for (const t of tables) await c.query(`select count(*) from only public.${t}`);
  const countMs = performance.now() - tc;
  await c.end();
  const bdir = join(backupDir, lastOpsbotId);
  const sha = await bash('cd -- "$1" && find . -type f ! -name manifest.json -exec sha256sum -- {} + > /dev/null', bdir);

  const endHwmMB = memStatus(bot.pid).hwmMB;
  const writersHwmMB = withWriters ? memStatus(withWriters.pid).hwmMB : undefined;
  scales.push({ scale, dbBytes: Number(size), initMs, idleRssMB, endHwmMB, writersHwmMB, rounds, countMs, sha256Ms: sha.ms, sha256Bytes: duBytes(bdir) - statSync(join(bdir, 'manifest.json')).size });
  for (const b of [bot, withWriters]) {
    if (!b) continue;
    await b.stop();
    bots.splice(bots.indexOf(b), 1);
  }
  // Free the disk and the cache for the next scale.
  await q(admin, `drop database if exists "${db}" with (force)`);
  await q(admin, `drop database if exists "opsbot_state_s${scale}" with (force)`);
  rmSync(dir, { recursive: true, force: true });
}

// ---------- report ----------

const s1 = (ms: number | undefined) => (ms === undefined || !Number.isFinite(ms) ? 'n/a' : (ms / 1000).toFixed(1));
const mb = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(0));
const bytesMB = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? 'n/a' : (v / 2 ** 20).toFixed(0));
const x2 = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : 'n/a');
const cores = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');
const pass = (ok: boolean) => (ok ? '**PASS**' : '**FAIL**');
const LABEL: Record<Who, string> = { manual: 'manual', fd: '`pg_dump -Fd -j2`', pg_restore: '`pg_restore -j2` alone (profile)', opsbot: 'opsbot', 'opsbot+writers': 'opsbot, 2 writers' };
const pick = (scale: number, kind: Op['kind'], who: Who) => ops.filter((o) => o.scale === scale && o.kind === kind && o.who === who);
const med = (list: Op[], f: (o: Op) => number | undefined) => median(list.map(f).filter((v): v is number => v !== undefined && Number.isFinite(v)));

/** Medians of the steps of opsbot's operations, from the programs the bot ran and its card's steps. */
function phases(scale: number): string[] {
  const lines: string[] = [];
  const prog = (o: Op, comm: string) => o.watched?.programs[comm];
  const backups = pick(scale, 'backup', 'opsbot');
  if (backups.length) {
    const dump = med(backups, (o) => { const p = prog(o, 'pg_dump'); return p && p[1] - p[0]; });
    const before = med(backups, (o) => prog(o, 'pg_dump')?.[0]);
    const sha = med(backups, (o) => { const p = prog(o, 'sha256sum'); return p && p[1] - p[0]; });
    // After pg_dump: the dump's progress poll finishing its 2 s sleep, checksums, manifest, until the bot finished; then the card.
    const tail = med(backups, (o) => { const p = prog(o, 'pg_dump'); return p && (o.botMs ?? NaN) - p[1]; });
    const card = med(backups, (o) => o.ms - (o.botMs ?? NaN));
    const total = med(backups, (o) => o.ms);
    lines.push(`| ${scale} | backup | ${s1(total)} | connect, versions, snapshot ${s1(before)}; **pg_dump ${s1(dump)}** (rows counted meanwhile in the snapshot); then until the bot finished ${s1(tail)} (sha256sum ${s1(sha)}); card's last update ${s1(card)} later |`);
  }
  const restores = pick(scale, 'restore', 'opsbot');
  if (restores.length) {
    const sha = med(restores, (o) => { const p = prog(o, 'sha256sum'); return p && p[1]; });
    const restore = med(restores, (o) => { const p = prog(o, 'pg_restore'); return p && p[1] - p[0]; });
    const between = med(restores, (o) => { const a = prog(o, 'sha256sum'); const b = prog(o, 'pg_restore'); return a && b && b[0] - a[1]; });
    // From pg_restore's end to the final card, less the swap: counting rows, and the card's update.
    const counting = med(restores, (o) => { const p = prog(o, 'pg_restore'); return p && (o.botMs ?? NaN) - p[1] - (o.downtimeMs ?? 0); });
    const card = med(restores, (o) => o.ms - (o.botMs ?? NaN));
    const swap = med(restores, (o) => o.downtimeMs);
    const total = med(restores, (o) => o.ms);
    lines.push(`| ${scale} | restore | ${s1(total)} | checksums ${s1(sha)}; disk check, create database ${s1(between)}; **pg_restore -j${JOBS} ${s1(restore)}**; row counts, swap (downtime ${s1(swap)}) and the rest ${s1(counting + swap)}; card's last update ${s1(card)} later |`);
  }
  const manual = pick(scale, 'restore', 'manual');
  if (manual.length) {
    lines.push(`| ${scale} | manual restore | ${s1(med(manual, (o) => o.ms))} | dropdb + createdb ${s1(med(manual, (o) => (o.parts?.dropdb ?? 0) + (o.parts?.createdb ?? 0)))}; **gunzip \\| psql ${s1(med(manual, (o) => o.parts?.load))}** |`);
  }
  return lines;
}

function report(): string {
  const main = SCALE;
  const bm = med(pick(main, 'backup', 'manual'), (o) => o.ms);
  const bf = med(pick(main, 'backup', 'fd'), (o) => o.ms);
  const bo = med(pick(main, 'backup', 'opsbot'), (o) => o.ms);
  const rm = med(pick(main, 'restore', 'manual'), (o) => o.ms);
  const bob = med(pick(main, 'backup', 'opsbot'), (o) => o.botMs);
  const rob = med(pick(main, 'restore', 'opsbot'), (o) => o.botMs);
  const ro = med(pick(main, 'restore', 'opsbot'), (o) => o.ms);
  const dt = med(pick(main, 'restore', 'opsbot'), (o) => o.downtimeMs);
  const dtw = med(pick(main, 'restore', 'opsbot+writers'), (o) => o.downtimeMs);
  const peak = (scale: number, kind: Op['kind']) => Math.max(...ops.filter((o) => o.scale === scale && o.kind === kind && o.watched && o.who === 'opsbot').map((o) => o.watched!.peakRssMB));
  const hwm = (scale: number) => scales.find((s) => s.scale === scale)?.endHwmMB ?? NaN;
  const rssMain = hwm(main);
  const rssSmall = RSS_SCALE !== undefined ? hwm(RSS_SCALE) : NaN;
  const flat = Number.isFinite(rssSmall) ? Math.abs(rssMain - rssSmall) <= Math.max(GOALS.flatMB, 0.1 * rssSmall) : true;

  const goalRows = [
    `| backup wall time, opsbot / manual \`pg_dump \\| gzip\` | ${s1(bo)} s / ${s1(bm)} s = ${x2(bo / bm)} (finished in the bot: ${x2(bob / bm)}) | ≤ ${GOALS.backupVsManual}× | ${pass(bo / bm <= GOALS.backupVsManual)} |`,
    `| backup speed, opsbot / \`pg_dump -Fd -j${JOBS}\` (its time / ours) | ${s1(bf)} s / ${s1(bo)} s = ${x2(bf / bo)} (finished in the bot: ${x2(bf / bob)}) | ≥ ${GOALS.speedVsFd}× | ${pass(bf / bo >= GOALS.speedVsFd)} |`,
    `| restore end to end, manual / opsbot (speed-up) | ${s1(rm)} s / ${s1(ro)} s = ${x2(rm / ro)} (finished in the bot: ${x2(rm / rob)}) | ≥ ${GOALS.restoreSpeedup}× | ${pass(rm / ro >= GOALS.restoreSpeedup)} |`,
    `| downtime, writers stopped (opsbot; no writers configured: the swap itself) | ${s1(dt)} s (manual: ${s1(rm)} s, its whole restore) | ≤ ${GOALS.downtimeMs / 1000} s | ${pass(dt <= GOALS.downtimeMs)} |`,
    ...(Number.isFinite(dtw) ? [`| downtime with 2 writer containers to stop and start | ${s1(dtw)} s | ≤ ${GOALS.downtimeMs / 1000} s | ${pass(dtw <= GOALS.downtimeMs)} |`] : []),
    `| bot peak RSS (VmHWM) during backup and restore, scale ${RSS_SCALE ?? '–'} → ${main} | ${mb(rssSmall)} → ${mb(rssMain)} MB | < ${GOALS.rssMB} MB, flat (±max(${GOALS.flatMB} MB, 10%)) | ${pass(rssMain < GOALS.rssMB && (!Number.isFinite(rssSmall) || rssSmall < GOALS.rssMB) && flat)} |`,
  ];

  const medRows: string[] = [];
  for (const s of scales) {
    for (const kind of ['backup', 'restore'] as const) {
      for (const who of ['manual', 'fd', 'pg_restore', 'opsbot', 'opsbot+writers'] as const) {
        const list = pick(s.scale, kind, who);
        if (!list.length) continue;
        medRows.push(`| ${s.scale} | ${kind} | ${LABEL[who]} | ${list.length} | **${s1(med(list, (o) => o.ms))}** | ${list.map((o) => s1(o.ms)).join(', ')} | ` +
          `${s1(med(list, (o) => o.reportedMs))} | ${s1(med(list, (o) => o.botMs))} | ${s1(med(list, (o) => o.downtimeMs))} | ${bytesMB(med(list, (o) => o.bytes))} |`);
      }
    }
  }
  const opRows = ops.map((o) => `| ${o.scale} | ${o.round || 'extra'} | ${o.kind} | ${LABEL[o.who]} | ${s1(o.ms)} | ${o.fromCommandMs !== undefined ? s1(o.fromCommandMs) : ''} | ` +
    `${o.watched ? `${mb(o.watched.startRssMB)} → ${mb(o.watched.peakRssMB)} (${o.watched.samples})` : ''} | ${cores(o.othersBefore)} / ${cores(o.othersDuring)} | ${cores(o.oursDuring)} | ${o.note ?? ''} |`);
  const rssRows = scales.map((s) => `| ${s.scale} | ${bytesMB(s.dbBytes)} | ${mb(s.idleRssMB)} | ${mb(peak(s.scale, 'backup'))} | ${mb(peak(s.scale, 'restore'))} | **${mb(s.endHwmMB)}** | ${mb(s.writersHwmMB)} |`);
  const profRows = scales.flatMap((s) => phases(s.scale));
  const aside = scales.map((s) => `scale ${s.scale}: the bot's row count (count(*) of the 4 tables, one after the other) ${s1(s.countMs)} s; sha256sum of one opsbot backup (${bytesMB(s.sha256Bytes)} MB) ${s1(s.sha256Ms)} s`);
  const others = ops.map((o) => o.othersDuring).filter(Number.isFinite);

  return [
    `## backup${opt.label ? `: ${opt.label}` : ': /backup and /restore against the manual\'s pg_dump | gzip, pg_dump -Fd -j2 and gunzip | psql'}`,
    '',
    `- command: \`${command}\``,
    `- machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GB RAM, Node ${process.version}, PostgreSQL binaries ${BIN}; load average ${loadavg()[0].toFixed(2)} at the end`,
    `- date: ${new Date().toISOString()}, code \`${codeFingerprint(REPO).hash}\`, whole run ${((Date.now() - startedAt) / 60000).toFixed(1)} min`,
    `- other processes during the operations: median ${cores(median(others))}, max ${cores(Math.max(...others))} cores (each operation waited up to ${QUIET_WAIT_MS / 1000} s for < ${QUIET_CORES} before it)`,
    `- ${scales.map((s) => `scale ${s.scale}: ${bytesMB(s.dbBytes)} MB, \`pgbench -i\` ${s1(s.initMs)} s, ${s.rounds} round${s.rounds > 1 ? 's' : ''}`).join('; ')}`,
    '',
    `Goals, at scale ${main} (medians):`,
    '',
    '| goal | measured | target | result |',
    '|---|---:|---:|---|',
    ...goalRows,
    '',
    'Medians per operation (s). opsbot\'s times run from the signed command (a restore: from the approval click) to the card\'s final update; ' +
      '"reported" is the manifest\'s duration; "finished in the bot" is approval_requests.finished_at (the card\'s last update can follow up to 1 s later: cards are updated at most once a second); sizes in MB:',
    '',
    '| scale | operation | by | n | median | each round | reported | finished in the bot | downtime | size |',
    '|---:|---|---|---:|---:|---|---:|---:|---:|---:|',
    ...medRows,
    '',
    'Where opsbot\'s time goes (medians; steps from the programs the bot ran, sampled every 100 ms, so ±0.1 s):',
    '',
    '| scale | operation | total | steps (s) |',
    '|---:|---|---:|---|',
    ...profRows,
    '',
    `Measured on their own afterwards: ${aside.join('; ')}.`,
    '',
    'The bot process\'s memory (MB): RSS idle, the highest VmRSS sampled every 100 ms during its backups and restores, and VmHWM (the kernel\'s peak since the process started) at the end:',
    '',
    '| scale | database | idle RSS | peak during backup | peak during restore | VmHWM at the end | VmHWM, bot with writers |',
    '|---:|---:|---:|---:|---:|---:|---:|',
    ...rssRows,
    '',
    'Every operation (s); RSS is the bot\'s, start → peak (samples); CPU in cores:',
    '',
    '| scale | round | operation | by | wall | from the command | bot RSS | others before / during | ours during | note |',
    '|---:|---|---|---|---:|---:|---|---:|---:|---|',
    ...opRows,
  ].join('\n');
}

// ---------- main ----------

try {
  log('starting PostgreSQL and the fake Slack…');
  server = await startPostgres();
  postmaster = Number(readFileSync(join(server.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  fake = await startFakeSlack({ token: TOKEN });
  let writers: { socket: string; project: string; backend: string; worker: string } | undefined;
  if (WITH_WRITERS) {
    try {
      log('starting the test dockerd and two busybox writers…');
      docker = await startDocker();
      const project = 'mitong';
      // A writer that stops on SIGTERM within 0.2 s, as a well-behaved app does (busybox sleep ignores it).
      const cmd = ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.2; done'];
      await docker.runComposeService({ project, service: 'backend', healthcheck: true, cmd });
      await docker.runComposeService({ project, service: 'worker', cmd });
      writers = { socket: docker.socketPath, project, backend: `${project}-backend-1`, worker: `${project}-worker-1` };
    } catch (err) {
      log(`no writers (dockerd did not start): ${(err as Error).message.split('\n')[0]}`);
      await docker?.stop().catch(() => {});
      docker = undefined;
    }
  }
  if (RSS_SCALE !== undefined && RSS_SCALE !== SCALE) await runScale(RSS_SCALE, RSS_ROUNDS, writers);
  await runScale(SCALE, ROUNDS, writers);
} catch (err) {
  log(`failed: ${(err as Error).stack ?? err}`);
  process.exitCode = 1;
} finally {
  if (ops.length) console.log(report());
  for (const b of bots) await b.stop().catch(() => {});
  await fake?.stop().catch(() => {});
  await docker?.stop().catch(() => {});
  await server?.stop().catch((e) => log(`stopping PostgreSQL: ${e}`));
  rmSync(work, { recursive: true, force: true });
}
