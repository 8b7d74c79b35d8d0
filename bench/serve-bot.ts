/**
 * opsbot itself, started exactly as `npm start` would over HTTP: startBot(env, { kind: 'http' }).
 * Configured through the environment (SLACK_*, OPSBOT_CONFIG, DATABASE_URL, PORT, HOST).
 * `idle` resolves once every command accepted so far has finished its work after the ack
 * (checks run, reply posted or its shared report updated, audit row written), and returns how long that took.
 */
import { performance } from 'node:perf_hooks';
import { createLogger } from '../src/core/log.ts';
import { startBot } from '../src/main.ts';
import { serveParent } from './lib/child.ts';

const env = { ...process.env, PORT: process.env.PORT ?? '0', HOST: process.env.HOST ?? '127.0.0.1' };
const bot = await startBot(env, { kind: 'http' }, createLogger(process.env.LOG_LEVEL ?? 'silent'));

serveParent(
  { port: bot.port!, url: `http://127.0.0.1:${bot.port}` },
  {
    async idle() {
      const started = performance.now();
      await bot.idle();
      return performance.now() - started;
    },
  },
  () => bot.close(),
);
