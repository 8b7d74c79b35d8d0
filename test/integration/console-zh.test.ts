/**
 * The console in Chinese: `:lang zh-CN` switches the replies and the console's own notes, read
 * from a pipe as a script would. Expected texts come from the catalogs through the translator,
 * so the test follows the wording and checks that it is the Chinese one that is shown.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { commands } from '../../commands/index.ts';
import { formatUsage } from '../../src/core/usage.ts';
import { translator } from '../../src/i18n/index.ts';
import { scaled } from '../helpers/wait.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
// Starting the console bundles the code and opens embedded PostgreSQL: a hang guard, not a goal.
const CONSOLE_LIMIT = scaled(180_000);

function run(input: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('npm', ['start', '--silent'], { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

test(':lang zh-CN: /ops help, a usage error, :help and the notes are in Chinese', { timeout: CONSOLE_LIMIT }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'opsbot-console-zh-'));
  const config = join(dir, 'opsbot.yaml');
  // Nothing to reach: the replies under test need no server.
  writeFileSync(config, stringify({ targets: { local: false } }));
  const script = ['/ops help', ':lang zh-CN', '/ops help', '/health --bogus', ':help', '42', 'hello', ':lang en', '/health --bogus', ''].join('\n');
  const res = await run(script, { OPSBOT_CONFIG: config, OPSBOT_DATA_DIR: join(dir, 'data') });
  assert.equal(res.code, 0, res.stderr);
  const zh = translator('zh-CN');
  const en = translator('en');
  // The output in three parts: before :lang zh-CN, in Chinese, and after :lang en.
  const [before, rest] = splitAt(res.stdout, zh('console:only_you'));
  const [chinese, after] = splitAt(rest, `${en('console:only_you')} `);

  // Before the switch, the config's language (English); the Chinese texts appear only after it.
  assert.ok(before.includes(en('ops:intro')), before);
  assert.ok(!before.includes(zh('ops:intro')), before);

  // /ops help: title, intro and footer, and each listed command's summary and usage in Chinese.
  for (const text of [zh('ops:title'), zh('ops:intro'), zh('ops:footer'), zh('console:only_you')]) {
    assert.ok(chinese.includes(text), `${JSON.stringify(text)} in:\n${chinese}`);
  }
  for (const text of [en('ops:intro'), en('ops:footer'), en('console:only_you')]) assert.ok(!chinese.includes(text), `${JSON.stringify(text)} in:\n${chinese}`);
  const listed = commands.filter((c) => chinese.includes(`/${c.name}: `));
  assert.deepEqual(['audit', 'health', 'ops'].filter((n) => !listed.some((c) => c.name === n)), [], `read-only commands are listed:\n${chinese}`);
  for (const c of listed) {
    assert.ok(chinese.includes(`/${c.name}: ${zh(c.summary)}`), `/${c.name}'s summary in Chinese:\n${chinese}`);
    for (const line of formatUsage(c.usage, zh)) assert.ok(chinese.includes(line), `${JSON.stringify(line)} in:\n${chinese}`);
  }

  // The usage error: the reason, the "Usage" heading and /health's usage lines, in Chinese.
  const health = commands.find((c) => c.name === 'health')!;
  const unknown = zh('core:args.unknown_option', { flag: '--bogus' });
  assert.ok(chinese.includes(unknown), `${JSON.stringify(unknown)} in:\n${chinese}`);
  assert.ok(chinese.includes(zh('core:usage.title')), chinese);
  for (const line of formatUsage(health.usage, zh)) assert.ok(chinese.includes(line), line);
  assert.ok(!chinese.includes(en('core:args.unknown_option', { flag: '--bogus' })), chinese);

  // The console's own words: :help lists :lang, "no button" and "not a command".
  assert.ok(chinese.includes(zh('console:help.intro')), chinese);
  assert.match(chinese, new RegExp(`^ {2}:lang zh-CN +${esc(zh('console:help.lang'))}$`, 'm'));
  assert.ok(chinese.includes(zh('console:no_button', { n: '42' })), chinese);
  assert.ok(chinese.includes(zh('console:not_a_command', { line: 'hello' })), chinese);

  // :lang en switches back.
  assert.ok(after.includes(en('core:args.unknown_option', { flag: '--bogus' })), after);
  assert.ok(!after.includes(unknown), after);

  // The notes (stderr from a pipe) say each switch in the language switched to.
  assert.ok(res.stderr.includes(zh('console:lang.set', { locale: 'zh-CN' })), res.stderr);
  assert.ok(res.stderr.includes(en('console:lang.set', { locale: 'en' })), res.stderr);
  assert.ok(!res.stdout.includes(zh('console:lang.set', { locale: 'zh-CN' })), 'notes stay off stdout');
});

test('config locale zh-CN: the console greets in Chinese; :lang rejects an unknown language', { timeout: CONSOLE_LIMIT }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'opsbot-console-zh-'));
  const config = join(dir, 'opsbot.yaml');
  writeFileSync(config, stringify({ locale: 'zh-CN', targets: { local: false } }));
  const data = join(dir, 'data');
  const res = await run(':lang klingon\n', { OPSBOT_CONFIG: config, OPSBOT_DATA_DIR: data });
  assert.equal(res.code, 0, res.stderr);
  const zh = translator('zh-CN');
  const greeting = zh('console:greeting', { config, state: zh('console:state.pglite', { dir: data }) });
  assert.ok(res.stderr.includes(greeting), `${JSON.stringify(greeting)} in:\n${res.stderr}`);
  assert.ok(res.stderr.includes(zh('console:start.pipe')), res.stderr);
  assert.ok(res.stderr.includes(zh('console:lang.unknown', { given: 'klingon', options: 'en, zh-CN' })), res.stderr);
  assert.ok(res.stderr.includes(zh('console:no_commands')), res.stderr);
  assert.equal(res.stdout, '');
});

function splitAt(text: string, marker: string): [string, string] {
  const i = text.indexOf(marker);
  assert.ok(i >= 0, `${JSON.stringify(marker)} in:\n${text}`);
  return [text.slice(0, i), text.slice(i)];
}

function esc(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
