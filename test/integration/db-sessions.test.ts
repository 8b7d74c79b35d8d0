/**
 * /db cancel and /db terminate against a real PostgreSQL: cancel runs at once, terminate waits
 * for approval, and each acts only on the very session that was planned (pid and start time).
 */
import assert from 'node:assert/strict';
import pg from 'pg';
import { after, before, describe, test } from 'node:test';
import { messageText } from '../helpers/bot.ts';
import { DBA, startDbBot, type DbBot } from '../helpers/db.ts';
import { query } from '../helpers/sql.ts';
import { scaled, sleep, until } from '../helpers/wait.ts';

let b: DbBot;
let url: string;

before(async () => {
  b = await startDbBot();
  url = b.url;
});
after(async () => {
  await b?.close();
});

describe('/db cancel and /db terminate', () => {
  test('cancel stops the query of that session and leaves it connected', async () => {
    const sleeper = await b.session('sleeper');
    try {
      const sleeping = sleeper.client.query('select pg_sleep(60)').then(() => 'finished', (err: { code?: string }) => err.code);
      await until('the sleep to run', scaled(10_000), () => query<{ state: string }>(url, 'select state from pg_stat_activity where pid = $1', [sleeper.pid]), (r) => r[0]?.state === 'active');
      const { card, ts } = await b.request(`cancel ${sleeper.pid}`);
      assert.match(messageText(card), new RegExp(`cancel the query of pid ${sleeper.pid} \\(postgres, sleeper, 127\\.0\\.0\\.1\\), active, running .*: select pg_sleep\\(60\\)`));
      assert.match(await b.final(ts), new RegExp(`✅ Done: The query of pid ${sleeper.pid} was cancelled; the session is now idle`));
      assert.equal(await sleeping, '57014');
      assert.equal((await sleeper.client.query('select 1 as one')).rows[0].one, 1);
    } finally {
      await sleeper.client.end();
    }
  });

  test('terminate needs approval and ends that backend only', async () => {
    const victim = await b.session('victim');
    const bystander = await b.session('bystander');
    try {
      await victim.client.query('begin');
      await victim.client.query('update pgbench_tellers set tbalance = tbalance + 1 where tid = 1');
      const { reply, card, ts, id } = await b.request(`terminate ${victim.pid}`);
      assert.match(reply, /Approval requested/);
      assert.match(messageText(card), new RegExp(`end the session pid ${victim.pid} \\(postgres, victim, 127\\.0\\.0\\.1\\), idle in transaction, transaction open`));
      assert.match(messageText(card), /its open transaction is rolled back; victim loses this connection/);
      await sleep(300);
      assert.equal(await b.count('select count(*)::text as n from pg_stat_activity where pid = $1', [victim.pid]), 1, 'nothing happens before approval');
      await b.approve(ts, id);
      assert.match(await b.final(ts), new RegExp(`✅ Done: The session pid ${victim.pid} was ended\\.`));
      assert.equal(await b.count('select count(*)::text as n from pg_stat_activity where pid = $1', [victim.pid]), 0);
      await assert.rejects(victim.client.query('select 1'));
      assert.equal((await bystander.client.query('select 1 as one')).rows[0].one, 1);
    } finally {
      await Promise.allSettled([victim.client.end(), bystander.client.end()]);
    }
  });

  test('a session that ended before the approval is not signalled: its pid may be someone else\'s by then', async () => {
    const gone = await b.session('gone');
    const { ts, id } = await b.request(`terminate ${gone.pid}`);
    await gone.client.end();
    await until('the session to end', scaled(10_000), () => b.count('select count(*)::text as n from pg_stat_activity where pid = $1', [gone.pid]), (n) => n === 0);
    await b.approve(ts, id);
    assert.match(await b.final(ts), new RegExp(`precondition failed: The session pid ${gone.pid} has ended`));
  });

  test('the bot refuses its own sessions, other databases\' and unknown pids', async () => {
    assert.match(messageText((await b.t.run('/db', 'terminate 999999', { user: DBA })).reply), /No session has pid 999999/);
    const other = new pg.Client({ connectionString: url.replace(/\/[^/]+$/, '/postgres') });
    other.on('error', () => {});
    await other.connect();
    try {
      const pid = (await other.query('select pg_backend_pid() as p')).rows[0].p as number;
      assert.match(messageText((await b.t.run('/db', `cancel ${pid}`, { user: DBA })).reply), new RegExp(`pid ${pid} is connected to postgres, not opsbot_test_`));
    } finally {
      await other.end();
    }
  });
});
