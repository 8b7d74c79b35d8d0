import type { IncidentType } from './store.ts';

/**
 * The manual's emergency plans (§8), six steps each. Texts live in the catalogs under
 * `incidents:plan.<type>.<step>`; `commands` are what the bot offers for the step.
 */
export interface PlanStep {
  key: string;
  commands: string[];
}

export const PLANS: Record<IncidentType, { section: string; steps: PlanStep[] }> = {
  // 8.1 服务中断 · 应急响应
  outage: {
    section: '8.1',
    steps: [
      { key: 'scope', commands: ['/health', '/diagnose <service>'] },
      // i18n-exempt: command syntax, shown as typed
      { key: 'notify', commands: ['/incident role comms @user', '/incident update <text>'] },
      { key: 'start_plan', commands: ['/incident sev <sevN>'] },
      { key: 'recover', commands: ['/restart <service>', '/logs <service> errors'] },
      { key: 'analyse', commands: ['/logs <service> error', '/audit'] },
      { key: 'report', commands: ['/incident followup <text>', '/incident resolve <summary>'] },
    ],
  },
  // 8.2 数据丢失 · 恢复流程
  'data-loss': {
    section: '8.2',
    steps: [
      { key: 'assess', commands: ['/health postgres'] },
      { key: 'find_backup', commands: ['/backup list'] },
      { key: 'restore_db', commands: ['/restore <backup-id>'] },
      { key: 'verify', commands: ['/backup verify <backup-id>', '/health postgres'] },
      { key: 'resume', commands: ['/restart <service>', '/health'] },
      { key: 'notify_users', commands: ['/incident update <text>'] },
    ],
  },
  // 8.3 安全事件 · 处理流程
  security: {
    section: '8.3',
    steps: [
      { key: 'isolate', commands: ['/restart <service>'] },
      { key: 'evidence', commands: ['/logs <service> error', '/audit'] },
      { key: 'analyse', commands: ['/diagnose <service>'] },
      { key: 'fix', commands: [] },
      { key: 'recover', commands: ['/health'] },
      { key: 'harden', commands: ['/incident followup <text>'] },
    ],
  },
};

export const planStep = (type: IncidentType, key: string): PlanStep | undefined => PLANS[type].steps.find((s) => s.key === key);
