import { z } from 'zod';
import { defineCommand } from '../../src/core/define-command.ts';
import { rotationReport } from '../../src/logs/rotation.ts';

export default defineCommand({
  // i18n-exempt: the command's name
  name: 'logs rotation',
  summary: 'logs:usage.rotation',
  usage: [{ syntax: '/logs rotation', note: 'logs:usage.rotation' }],
  args: z.object({}),
  run: (ctx) => rotationReport(ctx),
});
