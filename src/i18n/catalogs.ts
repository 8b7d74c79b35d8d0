// The message catalogs, one JSON file per namespace and locale. Imported statically so that the
// bundle carries them; a test checks that both locales have the same keys and placeholders.
import enAlerts from './en/alerts.json' with { type: 'json' };
import enApprovals from './en/approvals.json' with { type: 'json' };
import enAudit from './en/audit.json' with { type: 'json' };
import enBackup from './en/backup.json' with { type: 'json' };
import enCache from './en/cache.json' with { type: 'json' };
import enCapacity from './en/capacity.json' with { type: 'json' };
import enFiles from './en/files.json' with { type: 'json' };
import enRestore from './en/restore.json' with { type: 'json' };
import enChecks from './en/checks.json' with { type: 'json' };
import enChecklists from './en/checklists.json' with { type: 'json' };
import enCommon from './en/common.json' with { type: 'json' };
import enConsole from './en/console.json' with { type: 'json' };
import enCore from './en/core.json' with { type: 'json' };
import enDb from './en/db.json' with { type: 'json' };
import enDiagnose from './en/diagnose.json' with { type: 'json' };
import enHealth from './en/health.json' with { type: 'json' };
import enIncidents from './en/incidents.json' with { type: 'json' };
import enLifecycle from './en/lifecycle.json' with { type: 'json' };
import enLogs from './en/logs.json' with { type: 'json' };
import enOps from './en/ops.json' with { type: 'json' };
import enMaintenance from './en/maintenance.json' with { type: 'json' };
import enMetrics from './en/metrics.json' with { type: 'json' };
import enPerf from './en/perf.json' with { type: 'json' };
import enRestart from './en/restart.json' with { type: 'json' };
import enSchedule from './en/schedule.json' with { type: 'json' };
import enSecurity from './en/security.json' with { type: 'json' };
import enSecrets from './en/secrets.json' with { type: 'json' };
import enSlack from './en/slack.json' with { type: 'json' };
import enTargets from './en/targets.json' with { type: 'json' };
import enUpgrade from './en/upgrade.json' with { type: 'json' };
import zhAlerts from './zh-CN/alerts.json' with { type: 'json' };
import zhApprovals from './zh-CN/approvals.json' with { type: 'json' };
import zhAudit from './zh-CN/audit.json' with { type: 'json' };
import zhBackup from './zh-CN/backup.json' with { type: 'json' };
import zhCache from './zh-CN/cache.json' with { type: 'json' };
import zhCapacity from './zh-CN/capacity.json' with { type: 'json' };
import zhFiles from './zh-CN/files.json' with { type: 'json' };
import zhRestore from './zh-CN/restore.json' with { type: 'json' };
import zhChecks from './zh-CN/checks.json' with { type: 'json' };
import zhChecklists from './zh-CN/checklists.json' with { type: 'json' };
import zhCommon from './zh-CN/common.json' with { type: 'json' };
import zhConsole from './zh-CN/console.json' with { type: 'json' };
import zhCore from './zh-CN/core.json' with { type: 'json' };
import zhDb from './zh-CN/db.json' with { type: 'json' };
import zhDiagnose from './zh-CN/diagnose.json' with { type: 'json' };
import zhHealth from './zh-CN/health.json' with { type: 'json' };
import zhIncidents from './zh-CN/incidents.json' with { type: 'json' };
import zhLifecycle from './zh-CN/lifecycle.json' with { type: 'json' };
import zhLogs from './zh-CN/logs.json' with { type: 'json' };
import zhOps from './zh-CN/ops.json' with { type: 'json' };
import zhMaintenance from './zh-CN/maintenance.json' with { type: 'json' };
import zhMetrics from './zh-CN/metrics.json' with { type: 'json' };
import zhPerf from './zh-CN/perf.json' with { type: 'json' };
import zhRestart from './zh-CN/restart.json' with { type: 'json' };
import zhSchedule from './zh-CN/schedule.json' with { type: 'json' };
import zhSecurity from './zh-CN/security.json' with { type: 'json' };
import zhSecrets from './zh-CN/secrets.json' with { type: 'json' };
import zhSlack from './zh-CN/slack.json' with { type: 'json' };
import zhTargets from './zh-CN/targets.json' with { type: 'json' };
import zhUpgrade from './zh-CN/upgrade.json' with { type: 'json' };

export type Catalog = Record<string, unknown>;

export const CATALOGS: Record<'en' | 'zh-CN', Record<string, Catalog>> = {
  en: {
    alerts: enAlerts, approvals: enApprovals, audit: enAudit, backup: enBackup, cache: enCache, capacity: enCapacity, files: enFiles, restore: enRestore, checks: enChecks, checklists: enChecklists, common: enCommon, console: enConsole, core: enCore, db: enDb,
    diagnose: enDiagnose, health: enHealth, incidents: enIncidents, lifecycle: enLifecycle, logs: enLogs, maintenance: enMaintenance, metrics: enMetrics, ops: enOps, perf: enPerf, restart: enRestart,
    schedule: enSchedule, security: enSecurity, secrets: enSecrets, slack: enSlack, targets: enTargets, upgrade: enUpgrade,
  },
  'zh-CN': {
    alerts: zhAlerts, approvals: zhApprovals, audit: zhAudit, backup: zhBackup, cache: zhCache, capacity: zhCapacity, files: zhFiles, restore: zhRestore, checks: zhChecks, checklists: zhChecklists, common: zhCommon, console: zhConsole, core: zhCore, db: zhDb,
    diagnose: zhDiagnose, health: zhHealth, incidents: zhIncidents, lifecycle: zhLifecycle, logs: zhLogs, maintenance: zhMaintenance, metrics: zhMetrics, ops: zhOps, perf: zhPerf, restart: zhRestart,
    schedule: zhSchedule, security: zhSecurity, secrets: zhSecrets, slack: zhSlack, targets: zhTargets, upgrade: zhUpgrade,
  },
};
