// Starts a real Alertmanager (Debian's prometheus-alertmanager) on a free port, with a temp config
// whose only receiver is the bot's POST /alertmanager (bearer token, send_resolved) and short
// group timings, and a temp storage path. Runs in the foreground as our child; killed on exit.
import { writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startDaemon } from './daemon.ts';
import { freePort } from './ports.ts';

export const ALERTMANAGER_BIN = '/usr/bin/prometheus-alertmanager';

export interface AlertmanagerOptions {
  /** The bot's receiver, e.g. http://127.0.0.1:PORT/alertmanager. */
  webhookUrl: string;
  token: string;
  /** Listen here (known before the bot starts, so its config can name it); default: a free port. */
  port?: number;
  groupBy?: string[];
  groupWait?: string;
  groupInterval?: string;
}

export interface TestAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  generatorURL?: string;
}

export interface Alertmanager {
  url: string;
  port: number;
  /** POST /api/v2/alerts, as Prometheus sends them. */
  postAlerts(alerts: TestAlert[]): Promise<void>;
  /** GET /api/v2/silences. */
  silences(): Promise<Array<{ id: string; status: { state: string }; matchers: Array<{ name: string; value: string }>; createdBy: string; endsAt: string }>>;
  logs(): string;
  stop(): Promise<void>;
}

export async function startAlertmanager(opts: AlertmanagerOptions): Promise<Alertmanager> {
  const dir = await mkdtemp(join(tmpdir(), 'opsbot-am-'));
  const port = opts.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const config = {
    route: {
      receiver: 'opsbot',
      group_by: opts.groupBy ?? ['alertname', 'service'],
      group_wait: opts.groupWait ?? '1s',
      group_interval: opts.groupInterval ?? '1s',
      repeat_interval: '1h',
    },
    receivers: [{
      name: 'opsbot',
      webhook_configs: [{ url: opts.webhookUrl, send_resolved: true, http_config: { authorization: { type: 'Bearer', credentials: opts.token } } }],
    }],
  };
  writeFileSync(join(dir, 'alertmanager.yml'), stringify(config));
  const args = [
    `--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`, `--web.external-url=${url}`,
    // No gossip: a lone test instance, and no second port to collide on.
    '--cluster.listen-address=', '--log.level=debug',
  ];
  const daemon = await startDaemon({ name: 'alertmanager', bin: ALERTMANAGER_BIN, args, dir, readyUrl: `${url}/-/ready`, readyMs: 20000 });

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
  return {
    url,
    port,
    async postAlerts(alerts) {
      await api('POST', '/api/v2/alerts', alerts.map((a) => ({ annotations: {}, generatorURL: 'http://prometheus.internal:9090/graph?g0.expr=up%3D%3D0&g0.tab=1', ...a })));
    },
    silences: () => api('GET', '/api/v2/silences'),
    logs: daemon.logs,
    stop: daemon.stop,
  };
}
