/**
 * The fake Slack Web API (test/harness/fake-slack.ts) in a process of its own.
 * Under load it would keep every call in memory, so calls are tallied by method and the
 * fake's records are cleared every 250 ms; `counts` returns the tallies since start.
 * Env: SLACK_BOT_TOKEN (the token calls must carry).
 */
import { startFakeSlack } from '../test/harness/fake-slack.ts';
import { serveParent } from './lib/child.ts';

export interface FakeCounts {
  /** method → calls answered { ok: true } */
  ok: Record<string, number>;
  /** method → calls answered with an error or a non-200 status */
  failed: Record<string, number>;
}

const fake = await startFakeSlack({ token: process.env.SLACK_BOT_TOKEN || undefined });
const counts: FakeCounts = { ok: {}, failed: {} };
let lastMessage: Record<string, unknown> | undefined;

function sweep(): FakeCounts {
  for (const call of fake.calls) {
    const bucket = call.status === 200 && call.result.ok !== false ? counts.ok : counts.failed;
    bucket[call.method] = (bucket[call.method] ?? 0) + 1;
    if (call.method === 'chat.postMessage') lastMessage = call.args;
  }
  // Synchronous with the fake's request handling, so no call is lost between tally and reset.
  fake.reset();
  return counts;
}
const timer = setInterval(sweep, 250);

/** The text of the last message posted: its blocks' texts, or its text. */
function lastText(): string {
  sweep();
  const blocks = (lastMessage?.blocks ?? []) as Array<{ text?: { text?: string }; elements?: Array<{ text?: string }>; fields?: Array<{ text?: string }> }>;
  if (!blocks.length) return String(lastMessage?.text ?? '');
  return blocks
    .flatMap((b) => [b.text?.text, ...(b.fields ?? []).map((f) => f.text), ...(b.elements ?? []).map((e) => e.text)])
    .filter(Boolean)
    .join('\n');
}

serveParent({ port: fake.port, url: fake.url }, { counts: () => structuredClone(sweep()), lastText }, async () => {
  clearInterval(timer);
  await fake.stop();
});
