import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CATALOGS } from '../../src/i18n/catalogs.ts';
import { hasKey, translator } from '../../src/i18n/index.ts';

// i18next plural forms: "steps_one"/"steps_other" in English, only "steps_other" in Chinese.
const PLURAL = /_(zero|one|two|few|many|other)$/;

/** Every leaf as "ns:a.b.c" → its text. */
function leaves(ns: string, node: unknown, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') out.set(`${ns}:${key}`, v);
    else if (v && typeof v === 'object' && !Array.isArray(v)) for (const [kk, vv] of leaves(ns, v, key)) out.set(kk, vv);
    else assert.fail(`${ns}:${key} must be a string or an object of strings`);
  }
  return out;
}

/** Base key (plural suffix removed) → the placeholders its forms use. */
function byBase(locale: 'en' | 'zh-CN'): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const [ns, catalog] of Object.entries(CATALOGS[locale])) {
    for (const [key, text] of leaves(ns, catalog)) {
      const base = key.replace(PLURAL, '');
      const set = out.get(base) ?? new Set<string>();
      // {{name}} and {{name, format}}; "count" is the plural selector and may be left unshown.
      for (const m of text.matchAll(/\{\{\s*([\w.]+)\s*(?:,[^}]*)?\}\}/g)) if (m[1] !== 'count') set.add(m[1]);
      out.set(base, set);
    }
  }
  return out;
}

test('en and zh-CN have the same namespaces, keys and placeholders', () => {
  assert.deepEqual(Object.keys(CATALOGS['zh-CN']).sort(), Object.keys(CATALOGS.en).sort());
  const en = byBase('en');
  const zh = byBase('zh-CN');
  const onlyEn = [...en.keys()].filter((k) => !zh.has(k));
  const onlyZh = [...zh.keys()].filter((k) => !en.has(k));
  assert.deepEqual(onlyEn, [], 'keys missing from zh-CN');
  assert.deepEqual(onlyZh, [], 'keys missing from en');
  const differing = [...en].filter(([k, p]) => [...p].sort().join(',') !== [...(zh.get(k) ?? [])].sort().join(',')).map(([k, p]) => `${k}: en {${[...p]}} zh-CN {${[...(zh.get(k) ?? [])]}}`);
  assert.deepEqual(differing, [], 'placeholders differ');
});

test('every plural has its "other" form in both languages', () => {
  for (const locale of ['en', 'zh-CN'] as const) {
    for (const [ns, catalog] of Object.entries(CATALOGS[locale])) {
      for (const key of leaves(ns, catalog).keys()) {
        if (PLURAL.test(key)) assert.ok(hasKey(key.replace(PLURAL, '_other'), locale), `${locale} ${key} has no _other form`);
      }
    }
  }
});

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

test('every catalog key the code names exists in English', () => {
  // t('ns:key'), msg('ns:key'), note: 'ns:key', summary: 'ns:key' and other literal "ns:key" references.
  const namespaces = Object.keys(CATALOGS.en).join('|');
  const re = new RegExp(`['"\`]((?:${namespaces}):[A-Za-z0-9_.-]+)['"\`]`, 'g');
  const missing: string[] = [];
  let found = 0;
  for (const file of [...sources('src'), ...sources('commands')]) {
    // Comments name keys as examples; only code counts.
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const m of text.matchAll(re)) {
      found++;
      const key = m[1];
      if (!hasKey(key, 'en') && !hasKey(`${key}_other`, 'en')) missing.push(`${file}: ${key}`);
    }
  }
  assert.ok(found > 0, 'no catalog references found at all: the pattern is broken');
  assert.deepEqual(missing, []);
});

test('a message renders in both languages, with Intl formatting in the configured zone', () => {
  const en = translator('en', 'Asia/Shanghai');
  const zh = translator('zh-CN', 'Asia/Shanghai');
  assert.equal(en('core:unknown_command', { command: '/x' }), 'Unknown command /x.');
  assert.equal(zh('core:unknown_command', { command: '/x' }), '未知命令 /x。');
  assert.equal(en('core:denied.role', { command: '/restart', roles: ['operator', 'admin'], count: 2 }), '/restart needs one of the roles operator or admin.');
  assert.equal(zh('core:denied.role', { command: '/restart', roles: ['operator', 'admin'], count: 2 }), '/restart 需要角色 operator或admin。');
  // 2026-01-01T01:00:00Z is 09:00 in Shanghai.
  assert.equal(zh.time(Date.UTC(2026, 0, 1, 1)), '2026-01-01 09:00:00 UTC+08:00');
  assert.equal(translator('en', 'UTC').time(Date.UTC(2026, 0, 1, 1)), '2026-01-01 01:00:00 UTC+00:00');
  assert.equal(zh.duration(3_900_000), '1小时5分钟');
  assert.equal(en.duration(3_900_000), '1 hr 5 min');
  assert.equal(en.bytes(1536), '1.5 kB');
  assert.equal(zh.number(12345.6), '12,345.6');
});
