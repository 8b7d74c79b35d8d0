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
