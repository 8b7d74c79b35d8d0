/** Small commands for test/unit/dispatch.test.ts: each exercises one path through the dispatcher. */
import { z } from 'zod';
import { defineCommand, type AnyCommand } from '../../src/core/define-command.ts';
import { UserError } from '../../src/core/errors.ts';
import type { GroupResolver } from '../../src/core/rbac.ts';

/** How many times each command's run() was entered. */
export const runs = new Map<string, number>();
const counted = (name: string) => runs.set(name, (runs.get(name) ?? 0) + 1);

export const echo = defineCommand({
  name: 'echo',
  summary: 'Echoes its arguments',
  usage: ['/echo <backend|celery> [--lines N]'],
  positionals: ['service'],
  args: z.object({ service: z.enum(['backend', 'celery']), lines: z.coerce.number().int().positive().default(10) }),
  async run(ctx) {
    counted('echo');
    return { title: 'echo', status: 'info', summary: `${ctx.args.service} ${ctx.args.lines} by ${ctx.user} in ${ctx.channel}` };
  },
});
export const boom = defineCommand({
  name: 'boom',
  summary: 'Fails inside',
  usage: ['/boom'],
  args: z.object({ how: z.enum(['error', 'string', 'user']).default('error') }),
  async run(ctx) {
    counted('boom');
    if (ctx.args.how === 'user') throw new UserError('Nothing to do here.', { usage: ['/boom --how user'] });
    if (ctx.args.how === 'string') throw 'a bare string';
    throw new Error('connect ECONNREFUSED postgres://ops:hunter2@10.0.0.9/mitong_devops');
  },
});
export const warnme = defineCommand({
  name: 'warnme',
  summary: 'Reports a warning',
  usage: ['/warnme'],
  args: z.object({}),
  visibility: 'ephemeral',
  async run() {
    counted('warnme');
    return { title: 'warn', status: 'warn' };
  },
});
export const tail = defineCommand({
  name: 'tail',
  summary: 'Read-only, but restricted to operators',
  usage: ['/tail'],
  args: z.object({}),
  async run() {
    counted('tail');
    return { title: 'tailed', status: 'ok' };
  },
});
// Destructive commands go through plan and approval once allowed; these tests only look at who is allowed.
export const restart = defineCommand({
  name: 'restart',
  summary: 'Destructive, granted to operators',
  usage: ['/restart'],
  args: z.object({}),
  destructive: true,
  async run() {
    counted('restart');
    return { title: 'restarted', status: 'ok' };
  },
});
export const nuke = defineCommand({
  name: 'nuke',
  summary: 'Destructive, no permission entry',
  usage: ['/nuke'],
  args: z.object({}),
  destructive: true,
  async run() {
    counted('nuke');
    return { title: 'nuked', status: 'ok' };
  },
});
export const warroom = defineCommand({
  name: 'warroom',
  summary: 'Only in the incident channel',
  usage: ['/warroom'],
  args: z.object({}),
  async run() {
    counted('warroom');
    return { title: 'warroom', status: 'ok' };
  },
});
export const whoami = defineCommand({
  name: 'whoami',
  summary: 'Lists what the caller may run',
  usage: ['/whoami'],
  args: z.object({}),
  async run(ctx) {
    const mine = await ctx.allowedCommands();
    return { title: 'whoami', status: 'info', summary: mine.map((c) => c.name).join(',') };
  },
});
export const ALL: AnyCommand[] = [echo, boom, warnme, tail, restart, nuke, warroom, whoami];

export const CONFIG = {
  roles: { operator: ['U0OP', 'S0ONCALL'], admin: ['U0ADMIN'] },
  permissions: { tail: ['operator'], restart: ['operator'], warroom: { channels: ['C0WAR'] } },
};

export const okGroups: GroupResolver = async (g) => (g === 'S0ONCALL' ? ['U0GROUPIE'] : []);
