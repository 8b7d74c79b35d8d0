import { withTimeout } from './timeout.ts';

/** One source of a report (a host, a database…): what it gave, or how it failed, and how long it took. */
export type Outcome<F> = { name: string; where: string; ms: number } & ({ ok: true; facts: F } | { ok: false; error: unknown; timeoutMs: number });

/** Reads one source within its own timeout, its failure kept as data: a report line, never an exception. */
export async function source<F>(name: string, where: string, timeoutMs: number, read: () => Promise<F>): Promise<Outcome<F>> {
  const t0 = performance.now();
  try {
    const facts = await withTimeout(read(), timeoutMs);
    return { name, where, ms: Math.round(performance.now() - t0), ok: true, facts };
  } catch (error) {
    return { name, where, ms: Math.round(performance.now() - t0), ok: false, error, timeoutMs };
  }
}
