import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { commands } from '../../commands/index.ts';

const manifest = parse(readFileSync(new URL('../../manifest.yml', import.meta.url), 'utf8'));

test('manifest slash commands are exactly the commands in commands/', () => {
  const inManifest = manifest.features.slash_commands.map((c: { command: string }) => c.command).sort();
  const defined = commands.map((c) => `/${c.name}`).sort();
  assert.deepEqual(inManifest, defined);
});

test('every command file in commands/ is registered in commands/index.ts', async () => {
  const { existsSync, readdirSync } = await import('node:fs');
  const dir = new URL('../../commands/', import.meta.url);
  // A command is a file (health.ts), or a directory of its subcommands with an index.ts (incident/).
  const defined = readdirSync(dir, { withFileTypes: true })
    .filter((e) => (e.isFile() && e.name.endsWith('.ts') && e.name !== 'index.ts') || (e.isDirectory() && existsSync(new URL(`${e.name}/index.ts`, dir))))
    .map((e) => e.name.replace(/\.ts$/, ''));
  assert.deepEqual(defined.sort(), commands.map((c) => c.name).sort());
});

test('manifest is a valid app manifest for commands and interactivity', () => {
  const url = manifest.settings.interactivity.request_url;
  assert.equal(manifest.settings.interactivity.is_enabled, true);
  assert.equal(typeof manifest.settings.socket_mode_enabled, 'boolean');
  assert.match(url, /^https:\/\/.+\/slack\/events$/);
  for (const c of manifest.features.slash_commands) {
    assert.match(c.command, /^\/[a-z0-9_-]{1,31}$/);
    assert.equal(c.url, url, `${c.command} posts to the same endpoint as interactivity`);
    assert.ok(c.description.length > 0 && c.description.length <= 100, `${c.command} description length`);
  }
  const scopes: string[] = manifest.oauth_config.scopes.bot;
  for (const s of ['commands', 'chat:write', 'usergroups:read']) assert.ok(scopes.includes(s), `scope ${s}`);
  assert.ok(manifest.display_information.name.length <= 35);
});

// The bot scopes the app asks for, and no others (each one is explained in docs/slack-setup.md).
const SCOPES = [
  'commands',
  'chat:write',
  'chat:write.public',
  'usergroups:read',
  'files:write',
  'users:read',
  'channels:manage',
  'channels:history',
  'pins:write',
  'reactions:read',
];

// Slack refuses a manifest that subscribes to an event without the scope the event needs.
const EVENT_SCOPES: Record<string, string | undefined> = {
  app_home_opened: undefined,
  reaction_added: 'reactions:read',
};

test('manifest asks for exactly the scopes the features use', () => {
  assert.deepEqual([...manifest.oauth_config.scopes.bot].sort(), [...SCOPES].sort());
});

test('every subscribed event is known here, and its scope is granted', () => {
  const scopes: string[] = manifest.oauth_config.scopes.bot;
  for (const event of manifest.settings.event_subscriptions.bot_events as string[]) {
    assert.ok(event in EVENT_SCOPES, `${event}: add it to EVENT_SCOPES with the scope Slack requires for it`);
    const needed = EVENT_SCOPES[event];
    if (needed) assert.ok(scopes.includes(needed), `${event} needs ${needed}`);
  }
  assert.equal(manifest.settings.event_subscriptions.request_url, manifest.settings.interactivity.request_url);
});

test('slash command fields stay within Slack\'s manifest schema', () => {
  for (const c of manifest.features.slash_commands) {
    assert.equal(typeof c.should_escape, 'boolean', `${c.command} should_escape`);
    if (c.usage_hint !== undefined) assert.ok(c.usage_hint.length > 0 && c.usage_hint.length <= 1000, `${c.command} usage_hint length`);
  }
  // /incident role @user needs the user's id, which Slack only sends when it escapes mentions.
  const incident = manifest.features.slash_commands.find((c: { command: string }) => c.command === '/incident');
  assert.ok(incident, '/incident is in the manifest');
  assert.equal(incident.should_escape, true);
});

test('docs/slack-setup.md explains every scope and event', () => {
  const doc = readFileSync(new URL('../../docs/slack-setup.md', import.meta.url), 'utf8');
  for (const name of [...manifest.oauth_config.scopes.bot, ...manifest.settings.event_subscriptions.bot_events]) {
    assert.ok(doc.includes(`\`${name}\``), `${name} is not explained in docs/slack-setup.md`);
  }
});
