import type { ServerResponse } from 'node:http';
import type { CustomRoute } from '@slack/bolt';
import type { Metrics } from '../core/metrics.ts';
import { errorMessage } from '../core/errors.ts';
import { withTimeout } from '../core/timeout.ts';
import type { Store } from '../store/types.ts';

function reply(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  res.end(body);
}

/** Liveness, readiness (the state store answers) and Prometheus metrics, beside /slack/events. */
export function opsRoutes(store: Store, metrics: Metrics): CustomRoute[] {
  return [
    { path: '/healthz', method: ['GET'], handler: (_req, res) => reply(res, 200, 'ok\n') },
    {
      path: '/readyz',
      method: ['GET'],
      handler: (_req, res) => {
        withTimeout(store.ping(), 2000).then(
          () => reply(res, 200, 'ready\n'),
          (err: unknown) => reply(res, 503, `state store unavailable: ${errorMessage(err)}\n`),
        );
      },
    },
    {
      path: '/metrics',
      method: ['GET'],
      handler: (_req, res) => {
        metrics.registry.metrics().then(
          (text) => reply(res, 200, text, metrics.registry.contentType),
          (err: unknown) => reply(res, 500, errorMessage(err)),
        );
      },
    },
  ];
}
