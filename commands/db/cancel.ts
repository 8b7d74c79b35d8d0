import { z } from 'zod';
import { defineCommand, type ExecContext } from '../../src/core/define-command.ts';
import type { Plan } from '../../src/approvals/plan.ts';
import { msg } from '../../src/i18n/index.ts';
import { backendSummary, findBackend, signalBackend, stillThere, waitFor } from '../../src/db/sessions.ts';
import { executor, guarded, pickTarget, targetArg } from '../../src/db/target.ts';
import { USAGE } from './usage.ts';

const usage = [USAGE.cancel];
// i18n-exempt: the command's name
const title = (pid: number) => `/db cancel ${pid}`;

export default defineCommand({
  // i18n-exempt: the command's name
  name: 'db cancel',
  summary: 'db:usage.cancel',
  usage,
  positionals: ['pid'],
  // It acts at once, without a vote, so it is a job with a grant of its own; the job's request
  // row is written, and audited, before the signal is sent.
  job: true,
  restricted: true,
  args: z.object({ pid: z.coerce.number().int().positive(), ...targetArg }),
  async plan(ctx): Promise<Plan> {
    const { name, pg } = pickTarget(ctx, usage);
    const b = await guarded(ctx.config, name, findBackend(pg, ctx.args.pid, usage));
    return {
      summary: backendSummary('cancel', b),
      steps: [`select pg_cancel_backend(${b.pid})`, msg('db:cancel.step_keep')],
      risk: 'low',
      target: { target: name, pid: b.pid, started: b.started },
    };
  },
  async precheck(ctx: ExecContext, plan: Plan) {
    const pg = executor(ctx.targets, String(plan.target.target));
    return (await stillThere(pg, Number(plan.target.pid), String(plan.target.started))) ? undefined : msg('db:session.gone', { pid: plan.target.pid });
  },
  async execute(ctx: ExecContext, plan: Plan) {
    const { t } = ctx;
    const pg = executor(ctx.targets, String(plan.target.target));
    const pid = Number(plan.target.pid);
    const started = String(plan.target.started);
    const before = await stillThere(pg, pid, started);
    await ctx.progress(t('db:cancel.progress', { pid }));
    const sent = await signalBackend(pg, 'cancel', pid, started);
    if (!sent) return { title: title(pid), status: 'warn', summary: t('db:session.gone', { pid }) };
    // A cancelled query ends within moments; an idle session had nothing to cancel.
    const after = await waitFor(pg, pid, started, 3000, (b) => !b || b.state !== 'active' || b.query !== before?.query);
    const summary = !after
      ? t('db:cancel.ended', { pid })
      : after.state === 'active' && after.query === before?.query
        ? t('db:cancel.still_running', { pid })
        : t('db:cancel.done', { pid, state: after.state ?? '?' });
    return { title: title(pid), status: after?.state === 'active' && after.query === before?.query ? 'warn' : 'ok', summary };
  },
});
