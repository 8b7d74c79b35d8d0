import { z } from 'zod';
import { defineCommand, type ExecContext } from '../../src/core/define-command.ts';
import type { Plan } from '../../src/approvals/plan.ts';
import { msg } from '../../src/i18n/index.ts';
import { backendSummary, findBackend, signalBackend, stillThere, waitFor } from '../../src/db/sessions.ts';
import { executor, guarded, pickTarget, targetArg } from '../../src/db/target.ts';
import { USAGE } from './usage.ts';

const usage = [USAGE.terminate];
// i18n-exempt: the command's name
const title = (pid: number) => `/db terminate ${pid}`;

export default defineCommand({
  // i18n-exempt: the command's name
  name: 'db terminate',
  summary: 'db:usage.terminate',
  usage,
  positionals: ['pid'],
  destructive: true,
  args: z.object({ pid: z.coerce.number().int().positive(), ...targetArg }),
  async plan(ctx): Promise<Plan> {
    const { name, pg } = pickTarget(ctx, usage);
    const b = await guarded(ctx.config, name, findBackend(pg, ctx.args.pid, usage));
    return {
      summary: backendSummary('terminate', b),
      steps: [`select pg_terminate_backend(${b.pid})`, msg('db:terminate.step_wait')],
      risk: 'medium',
      riskNote: msg(b.in_tx ? 'db:terminate.risk_tx' : 'db:terminate.risk', { app: b.app ?? '-' }),
      target: { target: name, pid: b.pid, started: b.started },
    };
  },
  /** The very session that was approved: a pid the server has given to a newer session is not it. */
  async precheck(ctx: ExecContext, plan: Plan) {
    const pg = executor(ctx.targets, String(plan.target.target));
    return (await stillThere(pg, Number(plan.target.pid), String(plan.target.started))) ? undefined : msg('db:session.gone', { pid: plan.target.pid });
  },
  async execute(ctx: ExecContext, plan: Plan) {
    const { t } = ctx;
    const pg = executor(ctx.targets, String(plan.target.target));
    const pid = Number(plan.target.pid);
    const started = String(plan.target.started);
    await ctx.progress(t('db:terminate.progress', { pid }));
    const sent = await signalBackend(pg, 'terminate', pid, started);
    if (!sent) return { title: title(pid), status: 'warn', summary: t('db:session.gone', { pid }) };
    const after = await waitFor(pg, pid, started, 5000, (b) => !b);
    return after
      ? { title: title(pid), status: 'crit', summary: t('db:terminate.still_there', { pid }) }
      : { title: title(pid), status: 'ok', summary: t('db:terminate.done', { pid }) };
  },
});
