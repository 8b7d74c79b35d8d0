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
  const { readdirSync } = await import('node:fs');
  const files = readdirSync(new URL('../../commands/', import.meta.url)).filter((f) => f.endsWith('.ts') && f !== 'index.ts');
  const names = commands.map((c) => `${c.name}.ts`).sort();
  assert.deepEqual(files.sort(), names);
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
