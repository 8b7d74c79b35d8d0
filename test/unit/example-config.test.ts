import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMap, isSeq, parseDocument } from 'yaml';
import { ConfigError, loadConfigFile } from '../../src/config/load.ts';
import { commandNames } from '../../src/main.ts';
import { configSchema } from '../../src/config/schema.ts';

/**
 * config/opsbot.example.yaml is the documented config for the manual's system, and docs/config.md
 * its reference. These tests keep both complete: every key path of the schema has its own row in
 * the reference (or is named in its parent's row), and is set or shown commented out, in its
 * place, in the example.
 */
const file = fileURLToPath(new URL('../../config/opsbot.example.yaml', import.meta.url));
const docsFile = fileURLToPath(new URL('../../docs/config.md', import.meta.url));
const text = readFileSync(file, 'utf8');
const docs = readFileSync(docsFile, 'utf8');

const root = mkdtempSync(join(tmpdir(), 'opsbot-example-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** ${NAME} references without a default, on lines that are not comments: what the example needs set. */
const required = [...new Set(
  text.split('\n').filter((l) => !l.trimStart().startsWith('#'))
    .flatMap((l) => [...l.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1])),
)];
const env = Object.fromEntries(required.map((name) => [name, 'example-secret']));

type Node = { _zod: { def: Record<string, unknown> & { type: string } } };
const def = (s: unknown) => (s as Node)._zod.def;

/** Strips optional/default/prefault/nullable wrappers and transforms down to the structural type. */
function unwrap(schema: unknown): Node {
  let s = schema as Node;
  for (;;) {
    const d = def(s);
    if (d.innerType) s = d.innerType as Node;
    else if (d.type === 'pipe') s = (def(d.in).type === 'transform' ? d.out : d.in) as Node;
    else return s;
  }
}

/**
 * Every path of the schema, dotted, with "*" for the entries of a map (`targets.postgres.*.url`),
 * and what it is. Union members and array elements add their keys at the same path.
 */
function schemaPaths(schema: unknown, prefix: string[] = [], out = new Map<string, string>()): Map<string, string> {
  const d = def(unwrap(schema));
  if (prefix.length && !out.has(prefix.join('.'))) out.set(prefix.join('.'), d.type);
  if (d.type === 'object') {
    for (const [key, child] of Object.entries(d.shape as Record<string, unknown>)) schemaPaths(child, [...prefix, key], out);
  } else if (d.type === 'record') schemaPaths(d.valueType, [...prefix, '*'], out);
  else if (d.type === 'union') for (const option of d.options as unknown[]) schemaPaths(option, prefix, out);
  else if (d.type === 'array') schemaPaths(d.element, prefix, out);
  return out;
}

const paths = schemaPaths(configSchema);
/** The keys a config may set: every path but the bare "*" of a map entry. */
const keyPaths = [...paths.keys()].filter((p) => !p.endsWith('*'));

/**
 * Table rows of docs/config.md by the key path they document. A section's heading names its path
 * (`### \`targets.hosts.<name>\``, "Top level" for the root); a row's first cell is a key relative
 * to it, and may itself be dotted (`logs.app`). A section about a map documents its entries.
 */
function docRows(): Map<string, string> {
  const rows = new Map<string, string>();
  let prefix: string[] | undefined;
  for (const line of docs.split('\n')) {
    const heading = /^#{2,4} (.+)$/.exec(line);
    if (heading) {
      const title = heading[1].trim();
      const named = /^`([^`]+)`$/.exec(title);
      prefix = title === 'Top level' ? [] : named ? named[1].split('.').map((s) => (s.startsWith('<') ? '*' : s)) : undefined;
      if (prefix?.length && paths.get(prefix.join('.')) === 'record') prefix.push('*');
      continue;
    }
    const row = /^\| `([^`]+)` \|/.exec(line);
    if (row && prefix) rows.set([...prefix, ...row[1].split('.')].join('.'), line);
  }
  return rows;
}

/**
 * A path is documented by its own row; an object by rows for its keys; a key inside a value
 * (`warn` of a level, `lines` of error_log) by being named in the row of that value.
 */
function documented(path: string, rows: Map<string, string>): boolean {
  if (rows.has(path)) return true;
  if ([...rows.keys()].some((r) => r.startsWith(`${path}.`))) return true;
  const segs = path.split('.');
  for (let i = segs.length - 1; i > 0; i--) {
    const row = rows.get(segs.slice(0, i).join('.'));
    if (row) return segs.slice(i).filter((s) => s !== '*').every((k) => new RegExp(`\\b${k}\\b`).test(row));
  }
  return false;
}

/**
 * Key paths that the example sets, or shows commented out in their place (`      # timeout: 5s`
 * under a target). Commented-out keys are uncommented and parsed, so each must be a real key where
 * it stands; `unknown` collects those that are not.
 */
function examplePaths(): { found: Set<string>; unknown: string[]; errors: string[] } {
  const uncommented = text.split('\n').map((l) => l.replace(/^(\s+)# ?([A-Za-z_][\w-]*:(?:\s|$))/, '$1$2')).join('\n');
  const doc = parseDocument(uncommented, { uniqueKeys: false });
  const found = new Set<string>();
  const unknown: string[] = [];
  type Pair = { key: unknown; value: unknown };
  const members = (d: ReturnType<typeof def>) => (d.type === 'union' ? (d.options as unknown[]).map((o) => def(unwrap(o))) : [d]);
  const walkPairs = (pairs: Pair[], schema: unknown, prefix: string[]): void => {
    for (const pair of pairs) {
      const key = String((pair.key as { value?: unknown })?.value ?? pair.key);
      // Of a union, the member that has this key: an object naming it, else a map.
      const options = members(def(unwrap(schema)));
      const d = options.find((o) => o.type === 'object' && key in (o.shape as object)) ?? options.find((o) => o.type === 'record');
      if (!d) unknown.push([...prefix, key].join('.'));
      else if (d.type === 'record') walkValue(pair.value, d.valueType, [...prefix, '*']);
      else {
        found.add([...prefix, key].join('.'));
        walkValue(pair.value, (d.shape as Record<string, unknown>)[key], [...prefix, key]);
      }
    }
  };
  const walkValue = (node: unknown, schema: unknown, prefix: string[]): void => {
    if (isMap(node)) walkPairs(node.items as Pair[], schema, prefix);
    else if (isSeq(node)) {
      const list = members(def(unwrap(schema))).find((o) => o.type === 'array');
      if (list) for (const item of node.items) walkValue(item, list.element, prefix);
    }
  };
  walkValue(doc.contents, configSchema, []);
  return { found, unknown, errors: doc.errors.map((e) => e.message) };
}

/** The example with what it asks you to fill in filled in: a key file beside it and a real fingerprint. */
function filledIn(): string {
  const dir = mkdtempSync(join(root, 'filled-'));
  mkdirSync(join(dir, 'keys'));
  const { privateKey } = generateKeyPairSync('ed25519');
  writeFileSync(join(dir, 'keys', 'id_ed25519'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const fingerprint = `SHA256:${randomBytes(32).toString('base64').replace(/=+$/, '')}`;
  const copy = join(dir, 'opsbot.yaml');
  writeFileSync(copy, text.replace(/hostKey: "SHA256:[^"]*"/, `hostKey: "${fingerprint}"`));
  return copy;
}

describe('config/opsbot.example.yaml', () => {
  test('validates once its host key and key file are filled in, with its environment variables set', () => {
    assert.ok(required.length > 0, 'the example reads at least one secret from the environment');
    const copy = filledIn();
    const config = loadConfigFile(copy, env, commandNames());
    assert.equal(config.targets.postgres.main.url, 'postgres://postgres:example-secret@127.0.0.1:5432/mitong_devops');
    assert.equal(config.targets.docker.local.project, 'mitong');
    assert.equal(config.targets.hosts.app1.privateKeyFile, join(copy, '..', 'keys', 'id_ed25519'));
    assert.equal(config.services.backend.container, 'mitong-backend-1');
    assert.equal(config.approvals.rules.restart.count, 1);
    assert.equal(config.permissions.restart.roles[0], 'operator');
    assert.equal(config.backups.postgres.main.dir, '/backup/postgresql');
    assert.deepEqual(config.backups.postgres.main.keep, { daily: 7, weekly: 4, monthly: 6 });
    assert.deepEqual(config.restore.stop_services, ['backend', 'worker']);
    assert.deepEqual(config.metrics.listen, { host: '127.0.0.1', port: 9100 });
  });

  test('as shipped, it is refused exactly where it must be filled in', () => {
    assert.throws(() => loadConfigFile(file, env, commandNames()), (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.equal(err.problems.length, 2, err.message);
      assert.match(err.problems.find((p) => p.startsWith('targets.hosts.app1.hostKey:')) ?? '', /placeholder/, err.message);
      assert.match(err.problems.find((p) => p.startsWith('targets.hosts.app1.privateKeyFile:')) ?? '', /cannot read .*keys\/id_ed25519 \(ENOENT\)/, err.message);
      return true;
    });
  });

  test('names the missing variable when it is not set', () => {
    assert.throws(() => loadConfigFile(filledIn(), {}), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      for (const name of required) assert.ok(err.problems.some((p) => p.includes(`environment variable ${name} is not set`)), err.message);
      return true;
    });
  });

  test('sets or shows, in its place, every key path of the schema', () => {
    const { found, unknown, errors } = examplePaths();
    assert.deepEqual(errors, [], 'the example, with its commented-out keys uncommented, must still parse');
    assert.deepEqual(unknown, [], `keys in ${file} (set or commented out) that the schema does not have`);
    assert.ok(keyPaths.length > 60, `expected many key paths, got ${keyPaths.length}`);
    const missing = keyPaths.filter((p) => !found.has(p));
    assert.deepEqual(missing, [], `key paths missing from ${file}`);
  });
});

describe('docs/config.md', () => {
  const rows = docRows();

  test('documents every key path of the schema', () => {
    const missing = keyPaths.filter((p) => !documented(p, rows));
    assert.deepEqual(missing, [], `key paths without a row in ${docsFile}`);
  });

  test('documents no key that the schema does not have', () => {
    const stale = [...rows.keys()].filter((p) => !paths.has(p));
    assert.deepEqual(stale, [], `rows in ${docsFile} for keys the schema does not define`);
  });

  test('the walk finds nested keys, so a missing row would be caught', () => {
    for (const p of ['targets.hosts.*.hostKey', 'services.*.logs.error', 'approvals.rules.*.count', 'health.thresholds.latency_ms.warn', 'metrics.token']) {
      assert.ok(keyPaths.includes(p), `schema walk lacks ${p}`);
    }
    assert.ok(rows.has('targets.hosts.*.hostKey') && rows.has('services.*.logs.error') && rows.has('metrics.listen'));
    assert.equal(documented('targets.hosts.*.hostKeyy', rows), false);
    assert.equal(documented('health.thresholds.latency_ms.warm', rows), false);
  });
});
