/**
 * The baseline: a bare Bolt app whose /health listener only acks. Same HTTP receiver
 * (Bolt's default, signature checked), same endpoint, no work after the ack.
 * Env: SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN, SLACK_API_URL.
 */
import type { Server } from 'node:http';
import { App, LogLevel } from '@slack/bolt';
import { serveParent } from './lib/child.ts';

const app = new App({
  signingSecret: process.env.SLACK_SIGNING_SECRET!,
  token: process.env.SLACK_BOT_TOKEN!,
  botId: 'B0BOT',
  botUserId: 'U0BOT',
  tokenVerificationEnabled: false,
  logLevel: LogLevel.ERROR,
  clientOptions: { slackApiUrl: process.env.SLACK_API_URL },
});
app.command('/health', async ({ ack }) => {
  await ack();
});

const server = (await app.start({ port: 0, host: '127.0.0.1' })) as Server;
const addr = server.address();
const port = typeof addr === 'object' && addr ? addr.port : 0;

serveParent({ port, url: `http://127.0.0.1:${port}` }, {}, async () => {
  await app.stop();
});
