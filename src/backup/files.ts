/** /backup files (manual §2.3): placeholder until the archive job lands. */
import { z } from 'zod';
import { defineCommand } from '../core/define-command.ts';
import { UserError } from '../core/errors.ts';
import { msg } from '../i18n/index.ts';

export const filesCommand = defineCommand({
  // i18n-exempt: the command's name
  name: 'backup files',
  summary: 'backup:usage.files',
  permission: 'backup',
  usage: [{ syntax: '/backup files [name]', note: 'backup:usage.files' }],
  positionals: ['name'],
  args: z.object({ name: z.string().optional() }),
  async run() {
    throw new UserError(msg('backup:errors.unavailable'));
  },
});
