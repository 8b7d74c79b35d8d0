/**
 * The quoting helper against a real shell: whatever the value, `sh -c commandLine([...])` must
 * hand it to the program unchanged, and never run any part of it.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandLine, shellQuote } from '../../src/targets/quote.ts';
import { OutputCap, templates } from '../../src/targets/templates.ts';

const dir = mkdtempSync(join(tmpdir(), 'opsbot-quote-'));
const pwned = join(dir, 'pwned');

const NASTY = [
  `'; touch ${pwned} #`,
  `$(touch ${pwned})`,
  `\`touch ${pwned}\``,
  `"; touch ${pwned}; echo "`,
  `a\nb\ntouch ${pwned}`,
  '',
  '-n',
  '--',
  "'",
  "''",
  "it's",
  '\\',
  '$HOME ${HOME} $0 $1 $@ $*',
  '* ? [a-z] ~ ~root',
  '| & ; < > ( ) { } !',
  'tab\there',
  ' leading and trailing ',
  'A=b',
  '日本語 ✅',
  "'\"'\"'",
];

/** What a POSIX shell passes to printf for this argument. */
function roundTrip(shell: string, arg: string): string {
  return execFileSync(shell, ['-c', commandLine(['printf', '%s', arg])], { encoding: 'utf8' });
}

describe('shellQuote / commandLine', () => {
  for (const shell of ['sh', 'bash'].filter((s) => existsSync(`/bin/${s}`))) {
    test(`${shell} receives every nasty value unchanged and runs none of it`, () => {
      for (const value of NASTY) assert.equal(roundTrip(shell, value), value, `value ${JSON.stringify(value)}`);
      assert.equal(existsSync(pwned), false, 'a quoted value was executed');
    });
  }

  test('many arguments keep their boundaries', () => {
    const out = execFileSync('sh', ['-c', commandLine(['printf', '[%s]', ...NASTY])], { encoding: 'utf8' });
    assert.equal(out, NASTY.map((v) => `[${v}]`).join(''));
  });

  test('plain words stay readable; everything else is single-quoted', () => {
    assert.equal(shellQuote('/var/log/app.log'), '/var/log/app.log');
    assert.equal(shellQuote('-n'), '-n');
    assert.equal(shellQuote(''), "''");
    assert.equal(shellQuote("it's"), "'it'\\''s'");
    assert.equal(shellQuote('A=b'), "'A=b'", 'a bare first word A=b would be an assignment');
    assert.equal(commandLine(['grep', '-c', '-F', '-e', 'ERROR', '--', '/srv/a b.log']), "grep -c -F -e ERROR -- '/srv/a b.log'");
  });

  test('a NUL byte and an empty command are refused', () => {
    assert.throws(() => shellQuote('a\0b'), /NUL/);
    assert.throws(() => commandLine([]), /empty/);
  });

  test('templates put values after -- or -e, so a value is never an option', () => {
    assert.deepEqual(templates.grepFixed('-v', '-rf'), ['grep', '-F', '-e', '-v', '--', '-rf']);
    assert.deepEqual(templates.tail('/srv/app/logs/error.log', 200), ['tail', '-n', '200', '--', '/srv/app/logs/error.log']);
    assert.throws(() => templates.tail('/x', 1.5), /whole number/);
    assert.throws(() => templates.tail('', 10), /path/);
    assert.throws(() => templates.tcpProbe('a/b', 22), /not a host/);
    assert.throws(() => templates.tcpProbe('db', 70000), /not a port/);
  });

  test('the pipeline templates keep values as positional parameters', () => {
    const file = join(dir, 'errors.log');
    execFileSync('sh', ['-c', 'printf "%s\\n" "ERROR one" "ok" "ERROR two" "x ERROR" > "$1"', 'w', file]);
    const [sh, c, script, ...rest] = templates.countInLastLines(`ERROR'; touch ${pwned} #`, file, 10);
    // grep -c exits 1 when it counts 0, so read stdout whatever the status.
    const run = (pattern: string) => spawnSync('sh', ['-c', commandLine(templates.countInLastLines(pattern, file, 10))], { encoding: 'utf8' }).stdout.trim();
    assert.equal(sh, 'sh');
    assert.equal(c, '-c');
    assert.ok(!script.includes(file) && !script.includes('touch'), 'the script holds no value');
    assert.deepEqual(rest, ['opsbot-count', '10', file, `ERROR'; touch ${pwned} #`]);
    assert.equal(run('ERROR'), '3');
    assert.equal(run('x ERROR'), '1');
    assert.equal(run(`$(touch ${pwned})`), '0');
    assert.equal(run(`'; touch ${pwned} #`), '0');
    assert.equal(existsSync(pwned), false);
  });
});

describe('OutputCap', () => {
  test('keeps at most max bytes, marks the cut, and never splits a character', () => {
    const cap = new OutputCap(10);
    assert.equal(cap.push(Buffer.from('abcdefgh')), true);
    assert.equal(cap.push(Buffer.from('✅✅')), false); // 3 bytes each: 2 bytes fit, a broken ✅ that is dropped
    assert.equal(cap.truncated, true);
    assert.equal(cap.text(), 'abcdefgh\n… [output cut at 10 bytes]');
    const small = new OutputCap(100);
    small.push(Buffer.from('short\n'));
    assert.equal(small.text(), 'short\n');
    assert.equal(small.truncated, false);
  });
});

process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
