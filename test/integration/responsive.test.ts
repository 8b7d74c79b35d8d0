/**
 * Hostile sizes never freeze the bot: while a 100 KB command and a log with one 200 KB line are
 * handled, /healthz keeps answering within a second and other users' commands are acked.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { messageText, startTestBot, type TestBot } from '../helpers/bot.ts';
import { startStack, stackConfig, type Stack } from '../helpers/compose.ts';
import { sleep } from '../helpers/wait.ts';

let stack: Stack;
let t: TestBot;

// One 200 KB line made of URL-like pieces with no "@": the shape that made redaction quadratic.
const LONG_LINE_SCRIPT = "yes 'x://user:pw' | head -c 200000 | tr -d '\\n'; echo; echo 'after the long line'; exec sleep 100000";

before(async () => {
  stack = await startStack();
  await stack.engine.runComposeService({ project: stack.project, service: 'chatty', cmd: ['sh', '-c', LONG_LINE_SCRIPT] });
  const base = stackConfig(stack);
  t = await startTestBot({
    ...base,
    services: { ...base.services, chatty: { docker: 'local', container: stack.name('chatty') } },
    rate_limit: { requests_per_minute: 1000 },
  });
});
after(async () => {
  await t?.close();
  await stack?.engine.stop();
});

/** Polls /healthz every 50 ms until stopped; returns the slowest answer and how many there were. */
function watchHealthz(url: string) {
  let stop = false;
  let slowest = 0;
  let answers = 0;
  const done = (async () => {
    while (!stop) {
      const started = performance.now();
      const res = await fetch(`${url}/healthz`);
      await res.text();
      assert.equal(res.status, 200);
      slowest = Math.max(slowest, performance.now() - started);
      answers++;
      await sleep(50);
    }
  })();
  return { async finish() {
    stop = true;
    await done;
    return { slowest, answers };
  } };
}

test('/healthz answers within 1 s while a 100 KB command and a 200 KB log line are handled', { timeout: 60_000 }, async () => {
  const watch = watchHealthz(t.url);
  await sleep(200);
  const huge = `backend ${'--grep postgres://u:p@h/db '.repeat(4000)}`.slice(0, 100_000);
  const [big, logs, other] = await Promise.all([
    t.run('/health', huge, { user: 'U0BIG', channel: 'C0BIG' }),
    t.run('/logs', 'chatty --lines 5', { user: 'U0LOGS', channel: 'C0LOGS' }),
    (async () => {
      await sleep(100);
      return t.command('/health', 'postgres', { user: 'U0OTHER', channel: 'C0OTHER' });
    })(),
  ]);
  const { slowest, answers } = await watch.finish();
  assert.ok(answers >= 3, `only ${answers} /healthz answers`);
  assert.ok(slowest < 1000, `/healthz took ${Math.round(slowest)} ms`);
  assert.equal(big.ack.status, 200);
  assert.ok(big.ack.ms < 3000, `the 100 KB command was acked in ${Math.round(big.ack.ms)} ms`);
  assert.match(messageText(big.reply), /too long \(100000 characters; at most 4000\)/);
  assert.equal(other.status, 200);
  assert.ok(other.ms < 3000, `another user's command was acked in ${Math.round(other.ms)} ms`);
  const text = messageText(logs.reply);
  assert.match(text, /after the long line/);
  // The oversized command is audited, cut to the limit, and it ran nothing.
  await t.bot.idle(); // read-only commands' rows are written in batches
  const [row] = await t.bot.store.query<{ outcome: string; len: number; args: string }>(`select outcome, length(args) len, args from audit_events where actor = 'U0BIG'`);
  assert.equal(row.outcome, 'invalid');
  // 4,000 characters kept (a little more once passwords in it read "***"), and the length noted.
  assert.ok(row.len < 4500, `audit row holds ${row.len} characters`);
  assert.match(row.args, /… \(100000 characters\)$/);
  assert.doesNotMatch(row.args, /u:p@h/, 'the kept part is redacted');
});
