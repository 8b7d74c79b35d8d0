import { worst, type Status } from '../core/report.ts';
import type { T } from '../i18n/index.ts';
import type { ContainerInfo } from '../targets/types.ts';
import type { Evaluate } from './types.ts';

export interface ContainerFacts {
  /** The compose project the target is narrowed to, if any. */
  project?: string;
  containers: ContainerInfo[];
}

interface Finding {
  status: Status;
  text: string;
}

/**
 * What is wrong with one container, as the manual's `docker-compose ps` would show it.
 * "Restarted recently" means running, started within the window, and stopped at least once
 * before: Docker's RestartCount only counts restarts by the restart policy, while FinishedAt is
 * set by any stop (a crash, `docker restart`, /restart). A container freshly created by
 * `docker-compose up` has never finished, so it is not flagged. State and health are Docker's
 * own words (exited, unhealthy) and stay as `docker ps` prints them.
 */
export function containerFinding(c: ContainerInfo, recentMs: number, now: number, t: T): Finding | null {
  if (c.state !== 'running') {
    const code = c.exitCode !== null ? t('checks:containers.exit_code', { code: c.exitCode }) : '';
    const restarts = c.state === 'restarting' && c.restartCount > 0 ? t('checks:containers.restarts_after', { count: c.restartCount }) : '';
    return { status: 'crit', text: t('checks:containers.not_running', { name: c.name, state: c.state, code, restarts }) };
  }
  if (c.health === 'unhealthy') return { status: 'crit', text: t('checks:containers.unhealthy', { name: c.name }) };
  if (c.health === 'starting') return { status: 'warn', text: t('checks:containers.starting', { name: c.name }) };
  const upMs = c.startedAt ? now - c.startedAt.getTime() : Infinity;
  if (upMs < recentMs && (c.restartCount > 0 || c.finishedAt !== null)) {
    const restarts = c.restartCount > 0 ? t('checks:containers.restarts', { count: c.restartCount }) : '';
    return { status: 'warn', text: t('checks:containers.restarted', { name: c.name, ago: t.duration(Math.max(upMs, 0)), restarts }) };
  }
  return null;
}

/** Left-aligned columns, like `docker-compose ps`. */
function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ').trimEnd());
}

function row(c: ContainerInfo, now: number, t: T): string[] {
  const state = c.exitCode !== null ? `${c.state} (${c.exitCode})` : c.state;
  const up = c.state === 'running' && c.startedAt ? t.duration(Math.max(now - c.startedAt.getTime(), 0)) : '-';
  return [c.name, c.service ?? '-', state, c.health ?? '-', t.number(c.restartCount), up, c.image];
}

// The columns of `docker-compose ps`, which operators know by these names.
const HEADER = ['NAME', 'SERVICE', 'STATE', 'HEALTH', 'RESTARTS', 'UP', 'IMAGE'];

export const evaluateContainers: Evaluate<ContainerFacts> = (name, where, f, { thresholds, t, now }) => {
  const list = f.containers;
  const running = list.filter((c) => c.state === 'running').length;
  const findings = list
    .map((c) => containerFinding(c, thresholds.container_recent_restart, now, t))
    .filter((x): x is Finding => x !== null)
    .sort((a, b) => (a.status === b.status ? 0 : a.status === 'crit' ? -1 : 1));
  let status: Status;
  let text: string;
  if (list.length === 0) {
    // With a project configured, no containers means the stack is down (docker-compose down).
    status = f.project ? 'crit' : 'warn';
    text = f.project ? t('checks:containers.none_of_project', { project: f.project }) : t('checks:containers.none');
  } else {
    status = worst(findings.map((x) => x.status));
    const count = t('checks:containers.running', { running: t.number(running), total: t.number(list.length) });
    text = findings.length
      ? t('checks:containers.findings', { findings: findings.map((x) => x.text).join(t('checks:separator')), count })
      : count;
  }
  return {
    lines: [{ name: t('checks:label.containers', { name }), status, text }],
    detail: {
      title: t('checks:containers.title', { name, where }),
      code: true,
      lines: list.length ? table([HEADER, ...list.map((c) => row(c, now, t))]) : [text],
    },
  };
};
