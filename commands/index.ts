import type { AnyCommand } from '../src/core/define-command.ts';
import alerts from './alerts.ts';
import approvals from './approvals.ts';
import audit from './audit.ts';
import backup from './backup.ts';
import db from './db.ts';
import cache from './cache.ts';
import capacity from './capacity.ts';
import checklist from './checklist.ts';
import diagnose from './diagnose.ts';
import health from './health.ts';
import incident from './incident/index.ts';
import logs from './logs.ts';
import maintenance from './maintenance.ts';
import metrics from './metrics.ts';
import ops from './ops.ts';
import perf from './perf.ts';
import restart from './restart.ts';
import restore from './restore.ts';
import rollback from './rollback.ts';
import security from './security.ts';
import secrets from './secrets.ts';
import schedule from './schedule.ts';
import silences from './silences.ts';
import upgrade from './upgrade.ts';
import versions from './versions.ts';

/** Every slash command, in help order. manifest.yml must list exactly these. */
export const commands: AnyCommand[] = [health, capacity, logs, diagnose, perf, restart, backup, restore, upgrade, rollback, versions, db, cache, maintenance, security, secrets, checklist, incident, alerts, silences, metrics, approvals, audit, schedule, ops];
