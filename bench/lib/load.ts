/**
 * One closed-loop load run with autocannon: `connections` keep-alive connections, each sending
 * the next request as soon as the previous answer arrives. Latencies are collected from
 * autocannon's per-response event at sub-millisecond resolution (its own histogram rounds to
 * whole milliseconds, too coarse for an ack that takes one or two).
 */
import autocannon from 'autocannon';
import { sign } from '../../test/harness/slack-client.ts';

export interface LoadResult {
  /** Responses received (any status). */
  responses: number;
  ok2xx: number;
  non2xx: number;
  /** Connection errors and timeouts, as autocannon counts them. */
  errors: number;
  timeouts: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  /** Status code → count, for the report when something was not 200. */
  statuses: Record<string, number>;
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * A signed slash-command POST. The timestamp is taken now and stays inside Slack's 5-minute
 * window for the run, so one signature serves every request of a round.
 */
export function signedRequest(secret: string, body: string): Record<string, string> {
  const timestamp = Math.floor(Date.now() / 1000);
  return {
    // Exactly this: Bolt answers 400 when a charset is appended.
    'Content-Type': 'application/x-www-form-urlencoded',
    'X-Slack-Request-Timestamp': String(timestamp),
    'X-Slack-Signature': sign(secret, timestamp, body),
  };
}

export interface LoadOptions {
  url: string;
  secret: string;
  body: string;
  seconds: number;
  connections: number;
  /** Requests per second across all connections; unset means as fast as the answers come. */
  rate?: number;
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let instance!: autocannon.Instance;
  const finished = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon({
      url: opts.url,
      method: 'POST',
      headers: signedRequest(opts.secret, opts.body),
      body: opts.body,
      connections: opts.connections,
      pipelining: 1,
      duration: opts.seconds,
      ...(opts.rate ? { overallRate: opts.rate } : {}),
      // Slack gives up after 3 s; an ack slower than 10 s is an error here.
      timeout: 10,
    }, (err, result) => (err ? reject(err) : resolve(result)));
  });
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
    statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
    latencies.push(responseTime);
  });
  const result = await finished;
  const sorted = Float64Array.from(latencies).sort();
  const ok2xx = Object.entries(statuses).reduce((n, [code, c]) => (code.startsWith('2') ? n + c : n), 0);
  return {
    responses: latencies.length,
    ok2xx,
    non2xx: latencies.length - ok2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    seconds: result.duration,
    // Throughput counts acks only: a refused request is not work done.
    rps: ok2xx / result.duration,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
    statuses,
  };
}
