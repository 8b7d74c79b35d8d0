/**
 * Redaction runs on every posted text and every log line, on the event loop: a pattern that is
 * quadratic in its input froze the whole bot (100 KB: 6 s). Each adversarial input goes through
 * redactText, redactDeep and the logger at 64 KB, 256 KB and 1 MB; each size must finish within
 * the bound. Growing sizes make a quadratic pattern fail at 64 KB in seconds instead of hanging
 * for an hour at 1 MB.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../src/core/log.ts';
import { redactDeep, redactText } from '../../src/core/redact.ts';
import { adversarialInputs, ALL_SECRETS, SECRET_CASES } from '../fixtures/secrets-corpus.ts';
import { scaled } from '../helpers/wait.ts';

const MB = 1 << 20;
const SIZES = [64 * 1024, 256 * 1024, MB];
/** For 1 MB; smaller sizes get the same bound (a linear pass over 64 KB takes a few ms). */
const BOUND_MS = scaled(500);

/** The fastest of up to five runs (a busy machine adds noise, never speed), failing early. */
function fastest(fn: () => void): number {
  let best = Infinity;
  for (let i = 0; i < 5 && best > BOUND_MS / 2; i++) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
    if (best > BOUND_MS * 4) break; // hopeless: don't repeat a slow run
  }
  return best;
}

function captureLogger() {
  const lines: string[] = [];
  const log = createLogger('info', { write: (s: string) => void lines.push(s) });
  return { log, lines };
}

function assertLinear(path: string, run: (text: string) => void): void {
  for (const { name, text: full } of adversarialInputs(MB)) {
    for (const size of SIZES) {
      const text = full.slice(0, size);
      const ms = fastest(() => run(text));
      assert.ok(ms <= BOUND_MS, `${path}: "${name}" at ${size / 1024} KB took ${ms.toFixed(0)} ms (bound ${BOUND_MS} ms)`);
    }
  }
}

describe('redaction is linear in its input', () => {
  test('redactText: 1 MB of each adversarial input within the bound', () => {
    assertLinear('redactText', (text) => void redactText(text));
  });

  test('redactDeep: a Slack payload carrying 1 MB within the bound', () => {
    assertLinear('redactDeep', (text) => {
      const half = text.length >> 1;
      void redactDeep({ text: text.slice(0, half), blocks: [{ type: 'section', text: { type: 'mrkdwn', text: text.slice(half) } }] });
    });
  });

  test('logger: a 1 MB message and a 1 MB structured field within the bound', () => {
    const { log, lines } = captureLogger();
    assertLinear('log message', (text) => log.info(text));
    assertLinear('log err field', (text) => log.error({ err: new Error(text) }, 'failed'));
    assertLinear('log nested field', (text) => log.warn({ detail: { output: [text] } }, 'output'));
    assert.ok(lines.length > 0, 'the logger wrote');
  });

  test('secrets spread through 1 MB of log lines are all removed, within the bound', () => {
    const corpus = SECRET_CASES.map((c) => c.text).join('\n');
    const text = `${corpus}\n${'2024-01-01 12:00:00 INFO GET /api/health 200 3ms\n'.repeat(Math.ceil(MB / 48))}`.slice(0, MB) + corpus;
    let out = '';
    const ms = fastest(() => void (out = redactText(text)));
    for (const s of ALL_SECRETS) assert.ok(!out.includes(s), `${JSON.stringify(s)} leaked`);
    assert.ok(ms <= BOUND_MS, `took ${ms.toFixed(0)} ms`);
  });
});
