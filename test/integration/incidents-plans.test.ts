/**
 * The manual's emergency plans (§8) as checklists, in both languages, and the data-loss plan's
 * candidate backups from a real /backup of a real PostgreSQL database.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { messageText, startTestBot, waitForMessage, type TestBot } from '../helpers/bot.ts';
import { pgbenchInit, sharedPostgres } from '../harness/postgres.ts';
import { scaled } from '../helpers/wait.ts';

const OPER = 'U0OPER';

// The manual's own wording (§8.1 应急响应, §8.2 恢复流程, §8.3 处理流程), in its order.
const MANUAL = {
  outage: ['确认故障范围', '通知相关人员', '启动应急预案', '快速恢复服务', '分析故障原因', '编写故障报告'],
  'data-loss': ['评估数据丢失范围', '查找最近备份', '恢复数据库', '验证数据完整性', '恢复服务', '通知用户'],
  security: ['隔离受影响系统', '收集证据', '分析攻击方式', '修复安全漏洞', '恢复服务', '加强安全措施'],
};

let zh: TestBot;
let en: TestBot;
let liveUrl: string;

before(async () => {
  liveUrl = await (await sharedPostgres()).createDatabase();
  await pgbenchInit(liveUrl, 1);
  zh = await startTestBot({ locale: 'zh-CN', roles: { operator: [OPER] } });
  en = await startTestBot({
    targets: { local: true, postgres: { main: { url: liveUrl } } },
    roles: { operator: [OPER] },
    permissions: { backup: ['operator'] },
    backups: { postgres: { main: { run_on: 'local', dir: mkdtempSync(join(tmpdir(), 'opsbot-inc-backups-')), jobs: 1 } } },
  });
});
after(async () => {
  await zh?.close();
  await en?.close();
});

/** Declares an incident of `type` and returns its checklist message's text. */
async function plan(t: TestBot, type: string, title: string): Promise<string> {
  const n = t.fake.calls.length;
  await t.run('/incident', `declare ${title} --type ${type} --sev sev3`, { user: OPER, channel: 'C0OPS' });
  const create = await t.fake.waitFor((c) => t.fake.calls.indexOf(c) >= n && c.method === 'conversations.create');
  const channel = create.result.channel.id;
  const message = await t.fake.waitFor((c) => t.fake.calls.indexOf(c) >= n && c.method === 'chat.postMessage' && c.args.channel === channel && /§8\.\d/.test(messageText(c)));
  return messageText(message);
}

describe('the manual\'s plans', () => {
  for (const [type, steps] of Object.entries(MANUAL)) {
    test(`${type}: the zh-CN checklist uses the manual's words, in its order`, async () => {
      const text = await plan(zh, type, `测试 ${type}`);
      const found = [...text.matchAll(/☐ (\d)\. (\S+)/g)].map((m) => [Number(m[1]), m[2]]);
      assert.deepEqual(found, steps.map((s, i) => [i + 1, s]), text);
      assert.match(text, /应急预案 §8\.\d/);
    });
  }

  test('the English checklists have six steps each and the same sections', async () => {
    for (const [type, section] of [['outage', '8.1'], ['data-loss', '8.2'], ['security', '8.3']]) {
      const text = await plan(en, type, `plan ${type}`);
      assert.match(text, new RegExp(`Plan §${section.replace('.', '\\.')}`));
      assert.equal([...text.matchAll(/☐ \d\. /g)].length, 6, text);
    }
  });

  test('the data-loss plan lists candidate backups with their verification state', async () => {
    // Before any backup: said plainly, in the reader's language.
    assert.match(await plan(zh, 'data-loss', '订单数据丢失'), /没有完整的备份记录/);
    // A real backup of a real database, then the plan lists it as not yet verified.
    const n = en.fake.calls.length;
    await en.run('/backup', '', { user: OPER });
    const card = await en.fake.waitFor((c) => en.fake.calls.indexOf(c) >= n && c.method === 'chat.postMessage' && c.args.channel === 'C0OPS');
    const done = await waitForMessage(en.fake, card.result.ts, /Backup (\S+) complete|Failed|failed/, scaled(120_000));
    const id = /Backup (\S+) complete/.exec(done)?.[1];
    assert.ok(id, done);
    const text = await plan(en, 'data-loss', 'orders lost');
    assert.match(text, /Candidate backups/);
    assert.match(text, new RegExp(`${id} · main · \\d{4}-\\d\\d-\\d\\d [\\d:]+ UTC\\+00:00 · [\\d.]+ [kKMG]B · never verified \\(/backup verify ${id}\\)`));
  });
});
