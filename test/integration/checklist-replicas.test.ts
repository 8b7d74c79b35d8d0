/**
 * Two real bot processes on one PostgreSQL, the daily checklist on a schedule: one checklist per
 * fire, not one per replica, and one end-of-day reminder per checklist.
 */
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

test('a checklist schedule every 3 s on two replicas posts once per fire, and each checklist is reminded once', { timeout: scaled(180_000) }, async () => {
  fake = await startFakeSlack({ token: TOKEN });
  const db = await (await sharedPostgres()).createDatabase();
  // Every checklist of the run is posted before remind_at, and reminded once it has passed.
  // remind_at is set to the second, so the instant is rounded down to one: a checklist posted in
  // the same second after it waits for no reminder.
  const remindAt = Math.floor((Date.now() + scaled(25_000)) / 1000) * 1000;
  const config = {
    targets: { local: true },
    schedules: { monthly: { cron: '*/3 * * * * *', command: '/checklist monthly', channel: 'C0CHK' } },
    checklists: { remind_at: new Date(remindAt).toISOString().slice(11, 19), check_every: '1s' },
  };
  const opts = { databaseUrl: db, slackApiUrl: fake.url, config };
  const a = await startReplica({ name: 'A', ...opts });
  const b = await startReplica({ name: 'B', ...opts });
  await Promise.all([a.ready(), b.ready()]);
  const logs = () => `${a.logs().slice(-3000)}\n${b.logs().slice(-3000)}`;
  const client = new pg.Client({ connectionString: db });
  await client.connect();
  const checklists = () => fake!.calls.filter((c) => c.method === 'chat.postMessage' && c.args.channel === 'C0CHK' && /Monthly checklist/.test(messageText(c)) && !/still open/.test(messageText(c)));
  const reminders = () => fake!.calls.filter((c) => c.method === 'chat.postMessage' && c.args.channel === 'C0CHK' && /still open/.test(messageText(c)));
  // Wait past remind_at for the reminders.
  await sleep(Math.max(0, remindAt - Date.now()) + scaled(5000));
  // Stopped first: a fire claimed but still running would otherwise count as a fire without its checklist.
  assert.equal(await Promise.all([a.stop(), b.stop()]).then((codes) => codes.join(',')), '0,0', logs());
  const runs = (await client.query<{ id: string; created_at: Date; reminded_at: Date | null }>('select id, created_at, reminded_at from checklist_runs order by id')).rows;
  const fires = (await client.query<{ fire_at: Date }>(`select fire_at from schedule_fires where schedule = 'monthly'`)).rows;
  await client.end();
  const before = runs.filter((r) => r.created_at.getTime() < remindAt);
  assert.ok(before.length >= 3, `a few fires before remind_at: ${before.length}\n${logs()}`);
  // One checklist per fire, whichever replica claimed it.
  assert.equal(runs.length, fires.length, `${runs.length} checklists for ${fires.length} fires`);
  assert.equal(checklists().length, runs.length, 'each checklist posted once');
  // Each checklist posted before remind_at is reminded exactly once; none twice.
  assert.ok(before.every((r) => r.reminded_at !== null), JSON.stringify(before));
  const remindedBefore = reminders().length;
  assert.equal(remindedBefore, before.length, `${remindedBefore} reminders for ${before.length} checklists\n${logs()}`);
});
