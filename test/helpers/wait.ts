import assert from 'node:assert/strict';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `probe` until `ok` holds, failing with the last value seen once `ms` has passed. */
export async function until<T>(what: string, ms: number, probe: () => Promise<T>, ok: (v: T) => boolean, everyMs = 100): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > deadline) assert.fail(`${what}: still ${JSON.stringify(v)} after ${ms} ms`);
    await sleep(everyMs);
  }
}

/**
 * How much slower than a quiet machine this one is allowed to be: OPSBOT_TEST_TIME_FACTOR
 * (default 1). Every fixed time limit in the tests goes through scaled(), so a slow or busy
 * machine raises one number instead of editing tests.
 */
export const TIME_FACTOR = (() => {
  const raw = process.env.OPSBOT_TEST_TIME_FACTOR;
  if (raw === undefined || raw === '') return 1;
  const f = Number(raw);
  if (!Number.isFinite(f) || f <= 0) throw new Error(`OPSBOT_TEST_TIME_FACTOR must be a positive number, not ${JSON.stringify(raw)}`);
  return f;
})();

/** A time limit in ms, scaled by OPSBOT_TEST_TIME_FACTOR. */
export const scaled = (ms: number): number => Math.round(ms * TIME_FACTOR);

/** The same limit as a config duration ("2s", "1500ms"), for timeouts the bot reads from YAML. */
export const scaledDuration = (ms: number): string => {
  const v = scaled(ms);
  return v % 1000 === 0 ? `${v / 1000}s` : `${v}ms`;
};
