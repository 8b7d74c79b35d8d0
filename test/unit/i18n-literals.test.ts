/**
 * No user-visible English outside the catalogs: every string literal in src/ and commands/ that
 * reads like prose (two words or more), or that fills a title/label/summary/footer/text field,
 * must come from src/i18n/. What is exempt, and why:
 * - log lines and internal errors (`log.info(…)`, `new Error(…)`, `new InternalError(code, …)`):
 *   read by whoever runs the bot, in its log, not by Slack users;
 * - SQL and shell commands sent to the system, which are not prose;
 * - src/config/ and src/cli.ts: the operator's start-up diagnostics on the terminal, before any
 *   language is configured (the config being read is where the language is set);
 * - prom-client's `help` fields (in files that import prom-client): Prometheus HELP text, read by
 *   whoever runs the monitoring, in /metrics, not by Slack users, and one text for every scrape;
 * - a line marked `// i18n-exempt: <reason>` (the reason is required), e.g. a server's own keyword.
 *
 * `node --test test/unit/i18n-literals.test.ts` lists every offender as file:line.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';

const ROOTS = ['src', 'commands'];
const EXEMPT_PATHS = [/^src\/i18n\//, /^src\/config\//, /^src\/cli\.ts$/];
const LOG_METHODS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'child']);
const INTERNAL_ERRORS = new Set(['Error', 'TypeError', 'RangeError', 'InternalError', 'AggregateError', 'LeaseLostError']);
const VISIBLE_FIELDS = new Set(['title', 'label', 'summary', 'footer', 'text', 'placeholder', 'hint']);
const SQL = /^\s*(select|insert|update|delete|create|alter|with|begin|commit|rollback|set|show|drop|lock|analyze|vacuum|reindex|explain|grant|revoke|comment|truncate|copy|listen|notify)\b/i;
/** Two words of prose: "Unknown command", "in 3 s". Flags, paths and identifiers do not match. */
const PROSE = /(^|[\s(])[A-Za-z][a-z']+[,;:]?\s+[a-z][a-z']*\b/;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

/** The literal text of a string or template (template holes become a placeholder word). */
function literalText(node: ts.Node): string | undefined {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isTemplateExpression(node)) return [node.head.text, ...node.templateSpans.map((s) => s.literal.text)].join(' X ');
  return undefined;
}

/** Whether a literal is inside a log call, an internal error, an import, or a type. */
function exemptContext(node: ts.Node): boolean {
  for (let p: ts.Node | undefined = node.parent; p; p = p.parent) {
    if (ts.isImportDeclaration(p) || ts.isExportDeclaration(p) || ts.isLiteralTypeNode(p) || ts.isImportTypeNode(p)) return true;
    if (ts.isCallExpression(p)) {
      const callee = p.expression;
      if (ts.isPropertyAccessExpression(callee) && LOG_METHODS.has(callee.name.text) && /\blog\b|logger|\bLog\b/i.test(callee.expression.getText())) return true;
      if (callee.kind === ts.SyntaxKind.ImportKeyword) return true;
    }
    if (ts.isNewExpression(p) && ts.isIdentifier(p.expression) && INTERNAL_ERRORS.has(p.expression.text)) return true;
    if (ts.isFunctionLike(p) || ts.isSourceFile(p)) return false;
  }
  return false;
}

function fieldName(node: ts.Node): string | undefined {
  const p = node.parent;
  if (p && ts.isPropertyAssignment(p) && p.initializer === node) return p.name.getText().replace(/['"]/g, '');
  return undefined;
}

interface Offender {
  where: string;
  text: string;
}

function offenders(file: string): Offender[] {
  const code = readFileSync(file, 'utf8');
  const lines = code.split('\n');
  const source = ts.createSourceFile(file, code, ts.ScriptTarget.ES2022, true);
  const prometheus = /from 'prom-client'/.test(code);
  const out: Offender[] = [];
  const visit = (node: ts.Node) => {
    const text = literalText(node);
    if (text !== undefined) {
      const field = fieldName(node);
      const prose = PROSE.test(text) && !SQL.test(text);
      const visibleField = field !== undefined && VISIBLE_FIELDS.has(field) && /[A-Za-z]{2,}/.test(text) && !/^[a-z]+:[\w.-]+$/.test(text);
      const metricHelp = prometheus && field === 'help';
      if ((prose || visibleField) && !metricHelp && !exemptContext(node)) {
        const line = source.getLineAndCharacterOfPosition(node.getStart()).line;
        const marked = [lines[line], lines[line - 1] ?? ''].some((l) => /\/\/ i18n-exempt: \S/.test(l));
        if (!marked) out.push({ where: `${file}:${line + 1}`, text: text.slice(0, 80) });
      }
      if (!ts.isTemplateExpression(node)) return;
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

test('no user-visible string literal outside the catalogs in src/ and commands/', () => {
  const files = ROOTS.flatMap(sources).filter((f) => !EXEMPT_PATHS.some((re) => re.test(f)));
  assert.ok(files.length > 20, 'the source tree was not found');
  const found = files.flatMap(offenders);
  assert.deepEqual(found.map((o) => `${o.where}  ${JSON.stringify(o.text)}`), []);
});

test('the lint finds a literal it should (it can fail)', () => {
  const sample = ts.createSourceFile('x.ts', "const r = { title: 'Health', summary: `All ${n} checks passed` }; log.info('not shown to users');", ts.ScriptTarget.ES2022, true);
  const texts: string[] = [];
  const visit = (node: ts.Node) => {
    const text = literalText(node);
    if (text !== undefined && !exemptContext(node) && (PROSE.test(text) || VISIBLE_FIELDS.has(fieldName(node) ?? ''))) texts.push(text);
    ts.forEachChild(node, visit);
  };
  visit(sample);
  assert.deepEqual(texts, ['Health', 'All  X  checks passed']);
});
