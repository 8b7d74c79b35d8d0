import { z } from 'zod';
// Every config duration is waited for by some timer, so by default none may exceed Node's limit.
import { durationWithin, timerDuration as duration } from './duration.ts';
import { placeholderFingerprint } from './fingerprint.ts';
import { isTimeZone } from '../i18n/format.ts';
import { LOCALES, type Locale } from '../i18n/index.ts';
import { cronProblem } from '../schedule/timing.ts';
import { globProblem } from '../cache/glob.ts';
import { workingHoursProblem } from '../security/hours.ts';

/** Every object is strict: a misspelt key is an error, not a silently ignored setting. */
/** Slack IDs: users (U…/W…), user groups (S…), channels (C…/G…/D…). */
const slackChannel = z.string().regex(/^[CGD][A-Z0-9]+$/, 'Expected a Slack channel ID (C…)');
const locale = z.enum(LOCALES);
const name = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'Use lowercase letters, digits, "-" and "_"');
/** A role member: a Slack user or group, or a config schedule's actor (`schedule:daily-health`). */
const roleMember = z.string().regex(/^([UWS][A-Z0-9]+|schedule:[a-z0-9][a-z0-9_-]*)$/, 'Expected a Slack user ID (U…), user-group ID (S…) or schedule:<name>');

/** A config schedule: a command line run through the dispatcher as `schedule:<name>`, in `channel`. */
const schedule = z.strictObject({
  // Checked by croner itself, so what loads is what fires; the zone is config `timezone`.
  cron: z.string().superRefine((pattern, ctx) => {
    const problem = cronProblem(pattern);
    if (problem) ctx.addIssue({ code: 'custom', message: `Invalid cron pattern "${pattern}": ${problem} (5 fields, or 6 with seconds first, e.g. "0 9 * * *")` });
  }),
  // Which command it names is checked against the commands in crossReferenceIssues.
  command: z.string().regex(/^\/[a-z0-9_-]+(\s|$)/, 'Expected a command line starting with /, e.g. "/health" or "/health postgres"'),
  channel: slackChannel,
  enabled: z.boolean().default(true),
  // A fire missed while every replica was down runs at start if at most this old; else the channel is told.
  catch_up: durationWithin({ max: 30 * 86_400_000 }).prefault('1h'),
});

const level = (warn: number, crit: number) =>
  z.strictObject({ warn: z.number().nonnegative().default(warn), crit: z.number().nonnegative().default(crit) })
    .refine((t) => t.crit >= t.warn, { message: 'crit must be >= warn' })
    .default({ warn, crit });

const durationLevel = (warn: string, crit: string) =>
  z.strictObject({ warn: duration.prefault(warn), crit: duration.prefault(crit) })
    .refine((t) => t.crit >= t.warn, { message: 'crit must be >= warn' })
    .prefault({ warn, crit });

/** A check, connect or command timeout: more than a few minutes would hold a reply past any use. */
const timeout = durationWithin({ min: 1, max: 10 * 60_000 });

/**
 * One line of /metrics overview: its PromQL expression, and the levels above which its figure is
 * a warning or critical (unset: never), as the manual's rule compares (`> 0.05`).
 */
const overviewItem = (expr: string, levels: { warn?: number; crit?: number } = {}) =>
  z.strictObject({
    expr: z.string().trim().min(1).default(expr),
    warn: z.number().nonnegative().optional().transform((v) => v ?? levels.warn),
    crit: z.number().nonnegative().optional().transform((v) => v ?? levels.crit),
  }).refine((t) => t.warn === undefined || t.crit === undefined || t.crit >= t.warn, { message: 'crit must be >= warn' }).prefault({});

const postgresTarget = z.strictObject({
  url: z.url({ protocol: /^postgres(ql)?$/, error: 'Invalid URL (expected postgres://user@host:port/db)' }),
  timeout: timeout.optional(),
});
const redisTarget = z.strictObject({
  url: z.url({ protocol: /^rediss?$/, error: 'Invalid URL (expected redis://host:port/db)' }),
  timeout: timeout.optional(),
});
const dockerTarget = z.strictObject({
  socket: z.string().default('/var/run/docker.sock'),
  project: z.string().optional(),
  timeout: timeout.optional(),
});
const hostTarget = z.strictObject({
  address: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(22),
  user: z.string().min(1),
  privateKeyFile: z.string().optional(),
  privateKey: z.string().optional(),
  hostKey: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/, 'Expected a host key fingerprint like SHA256:… (ssh-keygen -lf)'),
  timeout: timeout.optional(),
}).refine((h) => h.privateKeyFile || h.privateKey, { message: 'Set privateKeyFile or privateKey' })
  .superRefine((h, ctx) => {
    const why = placeholderFingerprint(h.hostKey);
    if (why) {
      ctx.addIssue({
        code: 'custom', path: ['hostKey'],
        message: `${h.hostKey} is a placeholder, not a real host key fingerprint (it ${why}); pin the host's key: ssh-keyscan -t ed25519 ${h.address} | ssh-keygen -lf -`,
      });
    }
  });

const service = z.strictObject({
  docker: name.optional(),
  container: z.string().optional(),
  host: name.optional(),
  port: z.number().int().min(1).max(65535).optional(),
  logs: z.strictObject({ app: z.string().optional(), error: z.string().optional() }).prefault({}),
  // /restart: how long docker waits for a clean stop, and how long we wait for running/healthy.
  stop_timeout: durationWithin({ max: 60 * 60_000 }).prefault('10s'),
  ready_timeout: durationWithin({ min: 1, max: 60 * 60_000 }).prefault('60s'),
  // /upgrade: the image repository whose tags it takes ("registry.example.com/mitong/backend"); unset: the running container's.
  image: z.string().regex(/^[a-z0-9][a-z0-9._\-/:]*$/, 'Expected an image repository, e.g. registry.example.com/mitong/backend')
    // A tag is a ":" after the last "/" (a registry's port comes before it).
    .refine((s) => !s.slice(s.lastIndexOf('/') + 1).includes(':'), { message: 'Leave the tag out: /upgrade takes it (…/backend, not …/backend:v2)' })
    .optional(),
});

/** A command for a container: a string split on spaces (no shell), or the argv itself. */
const argv = z.union([
  z.string().trim().min(1).transform((s) => s.split(/\s+/)),
  z.array(z.string().min(1)).min(1),
]);

/** Where a dump runs: the bot's machine, an SSH host, or inside a container (its own pg_dump). */
const runOn = z.string().regex(/^(local|host:[a-z0-9][a-z0-9_-]*|docker:[a-z0-9][a-z0-9_-]*\/[A-Za-z0-9][A-Za-z0-9_.-]*)$/, 'Expected local, host:<targets.hosts name> or docker:<targets.docker name>/<container>');
/** A directory on the machine where the dump runs; absolute, so no working directory decides it. */
const absDir = z.string().regex(/^\/[^\0\n]*$/, 'Expected an absolute path, e.g. /backup/postgresql').transform((d) => d.replace(/\/+$/, '') || '/');
const keepCounts = z.strictObject({
  daily: z.number().int().nonnegative().max(3650).default(7),
  weekly: z.number().int().nonnegative().max(520).default(4),
  monthly: z.number().int().nonnegative().max(240).default(6),
}).prefault({});
/** One PostgreSQL target's backups; the key is a targets.postgres name. */
const pgBackup = z.strictObject({
  run_on: runOn.default('local'),
  // The server as the dump machine reaches it, when that differs from targets.postgres.<name>.url
  // (e.g. 127.0.0.1 on the database host itself). Without a password, the dump machine's
  // .pgpass or peer authentication is used.
  url: z.url({ protocol: /^postgres(ql)?$/, error: 'Invalid URL (expected postgres://user@host:port/db)' }).optional(),
  dir: absDir.default('/backup/postgresql'),
  jobs: z.number().int().positive().max(64).default(2),
  keep: keepCounts,
  // An off-host copy over SSH, made after each backup and pruned by the same rules.
  copy_to: z.strictObject({ host: name, dir: absDir }).optional(),
  // How long one dump, verify or restore may run before it is stopped.
  timeout: durationWithin({ min: 1000, max: 24 * 3_600_000 }).prefault('6h'),
});
/** Manual §2.3: config, uploads and keys of one host, tarred and compressed there. */
const filesBackup = z.strictObject({
  host: name,
  paths: z.array(absDir).min(1),
  // Archives of paths whose last component is listed here are encrypted (gpg symmetric) before they touch disk.
  encrypt: z.array(z.string().min(1)).default([]),
  // A file on that host holding the passphrase (never the passphrase itself).
  passphrase_file: absDir.optional(),
  dir: absDir.default('/backup/files'),
  keep: keepCounts,
  timeout: durationWithin({ min: 1000, max: 24 * 3_600_000 }).prefault('1h'),
}).refine((f) => !f.encrypt.length || f.passphrase_file, { message: 'encrypt needs passphrase_file (a file on the host holding the passphrase)' });

/**
 * Manual §5.2 (密钥管理): one secret file on a host, how a new value is made, and the services
 * that read it. The old value is kept gpg-encrypted (as file backups keep keys) before it is replaced.
 */
const secret = z.strictObject({
  // `local` or a targets.hosts name; the file is read, written and encrypted there.
  host: name,
  file: absDir,
  // Random bytes made by opsbot, or a command (argv, no shell) run on the host whose stdout is the value.
  generate: z.union([
    z.strictObject({ random_bytes: z.number().int().min(16).max(4096), encoding: z.enum(['hex', 'base64']).default('hex') }),
    z.strictObject({
      command: z.array(z.string().min(1).refine((w) => !w.includes('\0'), 'No NUL bytes')).min(1),
      timeout: durationWithin({ min: 1000, max: 10 * 60_000 }).prefault('30s'),
    }),
  ]).prefault({ random_bytes: 32 }),
  // Restarted one at a time, in this order, each checked healthy before the next.
  services: z.array(name).default([]),
  // A file on that host holding the gpg passphrase for the kept old value (never the passphrase itself).
  passphrase_file: absDir,
  // Where the encrypted old value goes on that host; default: the file's own directory.
  keep_dir: absDir.optional(),
  // /secrets list flags a value older than this.
  max_age: durationWithin({ min: 60_000, max: 3650 * 86_400_000 }).prefault('90d'),
});

/** "host:port", "[::1]:port", ":port" or a bare port: where a listener binds; no host means every interface. */
const listenAddress = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+)?:)?(\d{1,5})$/.exec(String(value).trim());
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || !Number.isInteger(port) || port > 65535) {
    ctx.addIssue({ code: 'custom', message: `Invalid listen address "${value}" (expected host:port, e.g. 127.0.0.1:9100)` });
    return z.NEVER;
  }
  return { host: m[1]?.replace(/^\[|\]$/g, ''), port };
});

/** A command as config keys name it: "restart", or a subcommand's dotted name ("backup.prune", "db.index.create"). */
const commandKey = z.string().regex(/^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)*$/, 'Use a command name, or command.subcommand');
/** A Redis glob (SCAN MATCH), refused here when the bot would refuse it in a command. */
const redisPattern = z.string().superRefine((p, ctx) => {
  const problem = globProblem(p);
  if (problem) ctx.addIssue({ code: 'custom', message: `Invalid Redis pattern "${p}" (${problem.replace('_', ' ')})` });
});

/** A permission is either a list of roles or { roles, channels }; both mean "who may, and where". */
const permission = z.union([
  z.array(name).transform((roles) => ({ roles, channels: [] as string[] })),
  z.strictObject({ roles: z.array(name).default([]), channels: z.array(slackChannel).default([]) }),
]);

/** A duration of the storm settings, bounded so that every timer it sets stays short. */
const stormDuration = (maxMs: number) =>
  duration.refine((ms) => ms <= maxMs, { message: `at most ${maxMs >= 3_600_000 ? `${maxMs / 3_600_000} h` : `${maxMs / 1000} s`}` });

export const configSchema = z.strictObject({
  locale: locale.default('en'),
  // Every time shown to a person is in this zone, with its offset.
  timezone: z.string().refine(isTimeZone, { message: 'Unknown time zone (expected an IANA name, e.g. Asia/Shanghai or UTC)' }).default('UTC'),
  // Named channels (ops, approvals, incidents, …): an ID, or { id, locale } when its posts use another language.
  channels: z.record(name, z.union([
    slackChannel.transform((id) => ({ id, locale: undefined as Locale | undefined })),
    z.strictObject({ id: slackChannel, locale: locale.optional() }),
  ])).default({}),
  roles: z.record(name, z.array(roleMember)).default({}),
  permissions: z.record(commandKey, permission).default({}),
  rate_limit: z.strictObject({
    enabled: z.boolean().default(true),
    requests_per_minute: z.number().int().positive().default(60),
  }).prefault({}),
  health: z.strictObject({
    timeout: timeout.prefault('5s'),
    // Hosts (and their error logs) checked at once; more wait for a free slot within their timeout.
    concurrency: z.number().int().positive().max(256).default(16),
    // Manual §6.3 (grep -c "ERROR"): over the last N lines of each error log, or the last N minutes.
    error_log: z.union([
      z.strictObject({ lines: z.number().int().positive().max(10_000_000) }),
      z.strictObject({ minutes: z.number().int().positive().max(10_000_000) }),
    ]).default({ lines: 1000 }),
    thresholds: z.strictObject({
      latency_ms: level(200, 1000),
      disk_percent: level(80, 90),
      memory_percent: level(85, 95),
      load_per_core: level(1, 2),
      pg_connections_percent: level(80, 95),
      pg_longest_transaction: durationLevel('5m', '30m'),
      redis_memory_percent: level(80, 95),
      redis_evicted_keys: level(1, 10000),
      /** ERROR lines counted in a service's error log over health.error_log. */
      error_log_lines: level(1, 50),
      /** A running container started this recently after an earlier stop or crash is a warning. */
      container_recent_restart: duration.prefault('5m'),
    }).prefault({}),
  }).prefault({}),
  targets: z.strictObject({
    local: z.boolean().default(true),
    postgres: z.record(name, postgresTarget).default({}),
    redis: z.record(name, redisTarget).default({}),
    docker: z.record(name, dockerTarget).default({}),
    hosts: z.record(name, hostTarget).default({}),
  }).prefault({}),
  services: z.record(name, service).default({}),
  approvals: z.strictObject({
    ttl: durationWithin({ min: 1000, max: 7 * 86_400_000 }).prefault('30m'),
    // Keys are command names, or "<command>.<subcommand>" (backup.prune). A schedule listed in
    // `schedules` runs that command without votes: the rule itself is its approval (audited).
    rules: z.record(commandKey, z.strictObject({
      approvers: z.array(name).min(1),
      count: z.number().int().positive().default(1),
      schedules: z.array(z.string().regex(/^schedule:[a-z0-9][a-z0-9_-]*$/, 'Expected schedule:<name>')).default([]),
    })).default({}),
    // How often expired requests are closed and abandoned executions marked interrupted.
    // An interval of 0 would spin; one of hours would leave expired requests open for hours.
    sweep_interval: durationWithin({ min: 100, max: 60 * 60_000 }).prefault('30s'),
    // A running action renews its lease; one not renewed for this long belongs to a dead process.
    lease: durationWithin({ min: 100, max: 60 * 60_000 }).prefault('30s'),
    break_glass: z.strictObject({ enabled: z.boolean().default(false), roles: z.array(name).default([]) }).prefault({}),
  }).prefault({}),
  // SIGTERM: how long accepted commands and running approved actions may take to finish before
  // the process exits; an action still running then is marked interrupted. Keep the process
  // manager's stop timeout above it (docs/deploy.md).
  shutdown: z.strictObject({
    grace: durationWithin({ max: 10 * 60_000 }).prefault('20s'),
  }).prefault({}),
  // GET /metrics: who may scrape it, and where it is served.
  metrics: z.strictObject({
    token: z.string()
      .min(16, 'Use at least 16 characters, e.g. from openssl rand -hex 32')
      .regex(/^[\x21-\x7e]+$/, 'Use printable ASCII without spaces (it is sent in an Authorization header)')
      .optional(),
    listen: listenAddress.optional(),
  }).prefault({}),
  // Commands run on a calendar (see docs/config.md, "schedules").
  schedules: z.record(name, schedule).default({}),
  // Manual §2: PostgreSQL dumps and file archives, kept grandfather-father-son (docs/config.md, "backups").
  backups: z.strictObject({
    postgres: z.record(name, pgBackup).default({}),
    files: z.record(name, filesBackup).default({}),
  }).prefault({}),
  // /restore (manual §2.2): the app's writers stopped only for the swap, and how long the replaced database is kept.
  restore: z.strictObject({
    stop_services: z.array(name).default([]),
    keep_previous: durationWithin({ min: 0, max: 365 * 86_400_000 }).prefault('7d'),
  }).prefault({}),
  // /upgrade and /rollback (manual §7; docs/config.md, "upgrade").
  upgrade: z.strictObject({
    // A verified backup of `database` at most this old, else the upgrade takes (and verifies) one first.
    backup_max_age: durationWithin({ min: 60_000, max: 365 * 86_400_000 }).prefault('24h'),
    // The backups.postgres target backed up before an upgrade; default: the only one configured.
    database: name.optional(),
    // backups.files sets archived before an upgrade (the manual's 备份配置文件).
    files: z.array(name).default([]),
    // §7.1 通知用户: where an upgrade is announced, with its expected downtime, and how it ended.
    announce: slackChannel.optional(),
    // Run once in a one-off container of the new image, before the switch, when `service` is upgraded.
    migrate: z.strictObject({
      service: name,
      command: argv,
      timeout: durationWithin({ min: 1000, max: 24 * 3_600_000 }).prefault('10m'),
    }).optional(),
    // §7.1 验证功能: checked again and again for `settle` once the new containers are healthy.
    smoke: z.union([
      z.strictObject({
        url: z.url({ protocol: /^https?$/, error: 'Invalid URL (expected http://host:port/path)' }),
        expect_status: z.number().int().min(100).max(599).default(200),
        expect_text: z.string().optional(),
        timeout: timeout.prefault('5s'),
      }),
      z.strictObject({
        // Run in the new container of `service` (default: the first one upgraded); exit 0 passes.
        command: argv,
        service: name.optional(),
        timeout: timeout.prefault('30s'),
      }),
    ]).optional(),
    // How long the new version must stay healthy (and pass the smoke check) before it is kept.
    settle: durationWithin({ min: 0, max: 60 * 60_000 }).prefault('30s'),
    // How long a pull of a missing image may take (no registry: it fails at once).
    pull_timeout: durationWithin({ min: 1000, max: 60 * 60_000 }).prefault('10m'),
  }).prefault({}),
  // Incident coordination (manual §8; docs/config.md, "incidents").
  incidents: z.strictObject({
    // {date}: yyyymmdd in `timezone`; {slug}: from the title; {n}: the incident's number.
    channel_name: z.string().min(1).max(80).refine((s) => /\{(slug|n)\}/.test(s), { message: 'Include {slug} or {n}, so that incidents get different channels' }).default('inc-{date}-{slug}'),
    // Where new incidents are announced (and updates threaded under the announcement).
    announce: slackChannel.optional(),
    // Members of these roles are invited to every new incident channel.
    responders: z.array(name).default([]),
    // Incident roles people are given with /incident role; the declarer is commander until someone else is.
    roles: z.array(name).min(1).refine((r) => r.includes('commander'), { message: 'Keep the commander role: the change freeze asks the commander' }).default(['commander', 'comms', 'scribe']),
    severities: z.record(z.string().regex(/^sev[0-9]$/, 'Use sev1 … sev9'), z.strictObject({
      // No /incident update for this long reminds the commander and comms; 0: never.
      update_every: durationWithin({ min: 0, max: 7 * 86_400_000 }).prefault('30m'),
      // While an incident of this severity is open, destructive commands elsewhere are frozen.
      freeze: z.boolean().default(false),
    })).default({
      sev1: { update_every: 15 * 60_000, freeze: true },
      sev2: { update_every: 30 * 60_000, freeze: true },
      sev3: { update_every: 2 * 3_600_000, freeze: false },
      sev4: { update_every: 0, freeze: false },
    }),
    default_severity: z.string().regex(/^sev[0-9]$/).default('sev2'),
    // The channel is archived this long after the incident is resolved.
    archive_after: durationWithin({ min: 0, max: 365 * 86_400_000 }).prefault('7d'),
    // How often reminders, archiving and the cards' elapsed time are looked at.
    check_every: durationWithin({ min: 1000, max: 60 * 60_000 }).prefault('1m'),
  }).prefault({}),
  // Alertmanager notifications and silences (manual §6.2; docs/config.md, "alerts").
  alerts: z.strictObject({
    // The bearer token Alertmanager sends to POST /alertmanager; unset, the receiver refuses everything.
    token: z.string().min(16, 'Use a token of at least 16 characters').optional(),
    channels: z.strictObject({
      default: slackChannel.optional(),
      // label → value → channel, e.g. { severity: { critical: C0ONCALL } }; the first label that matches wins.
      by_label: z.record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'Expected a Prometheus label name'), z.record(z.string(), slackChannel)).default({}),
    }).prefault({}),
    // Alertmanager's API v2, for /alerts, /silences and the cards' Silence buttons.
    alertmanager: z.strictObject({
      url: z.url({ protocol: /^https?$/, error: 'Invalid URL (expected http://host:9093)' }),
      timeout: timeout.prefault('10s'),
    }).optional(),
    // Prometheus: /metrics asks its query API, and the cards' links to an alert's expression use
    // this origin instead of the one Prometheus put in generatorURL (often an internal host name).
    prometheus: z.strictObject({
      url: z.url({ protocol: /^https?$/, error: 'Invalid URL (expected http://host:9090)' }),
      timeout: timeout.prefault('10s'),
      // Rows of an instant query's table, and series drawn in a range query's chart; the rest are counted.
      rows: z.number().int().min(1).max(100).default(20),
      series: z.number().int().min(1).max(20).default(8),
      // /metrics overview: the manual's §6.1 list, one PromQL expression per line (docs/config.md).
      overview: z.strictObject({
        cpu: overviewItem('100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])))', { warn: 80, crit: 90 }),
        memory: overviewItem('100 * (1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)', { warn: 85, crit: 95 }),
        disk: overviewItem('100 * (1 - node_filesystem_avail_bytes{mountpoint="/"} / node_filesystem_size_bytes{mountpoint="/"})', { warn: 80, crit: 90 }),
        network: overviewItem('sum by (instance) (rate(node_network_receive_bytes_total{device!="lo"}[5m]) + rate(node_network_transmit_bytes_total{device!="lo"}[5m]))'),
        latency: overviewItem('histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{job="backend"}[5m])))', { warn: 0.5, crit: 1 }),
        // The manual's HighErrorRate rule (§6.2) without its comparison, so the figure shows below 0.05 too.
        error_rate: overviewItem('rate(http_requests_total{job="backend",status=~"5.."}[5m])', { crit: 0.05 }),
      }).prefault({}),
    }).optional(),
  }).prefault({}),
  // /db (manual §1.3, §3.1, §4.2): which database, who may run EXPLAIN ANALYZE, and the limits of maintenance.
  db: z.strictObject({
    // The targets.postgres entry /db uses without --target; unset: the only one configured.
    target: name.optional(),
    // `/db explain --analyze` runs the statement (read-only, rolled back): these roles, or admin.
    analyze_roles: z.array(name).default(['dba']),
    explain_timeout: timeout.prefault('30s'),
    // How long VACUUM and ANALYZE wait for their table lock; VACUUM FULL's queues every query behind it.
    lock_timeout: durationWithin({ min: 0, max: 10 * 60_000 }).prefault('10s'),
    // How long one VACUUM, ANALYZE, REINDEX or CREATE INDEX may run before the server stops it.
    maintenance_timeout: durationWithin({ min: 1000, max: 24 * 3_600_000 }).prefault('6h'),
    // The rate the cards' time estimates assume for reading and writing a table (MB/s).
    estimate_mb_per_second: z.number().positive().max(100_000).default(100),
    // /db bloat: a table's dead tuples as a share of its rows.
    dead_ratio_percent: level(10, 20),
  }).prefault({}),
  // /cache (manual §1.4, §3.2, §4.1): what a pattern clear never deletes, and how hard it may push Redis.
  cache: z.strictObject({
    protected: z.array(redisPattern).default(['celery', '_kombu.binding.*', 'unacked*']),
    // Celery's queue (a list): flush plans report its length, and clear never deletes it unless told to.
    celery_queue: z.string().min(1).default('celery'),
    // Keys per SCAN COUNT, and so per pipelined UNLINK round trip.
    batch: z.number().int().positive().max(10_000).default(1000),
    // Between batches, so that other clients are served while a clear runs.
    pause: durationWithin({ max: 10_000 }).prefault('2ms'),
    // How long /cache keys and a clear's plan scan to count; past it they estimate.
    scan_budget: durationWithin({ min: 100, max: 60_000 }).prefault('2s'),
  }).prefault({}),
  // /perf (manual §4.2 响应缓慢, 内存占用高): how long each source may take, and what counts as busy.
  // Host memory and load, and Redis latency, memory and evictions, are graded by health.thresholds.
  perf: z.strictObject({
    // Each host, Docker engine, database and Redis gets this long; one that does not answer is
    // reported as such and holds up nothing else. A target's own timeout, when set, wins.
    timeout: timeout.prefault('10s'),
    // Processes listed per host, by CPU and by memory.
    top: z.number().int().min(1).max(50).default(5),
    thresholds: z.strictObject({
      // ps's %CPU of one process (100 = one CPU busy for the process's lifetime).
      process_cpu_percent: level(50, 90),
      // One process's resident memory as a share of the host's.
      process_memory_percent: level(30, 60),
      // docker stats' CPU of a container (100 = one CPU).
      container_cpu_percent: level(80, 150),
      // A container's memory as a share of its limit (of the host's memory without one).
      container_memory_percent: level(80, 95),
      // The mean time of a statement in pg_stat_statements.
      query_mean: durationLevel('200ms', '1s'),
      // A query running now for this long.
      query_running: durationLevel('30s', '5m'),
      // PostgreSQL's buffer cache hit ratio: below warn or crit is graded (lower is worse).
      cache_hit_percent: z.strictObject({ warn: z.number().min(0).max(100).default(99), crit: z.number().min(0).max(100).default(95) })
        .refine((t) => t.crit <= t.warn, { message: 'crit must be <= warn (a lower hit ratio is worse)' })
        .default({ warn: 99, crit: 95 }),
    }).prefault({}),
  }).prefault({}),
  // Capacity planning (appendix A, 容量规划): scheduled /health runs keep samples; /capacity fits them.
  capacity: z.strictObject({
    // How far back /capacity fits each series.
    window: durationWithin({ min: 3_600_000, max: 365 * 86_400_000 }).prefault('14d'),
    // Fewer samples than this, or a shorter span between the first and the last, is "not enough data".
    min_samples: z.number().int().min(3).max(100_000).default(5),
    min_span: durationWithin({ min: 0, max: 365 * 86_400_000 }).prefault('3d'),
    // Samples older than this are deleted when a scheduled run stores its own.
    retention: durationWithin({ min: 86_400_000, max: 3650 * 86_400_000 }).prefault('90d'),
    // /health warns about a forecast that reaches its critical threshold sooner than this.
    warn_within: durationWithin({ min: 0, max: 365 * 86_400_000 }).prefault('14d'),
    // The disk a database's files are on, so that its growth is set against the space left there.
    databases: z.record(name, z.strictObject({ host: name, mount: absDir })).default({}),
  }).prefault({}),
  // /logs rotation and /logs cleanup (manual §1.2 日志轮转, 日志清理): what the manual asks of every log.
  log_rotation: z.strictObject({
    // A live log larger than this was not rotated at size (MiB, as logrotate's "size 10M" and Docker's "10m").
    max_size_mb: z.number().positive().max(100_000).default(10),
    // Rotated files kept per log.
    keep: z.number().int().min(1).max(1000).default(5),
    // Rotated files are to be gzipped (the newest may wait a cycle under delaycompress).
    compress: z.boolean().default(true),
    // /logs cleanup deletes rotated files older than this unless told otherwise.
    cleanup_older_than: durationWithin({ min: 86_400_000, max: 3650 * 86_400_000 }).prefault('30d'),
    // Where each host's logrotate rules are read from (files, or directories of them).
    logrotate: z.array(absDir).default(['/etc/logrotate.conf', '/etc/logrotate.d']),
  }).prefault({}),
  // /security check (manual §5.1 定期检查项, §5.3 访问控制; docs/config.md, "security").
  security: z.strictObject({
    // Each part (one host's accounts, its auth log, one database, one certificate…) gets this
    // long; one that does not answer is reported as such and holds up nothing else.
    timeout: timeout.prefault('15s'),
    // 漏洞与补丁: how long pip-audit / npm audit may take in one container, probes included
    // (they ask their index over the network, so longer than the other parts).
    deps_timeout: timeout.prefault('120s'),
    // How far back 操作日志 reads opsbot's own audit.
    audit_window: durationWithin({ min: 60_000, max: 366 * 86_400_000 }).prefault('7d'),
    // Destructive actions started outside these hours (in `timezone`) are listed.
    working_hours: z.string().refine((s) => workingHoursProblem(s) === undefined, { error: (i) => workingHoursProblem(String(i.input)) ?? 'Invalid' }).default('09:00-19:00 Mon-Fri'),
    // 异常登录: the SSH log read on each host (the journal of ssh/sshd when it cannot be read), and how many of its last lines.
    auth_log: z.string().min(1).default('/var/log/auth.log'),
    auth_log_lines: z.number().int().positive().max(10_000_000).default(200_000),
    // Failed SSH logins from one address at or above these counts.
    failed_logins: level(10, 100),
    // §5.3: the app's ports, and the networks that may reach them (the manual's iptables -s 192.168.1.0/24).
    app_ports: z.array(z.number().int().min(1).max(65535)).default([5000]),
    allowed_networks: z.array(z.string().regex(/^[0-9a-fA-F.:]+(\/\d{1,3})?$/, 'Expected an address or CIDR, e.g. 192.168.1.0/24')).default([]),
    // Certificates to check (Nginx's HTTPS): days left at or below warn/crit.
    tls: z.array(z.strictObject({ host: z.string().min(1), port: z.number().int().min(1).max(65535).default(443), servername: z.string().optional() })).default([]),
    tls_days: z.strictObject({ warn: z.number().int().nonnegative().default(30), crit: z.number().int().nonnegative().default(7) })
      .refine((t) => t.crit <= t.warn, { message: 'crit must be <= warn (fewer days left is worse)' }).default({ warn: 30, crit: 7 }),
  }).prefault({}),
  // /secrets rotate and /secrets list (manual §5.2; docs/config.md, "secrets").
  secrets: z.record(name, secret).default({}),
  // The manual's checklists (appendix A; docs/config.md, "checklists").
  checklists: z.strictObject({
    // Items still open at this time (HH:MM in `timezone`) of the checklist's day are reminded once.
    remind_at: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$/, 'Use HH:MM, e.g. 18:00').default('18:00'),
    // How often due reminders are looked for.
    check_every: durationWithin({ min: 1000, max: 60 * 60_000 }).prefault('1m'),
  }).prefault({}),
  // Storms in one channel: shared replies, per-channel pacing, the bounded work queue, audit batching.
  storm: z.strictObject({
    // On by default: a channel typing /health at once during an incident gets one report.
    // 0s: identical requests share a message only while it waits for its turn to be posted.
    share_window: stormDuration(3_600_000).prefault('10s'),
    // 0s: every /health runs its checks (concurrent ones still share one run).
    health_cache: stormDuration(3_600_000).prefault('10s'),
    post_interval: stormDuration(60_000).prefault('1s'),
    update_interval: stormDuration(60_000).prefault('1s'),
    max_named: z.number().int().positive().max(150).default(100),
    channel_backlog: z.number().int().positive().max(10_000).default(50),
    queue: z.strictObject({
      size: z.number().int().nonnegative().max(100_000).default(500),
      concurrency: z.number().int().positive().max(1024).default(32),
    }).prefault({}),
    audit_batch: z.strictObject({
      enabled: z.boolean().default(true),
      rows: z.number().int().positive().max(1000).default(200),
      interval: stormDuration(60_000).prefault('100ms'),
      max_buffered: z.number().int().positive().max(1_000_000).default(10_000),
    }).prefault({}),
  }).prefault({}),
}).strict();

type Issue = { path: PropertyKey[]; message: string };
const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const entries = (v: unknown) => (isObj(v) ? Object.entries(v) : []);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * Names used in one place must be defined in another. Checked on the raw document, apart from the
 * schema, so these problems are reported together with type errors rather than after they are fixed.
 */
export function crossReferenceIssues(input: unknown, commands?: string[]): Issue[] {
  const doc = isObj(input) ? input : {};
  const issues: Issue[] = [];
  const roles = new Set(Object.keys(isObj(doc.roles) ? doc.roles : {}));
  const targets = isObj(doc.targets) ? doc.targets : {};
  const unknownRole = (path: PropertyKey[]) => (r: unknown, i: number) => {
    if (typeof r === 'string' && !roles.has(r)) issues.push({ path: [...path, i], message: `Unknown role "${r}" (define it under roles)` });
  };
  for (const [cmd, perm] of entries(doc.permissions)) {
    if (Array.isArray(perm)) perm.forEach(unknownRole(['permissions', cmd]));
    else if (isObj(perm)) list(perm.roles).forEach(unknownRole(['permissions', cmd, 'roles']));
  }
  const rules = isObj(doc.approvals) ? doc.approvals.rules : undefined;
  for (const [rule, def] of entries(rules)) {
    if (isObj(def)) list(def.approvers).forEach(unknownRole(['approvals', 'rules', rule, 'approvers']));
  }
  // Incidents invite responder roles, and declare with a severity that must exist.
  const incidents = isObj(doc.incidents) ? doc.incidents : {};
  list(incidents.responders).forEach(unknownRole(['incidents', 'responders']));
  const defaultSeverity = typeof incidents.default_severity === 'string' ? incidents.default_severity : 'sev2';
  if (isObj(incidents.severities) && !Object.hasOwn(incidents.severities, defaultSeverity)) {
    issues.push({ path: ['incidents', 'default_severity'], message: `Severity "${defaultSeverity}" is not under incidents.severities (${Object.keys(incidents.severities).join(', ')}); set default_severity to one of them` });
  }
  // A receiver with a token posts cards: some channel must take the alerts no label maps.
  const alerts = isObj(doc.alerts) ? doc.alerts : {};
  const alertChannels = isObj(alerts.channels) ? alerts.channels : {};
  if (alerts.token !== undefined && alertChannels.default === undefined) {
    issues.push({ path: ['alerts', 'channels', 'default'], message: 'Set a default channel for alerts that no alerts.channels.by_label entry maps (alerts.token enables the receiver)' });
  }
  if (commands) {
    const known = new Set(commands);
    const unknownCommand = (path: PropertyKey[]) => ([key]: [string, unknown]) => {
      if (!known.has(key)) issues.push({ path: [...path, key], message: `Unknown command "${key}" (commands: ${commands.join(', ')})` });
    };
    entries(doc.permissions).forEach(unknownCommand(['permissions']));
    entries(rules).forEach(unknownCommand(['approvals', 'rules']));
    for (const [sched, def] of entries(doc.schedules)) {
      const line = isObj(def) && typeof def.command === 'string' ? /^\/([^\s]+)/.exec(def.command.trim()) : null;
      if (line && !known.has(line[1])) issues.push({ path: ['schedules', sched, 'command'], message: `Unknown command "/${line[1]}" (commands: ${commands.join(', ')})` });
    }
  }
  // A role may name a schedule's actor; that schedule must exist.
  const schedules = new Set(Object.keys(isObj(doc.schedules) ? doc.schedules : {}));
  for (const [role, members] of entries(doc.roles)) {
    list(members).forEach((m, i) => {
      const sched = typeof m === 'string' && /^schedule:(.+)$/.exec(m)?.[1];
      if (sched && !schedules.has(sched)) issues.push({ path: ['roles', role, i], message: `Unknown schedule "${sched}" (define it under schedules)` });
    });
  }
  const breakGlass = isObj(doc.approvals) && isObj(doc.approvals.break_glass) ? doc.approvals.break_glass : {};
  list(breakGlass.roles).forEach(unknownRole(['approvals', 'break_glass', 'roles']));
  for (const [svc, def] of entries(doc.services)) {
    if (!isObj(def)) continue;
    for (const [key, kind] of [['docker', 'docker'], ['host', 'hosts']] as const) {
      const ref = def[key];
      const defined = isObj(targets[kind]) ? (targets[kind] as Record<string, unknown>) : {};
      // `local` is the machine opsbot runs on, a host of its own unless targets.local is false.
      if (key === 'host' && ref === 'local' && !('local' in defined)) {
        if (targets.local === false) issues.push({ path: ['services', svc, key], message: 'Host "local" is switched off (targets.local: false); set targets.local: true or name a host under targets.hosts' });
        continue;
      }
      if (typeof ref === 'string' && !(ref in defined)) {
        issues.push({ path: ['services', svc, key], message: `Unknown ${key === 'docker' ? 'docker target' : 'host'} "${ref}" (define it under targets.${kind})` });
      }
    }
  }
  // Backups name their targets, hosts and services; the restore's writers are services.
  const defined = (kind: string) => new Set(Object.keys(isObj(targets[kind]) ? (targets[kind] as Record<string, unknown>) : {}));
  const hosts = defined('hosts');
  if (targets.local !== false) hosts.add('local');
  const backups = isObj(doc.backups) ? doc.backups : {};
  for (const [target, def] of entries(backups.postgres)) {
    if (!defined('postgres').has(target)) issues.push({ path: ['backups', 'postgres', target], message: `Unknown PostgreSQL target "${target}" (define it under targets.postgres)` });
    if (!isObj(def)) continue;
    const on = typeof def.run_on === 'string' ? /^(host|docker):([^/]+)/.exec(def.run_on) : null;
    if (on && !(on[1] === 'host' ? hosts : defined('docker')).has(on[2])) {
      issues.push({ path: ['backups', 'postgres', target, 'run_on'], message: `Unknown ${on[1] === 'host' ? 'host' : 'docker target'} "${on[2]}" (define it under targets.${on[1] === 'host' ? 'hosts' : 'docker'})` });
    }
    const copy = isObj(def.copy_to) ? def.copy_to.host : undefined;
    if (typeof copy === 'string' && !hosts.has(copy)) issues.push({ path: ['backups', 'postgres', target, 'copy_to', 'host'], message: `Unknown host "${copy}" (define it under targets.hosts)` });
  }
  for (const [set, def] of entries(backups.files)) {
    const host = isObj(def) ? def.host : undefined;
    if (typeof host === 'string' && !hosts.has(host)) issues.push({ path: ['backups', 'files', set, 'host'], message: `Unknown host "${host}" (define it under targets.hosts)` });
  }
  // A secret lives on a host, and names the services that read it (each with a container to restart).
  for (const [sec, def] of entries(doc.secrets)) {
    if (!isObj(def)) continue;
    if (def.host === 'local' && !hosts.has('local')) issues.push({ path: ['secrets', sec, 'host'], message: 'Host "local" is switched off (targets.local: false); set targets.local: true or name a host under targets.hosts' });
    else if (typeof def.host === 'string' && !hosts.has(def.host)) issues.push({ path: ['secrets', sec, 'host'], message: `Unknown host "${def.host}" (define it under targets.hosts, or use local)` });
    const svcs = isObj(doc.services) ? doc.services : {};
    list(def.services).forEach((s, i) => {
      if (typeof s !== 'string') return;
      const svc = svcs[s];
      if (!isObj(svc)) issues.push({ path: ['secrets', sec, 'services', i], message: `Unknown service "${s}" (define it under services)` });
      else if (!svc.docker || !svc.container) issues.push({ path: ['secrets', sec, 'services', i], message: `Service "${s}" has no docker and container to restart` });
    });
  }
  const db = isObj(doc.db) ? doc.db : {};
  list(db.analyze_roles).forEach(unknownRole(['db', 'analyze_roles']));
  if (typeof db.target === 'string' && !defined('postgres').has(db.target)) issues.push({ path: ['db', 'target'], message: `Unknown PostgreSQL target "${db.target}" (define it under targets.postgres)` });
  const services = new Set(Object.keys(isObj(doc.services) ? doc.services : {}));
  list(isObj(doc.restore) ? doc.restore.stop_services : undefined).forEach((s, i) => {
    if (typeof s === 'string' && !services.has(s)) issues.push({ path: ['restore', 'stop_services', i], message: `Unknown service "${s}" (define it under services)` });
  });
  const upgrade = isObj(doc.upgrade) ? doc.upgrade : {};
  const migrateService = isObj(upgrade.migrate) ? upgrade.migrate.service : undefined;
  if (typeof migrateService === 'string' && !services.has(migrateService)) issues.push({ path: ['upgrade', 'migrate', 'service'], message: `Unknown service "${migrateService}" (define it under services)` });
  const smokeService = isObj(upgrade.smoke) ? upgrade.smoke.service : undefined;
  if (typeof smokeService === 'string' && !services.has(smokeService)) issues.push({ path: ['upgrade', 'smoke', 'service'], message: `Unknown service "${smokeService}" (define it under services)` });
  const pgBackups = new Set(Object.keys(isObj(backups.postgres) ? backups.postgres : {}));
  if (typeof upgrade.database === 'string' && !pgBackups.has(upgrade.database)) issues.push({ path: ['upgrade', 'database'], message: `Unknown backup target "${upgrade.database}" (define it under backups.postgres)` });
  const fileSets = new Set(Object.keys(isObj(backups.files) ? backups.files : {}));
  list(upgrade.files).forEach((f, i) => {
    if (typeof f === 'string' && !fileSets.has(f)) issues.push({ path: ['upgrade', 'files', i], message: `Unknown files backup "${f}" (define it under backups.files)` });
  });
  for (const [rule, def] of entries(rules)) {
    list(isObj(def) ? def.schedules : undefined).forEach((m, i) => {
      const sched = typeof m === 'string' && /^schedule:(.+)$/.exec(m)?.[1];
      if (sched && !schedules.has(sched)) issues.push({ path: ['approvals', 'rules', rule, 'schedules', i], message: `Unknown schedule "${sched}" (define it under schedules)` });
    });
  }
  return issues;
}

export type Config = z.output<typeof configSchema>;
export type Thresholds = Config['health']['thresholds'];
export type Level = { warn: number; crit: number };
