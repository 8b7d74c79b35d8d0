/**
 * The fake Slack Web API (test/harness/fake-slack.ts) in a process of its own.
 * Under load it would keep every call in memory, so calls are tallied by method and the fake's
 * call list is cleared every 250 ms; `counts` returns the tallies since start. Messages are kept
 * (the bot updates its shared reports in place), and so are the time, channel and status of every
 * chat.postMessage, for the per-channel pacing figures.
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

export interface FakePost {
  channel: string;
  /** ms since the epoch, when the fake received the call */
  at: number;
  status: number;
}

/** What one channel saw: its posts, its messages' current texts, and response_url answers by target id. */
export interface ChannelRecord {
  posts: FakePost[];
  texts: string[];
  updates: number;
  responses: Array<{ target: string; text: string }>;
}

const fake = await startFakeSlack({ token: process.env.SLACK_BOT_TOKEN || undefined });
const counts: FakeCounts = { ok: {}, failed: {} };
const MAX_KEPT = 200_000;
const posts: FakePost[] = [];
const updates = new Map<string, number>();
const responses: Array<{ target: string; text: string }> = [];
let lastMessage: Record<string, unknown> | undefined;

type Block = { text?: { text?: string }; elements?: Array<{ text?: string }>; fields?: Array<{ text?: string }> };
function textOf(message: Record<string, unknown> | undefined): string {
  const blocks = (message?.blocks ?? []) as Block[];
  if (!blocks.length) return String(message?.text ?? '');
  return blocks
    .flatMap((b) => [b.text?.text, ...(b.fields ?? []).map((f) => f.text), ...(b.elements ?? []).map((e) => e.text)])
    .filter(Boolean)
    .join('\n');
}

function sweep(): FakeCounts {
  for (const call of fake.calls) {
    const bucket = call.status === 200 && call.result.ok !== false ? counts.ok : counts.failed;
    bucket[call.method] = (bucket[call.method] ?? 0) + 1;
    if (call.method === 'chat.postMessage') {
      if (call.status === 200) lastMessage = call.args;
      if (posts.length < MAX_KEPT) posts.push({ channel: String(call.args.channel), at: call.at, status: call.status });
    }
    if (call.method === 'chat.update') updates.set(String(call.args.channel), (updates.get(String(call.args.channel)) ?? 0) + 1);
    if (call.method === 'response_url' && responses.length < MAX_KEPT) responses.push({ target: call.target ?? '', text: textOf(call.args) });
  }
  // Synchronous with the fake's request handling, so no call is lost between tally and clearing.
  // Cleared in place (fake.calls is a live array); messages stay, so updates still find them.
  fake.calls.length = 0;
  return counts;
}
const timer = setInterval(sweep, 250);

function channel(id?: string): ChannelRecord {
  sweep();
  return {
    posts: posts.filter((p) => p.channel === id),
    texts: fake.messages(id).map((m) => textOf(m)),
    updates: updates.get(id ?? '') ?? 0,
    responses: responses.filter((r) => r.target.startsWith(`${id}-`)),
  };
}

serveParent({ port: fake.port, url: fake.url }, {
  counts: () => structuredClone(sweep()),
  lastText: () => (sweep(), textOf(lastMessage)),
  channel,
}, async () => {
  clearInterval(timer);
  await fake.stop();
});
