import type { AnyCommand } from '../src/core/define-command.ts';
import health from './health.ts';
import ops from './ops.ts';

/** Every slash command, in help order. manifest.yml must list exactly these. */
export const commands: AnyCommand[] = [health, ops];
