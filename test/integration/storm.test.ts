/**
 * A whole channel typing /health at once, end to end over signed HTTP against real PostgreSQL:
 * one shared report naming everyone, posts paced per channel, a 429 holding back only its own
 * channel, the bounded work queue answering "busy", the cached /health's age, and NUL bytes audited.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sharedPostgres } from '../harness/postgres.ts';
import { startTarpit, type Tarpit } from '../harness/tarpit.ts';
import type { FakeSlackCall } from '../harness/fake-slack.ts';
import { messageText, startTestBot, type TestBot } from '../helpers/bot.ts';

const users = (n: number, prefix = 'U0STORM') => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** chat.postMessage calls Slack accepted in `channel`, in order. */
const posts = (t: TestBot, channel: string): FakeSlackCall[] =>
  t.fake.calls.filter((c) => c.method === 'chat.postMessage' && c.args.channel === channel && c.status === 200);

/** The messages' current texts (after their updates) in `channel`. */
const texts = (t: TestBot, channel: string): string[] =>
  t.fake.messages(channel).map((m) => messageText({ method: 'message', args: m as never, at: 0, status: 200, result: {} }));

async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function metric(t: TestBot, name: string): Promise<number> {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

describe('storms in one channel', () => {
  let t: TestBot;

  before(async () => {
    const pgUrl = await (await sharedPostgres()).createDatabase('mitong_devops_storm');
    t = await startTestBot({
      targets: { local: false, postgres: { main: { url: pgUrl } } },
      health: { timeout: '2s' },
      storm: { share_window: '10s', health_cache: '10s' },
    });
  });
  after(async () => {
    await t?.close();
  });

  test('50 /health from 20 users share one or two reports naming everyone, paced at one post a second', async () => {
    const channel = 'C0STORM';
    const askers = users(20);
    const acks = await Promise.all(Array.from({ length: 50 }, (_, i) => t.command('/health', '', { user: askers[i % askers.length], channel })));
    for (const ack of acks) {
      assert.equal(ack.status, 200);
      assert.ok(ack.ms < 3000, `ack took ${ack.ms} ms`);
    }
    // Every requester ends up named on a report in the channel.
    await until('every requester to be named', () => {
      const all = texts(t, channel).join('\n');
      return askers.every((u) => all.includes(`<@${u}>`));
    });
    await sleep(1500); // any straggling post would show up by now
    const sent = posts(t, channel);
    assert.ok(sent.length >= 1 && sent.length <= 2, `expected one or two posts, got ${sent.length}`);
    for (let i = 1; i < sent.length; i++) assert.ok(sent[i].at - sent[i - 1].at >= 950, `posts ${sent[i].at - sent[i - 1].at} ms apart`);
    // Each report counts the requests it answers (repeats by one user included): 50 in all.
    const answered = texts(t, channel).map((m) => Number(/\((\d+) requests\)/.exec(m)?.[1] ?? (m.match(/<@U/g) ?? []).length));
    assert.equal(answered.reduce((a, b) => a + b, 0), 50, `requests answered per report: ${answered.join(', ')}`);
    assert.ok(t.fake.calls.some((c) => c.method === 'chat.update' && c.args.channel === channel), 'the report was updated in place');
    // Nobody was answered "busy", and each requester was audited on their own.
    assert.ok(!t.fake.calls.some((c) => c.method === 'response_url' && /busy/.test(messageText(c))));
    const rows = await t.bot.store.query<{ n: number; users: number }>(
      "select count(*)::int n, count(distinct actor)::int users from audit_events where channel = $1 and command = 'health'", [channel]);
    assert.deepEqual(rows[0], { n: 50, users: 20 });
    assert.ok((await metric(t, 'opsbot_health_check_runs_total')) <= 2, 'checks ran at most twice');
  });

  test('different requests in one channel are posted at most once a second; another channel does not wait', async () => {
    const channel = 'C0PACED';
    const kinds = ['postgres', 'redis', 'host'];
    await Promise.all(kinds.map((k, i) => t.command('/health', k, { user: `U0PACE${i}`, channel })));
    await t.command('/health', 'postgres', { user: 'U0OTHER', channel: 'C0ELSEWHERE' });
    await until('three posts', () => posts(t, channel).length === 3);
    const sent = posts(t, channel);
    for (let i = 1; i < sent.length; i++) assert.ok(sent[i].at - sent[i - 1].at >= 950, `posts ${sent[i].at - sent[i - 1].at} ms apart`);
    const other = await until('the other channel', () => posts(t, 'C0ELSEWHERE')[0]);
    assert.ok(other.at - sent[0].at < 900, `the other channel waited ${other.at - sent[0].at} ms`);
  });

  test('a reply that comes just after a post still waits its turn in that channel', async () => {
    const channel = 'C0NEXT';
    await t.command('/health', 'postgres', { user: 'U0NEXT1', channel });
    const first = await until('the first post', () => posts(t, channel)[0]);
    await t.command('/health', 'redis', { user: 'U0NEXT2', channel });
    const second = await until('the second post', () => posts(t, channel)[1]);
    assert.ok(second.at - first.at >= 950, `posts ${second.at - first.at} ms apart`);
  });

  test('a 429 in one channel is waited out there, and holds back no other channel', async () => {
    const before = t.fake.calls.length;
    t.fake.rateLimit('chat.postMessage', 2, 1);
    await t.command('/health', 'redis', { user: 'U0LIMITED', channel: 'C0LIMITED' });
    const limited = await t.fake.waitFor((c) => t.fake.calls.indexOf(c) >= before && c.method === 'chat.postMessage' && c.status === 429, 10_000);
    await t.command('/health', 'redis', { user: 'U0FREE', channel: 'C0FREE' });
    const free = await until('the other channel', () => posts(t, 'C0FREE')[0]);
    assert.ok(free.at - limited.at < 1500, `the free channel waited ${free.at - limited.at} ms behind another channel's 429`);
    const retried = await until('the retried post', () => posts(t, 'C0LIMITED')[0]);
    assert.ok(retried.at - limited.at >= 1900, `retried after ${retried.at - limited.at} ms, before Retry-After`);
  });

  test('a cached /health says how old its figures are, and runs no checks', async () => {
    const runs = await metric(t, 'opsbot_health_check_runs_total');
    // "errors": a kind no earlier test asked for, so the first answer is a fresh run.
    const first = await t.run('/health', 'errors', { user: 'U0AGE', channel: 'C0AGE1' });
    assert.match(messageText(first.reply), /checked just now/);
    await sleep(2200);
    const second = await t.run('/health', 'errors', { user: 'U0AGE', channel: 'C0AGE2' });
    assert.match(messageText(second.reply), /checked [23] s ago/);
    assert.equal((await metric(t, 'opsbot_health_check_runs_total')) - runs, 1, 'the second /health reused the first run');
  });

  test('an invocation carrying NUL bytes and a lone surrogate is audited', async () => {
    const text = 'host\u0000 --x \ud800tail';
    const { reply } = await t.run('/health', text, { user: 'U0NUL' });
    assert.equal(reply.args.response_type, 'ephemeral'); // a usage error, answered as always
    await t.bot.idle();
    const rows = await t.bot.store.query<{ args: string; outcome: string }>("select args, outcome from audit_events where actor = 'U0NUL'");
    assert.equal(rows.length, 1, `audited ${rows.length} times`);
    assert.equal(rows[0].outcome, 'invalid');
    assert.equal(rows[0].args, 'host\u2400 --x \ufffdtail');
  });
});

describe('a full work queue', () => {
  let t: TestBot;
  let tarpit: Tarpit;

  before(async () => {
    tarpit = await startTarpit();
    // Every /health waits 2 s for a target that never answers; one runs, one waits, the rest are refused.
    t = await startTestBot({
      targets: { local: false, postgres: { hung: { url: `${tarpit.url('postgres')}/x` } } },
      health: { timeout: '2s' },
      storm: { queue: { size: 1, concurrency: 1 } },
    });
  });
  after(async () => {
    await t?.close();
    await tarpit?.stop();
  });

  test('the overflow requesters are told "busy" at once, and audited as such', async () => {
    const askers = users(5, 'U0BUSY');
    const started = Date.now();
    const before = t.fake.calls.length;
    await Promise.all(askers.map((u, i) => t.command('/health', i % 2 ? 'postgres' : '', { user: u })));
    const busy = await until('three busy answers', () => {
      const found = t.fake.calls.filter((c) => t.fake.calls.indexOf(c) >= before && c.method === 'response_url' && /busy/.test(messageText(c)));
      return found.length >= 3 && found;
    }, 5000);
    for (const c of busy) {
      assert.equal(c.args.response_type, 'ephemeral');
      assert.ok(c.at - started < 1500, `"busy" came ${c.at - started} ms after the commands`);
    }
    await t.bot.idle();
    assert.equal(t.fake.calls.filter((c) => t.fake.calls.indexOf(c) >= before && c.method === 'response_url' && /busy/.test(messageText(c))).length, 3);
    const rows = await t.bot.store.query<{ outcome: string; n: number }>(
      "select case when outcome = 'busy' then 'busy' else 'ran' end outcome, count(*)::int n from audit_events where actor like 'U0BUSY%' group by 1 order by 1");
    assert.deepEqual(rows, [{ outcome: 'busy', n: 3 }, { outcome: 'ran', n: 2 }]);
    // The two that ran were answered in the channel.
    assert.ok(posts(t, 'C0OPS').length >= 1);
  });
});
