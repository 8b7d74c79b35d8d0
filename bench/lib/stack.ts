/**
 * The servers a benchmark runs against: a real PostgreSQL (the bot's state and a target database)
 * and Redis, the fake Slack, opsbot (`serve-bot.ts`) and the bare Bolt app (`serve-bare.ts`), each
 * app in its own process. `stop()` (also on Ctrl-C) stops everything it started.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startPostgres, type PgServer } from '../../test/harness/postgres.ts';
import { startRedis, type RedisServer } from '../../test/harness/redis.ts';
import { startChild, type ChildHandle } from './child.ts';

export const SECRET = 'bench-signing-secret';
export const TOKEN = 'xoxb-bench-token';
const here = new URL('..', import.meta.url).pathname;

export interface Stack {
  pg: PgServer;
  redis: RedisServer;
  fake: ChildHandle;
  bot: ChildHandle;
  bare: ChildHandle;
  fakeBase: string;
  /** Process trees to count as the benchmark's own besides this process (the detached PostgreSQL). */
  roots: () => number[];
  stop(): Promise<void>;
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Objects merge key by key; anything else in `extra` replaces what is in `base`. */
export function merge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [k, v] of Object.entries(extra)) out[k] = isObject(out[k]) && isObject(v) ? merge(out[k], v) : v;
  return out;
}

export async function startStack(opts: { botConfig: (targets: { pg: string; redis: string }) => Record<string, unknown>; profile?: string; log: (m: string) => void }): Promise<Stack> {
  const cfgDir = mkdtempSync(join(tmpdir(), 'opsbot-bench-'));
  const children: ChildHandle[] = [];
  let pg: PgServer | undefined;
  let redis: RedisServer | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      for (const c of [...children].reverse()) await c.stop().catch((e) => opts.log(`stopping child: ${e}`));
      await redis?.stop().catch((e) => opts.log(`stopping redis: ${e}`));
      await pg?.stop().catch((e) => opts.log(`stopping postgres: ${e}`));
      if (pg?.dir) rmSync(pg.dir, { recursive: true, force: true });
      rmSync(cfgDir, { recursive: true, force: true });
    })();
    return stopping;
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      opts.log(`${signal}: stopping the servers`);
      void stop().finally(() => process.exit(130));
    });
  }
  try {
    opts.log('starting PostgreSQL, Redis and the fake Slack…');
    pg = await startPostgres();
    const [stateDb, targetDb] = await Promise.all([pg.createDatabase('opsbot_bench_state'), pg.createDatabase('mitong_devops')]);
    redis = await startRedis();
    const postmaster = Number(readFileSync(join(pg.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    const fake = await startChild(join(here, 'serve-fake-slack.ts'), { env: { SLACK_BOT_TOKEN: TOKEN } });
    children.push(fake);
    const configFile = join(cfgDir, 'opsbot.yaml');
    writeFileSync(configFile, stringify(opts.botConfig({ pg: targetDb, redis: redis.url })));
    const slackEnv = { SLACK_SIGNING_SECRET: SECRET, SLACK_BOT_TOKEN: TOKEN, SLACK_API_URL: fake.ready.url, LOG_LEVEL: 'silent' };
    opts.log('starting opsbot and the bare Bolt app…');
    const bot = await startChild(join(here, 'serve-bot.ts'), {
      env: { ...slackEnv, OPSBOT_CONFIG: configFile, DATABASE_URL: stateDb, PORT: '0', HOST: '127.0.0.1' },
      nodeArgs: opts.profile ? ['--cpu-prof', `--cpu-prof-dir=${opts.profile}`] : [],
    });
    children.push(bot);
    const bare = await startChild(join(here, 'serve-bare.ts'), { env: slackEnv });
    children.push(bare);
    return { pg, redis, fake, bot, bare, fakeBase: `http://127.0.0.1:${fake.ready.port}`, roots: () => [postmaster], stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** One series of the bot's Prometheus text, summed over its labels (NaN when absent). */
export async function botMetric(bot: ChildHandle, name: string, labels: RegExp = /.*/): Promise<number> {
  const text = await (await fetch(`${bot.ready.url}/metrics`)).text();
  let sum = NaN;
  for (const m of text.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, 'gm'))) {
    if (!labels.test(m[1] ?? '')) continue;
    sum = (Number.isNaN(sum) ? 0 : sum) + Number(m[2]);
  }
  return sum;
}
