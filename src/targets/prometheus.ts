import { UnavailableError, UserError } from '../core/errors.ts';
import { msg } from '../i18n/index.ts';

/** One series of an instant query: its labels and its value (Prometheus sends numbers as text). */
export interface InstantSample {
  metric: Record<string, string>;
  value: number;
  /** Seconds since the epoch. */
  at: number;
}

/** One series of a range query: its samples, oldest first. */
export interface RangeSeries {
  metric: Record<string, string>;
  /** [seconds since the epoch, value] pairs. */
  values: Array<[number, number]>;
}

/** What an instant query gave: a vector, a scalar or string (one unlabelled row), or a matrix for `x[5m]`. */
export type InstantResult =
  | { kind: 'vector'; samples: InstantSample[] }
  | { kind: 'matrix'; series: RangeSeries[] };

/** What commands may ask of Prometheus. */
export interface PrometheusExecutor {
  /** The base URL, for messages. */
  readonly url: string;
  /** GET /api/v1/query: the expression's value now. */
  query(expr: string): Promise<InstantResult>;
  /** GET /api/v1/query_range: the expression from `start` to `end` (ms), every `stepSec` seconds. */
  queryRange(expr: string, start: number, end: number, stepSec: number): Promise<RangeSeries[]>;
}

/** The envelope of every /api/v1 answer. */
interface ApiAnswer {
  status: 'success' | 'error';
  data?: { resultType: string; result: unknown };
  errorType?: string;
  error?: string;
}

/** Prometheus writes NaN and ±Inf as text too. */
const num = (s: string): number => (s === '+Inf' ? Infinity : s === '-Inf' ? -Infinity : Number(s));

/** Prometheus's HTTP API v1 over fetch, each call bounded by `timeoutMs` (also sent, so the server gives up too). */
export class PrometheusTarget implements PrometheusExecutor {
  readonly url: string;

  constructor(url: string, private readonly timeoutMs: number) {
    this.url = url.replace(/\/+$/, '');
  }

  async query(expr: string): Promise<InstantResult> {
    const data = await this.call('/api/v1/query', { query: expr });
    switch (data.resultType) {
      case 'vector':
        return { kind: 'vector', samples: (data.result as Array<{ metric: Record<string, string>; value: [number, string] }>).map((r) => ({ metric: r.metric, at: r.value[0], value: num(r.value[1]) })) };
      case 'matrix':
        return { kind: 'matrix', series: toSeries(data.result) };
      case 'scalar':
      case 'string': {
        const [at, v] = data.result as [number, string];
        return { kind: 'vector', samples: [{ metric: {}, at, value: num(v) }] };
      }
      default:
        throw new Error(`unexpected Prometheus result type ${data.resultType}`);
    }
  }

  async queryRange(expr: string, start: number, end: number, stepSec: number): Promise<RangeSeries[]> {
    const data = await this.call('/api/v1/query_range', { query: expr, start: String(start / 1000), end: String(end / 1000), step: String(stepSec) });
    return toSeries(data.result);
  }

  private async call(path: string, params: Record<string, string>): Promise<{ resultType: string; result: unknown }> {
    // The server's own limit, a little under ours, so that a heavy query is stopped there rather than left running.
    const body = new URLSearchParams({ ...params, timeout: `${Math.max(1, Math.floor(this.timeoutMs * 0.9))}ms` });
    let res: Response;
    try {
      // POST with a form body: a long PromQL text never meets a URL length limit.
      res = await fetch(`${this.url}${path}`, {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') throw new UnavailableError(msg('metrics:errors.timeout', { url: this.url, ms: this.timeoutMs }));
      // fetch hides the socket's reason (ECONNREFUSED, ENOTFOUND) in its cause.
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new UnavailableError(msg('metrics:errors.unreachable', { url: this.url, error: cause?.code ?? cause?.message ?? (err as Error).message }));
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') throw new UnavailableError(msg('metrics:errors.timeout', { url: this.url, ms: this.timeoutMs }));
      throw err;
    }
    let answer: ApiAnswer | undefined;
    try {
      answer = JSON.parse(text) as ApiAnswer;
    } catch {
      answer = undefined;
    }
    if (answer?.status === 'success' && answer.data) return answer.data;
    if (answer?.status === 'error') {
      // 400 bad_data: the expression does not parse; 422 execution: it parsed but could not be evaluated;
      // 503 timeout/canceled: the server gave up. Prometheus's own words say what is wrong.
      if (answer.errorType === 'timeout' || answer.errorType === 'canceled') throw new UnavailableError(msg('metrics:errors.timeout', { url: this.url, ms: this.timeoutMs }));
      if (res.status === 400 || res.status === 422) throw new UserError(msg('metrics:errors.bad_query', { type: answer.errorType ?? 'bad_data', error: answer.error ?? '' }));
      throw new UnavailableError(msg('metrics:errors.api', { url: this.url, status: res.status, error: `${answer.errorType ?? ''}: ${answer.error ?? ''}` }));
    }
    // Not Prometheus's API (a proxy's error page, a wrong path in the URL).
    throw new UnavailableError(msg('metrics:errors.api', { url: this.url, status: res.status, error: text.trim().slice(0, 200) }));
  }
}

function toSeries(result: unknown): RangeSeries[] {
  return (result as Array<{ metric: Record<string, string>; values: Array<[number, string]> }>).map((r) => ({
    metric: r.metric,
    values: r.values.map(([at, v]) => [at, num(v)] as [number, number]),
  }));
}
