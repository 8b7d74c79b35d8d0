import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { parseArgs, parseCommandLine, quoteWord, tokenize, type ArgSpec } from '../../src/core/args.ts';
import { UserError } from '../../src/core/errors.ts';

describe('tokenize', () => {
  test('splits on any run of whitespace and drops leading/trailing blanks', () => {
    assert.deepEqual(tokenize('  a   b\tc \n d  '), ['a', 'b', 'c', 'd']);
    assert.deepEqual(tokenize(''), []);
    assert.deepEqual(tokenize('   '), []);
  });

  test('double and single quotes group words and are removed', () => {
    assert.deepEqual(tokenize('"a b" \'c d\' e'), ['a b', 'c d', 'e']);
  });

  test('an empty quoted string is an empty token', () => {
    assert.deepEqual(tokenize('x "" y'), ['x', '', 'y']);
  });

  test('backslash escapes a double quote inside double quotes', () => {
    assert.deepEqual(tokenize('"say \\"hi\\""'), ['say "hi"']);
  });

  test('curly quotes (as some Slack clients send them) work like straight ones', () => {
    assert.deepEqual(tokenize('\u201Cerror log\u201D x'), ['error log', 'x']);
    assert.deepEqual(tokenize('\u2018a b\u2019'), ['a b']);
  });

  test('quoted pieces with no space between them form one token', () => {
    assert.deepEqual(tokenize('"a b"\'c d\''), ['a bc d']);
    assert.deepEqual(tokenize('"a b"c'), ['a bc']);
  });

  test('--flag="quoted value" stays one token with the quotes removed', () => {
    assert.deepEqual(tokenize('--grep="connection refused" x'), ['--grep=connection refused', 'x']);
  });

  test('--flag=\u201Ccurly quoted value\u201D stays one token', () => {
    assert.deepEqual(tokenize('--grep=\u201Cconnection refused\u201D'), ['--grep=connection refused']);
  });

  test('shell metacharacters are literal text, never interpreted', () => {
    const marker = join(tmpdir(), `opsbot-args-${process.pid}-${Date.now()}`);
    assert.deepEqual(tokenize(`'; touch ${marker} #'`), [`; touch ${marker} #`]);
    assert.deepEqual(tokenize(`"$(touch ${marker})"`), [`$(touch ${marker})`]);
    assert.deepEqual(tokenize(`$(touch ${marker})`), ['$(touch', `${marker})`]);
    assert.deepEqual(tokenize('a;b|c&&d `e` > f'), ['a;b|c&&d', '`e`', '>', 'f']);
    assert.equal(existsSync(marker), false);
  });
});

const spec: ArgSpec = {
  schema: z.object({
    service: z.enum(['backend', 'celery', 'nginx']),
    file: z.string().optional(),
    lines: z.coerce.number().int().positive().default(100),
    grep: z.string().optional(),
    follow: z.boolean().default(false),
    dryRun: z.boolean().default(false),
  }),
  positionals: ['service', 'file'],
  usage: ['/logs <service> [file] [--lines N] [--grep TEXT]'],
};

function userError(text: string): UserError {
  try {
    parseArgs(text, spec);
  } catch (err) {
    assert.ok(err instanceof UserError, `expected a UserError, got ${String(err)}`);
    assert.deepEqual(err.usage, spec.usage, 'every argument error carries the usage lines');
    return err;
  }
  assert.fail(`parseArgs(${JSON.stringify(text)}) should have failed`);
}

describe('parseArgs', () => {
  test('fills positionals in order and applies defaults', () => {
    assert.deepEqual(parseArgs('celery', spec), { service: 'celery', lines: 100, follow: false, dryRun: false });
    assert.deepEqual(parseArgs('nginx error', spec), { service: 'nginx', file: 'error', lines: 100, follow: false, dryRun: false });
  });

  test('flags take the next token or an inline =value, in any position', () => {
    const a = parseArgs('--lines 20 backend --grep=timeout', spec) as Record<string, unknown>;
    assert.equal(a.service, 'backend');
    assert.equal(a.lines, 20);
    assert.equal(a.grep, 'timeout');
  });

  test('an inline value may itself contain "="', () => {
    const a = parseArgs('backend --grep=a=b', spec) as Record<string, unknown>;
    assert.equal(a.grep, 'a=b');
  });

  test('a quoted flag value keeps its spaces and shell metacharacters literally', () => {
    const a = parseArgs(`backend --grep '; rm -rf / #'`, spec) as Record<string, unknown>;
    assert.equal(a.grep, '; rm -rf / #');
    const b = parseArgs('backend --grep "$(touch /tmp/x)"', spec) as Record<string, unknown>;
    assert.equal(b.grep, '$(touch /tmp/x)');
  });

  test('--flag="quoted value" form parses to the whole value', () => {
    const a = parseArgs('backend --grep="connection refused"', spec) as Record<string, unknown>;
    assert.equal(a.grep, 'connection refused');
  });

  test('boolean flags need no value and take none', () => {
    const on = parseArgs('backend --follow --dry-run', spec) as Record<string, unknown>;
    assert.equal(on.follow, true);
    assert.equal(on.dryRun, true, '--dry-run maps to the camelCase key dryRun');
    assert.equal(on.service, 'backend', 'a boolean flag does not swallow the next word');
    const onFirst = parseArgs('--follow backend', spec) as Record<string, unknown>;
    assert.equal(onFirst.service, 'backend');
    assert.equal((parseArgs('backend', spec) as Record<string, unknown>).dryRun, false);
  });

  test('a value on a switch is a usage error, whatever the value', () => {
    // "--dry-run=false" once posted a real approval request.
    for (const v of ['false', 'no', '0', 'FALSE', 'yes', 'true', '']) {
      const e = userError(`backend --dry-run=${v}`);
      assert.match(e.message, /--dry-run is a switch and takes no value/, v);
      assert.deepEqual(e.usage, spec.usage);
    }
  });

  test('echo renders the parsed arguments without the omitted options, quoting as parsed', () => {
    const line = (text: string) => parseCommandLine(text, spec, ['dryRun', 'grep']).echo;
    assert.equal(line('backend --lines 5 --grep x'), 'backend --lines 5');
    // Curly quotes group words exactly as straight ones do; the echo never keeps half a quote.
    assert.equal(line('backend --grep \u201Cdisk full\u201D --lines=7'), 'backend --lines 7');
    assert.equal(parseCommandLine('nginx \u201Cerror\u201D --grep \u2018a "b" c\u2019', spec).echo, 'nginx error --grep "a \\"b\\" c"');
    // The echo parses back to the same values.
    const again = parseCommandLine(parseCommandLine('nginx --grep \'a "b" \\\\ c\'', spec).echo, spec).values as Record<string, unknown>;
    assert.equal(again.grep, 'a "b" \\\\ c');
  });

  test('z.coerce.number() turns the text into a number', () => {
    const a = parseArgs('backend --lines 250', spec) as Record<string, unknown>;
    assert.strictEqual(a.lines, 250);
  });

  test('a value the schema rejects names the flag', () => {
    assert.match(userError('backend --lines abc').message, /--lines/);
    assert.match(userError('backend --lines -5').message, /--lines/);
  });

  test('an unknown option suggests the closest flag, in kebab case', () => {
    const e = userError('backend --line 5');
    assert.match(e.message, /--line\b/);
    assert.equal(e.hint, '--lines');
    assert.equal(userError('backend --dryrun').hint, '--dry-run');
  });

  test('an unknown option unlike any flag has no suggestion', () => {
    const e = userError('backend --zzzzzzzz');
    assert.equal(e.hint, undefined);
  });

  test('a positional name cannot be given as a flag', () => {
    assert.match(userError('--service backend').message, /--service/);
  });

  test('a flag at the end without a value is reported', () => {
    const e = userError('backend --grep');
    assert.match(e.message, /--grep/);
    assert.match(e.message, /value/);
  });

  test('an extra positional is reported by its text', () => {
    assert.match(userError('backend app surplus').message, /"surplus"/);
  });

  test('a missing required positional is reported by name', () => {
    assert.match(userError('').message, /service/);
  });

  test('an enum typo lists the choices and suggests the closest', () => {
    const e = userError('backnd');
    assert.equal(e.hint, 'backend');
    for (const choice of ['backend', 'celery', 'nginx']) assert.ok(e.message.includes(choice), `lists ${choice}`);
    assert.match(e.message, /"backnd"/);
  });

  test('an enum value unlike any choice has no suggestion', () => {
    assert.equal(userError('postgresql').hint, undefined);
  });
});

test('quoteWord gives back the same word through tokenize; curly quotes come back straight, as typed ones do', () => {
  const cases: [string, string][] = [
    ['plain', 'plain'], ['two words', 'two words'], ["it's", "it's"], ['say "hi"', 'say "hi"'], ['back\\slash', 'back\\slash'],
    ['数据库 宕机', '数据库 宕机'], ['\u201Ccurly\u201D x', '"curly" x'], ['a\u2018b\u2019', "a'b'"],
  ];
  for (const [word, back] of cases) assert.deepEqual(tokenize(`x ${quoteWord(word)} y`), ['x', back, 'y'], word);
});
