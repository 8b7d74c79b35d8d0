import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CustomRoute } from '@slack/bolt';
import type { Alerts } from '../alerts/index.ts';
import { webhookPayload } from '../alerts/webhook.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { bearerMatches } from './routes.ts';

/** Alertmanager sends one group per request; this is far above any real one, and bounds what a caller can make us buffer. */
const MAX_BODY = 4 * 1024 * 1024;

function answer(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
  res.end(body);
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        resolve(undefined);
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * POST /alertmanager: Alertmanager's webhook (payload version 4). Only a request with the bearer
 * token of config alerts.token is read; every other gets 401 and nothing is posted. 200 means the
 * notification is stored: the card follows in the channel's turn. A store failure answers 500, so
 * Alertmanager retries. `alerts()` is undefined until the bot has wired the feature up (503).
 */
export function alertmanagerRoute(token: string | undefined, alerts: () => Alerts | undefined, log: Logger): CustomRoute {
  return {
    path: '/alertmanager',
    method: ['POST'],
    handler: (req, res) => {
      // No token configured: nobody can be told apart from anybody, so nobody gets in.
      if (!token || !bearerMatches(req, token)) {
        log.warn({ from: req.socket.remoteAddress }, 'alertmanager webhook refused: missing or wrong bearer token');
        // i18n-exempt: an HTTP answer to Alertmanager, read in its log by whoever configures it
        answer(res, 401, 'unauthorized: send Authorization: Bearer <alerts.token>\n', { 'WWW-Authenticate': 'Bearer realm="opsbot alertmanager"' });
        req.resume();
        return;
      }
      void (async () => {
        const body = await readBody(req);
        // i18n-exempt: an HTTP answer to Alertmanager
        if (!body) return answer(res, 413, 'payload too large\n', { Connection: 'close' });
        let json: unknown;
        try {
          json = JSON.parse(body.toString('utf8'));
        } catch (err) {
          // i18n-exempt: an HTTP answer to Alertmanager
          return answer(res, 400, `malformed JSON: ${errorMessage(err)}\n`);
        }
        const parsed = webhookPayload.safeParse(json);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          // i18n-exempt: an HTTP answer to Alertmanager
          return answer(res, 400, `not an Alertmanager webhook (version 4): ${issue.path.join('.') || '(body)'}: ${issue.message}\n`);
        }
        const service = alerts();
        // i18n-exempt: an HTTP answer to Alertmanager, which retries
        if (!service) return answer(res, 503, 'starting: try again\n', { 'Retry-After': '5' });
        const stored = await service.receive(parsed.data);
        // i18n-exempt: an HTTP answer to Alertmanager
        answer(res, 200, stored ? `ok: group ${stored.group} in ${stored.channel}\n` : 'ok: no channel for this group\n');
      })().catch((err: unknown) => {
        log.error({ err: errorMessage(err) }, 'alertmanager webhook failed');
        // i18n-exempt: an HTTP answer to Alertmanager, which retries
        if (!res.headersSent) answer(res, 500, 'could not store the notification; retry\n');
      });
    },
  };
}
