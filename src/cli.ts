import { parseArgs } from 'node:util';
import { loadConfigFile, loadConfig, ConfigError } from './config/load.ts';
import { runConsole } from './console/console.ts';
import { commandNames, startBot, transportFromEnv } from './main.ts';
import { createLogger } from './core/log.ts';

const USAGE = `usage: opsbot <command>
  start                 run the bot: Slack over HTTP (SLACK_SIGNING_SECRET + SLACK_BOT_TOKEN),
                        Socket Mode (SLACK_APP_TOKEN + SLACK_BOT_TOKEN), or the console without them
  console [--as U…]     the local console, even when Slack variables are set
  check-config [file]   validate a config file (default: OPSBOT_CONFIG or config/opsbot.yaml)`;

const SLACK_VARIABLES = ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN'];

/** Why `start` opened the console: a newcomer who expected Slack learns what is missing. */
function consoleReason(env: NodeJS.ProcessEnv): string {
  const set = SLACK_VARIABLES.filter((name) => env[name]);
  const needs = 'SLACK_BOT_TOKEN with SLACK_SIGNING_SECRET (HTTP) or with SLACK_APP_TOKEN (Socket Mode)';
  if (set.length === 0) return `Console mode: no Slack variables are set; Slack needs ${needs}.`;
  return `Console mode: only ${set.join(' and ')} ${set.length === 1 ? 'is' : 'are'} set; Slack needs ${needs}.`;
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: { as: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  const [cmd = 'start', file] = positionals;
  const env = process.env;
  if (values.help || cmd === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (cmd === 'check-config') {
    const loaded = file ? { config: loadConfigFile(file, env, commandNames()), source: file } : loadConfig(env, process.cwd(), commandNames());
    const { config, source } = loaded;
    const t = config.targets;
    console.log(`ok: ${source} is valid (${Object.keys(t.postgres).length} postgres, ${Object.keys(t.redis).length} redis, ${Object.keys(t.docker).length} docker, ${Object.keys(t.hosts).length} hosts, ${Object.keys(config.services).length} services)`);
    return 0;
  }
  const log = createLogger(env.LOG_LEVEL ?? (cmd === 'console' || !transportFromEnv(env) ? 'warn' : 'info'));
  const transport = transportFromEnv(env);
  if (cmd === 'console' || (cmd === 'start' && !transport)) {
    await runConsole({ env, user: values.as, log, reason: cmd === 'start' ? consoleReason(env) : undefined });
    return 0;
  }
  if (cmd !== 'start') {
    console.error(USAGE);
    return 2;
  }
  const bot = await startBot(env, transport!, log);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await bot.close();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError) console.error(`opsbot: invalid config ${err.message}`);
    else console.error(`opsbot: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  },
);
