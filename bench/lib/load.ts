/**
 * Load generators for signed slash-command POSTs.
 *
 * - runLoad: closed loop with autocannon. `connections` keep-alive connections, each sending its
 *   next request as soon as the previous answer arrives: the most acks an app can give.
 *   Latencies come from autocannon's per-response event at sub-millisecond resolution (its own
 *   histogram rounds to whole milliseconds, too coarse for an ack that takes one or two).
 * - runPaced: open loop at a fixed rate. Requests are sent evenly spaced (autocannon's own rate
 *   option sends each second's quota in one burst), and latency counts from when a request was
 *   due, so time spent waiting for a free connection is included.
 */
import http from 'node:http';
import autocannon from 'autocannon';
import { sign } from '../../test/harness/slack-client.ts';

export interface LoadResult {
  /** Responses received (any status). */
  responses: number;
  ok2xx: number;
  non2xx: number;
  /** Connection errors (timeouts not included) and timeouts. */
  errors: number;
  timeouts: number;
  seconds: number;
  /** 2xx answers a second: a refused request is not work done. */
  rps: number;
  p50: number;
  p99: number;
  max: number;
  /** Status code → count, for the report when something was not 200. */
  statuses: Record<string, number>;
}

export interface LoadOptions {
  url: string;
  secret: string;
  body: string;
  /** Bodies to send in turn instead of `body` (closed loop only), each signed once up front. */
  bodies?: string[];
  seconds: number;
  connections: number;
}

/** Slack gives up after 3 s; an answer slower than 10 s counts as a timeout here. */
const TIMEOUT_S = 10;

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
 * A signed slash-command POST's headers. The timestamp is taken now and stays inside Slack's
 * 5-minute window for a round, so one signature serves every request of it.
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

function result(latencies: number[], statuses: Record<string, number>, errors: number, timeouts: number, seconds: number): LoadResult {
  const sorted = Float64Array.from(latencies).sort();
  const ok2xx = Object.entries(statuses).reduce((n, [code, c]) => (code.startsWith('2') ? n + c : n), 0);
  return {
    responses: latencies.length,
    ok2xx,
    non2xx: latencies.length - ok2xx,
    errors,
    timeouts,
    seconds,
    rps: ok2xx / seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
    statuses,
  };
}

/** A setupRequest that sends the bodies in turn, each with its own signature (made once: Slack's are valid for 5 minutes). */
function rotate(secret: string, bodies: string[]) {
  const signed = bodies.map((body) => ({ body, headers: signedRequest(secret, body) }));
  let next = 0;
  return (req: autocannon.Request): autocannon.Request => {
    const s = signed[next++ % signed.length];
    return { ...req, body: s.body, headers: { ...req.headers, ...s.headers } };
  };
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
      ...(opts.bodies ? { requests: [{ setupRequest: rotate(opts.secret, opts.bodies) }] } : {}),
      connections: opts.connections,
      pipelining: 1,
      duration: opts.seconds,
      timeout: TIMEOUT_S,
    }, (err, res) => (err ? reject(err) : resolve(res)));
  });
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
    statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
    latencies.push(responseTime);
  });
  const res = await finished;
  return result(latencies, statuses, res.errors - res.timeouts, res.timeouts, res.duration);
}

export async function runPaced(opts: LoadOptions & { rate: number }): Promise<LoadResult> {
  const url = new URL(opts.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.connections });
  const headers = { ...signedRequest(opts.secret, opts.body), 'Content-Length': String(Buffer.byteLength(opts.body)) };
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let timeouts = 0;

  const send = (due: number) =>
    new Promise<void>((resolve) => {
      let timedOut = false;
      const req = http.request(
        { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers, agent, timeout: TIMEOUT_S * 1000 },
        (res) => {
          res.resume();
          res.on('end', () => {
            latencies.push(performance.now() - due);
            statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
            resolve();
          });
        },
      );
      req.on('timeout', () => {
        timedOut = true;
        timeouts++;
        req.destroy();
      });
      req.on('error', () => {
        if (!timedOut) errors++;
        resolve();
      });
      req.end(opts.body);
    });

  const total = Math.max(1, Math.round(opts.rate * opts.seconds));
  const interval = 1000 / opts.rate;
  const start = performance.now() + 5;
  const inFlight: Array<Promise<void>> = [];
  let sent = 0;
  await new Promise<void>((done) => {
    const tick = () => {
      // Send everything that is due; a late timer sends its backlog at once, still timed from when each was due.
      while (sent < total && start + sent * interval <= performance.now()) inFlight.push(send(start + sent++ * interval));
      if (sent < total) setTimeout(tick, Math.max(0, start + sent * interval - performance.now()));
      else done();
    };
    setTimeout(tick, 5);
  });
  await Promise.all(inFlight);
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  return result(latencies, statuses, errors, timeouts, seconds);
}
