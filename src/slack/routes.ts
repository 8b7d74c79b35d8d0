import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { CustomRoute } from '@slack/bolt';
import type { Metrics } from '../core/metrics.ts';
import { errorMessage } from '../core/errors.ts';
import { withTimeout } from '../core/timeout.ts';
import type { Store } from '../store/types.ts';
import type { Lifecycle } from '../core/lifecycle.ts';

/** config.metrics: a bearer token that scrapers must send, and/or a listener of its own. */
export interface MetricsOptions {
  token?: string;
  listen?: { host?: string; port: number };
}

function reply(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8', headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', ...headers });
  res.end(body);
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Compares digests, so the time taken says nothing about how much of the token was right. */
export function bearerMatches(req: IncomingMessage, token: string): boolean {
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? '');
  return !!m && timingSafeEqual(digest(m[1]), digest(token));
}

function serveMetrics(req: IncomingMessage, res: ServerResponse, metrics: Metrics, opts: MetricsOptions): void {
  if (opts.token && !bearerMatches(req, opts.token)) {
    // i18n-exempt: an HTTP answer to a Prometheus scraper, not a Slack text
    reply(res, 401, 'unauthorized: send Authorization: Bearer <metrics.token>\n', undefined, { 'WWW-Authenticate': 'Bearer realm="opsbot metrics"' });
    return;
  }
  metrics.registry.metrics().then(
    (text) => reply(res, 200, text, metrics.registry.contentType),
    (err: unknown) => reply(res, 500, errorMessage(err)),
  );
}

/**
 * Liveness and readiness, beside /slack/events; and Prometheus metrics there too, unless they
 * have a listener of their own (metrics.listen). /healthz says the process is alive: it stays 200
 * while draining, so a supervisor never kills a replica that is finishing its work. /readyz says
 * it should be sent work: the state store answers and it is not shutting down.
 */
export function opsRoutes(store: Store, metrics: Metrics, opts: MetricsOptions = {}, lifecycle?: Lifecycle): CustomRoute[] {
  const routes: CustomRoute[] = [
    { path: '/healthz', method: ['GET'], handler: (_req, res) => reply(res, 200, 'ok\n') },
    {
      path: '/readyz',
      method: ['GET'],
      handler: (_req, res) => {
        // i18n-exempt: a load balancer's probe body, not a Slack text
        if (lifecycle?.draining) return reply(res, 503, 'draining: this replica is shutting down\n', undefined, { Connection: 'close' });
        withTimeout(store.ping(), 2000).then(
          () => reply(res, 200, 'ready\n'),
          // i18n-exempt: a load balancer's probe body, not a Slack text
          (err: unknown) => reply(res, 503, `state store unavailable: ${errorMessage(err)}\n`),
        );
      },
    },
  ];
  if (!opts.listen) routes.push({ path: '/metrics', method: ['GET'], handler: (req, res) => serveMetrics(req, res, metrics, opts) });
  return routes;
}

/**
 * GET /metrics on metrics.listen, apart from the Slack listener, so that it can be bound to a
 * private interface that Prometheus reaches and Slack does not. Resolves once listening.
 */
export async function startMetricsServer(metrics: Metrics, opts: MetricsOptions & { listen: { host?: string; port: number } }): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    // i18n-exempt: HTTP answers on the metrics listener, read by whoever configures the scraper
    if (path !== '/metrics') reply(res, 404, 'not found: this listener serves GET /metrics\n');
    // i18n-exempt: HTTP answers on the metrics listener, read by whoever configures the scraper
    else if (req.method !== 'GET' && req.method !== 'HEAD') reply(res, 405, 'method not allowed\n', undefined, { Allow: 'GET, HEAD' });
    else serveMetrics(req, res, metrics, opts);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`metrics.listen ${opts.listen.host ?? '*'}:${opts.listen.port}: ${errorMessage(err)}`)));
    server.listen(opts.listen.port, opts.listen.host, () => resolve());
  });
  return server;
}

/** Stops accepting, and ends idle keep-alive connections so close() does not wait on a scraper. */
export function stopServer(server: Server | undefined): Promise<void> {
  if (!server) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
