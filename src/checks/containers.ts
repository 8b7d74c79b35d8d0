import { formatDuration } from '../config/duration.ts';
import { worst, type Status } from '../core/report.ts';
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
 * `docker-compose up` has never finished, so it is not flagged.
 */
export function containerFinding(c: ContainerInfo, recentMs: number, now: number): Finding | null {
  if (c.state !== 'running') {
    const code = c.exitCode !== null ? ` (code ${c.exitCode})` : '';
    const restarts = c.state === 'restarting' && c.restartCount > 0 ? `, ${c.restartCount} restarts` : '';
    return { status: 'crit', text: `${c.name} ${c.state}${code}${restarts}` };
  }
  if (c.health === 'unhealthy') return { status: 'crit', text: `${c.name} unhealthy` };
  if (c.health === 'starting') return { status: 'warn', text: `${c.name} health starting` };
  const upMs = c.startedAt ? now - c.startedAt.getTime() : Infinity;
  if (upMs < recentMs && (c.restartCount > 0 || c.finishedAt !== null)) {
    const count = c.restartCount > 0 ? ` (${c.restartCount} restarts)` : '';
    return { status: 'warn', text: `${c.name} restarted ${formatDuration(Math.max(upMs, 0))} ago${count}` };
  }
  return null;
}

/** Left-aligned columns, like `docker-compose ps`. */
function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ').trimEnd());
}

function row(c: ContainerInfo, now: number): string[] {
  const state = c.exitCode !== null ? `${c.state} (${c.exitCode})` : c.state;
  const up = c.state === 'running' && c.startedAt ? formatDuration(Math.max(now - c.startedAt.getTime(), 0)) : '-';
  return [c.name, c.service ?? '-', state, c.health ?? '-', String(c.restartCount), up, c.image];
}

/** Evaluated at a given time, so the rules can be checked without waiting for the clock. */
export function evaluateContainersAt(now: number): Evaluate<ContainerFacts> {
  return (name, where, f, t) => {
    const list = f.containers;
    const running = list.filter((c) => c.state === 'running').length;
    const findings = list
      .map((c) => containerFinding(c, t.container_recent_restart, now))
      .filter((x): x is Finding => x !== null)
      .sort((a, b) => (a.status === b.status ? 0 : a.status === 'crit' ? -1 : 1));
    let status: Status;
    let text: string;
    if (list.length === 0) {
      // With a project configured, no containers means the stack is down (docker-compose down).
      status = f.project ? 'crit' : 'warn';
      text = f.project ? `no containers of project ${f.project}` : 'no containers';
    } else {
      status = worst(findings.map((x) => x.status));
      const count = `${running}/${list.length} running`;
      text = findings.length ? `${findings.map((x) => x.text).join('; ')} (${count})` : count;
    }
    return {
      lines: [{ name: `containers ${name}`, status, text }],
      detail: {
        title: `Containers ${name} (${where})`,
        code: true,
        lines: list.length
          ? table([['NAME', 'SERVICE', 'STATE', 'HEALTH', 'RESTARTS', 'UP', 'IMAGE'], ...list.map((c) => row(c, now))])
          : [text],
      },
    };
  };
}

export const evaluateContainers: Evaluate<ContainerFacts> = (name, where, f, t) => evaluateContainersAt(Date.now())(name, where, f, t);
