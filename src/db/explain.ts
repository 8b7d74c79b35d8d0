/**
 * EXPLAIN of one read-only statement (manual §3.1 查询优化), and its plan summarised costliest
 * step first. Everything runs in a READ ONLY transaction that is always rolled back; the plan is
 * checked for writes and row locks before ANALYZE runs anything.
 */
import { UserError } from '../core/errors.ts';
import { msg, type Msg, type T } from '../i18n/index.ts';
import type { PostgresExecutor } from '../targets/types.ts';
import { StatementRefused } from './statement.ts';
import { serverError } from './errors.ts';

/** A node of EXPLAIN (FORMAT JSON), with the keys used here. */
export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'CTE Name'?: string;
  'Function Name'?: string;
  Alias?: string;
  Operation?: string;
  'Startup Cost': number;
  'Total Cost': number;
  'Plan Rows': number;
  'Actual Total Time'?: number;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  // i18n-exempt: EXPLAIN's own key
  'Rows Removed by Filter'?: number;
  Filter?: string;
  'Index Cond'?: string;
  Plans?: PlanNode[];
}

export interface Explained {
  root: PlanNode;
  analyzed: boolean;
  planningMs?: number;
  executionMs?: number;
  /** EXPLAIN's whole output, as the server gave it. */
  json: unknown;
}

type Output = Array<{ Plan: PlanNode; 'Planning Time'?: number; 'Execution Time'?: number }>;

function output(rows: Array<Record<string, unknown>>): Output {
  const cell = Object.values(rows[0] ?? {})[0];
  return (typeof cell === 'string' ? JSON.parse(cell) : cell) as Output;
}

function* walk(node: PlanNode): Generator<PlanNode> {
  yield node;
  for (const child of node.Plans ?? []) yield* walk(child);
}

/** What in a plan makes it more than a read: a write (a data-modifying WITH) or row locks. */
export function planRefusal(root: PlanNode): Msg | undefined {
  for (const n of walk(root)) {
    if (n['Node Type'] === 'ModifyTable') return msg('db:explain.refused.writes', { found: (n.Operation ?? 'write').toUpperCase() });
    if (n['Node Type'] === 'LockRows') return msg('db:explain.refused.locks');
  }
  return undefined;
}

/**
 * Plans `sql` (already through checkReadOnly) and, with `analyze`, runs it, read-only and within
 * `timeoutMs`, then rolls back whatever happened.
 */
export async function explain(pg: PostgresExecutor, sql: string, opts: { analyze: boolean; timeoutMs: number; signal?: AbortSignal }): Promise<Explained> {
  try {
    return await pg.session(async (s) => {
      await s.query('begin transaction read only');
      try {
        const planned = output(await s.query(`explain (format json) ${sql}`, [], { single: true }));
        const refusal = planRefusal(planned[0].Plan);
        if (refusal) throw new StatementRefused(refusal);
        if (!opts.analyze) return { root: planned[0].Plan, analyzed: false, json: planned };
        const ran = output(await s.query(`explain (analyze, buffers, format json) ${sql}`, [], { single: true }));
        return { root: ran[0].Plan, analyzed: true, planningMs: ran[0]['Planning Time'], executionMs: ran[0]['Execution Time'], json: ran };
      } finally {
        await s.query('rollback').catch(() => {});
      }
    }, { statementTimeoutMs: opts.timeoutMs, lockTimeoutMs: opts.timeoutMs, signal: opts.signal });
  } catch (err) {
    if (err instanceof StatementRefused) throw new UserError(err.reason);
    throw serverError(err, { timeoutMs: opts.timeoutMs, setting: 'db.explain_timeout' });
  }
}

export interface Step {
  node: PlanNode;
  /** This node's own share, without its children's: cost units, or ms when analysed. */
  self: number;
  /** Of the whole plan's, 0–1. */
  share: number;
}

/** Cost (or time, when analysed) that is the node's own, not its children's. */
function own(node: PlanNode, analyzed: boolean): number {
  const total = (n: PlanNode) => (analyzed ? (n['Actual Total Time'] ?? 0) * (n['Actual Loops'] ?? 1) : n['Total Cost']);
  return Math.max(0, total(node) - (node.Plans ?? []).reduce((sum, c) => sum + total(c), 0));
}

/** The `n` steps that cost the most, costliest first. */
export function costliest(e: Explained, n = 5): Step[] {
  const nodes = [...walk(e.root)].map((node) => ({ node, self: own(node, e.analyzed) }));
  const whole = nodes.reduce((sum, x) => sum + x.self, 0) || 1;
  return nodes.sort((a, b) => b.self - a.self).slice(0, n).map((x) => ({ ...x, share: x.self / whole }));
}

/** "Index Scan using orders_pkey on orders o": the server's own words for the node. */
export function nodeName(n: PlanNode): string {
  const parts = [n['Node Type']];
  if (n['Index Name']) parts.push(`using ${n['Index Name']}`); // i18n-exempt: EXPLAIN's own wording
  const on = n['Relation Name'] ?? n['CTE Name'] ?? n['Function Name'];
  if (on) parts.push(`on ${on}${n.Alias && n.Alias !== on ? ` ${n.Alias}` : ''}`); // i18n-exempt: EXPLAIN's own wording
  return parts.join(' ');
}

/** One line per costly step, and a hint where the plan suggests one. */
export function stepLines(t: T, e: Explained, steps: Step[]): string[] {
  return steps.map((s, i) => {
    const n = s.node;
    const share = t.number(s.share * 100, { maximumFractionDigits: 0 });
    const figures = e.analyzed
      ? t('db:explain.step_analyzed', { ms: t.number(s.self, { maximumFractionDigits: 1 }), share, planned: t.number(n['Plan Rows']), actual: t.number(n['Actual Rows'] ?? 0), loops: t.number(n['Actual Loops'] ?? 1) })
      : t('db:explain.step', { cost: t.number(s.self, { maximumFractionDigits: 1 }), share, planned: t.number(n['Plan Rows']) });
    const cond = n['Index Cond'] ?? n.Filter;
    const lines = [`${i + 1}. ${nodeName(n)}: ${figures}${cond ? `\n     ${cond}` : ''}`];
    // i18n-exempt: EXPLAIN's own key
    const removed = n['Rows Removed by Filter'] ?? 0;
    const table = n['Relation Name'] ?? '';
    if (n['Node Type'] === 'Seq Scan' && n.Filter) {
      if (e.analyzed && removed >= 1000) lines.push(`   💡 ${t('db:explain.hint_index', { table, removed: t.number(removed) })}`);
      else if (!e.analyzed && n['Total Cost'] >= 1000) lines.push(`   💡 ${t('db:explain.hint_index_planned', { table })}`);
    }
    // An estimate ten times off either way: the planner chose with stale or too coarse statistics.
    const actual = n['Actual Rows'];
    const [lo, hi] = [Math.min(actual ?? 0, n['Plan Rows']), Math.max(actual ?? 0, n['Plan Rows'])];
    if (e.analyzed && table && actual !== undefined && hi >= 100 && hi / Math.max(lo, 1) >= 10) {
      lines.push(`   💡 ${t('db:explain.hint_stats', { table, planned: t.number(n['Plan Rows']), actual: t.number(actual) })}`);
    }
    return lines.join('\n');
  });
}
