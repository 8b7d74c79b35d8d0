/** A bot for the /db maintenance tests: a pgbench database, a DBA who asks and a manager who approves. */
import assert from 'node:assert/strict';
import pg from 'pg';
import { messageText, startTestBot, waitForMessage, type TestBot } from './bot.ts';
import type { FakeSlackCall } from '../harness/fake-slack.ts';
import { pgbenchInit, sharedPostgres } from '../harness/postgres.ts';
import { query } from './sql.ts';
import { scaled } from './wait.ts';

export const DBA = 'U0DBA';
export const MGR = 'U0MGR';
export const OPER = 'U0OPER';

export interface DbBot {
  t: TestBot;
  url: string;
  /** Sends /db <text> as the DBA; the private reply and the card posted in the channel. */
  request(text: string, channel?: string): Promise<{ reply: string; card: FakeSlackCall; ts: string; id: string }>;
  approve(ts: string, id: string, channel?: string): Promise<unknown>;
  /** The card once it shows a final state (or `re`). */
  final(ts: string, re?: RegExp): Promise<string>;
  /** A count (or any one number) the SQL returns as `n`. */
  count(sql: string, params?: unknown[]): Promise<number>;
  /** A session of the test's own, with its backend pid. */
  session(name: string): Promise<{ client: pg.Client; pid: number }>;
  close(): Promise<void>;
}

export async function startDbBot(opts: { config?: Record<string, unknown>; targets?: Record<string, unknown> } = {}): Promise<DbBot> {
  const server = await sharedPostgres();
  const url = await server.createDatabase();
  await pgbenchInit(url, 1);
  const grant = ['dba'];
  const t = await startTestBot({
    targets: { local: false, postgres: { main: { url } }, ...opts.targets },
    channels: { zh: { id: 'C0ZH', locale: 'zh-CN' } },
    roles: { dba: [DBA], approver: [MGR], operator: [OPER] },
    permissions: {
      db: ['operator', 'dba'],
      'db.analyze': grant, 'db.vacuum': grant, 'db.reindex': grant, 'db.index.create': grant, 'db.cancel': grant, 'db.terminate': grant,
    },
    approvals: {
      lease: '2s',
      rules: Object.fromEntries(['db.vacuum', 'db.reindex', 'db.index.create', 'db.terminate'].map((k) => [k, { approvers: ['approver'], count: 1 }])),
    },
    ...opts.config,
  });
  return {
    t,
    url,
    async request(text, channel = 'C0OPS') {
      const before = t.fake.calls.length;
      const after = (c: FakeSlackCall) => t.fake.calls.indexOf(c) >= before;
      const ack = await t.command('/db', text, { user: DBA, channel });
      assert.equal(ack.status, 200);
      const [reply, card] = await Promise.all([
        t.fake.waitFor((c) => after(c) && c.method === 'response_url' && c.args.response_type === 'ephemeral', scaled(15_000)),
        t.fake.waitFor((c) => after(c) && c.method === 'chat.postMessage' && c.args.channel === channel, scaled(15_000)),
      ]);
      const ts = card.result!.ts as string;
      const id = /\((r-\w+)\)/.exec(messageText(card))![1];
      return { reply: messageText(reply), card, ts, id };
    },
    approve: (ts, id, channel = 'C0OPS') => t.click({ user: MGR, channel, ts, actionId: 'approval.approve', value: id }),
    final: (ts, re = /✅ Done|❌ Failed|Stopped by|⛔|precondition/) => waitForMessage(t.fake, ts, re, scaled(60_000)),
    count: async (sql, params = []) => Number((await query<{ n: string }>(url, sql, params))[0].n),
    async session(name) {
      const client = new pg.Client({ connectionString: url, application_name: name });
      client.on('error', () => {});
      await client.connect();
      return { client, pid: (await client.query('select pg_backend_pid() as p')).rows[0].p as number };
    },
    close: () => t.close(),
  };
}
