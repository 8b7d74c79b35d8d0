import { App, HTTPReceiver, SocketModeReceiver, type Receiver } from '@slack/bolt';
import { WebClient, type WebClientOptions } from '@slack/web-api';
import { commands as allCommands } from '../commands/index.ts';
import { loadConfig, type Env } from './config/load.ts';
import { ApprovalStore } from './approvals/store.ts';
import { ApprovalEngine } from './approvals/engine.ts';
import { AuditLog } from './core/audit.ts';
import { Dispatcher } from './core/dispatch.ts';
import { allCommands as flatten, permissionKey, ruleKey } from './core/define-command.ts';
import { createLogger, type Logger } from './core/log.ts';
import { createMetrics } from './core/metrics.ts';
import { WorkQueue } from './core/work-queue.ts';
import { healthRunsStarted } from '../commands/health.ts';
import { Rbac } from './core/rbac.ts';
import { Readers } from './i18n/readers.ts';
import { registerApprovalHandlers } from './slack/approval-actions.ts';
import { registerCommandActions } from './slack/command-actions.ts';
import { createChecklists } from './checklists/index.ts';
import { registerChecklistActions } from './slack/checklist-actions.ts';
import { channelPoster } from './schedule/post.ts';
import { boltLogger } from './slack/bolt-logger.ts';
import { SlackCards } from './slack/cards.ts';
import { ChannelReplies } from './slack/channel-replies.ts';
import { registerHandlers } from './slack/handlers.ts';
import { keepAliveFetch } from './slack/keepalive-fetch.ts';
import { opsRoutes, startMetricsServer, stopServer } from './slack/routes.ts';
import { refuseWhileDraining } from './slack/drain.ts';
import { Lifecycle, settledWithin } from './core/lifecycle.ts';
import { SharedRateLimiter } from './core/shared-rate-limit.ts';
import { DEFAULT_SLACK_API_URL, describeSlackCallError } from './slack/api-error.ts';
import { openStore, type Store } from './store/index.ts';
import { createSchedules, type Scheduler } from './schedule/index.ts';
import { createBackups } from './backup/index.ts';
import { createUpgrades } from './upgrade/index.ts';
import { createCapacity, type Capacity } from './capacity/index.ts';
import { createIncidents } from './incidents/index.ts';
import { incidentSlack } from './slack/incident-slack.ts';
import { registerIncidentHandlers } from './slack/incident-actions.ts';
import { createTargets } from './targets/index.ts';
import { createAlerts, type Alerts } from './alerts/index.ts';
import { alertmanagerRoute } from './slack/alert-route.ts';
import { registerAlertHandlers } from './slack/alert-actions.ts';
import type { Targets } from './targets/types.ts';

export type Transport =
  | { kind: 'http' }
  | { kind: 'socket' }
  /** The console: a receiver that feeds events in, and a fetch that catches Web API calls. */
  | { kind: 'local'; receiver: Receiver; fetch: NonNullable<WebClientOptions['fetch']> };

export interface Bot {
  app: App;
  /** Who reads which language (the console's :lang sets its override). */
  readers: Readers;
  dispatcher: Dispatcher;
  approvals: ApprovalEngine;
  /** Config schedules, and the API other features register theirs with. */
  scheduler: Scheduler;
  store: Store;
  targets: Targets;
  /** Capacity samples and forecasts (scheduled /health stores them, /capacity reads them). */
  capacity: Capacity;
  log: Logger;
  configSource: string;
  /** The HTTP port actually bound (http transport). */
  port?: number;
  /** The port of the separate /metrics listener, when config.metrics.listen is set. */
  metricsPort?: number;
  /** Resolves once every accepted command has run, posted its reply and written its audit row. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** Names that config may use in permissions and approval rules. */
export function commandNames(): string[] {
  // Permission keys, and approval-rule keys, which for subcommands are "backup.prune".
  // Commands may declare further rule keys for riskier variants of their plans.
  return [...new Set(flatten(allCommands).flatMap((c) => [
    ...(c.name.includes(' ') ? [ruleKey(c), permissionKey(c)] : [c.name, permissionKey(c)]),
    ...Object.keys(c.defaultRules ?? {}),
  ]))];
}

export function transportFromEnv(env: Env): Transport | undefined {
  if (!env.SLACK_BOT_TOKEN || (!env.SLACK_SIGNING_SECRET && !env.SLACK_APP_TOKEN)) return undefined;
  return env.SLACK_APP_TOKEN ? { kind: 'socket' } : { kind: 'http' };
}

/** Composition root: config → state store → executors → Slack app → listening. */
export async function startBot(env: Env, transport: Transport, log: Logger = createLogger(env.LOG_LEVEL)): Promise<Bot> {
  const { config, source } = loadConfig(env, process.cwd(), commandNames());
  const store = await openStore(env);
  const targets = createTargets(config);
  const metrics = createMetrics();
  const clientOptions: WebClientOptions = {
    slackApiUrl: env.SLACK_API_URL || undefined,
    // Rate-limited calls wait for Retry-After and are retried rather than lost.
    retryConfig: { retries: 5, factor: 3.86 }, // about five retries in five minutes
    // Keep-alive sockets and a leaner client than the global fetch: the Web API calls are a large share of the bot's CPU.
    fetch: transport.kind === 'local' ? transport.fetch : keepAliveFetch(),
  };
  const token = transport.kind === 'local' ? 'xoxb-console' : env.SLACK_BOT_TOKEN!;
  try {
    // One auth.test up front: a bad token fails here with a clear message, not on the first command.
    const auth = await new WebClient(token, { ...clientOptions, retryConfig: { retries: 2 }, logger: boltLogger(log) }).auth.test().catch((err: unknown) => {
      throw new Error(describeSlackCallError('auth.test', clientOptions.slackApiUrl ?? DEFAULT_SLACK_API_URL, err), { cause: err });
    });
    const port = Number(env.PORT ?? 3000);
    const lifecycle = new Lifecycle();
    // The receiver is served from the start; it answers 503 (Alertmanager retries) until alerts are wired below.
    let alerts: Alerts | undefined;
    const routes = [...opsRoutes(store, metrics, config.metrics, lifecycle), alertmanagerRoute(config.alerts.token, () => (lifecycle.draining ? undefined : alerts), log)];
    const common = { token, botId: auth.bot_id, botUserId: auth.user_id, tokenVerificationEnabled: false, logger: boltLogger(log), clientOptions };
    let receiver: Receiver;
    if (transport.kind === 'local') receiver = transport.receiver;
    else if (transport.kind === 'http') {
      receiver = new HTTPReceiver({ signingSecret: env.SLACK_SIGNING_SECRET!, endpoints: '/slack/events', customRoutes: routes, logger: common.logger });
    } else {
      // Built here rather than by App so that SLACK_API_URL also reaches apps.connections.open,
      // and /healthz, /readyz and /metrics are still served on PORT.
      receiver = new SocketModeReceiver({ appToken: env.SLACK_APP_TOKEN!, logger: common.logger, customRoutes: routes, installerOptions: { port, clientOptions } });
    }
    // No conversation store: the bot keeps no per-conversation state, and Bolt's default store
    // runs on every request (about 6% of the busy time under a load of /health commands).
    const app = new App({ ...common, receiver, convoStore: false });
    // users.info with include_locale: the caller's Slack language, for replies only they see.
    const readers = new Readers(config, async (user) => (await app.client.users.info({ user, include_locale: true })).user?.locale, log);
    const rbac = new Rbac(config, async (usergroup) => (await app.client.usergroups.users.list({ usergroup })).users ?? [], log);
    const cards = new SlackCards(app.client);
    const approvals = new ApprovalEngine({ store: new ApprovalStore(store), config, rbac, cards, commands: allCommands, targets, log, readers });
    const storm = config.storm;
    const audit = new AuditLog(store, storm.audit_batch.enabled
      ? {
          rows: storm.audit_batch.rows, intervalMs: storm.audit_batch.interval, maxBuffered: storm.audit_batch.max_buffered, log,
          // Destructive commands' rows are written before the dispatcher moves on; read-only ones are batched.
          writeAhead: (e) => allCommands.some((c) => c.destructive && c.name === e.command),
        }
      : undefined);
    const queue = new WorkQueue({ size: storm.queue.size, concurrency: storm.queue.concurrency });
    metrics.sources.healthRuns = () => healthRunsStarted(targets);
    metrics.sources.queue = () => ({ active: queue.active, queued: queue.queued });
    metrics.sources.auditBacklog = () => audit.backlog;
    // The per-user limit counts across replicas; the console alone keeps it in memory.
    const limiter = transport.kind === 'local' ? undefined : new SharedRateLimiter(store, config.rate_limit.requests_per_minute, log);
    const dispatcher = new Dispatcher({ config, commands: allCommands, targets, audit, rbac, log, metrics, approvals, queue, readers, limiter });
    // The console has no Slack limits and shows every reply as it comes; Slack gets shared, paced posts.
    // This client rejects a 429 instead of pausing its whole queue, so only that channel's lane waits it out.
    const replies = transport.kind === 'local' ? undefined : new ChannelReplies(new WebClient(token, { ...clientOptions, logger: common.logger, rejectRateLimitedCalls: true }), {
      windowMs: storm.share_window, postIntervalMs: storm.post_interval, updateIntervalMs: storm.update_interval,
      maxNamed: storm.max_named, maxPendingPerChannel: storm.channel_backlog, maxRetryMs: 5 * 60_000,
    }, log);
    // First, so that while draining no listener starts work.
    app.use(refuseWhileDraining(lifecycle, readers, log));
    registerHandlers(app, dispatcher, log, replies);
    const schedules = createSchedules({ store, config, dispatcher, rbac, readers, client: app.client, log });
    registerApprovalHandlers(app, approvals, log);
    registerCommandActions(app, dispatcher, log);
    const checklists = createChecklists({ store, config, dispatcher, readers, log, post: channelPoster(app.client), scheduler: schedules.scheduler });
    registerChecklistActions(app, checklists, dispatcher, log);
    createBackups({ store, config, targets, scheduler: schedules.scheduler, log });
    createUpgrades({ store, config, readers, post: channelPoster(app.client), dispatch: (inv, send) => dispatcher.handle(inv, send) });
    const capacity = createCapacity({ store, config, log });
    const incidents = createIncidents({
      store, config, slack: incidentSlack(app.client, log), rbac, readers, log, botUser: auth.user_id,
      dispatcher, approvals, scheduler: schedules.scheduler,
    });
    registerIncidentHandlers(app, incidents, dispatcher, log);
    alerts = createAlerts({
      store, config, dispatcher, readers, log,
      // New cards wait their channel's turn (with the replies there), so a burst of groups is paced, not dropped.
      post: (channel, report, t) => (replies ? replies.post(channel, report, t) : cards.post(channel, report)),
      update: (channel, ts, report, opts) => cards.update(channel, ts, report, opts),
    });
    registerAlertHandlers(app, dispatcher, log);

    let boundPort: number | undefined;
    if (transport.kind === 'http') {
      const server = (await app.start({ port, host: env.HOST || undefined })) as import('node:http').Server;
      const addr = server.address();
      boundPort = typeof addr === 'object' && addr ? addr.port : port;
    } else await app.start();
    let metricsServer: import('node:http').Server | undefined;
    if (transport.kind !== 'local' && config.metrics.listen) {
      metricsServer = await startMetricsServer(metrics, { ...config.metrics, listen: config.metrics.listen }).catch(async (err: unknown) => {
        await app.stop().catch(() => {});
        throw err;
      });
    }
    const metricsAddr = metricsServer?.address();
    // Reports (and closes) what a previous process left running or expired while it was down.
    await approvals.start();
    // Fires missed while no replica ran are caught up (or reported) before the timers start.
    await schedules.scheduler.start();
    log.info({ transport: transport.kind, port: boundPort, config: source, store: store.kind }, 'opsbot started');

    let closing: Promise<void> | undefined;
    return {
      app, readers, dispatcher, approvals, scheduler: schedules.scheduler, store, targets, capacity, log, configSource: source, port: boundPort,
      metricsPort: typeof metricsAddr === 'object' && metricsAddr ? metricsAddr.port : undefined,
      async idle() {
        await alerts?.idle();
        await dispatcher.idle();
        await replies?.idle();
        await audit.flush();
      },
      close() {
        closing ??= (async () => {
          // Draining (docs/deploy.md): /readyz turns 503 and new commands and clicks are turned
          // away, while the listener stays up for the probes and for what was already accepted.
          // In Socket Mode this process leaves now, so Slack sends new events to the other replica.
          lifecycle.startDraining();
          if (receiver instanceof SocketModeReceiver) await settledWithin(receiver.client.disconnect(), 5000);
          const grace = config.shutdown.grace;
          // No new fires from here; those running finish with the dispatcher's other work.
          const schedulesStopped = schedules.scheduler.stop();
          const [commandsDone] = await Promise.all([settledWithin(Promise.all([schedulesStopped, dispatcher.idle()]), grace), approvals.drain(grace)]);
          if (!commandsDone) log.warn({ graceMs: grace }, 'commands still running at the end of the shutdown grace were cut off');
          await settledWithin(app.stop(), 10_000);
          await stopServer(metricsServer);
          await Promise.race([replies?.flush(), new Promise((r) => setTimeout(r, 10_000).unref())]);
          await cards.flush();
          await audit.flush();
          await targets.close();
          await store.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    await targets.close();
    await store.close();
    throw err;
  }
}
