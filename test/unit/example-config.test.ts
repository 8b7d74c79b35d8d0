import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfigFile, parseConfig } from '../../src/config/load.ts';
import { commandNames } from '../../src/main.ts';
import { configSchema } from '../../src/config/schema.ts';

/**
 * config/opsbot.example.yaml is the documented config for the manual's system. These tests keep
 * it valid and complete: a key added to the schema must be added (and explained) there too.
 */
const file = fileURLToPath(new URL('../../config/opsbot.example.yaml', import.meta.url));
const text = readFileSync(file, 'utf8');

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

/** Every key the schema defines: object keys, keys of record values, keys of each union member. */
function schemaKeys(schema: unknown, out = new Set<string>()): Set<string> {
  const s = unwrap(schema);
  const d = def(s);
  if (d.type === 'object') {
    for (const [key, child] of Object.entries(d.shape as Record<string, unknown>)) {
      out.add(key);
      schemaKeys(child, out);
    }
  } else if (d.type === 'record') schemaKeys(d.valueType, out);
  else if (d.type === 'union') for (const option of d.options as unknown[]) schemaKeys(option, out);
  else if (d.type === 'array') schemaKeys(d.element, out);
  return out;
}

/** Keys of the defaults object, walked alongside the schema so record entries are skipped. */
function defaultKeys(value: unknown, schema: unknown, path: string[] = [], out: string[][] = []): string[][] {
  const d = def(unwrap(schema));
  if (d.type !== 'object' || !value || typeof value !== 'object') return out;
  const shape = d.shape as Record<string, unknown>;
  for (const [key, child] of Object.entries(value)) {
    out.push([...path, key]);
    if (shape[key] && def(unwrap(shape[key])).type === 'object') defaultKeys(child, shape[key], [...path, key], out);
  }
  return out;
}

/** A YAML key in the example, set or commented out: "key:" after indentation, "#", "{" or ",". */
const mentions = (key: string) => new RegExp(`(^|[\\s{,#])${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:`, 'm').test(text);

describe('config/opsbot.example.yaml', () => {
  test('validates with its environment variables set', () => {
    assert.ok(required.length > 0, 'the example reads at least one secret from the environment');
    const config = loadConfigFile(file, env, commandNames());
    assert.equal(config.targets.postgres.main.url, 'postgres://postgres:example-secret@127.0.0.1:5432/mitong_devops');
    assert.equal(config.targets.docker.local.project, 'mitong');
    assert.equal(config.services.backend.container, 'mitong-backend-1');
    assert.equal(config.approvals.rules.restart.count, 1);
    assert.equal(config.permissions.restart.roles[0], 'operator');
    assert.equal(config.backups.dir, '/backup/postgresql');
    assert.equal(config.backups.retention_days, 7);
  });

  test('names the missing variable when it is not set', () => {
    assert.throws(() => loadConfigFile(file, {}), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      for (const name of required) assert.ok(err.problems.some((p) => p.includes(`environment variable ${name} is not set`)), err.message);
      return true;
    });
  });

  test('mentions every key of the defaults object', () => {
    const keys = defaultKeys(parseConfig({}, 'test'), configSchema);
    assert.ok(keys.length > 20, `expected many default keys, got ${keys.length}`);
    const missing = keys.filter((path) => !mentions(path[path.length - 1])).map((p) => p.join('.'));
    assert.deepEqual(missing, [], `keys missing from ${file}`);
  });

  test('mentions every key the schema defines, optional ones included', () => {
    const missing = [...schemaKeys(configSchema)].filter((key) => !mentions(key));
    assert.deepEqual(missing, [], `keys missing from ${file}`);
  });
});
