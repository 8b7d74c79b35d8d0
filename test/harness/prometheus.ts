// Starts a real Prometheus (Debian's `prometheus` package) on a free port, with a temp TSDB and a
// generated config: the given scrape targets every second, and the given rule groups evaluated
// every second. Runs in the foreground as our child; killed on exit. A system Prometheus the
// package may have started on 9090 is never used or touched.
//
// Also here: a tiny exporter, an HTTP server that serves whatever Prometheus text a test gives it,
// for node_exporter-style figures and an application's request counters that the test drives.
import { writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startDaemon } from './daemon.ts';
import { freePort } from './ports.ts';

export const PROMETHEUS_BIN = '/usr/bin/prometheus';

export interface ScrapeTarget {
  job: string;
  /** host:port */
  target: string;
  path?: string;
  /** A bearer token to send (the bot's `metrics.token`). */
  token?: string;
}

export interface PrometheusOptions {
  targets: ScrapeTarget[];
  /** Rule groups, as a rule file's `groups:` holds them. */
  ruleGroups?: unknown[];
  /** Listen here; default: a free port. */
  port?: number;
  /** Alertmanagers (host:port) that firing rules are sent to, as in production. */
  alertmanagers?: string[];
}

export interface PromAlert {
  labels: Record<string, string>;
  state: 'pending' | 'firing' | 'inactive';
  value: string;
}

export interface Prometheus {
  url: string;
  port: number;
  /** GET /api/v1/query: the result's series, for checks independent of the bot. */
  query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  /** GET /api/v1/alerts. */
  alerts(): Promise<PromAlert[]>;
  /** GET /api/v1/targets: each active target's job and health. */
  targets(): Promise<Array<{ job: string; health: string; lastError: string }>>;
  logs(): string;
  stop(): Promise<void>;
}

export async function startPrometheus(opts: PrometheusOptions): Promise<Prometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'opsbot-prom-'));
  const port = opts.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const config = {
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    rule_files: opts.ruleGroups ? [join(dir, 'rules.yml')] : [],
    ...(opts.alertmanagers ? { alerting: { alertmanagers: [{ static_configs: [{ targets: opts.alertmanagers }] }] } } : {}),
    scrape_configs: opts.targets.map((t) => ({
      job_name: t.job,
      metrics_path: t.path ?? '/metrics',
      static_configs: [{ targets: [t.target] }],
      ...(t.token ? { authorization: { type: 'Bearer', credentials: t.token } } : {}),
    })),
  };
  writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
  if (opts.ruleGroups) writeFileSync(join(dir, 'rules.yml'), stringify({ groups: opts.ruleGroups }));
  const args = [
    `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`, '--log.level=info',
  ];
  const daemon = await startDaemon({ name: 'prometheus', bin: PROMETHEUS_BIN, args, dir, readyUrl: `${url}/-/ready`, readyMs: 30000, cwd: dir });

  const api = async (path: string) => {
    const res = await fetch(`${url}${path}`);
    const body = (await res.json()) as { status: string; data: any; error?: string };
    if (body.status !== 'success') throw new Error(`GET ${path}: ${res.status} ${body.error}`);
    return body.data;
  };
  return {
    url,
    port,
    query: async (expr) => (await api(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result,
    alerts: async () => (await api('/api/v1/alerts')).alerts,
    targets: async () => (await api('/api/v1/targets?state=active')).activeTargets.map((t: any) => ({ job: t.labels.job, health: t.health, lastError: t.lastError })),
    logs: daemon.logs,
    stop: daemon.stop,
  };
}

export interface Exporter {
  /** host:port, as a scrape target. */
  target: string;
  scrapes: number;
  stop(): Promise<void>;
}

/** Serves `render()`'s Prometheus text on every GET, at any path (the path names what it is). */
export async function startExporter(render: (path: string) => string): Promise<Exporter> {
  const state = { scrapes: 0 };
  const server = http.createServer((req, res) => {
    state.scrapes++;
    const body = render(new URL(req.url ?? '/', 'http://x').pathname);
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    target: `127.0.0.1:${port}`,
    get scrapes() {
      return state.scrapes;
    },
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
