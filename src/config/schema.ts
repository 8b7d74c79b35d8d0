import { z } from 'zod';
import { duration } from './duration.ts';

/** Slack IDs: users (U…/W…), user groups (S…), channels (C…/G…/D…). */
const slackUserOrGroup = z.string().regex(/^[UWS][A-Z0-9]+$/, 'Expected a Slack user ID (U…) or user-group ID (S…)');
const slackChannel = z.string().regex(/^[CGD][A-Z0-9]+$/, 'Expected a Slack channel ID (C…)');
const name = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'Use lowercase letters, digits, "-" and "_"');

const level = (warn: number, crit: number) =>
  z.object({ warn: z.number().nonnegative().default(warn), crit: z.number().nonnegative().default(crit) })
    .refine((t) => t.crit >= t.warn, { message: 'crit must be >= warn' })
    .default({ warn, crit });

const durationLevel = (warn: string, crit: string) =>
  z.object({ warn: duration.prefault(warn), crit: duration.prefault(crit) })
    .refine((t) => t.crit >= t.warn, { message: 'crit must be >= warn' })
    .prefault({ warn, crit });

const postgresTarget = z.object({
  url: z.url({ protocol: /^postgres(ql)?$/, error: 'Invalid URL (expected postgres://user@host:port/db)' }),
  timeout: duration.optional(),
});
const redisTarget = z.object({
  url: z.url({ protocol: /^rediss?$/, error: 'Invalid URL (expected redis://host:port/db)' }),
  timeout: duration.optional(),
});
const dockerTarget = z.object({
  socket: z.string().default('/var/run/docker.sock'),
  project: z.string().optional(),
  timeout: duration.optional(),
});
const hostTarget = z.object({
  address: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(22),
  user: z.string().min(1),
  privateKeyFile: z.string().optional(),
  privateKey: z.string().optional(),
  hostKey: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/, 'Expected a host key fingerprint like SHA256:… (ssh-keygen -lf)'),
  timeout: duration.optional(),
}).refine((h) => h.privateKeyFile || h.privateKey, { message: 'Set privateKeyFile or privateKey' });

const service = z.object({
  docker: name.optional(),
  container: z.string().optional(),
  host: name.optional(),
  port: z.number().int().min(1).max(65535).optional(),
  logs: z.object({ app: z.string().optional(), error: z.string().optional() }).prefault({}),
});

/** A permission is either a list of roles or { roles, channels }; both mean "who may, and where". */
const permission = z.union([
  z.array(name).transform((roles) => ({ roles, channels: [] as string[] })),
  z.object({ roles: z.array(name).default([]), channels: z.array(slackChannel).default([]) }),
]);

export const configSchema = z.object({
  locale: z.enum(['en', 'zh-CN']).default('en'),
  channels: z.object({
    ops: slackChannel.optional(),
    approvals: slackChannel.optional(),
    incidents: slackChannel.optional(),
  }).prefault({}),
  roles: z.record(name, z.array(slackUserOrGroup)).default({}),
  permissions: z.record(name, permission).default({}),
  rate_limit: z.object({
    enabled: z.boolean().default(true),
    requests_per_minute: z.number().int().positive().default(60),
  }).prefault({}),
  health: z.object({
    timeout: duration.prefault('5s'),
    thresholds: z.object({
      latency_ms: level(200, 1000),
      disk_percent: level(80, 90),
      memory_percent: level(85, 95),
      load_per_core: level(1, 2),
      pg_connections_percent: level(80, 95),
      pg_longest_transaction: durationLevel('5m', '30m'),
      redis_memory_percent: level(80, 95),
      redis_evicted_keys: level(1, 10000),
    }).prefault({}),
  }).prefault({}),
  targets: z.object({
    local: z.boolean().default(true),
    postgres: z.record(name, postgresTarget).default({}),
    redis: z.record(name, redisTarget).default({}),
    docker: z.record(name, dockerTarget).default({}),
    hosts: z.record(name, hostTarget).default({}),
  }).prefault({}),
  services: z.record(name, service).default({}),
  approvals: z.object({
    ttl: duration.prefault('30m'),
    rules: z.record(name, z.object({ approvers: z.array(name).min(1), count: z.number().int().positive().default(1) })).default({}),
  }).prefault({}),
  backups: z.object({ dir: z.string().default('/backup/postgresql'), retention_days: z.number().int().positive().default(7) }).prefault({}),
}).strict().superRefine((cfg, ctx) => {
  // Cross-references: every name used must be defined, reported at the path where it is used.
  const roles = new Set(Object.keys(cfg.roles));
  for (const [cmd, perm] of Object.entries(cfg.permissions)) {
    perm.roles.forEach((r, i) => {
      if (!roles.has(r)) ctx.addIssue({ code: 'custom', path: ['permissions', cmd, i], message: `Unknown role "${r}" (define it under roles)` });
    });
  }
  for (const [rule, def] of Object.entries(cfg.approvals.rules)) {
    def.approvers.forEach((r, i) => {
      if (!roles.has(r)) ctx.addIssue({ code: 'custom', path: ['approvals', 'rules', rule, 'approvers', i], message: `Unknown role "${r}" (define it under roles)` });
    });
  }
  for (const [svc, def] of Object.entries(cfg.services)) {
    if (def.docker && !cfg.targets.docker[def.docker]) ctx.addIssue({ code: 'custom', path: ['services', svc, 'docker'], message: `Unknown docker target "${def.docker}"` });
    if (def.host && !cfg.targets.hosts[def.host]) ctx.addIssue({ code: 'custom', path: ['services', svc, 'host'], message: `Unknown host "${def.host}"` });
  }
});

export type Config = z.output<typeof configSchema>;
export type Thresholds = Config['health']['thresholds'];
export type Level = { warn: number; crit: number };
