/** Two real bot processes on one PostgreSQL, one schedule: each fire is posted once, not twice. */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import pg from 'pg';
import { startFakeSlack, type FakeSlack } from '../harness/fake-slack.ts';
import { sharedPostgres } from '../harness/postgres.ts';
import { messageText, TOKEN } from '../helpers/bot.ts';
import { startReplica, stopAllReplicas } from '../helpers/replicas.ts';
import { scaled, sleep } from '../helpers/wait.ts';

let fake: FakeSlack | undefined;
after(async () => {
  await stopAllReplicas();
  await fake?.stop();
});

test('a schedule every 2 s for 20 s with two bot processes on one PostgreSQL posts once per fire', { timeout: scaled(180_000) }, async () => {
  fake = await startFakeSlack({ token: TOKEN });
  const db = await (await sharedPostgres()).createDatabase();
  const config = {
    targets: { local: true },
    schedules: { tick: { cron: '*/2 * * * * *', command: '/health host', channel: 'C0TICK' } },
  };
  const opts = { databaseUrl: db, slackApiUrl: fake.url, config };
  const a = await startReplica({ name: 'A', ...opts });
  const b = await startReplica({ name: 'B', ...opts });
  await Promise.all([a.ready(), b.ready()]);
  const from = Date.now();
  await sleep(20_000);
  const to = Date.now();
  // SIGTERM: fires already running finish and post; no new ones start.
  assert.equal(await Promise.all([a.stop(), b.stop()]).then((codes) => codes.join(',')), '0,0', `${a.logs().slice(-4000)}\n${b.logs().slice(-4000)}`);

  const client = new pg.Client({ connectionString: db });
  await client.connect();
  const rows = (await client.query<{ fire_at: Date; claimed_by: string; outcome: string | null }>(
    `select fire_at, claimed_by, outcome from schedule_fires where schedule = 'tick' order by fire_at`,
  )).rows;
  await client.end();
  const fires = rows.map((r) => r.fire_at.getTime());

  // Every 2 s while both ran, none skipped.
  const inWindow = fires.filter((f) => f >= from && f <= to);
  assert.ok(inWindow.length >= 9, `expected about 10 fires in 20 s, got ${inWindow.length}`);
  for (let i = 1; i < fires.length; i++) assert.equal(fires[i] - fires[i - 1], 2000, `a gap between fires: ${fires.map((f) => new Date(f).toISOString()).join(', ')}`);
  assert.ok(rows.every((r) => r.outcome !== null), `every fire finished: ${JSON.stringify(rows)}`);

  // One post per fire: as many posts as fires, each naming the schedule.
  const posts = fake.calls.filter((c) => c.method === 'chat.postMessage' && c.args.channel === 'C0TICK');
  assert.ok(posts.every((p) => /Scheduled: tick/.test(messageText(p)) && /host local disk/.test(messageText(p))));
  assert.equal(posts.length, fires.length, `${posts.length} posts for ${fires.length} fires (claimed by ${[...new Set(rows.map((r) => r.claimed_by))].join(', ')})`);
});
