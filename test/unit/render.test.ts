import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeMrkdwn, fallbackText, renderReport } from '../../src/slack/render.ts';
import { renderBlocks } from '../../src/console/render.ts';
import { approvalCard } from '../../src/approvals/card.ts';
import type { ApprovalRequest } from '../../src/approvals/store.ts';
import { channelMention, groupMention, userMention } from '../../src/core/mention.ts';
import type { Report } from '../../src/core/report.ts';
import { HOSTILE_LINE, HOSTILE_MARKUP } from '../fixtures/secrets-corpus.ts';

type AnyBlock = { type: string; text?: { type: string; text: string }; fields?: Array<{ type: string; text: string }>; elements?: Array<{ type: string; text?: string }> };

/** Every piece of text in the rendered blocks, in order. */
function texts(blocks: unknown[]): string[] {
  return (blocks as AnyBlock[]).flatMap((b) => [
    ...(b.text ? [b.text.text] : []),
    ...(b.fields ?? []).map((f) => f.text),
    ...(b.elements ?? []).flatMap((e) => (typeof e.text === 'string' ? [e.text] : [])),
  ]);
}

/** Slack refuses messages whose blocks exceed these limits (invalid_blocks). */
function assertWithinSlackLimits(blocks: unknown[]): void {
  assert.ok(blocks.length <= 50, `${blocks.length} blocks`);
  for (const b of blocks as AnyBlock[]) {
    if (b.text) assert.ok(b.text.text.length <= 3000, `section text of ${b.text.text.length} chars`);
    if (b.fields) {
      assert.ok(b.fields.length <= 10, `${b.fields.length} fields`);
      for (const f of b.fields) assert.ok(f.text.length <= 2000, `field text of ${f.text.length} chars`);
    }
    for (const e of b.elements ?? []) if (typeof e.text === 'string') assert.ok(e.text.length <= 3000, `context text of ${e.text.length} chars`);
  }
}

describe('slack renderReport', () => {
  test('escapes <, > and & everywhere the report has text', () => {
    const nasty = 'a<b>c&d <!channel> <https://evil.example|click>';
    const { blocks } = renderReport({
      title: nasty,
      status: 'warn',
      summary: nasty,
      checks: [{ name: nasty, status: 'warn', text: nasty }],
      fields: [{ label: nasty, value: nasty }],
      sections: [{ title: nasty, lines: [nasty] }, { title: 'code', lines: [nasty], code: true }],
      footer: nasty,
    });
    const all = texts(blocks);
    assert.ok(all.length >= 6, `only ${all.length} texts`);
    for (const t of all) {
      assert.ok(!t.includes('<!channel>'), `unescaped broadcast in ${t}`);
      assert.ok(!t.includes('<https://'), `unescaped link in ${t}`);
      assert.ok(!/&(?!amp;|lt;|gt;)/.test(t), `bare & in ${t}`);
    }
    const joined = all.join('\n');
    assert.ok(joined.includes('a&lt;b&gt;c&amp;d'), joined);
  });

  test('keeps the channel and user mentions the bot writes itself', () => {
    const { text, blocks } = renderReport({ title: '/restart', status: 'crit', summary: `Use it in ${channelMention('C123')} or ask ${userMention('U0ADMIN')} or ${groupMention('S0OPS')}; a > b` });
    for (const t of [texts(blocks)[0], text]) {
      assert.ok(t.includes('<#C123>'), t);
      assert.ok(t.includes('<@U0ADMIN>'), t);
      assert.ok(t.includes('<!subteam^S0OPS>'), t);
      assert.ok(t.includes('a &gt; b'), t);
      assert.ok(!/[\uE000-\uE01F]/.test(t), `a sentinel character reached Slack: ${JSON.stringify(t)}`);
    }
  });

  test('mentions, broadcasts and links from any other source are escaped in text and every block', () => {
    const report: Report = {
      title: `/logs ${HOSTILE_LINE}`,
      status: 'warn',
      summary: HOSTILE_LINE,
      checks: [{ name: HOSTILE_LINE, status: 'crit', text: HOSTILE_LINE }],
      fields: [{ label: HOSTILE_LINE, value: HOSTILE_LINE }],
      sections: [{ title: HOSTILE_LINE, lines: [HOSTILE_LINE] }, { title: 'code', lines: [HOSTILE_LINE], code: true }],
      footer: HOSTILE_LINE,
      actions: [{ id: 'x', label: 'Go', value: 'v', confirm: { title: 'Sure?', text: HOSTILE_LINE, confirm: 'Yes', deny: 'No' } }],
    };
    const { text, blocks } = renderReport(report);
    const json = JSON.stringify(blocks);
    for (const m of HOSTILE_MARKUP) {
      assert.ok(!text.includes(m), `${m} live in text: ${text}`);
      assert.ok(!json.includes(m), `${m} live in blocks`);
      const escaped = m.replace(/</g, '&lt;').replace(/>/g, '&gt;');
      assert.ok(text.includes(escaped), `${escaped} missing from text: ${text}`);
    }
    assert.ok(text.includes('&lt;!channel&gt;'), text);
    // Not a single live angle bracket from the input, anywhere (the bot wrote no mention here).
    for (const t of [text, ...texts(blocks), (blocks as any[]).find((b) => b.type === 'actions').elements[0].confirm.text.text]) {
      assert.ok(!t.includes('<'), `live markup in ${JSON.stringify(t)}`);
    }
  });

  test('forged mention tokens and stray sentinel characters stay text', () => {
    const real = userMention('U0REAL');
    // Same shape as a token, a guessed tag: what input would have to do.
    const forged = `\uE000${'\uE010'.repeat(16)}@U0FORGED\uE001`;
    // A real token that leaked, with its id swapped: its tag is good for U0REAL only.
    const spliced = real.replace('U0REAL', 'U0SPLICED');
    const asChannel = real.replace('@', '#');
    const out = escapeMrkdwn(`${forged} ${spliced} ${asChannel} ${real.slice(0, 5)}x\uE001 ${real} \uE000<!here>`);
    for (const live of ['<@U0FORGED>', '<@U0SPLICED>', '<#U0REAL>']) assert.ok(!out.includes(live), `${live} in ${out}`);
    assert.ok(out.includes('@U0FORGED') && out.includes('@U0SPLICED'), 'a forged token shows its id as text');
    assert.equal(out.split('<@U0REAL>').length - 1, 1, `only the real token is live: ${out}`);
    assert.ok(out.includes('&lt;!here&gt;'), out);
    assert.ok(!/[\uE000-\uE01F]/.test(out), JSON.stringify(out));
  });

  test('secrets are removed before escaping and chunking: a value with & or <, a key over many lines', () => {
    const keyLines = ['-----BEGIN RSA PRIVATE KEY-----', ...Array.from({ length: 80 }, (_, i) => `MIIKEYLINE${String(i).padStart(2, '0')}${'A'.repeat(54)}`), '-----END RSA PRIVATE KEY-----'];
    const filler = Array.from({ length: 60 }, (_, i) => `line ${i} ${'x'.repeat(60)}`);
    const { text, blocks } = renderReport({
      title: 'password=ab<cd>ef',
      status: 'info',
      summary: 'postgres://u:p<a&s@db/x',
      checks: [{ name: 'c', status: 'ok', text: 'token=x<y>z' }],
      sections: [{ title: 'log', lines: [...filler, ...keyLines, 'after the key'], code: true }],
    });
    const all = [text, ...texts(blocks)].join('\n');
    for (const leak of ['cd', 'ef', 'p&lt;a', 'a&amp;s', 'y&gt;z', 'MIIKEYLINE']) assert.ok(!all.includes(leak), `${leak} leaked: ${all.slice(0, 300)}`);
    assert.ok(all.includes('after the key') && all.includes('line 59'), 'the text around them is kept');
    assert.ok(all.includes('@db/x'), all);
  });

  test('a mention of something that is not a Slack id is text', () => {
    const out = escapeMrkdwn(userMention('U1> <!channel'));
    assert.ok(!out.includes('<!channel'), out);
    assert.equal(out, 'U1&gt; &lt;!channel');
  });

  test("an approval card mentions its requester live, and escapes the requester's text", () => {
    const req = {
      id: 'r-1', command: 'restart', args_text: 'backend <!channel>', requester: 'U0ONCALL', channel: 'C0OPS', state: 'pending',
      approvers: [], approvals_needed: 1, approver_roles: ['approver'], expires_at: new Date(), created_at: new Date(),
      plan: { summary: 'restart <!here> mitong-backend-1', steps: ['docker restart <@U999>'], risk: 'low' },
      decided_by: null, reason: null, result: null, break_glass: null,
    } as unknown as ApprovalRequest;
    const { text, blocks } = renderReport(approvalCard(req));
    const all = [text, ...texts(blocks)].join('\n');
    assert.ok(all.includes('<@U0ONCALL>'), `requester not mentioned live: ${all}`);
    for (const m of ['<!channel>', '<!here>', '<@U999>']) assert.ok(!all.includes(m), `${m} live in the card`);
    assert.ok(all.includes('&lt;!channel&gt;') && all.includes('&lt;@U999&gt;'), all);
  });

  test('the heading carries the title and the summary', () => {
    const { blocks } = renderReport({ title: 'Health', status: 'ok', summary: 'all good' });
    assert.equal(blocks.length, 1);
    assert.match(texts(blocks)[0], /Health.*all good/);
  });

  test('long sections are split into blocks under 3000 characters, losing no line, title once', () => {
    const lines = Array.from({ length: 400 }, (_, i) => `line ${String(i).padStart(3, '0')} ${'x'.repeat(60)}`);
    const { blocks } = renderReport({ title: 'Logs', status: 'info', sections: [{ title: 'app.log', lines, code: true }] });
    const body = blocks.slice(1);
    assert.ok(body.length > 1, 'split into several blocks');
    assertWithinSlackLimits(blocks);
    const joined = texts(body).join('\n');
    for (const l of lines) assert.ok(joined.includes(l), `lost ${l.slice(0, 8)}`);
    assert.equal(joined.split('app.log').length - 1, 1, 'section title shown once');
    for (const t of texts(body)) assert.match(t, /```[\s\S]*```$/, 'each chunk is its own code block');
    const order = lines.map((l) => joined.indexOf(l));
    assert.deepEqual(order, [...order].sort((a, b) => a - b), 'lines keep their order');
  });

  test('escaping that lengthens text still stays under the limit', () => {
    const lines = Array.from({ length: 300 }, () => '<&>'.repeat(20));
    const { blocks } = renderReport({ title: 'x', status: 'info', sections: [{ title: 'esc', lines }], checks: lines.map((l) => ({ name: l, status: 'ok' as const, text: l })) });
    assertWithinSlackLimits(blocks);
  });

  test('one huge line is shortened to fit one block', () => {
    const { blocks } = renderReport({ title: 'x', status: 'info', sections: [{ title: 's', lines: ['y'.repeat(10_000)] }] });
    assertWithinSlackLimits(blocks);
    assert.ok(texts(blocks)[1].includes('y'.repeat(1000)), 'the start of the line is kept');
  });

  test('huge summary, field values and footer still fit Slack limits', () => {
    const big = 'z'.repeat(5000);
    const { blocks } = renderReport({ title: 'x', status: 'info', summary: big, fields: [{ label: 'f', value: big }], footer: big });
    assertWithinSlackLimits(blocks);
  });

  test('never more than 50 blocks, and the cut is said', () => {
    const sections = Array.from({ length: 120 }, (_, i) => ({ title: `s${i}`, lines: [`line ${i}`] }));
    const fields = Array.from({ length: 45 }, (_, i) => ({ label: `f${i}`, value: `${i}` }));
    const { blocks } = renderReport({ title: 'x', status: 'info', sections, fields });
    assert.equal(blocks.length, 50);
    assertWithinSlackLimits(blocks);
    assert.match(texts([blocks[49]]).join(''), /cut/i);
  });

  test('fields are grouped ten to a block', () => {
    const fields = Array.from({ length: 23 }, (_, i) => ({ label: `f${i}`, value: `v${i}` }));
    const { blocks } = renderReport({ title: 'x', status: 'info', fields });
    const withFields = (blocks as AnyBlock[]).filter((b) => b.fields);
    assert.deepEqual(withFields.map((b) => b.fields!.length), [10, 10, 3]);
  });

  test('the fallback text has the title, summary and every check', () => {
    const report: Report = {
      title: 'Health',
      status: 'crit',
      summary: '1 critical',
      checks: [
        { name: 'postgres main', status: 'ok', text: '3 ms' },
        { name: 'redis cache', status: 'crit', text: 'connection refused' },
        { name: 'disk /', status: 'warn', text: '85% used' },
      ],
    };
    const { text } = renderReport(report);
    for (const s of ['Health', '1 critical', 'postgres main', '3 ms', 'redis cache', 'connection refused', 'disk /', '85% used']) {
      assert.ok(text.includes(s), `fallback lacks ${s}: ${text}`);
    }
  });

  test('the fallback text is escaped and fits 3000 characters', () => {
    const text = fallbackText({ title: 'x', status: 'info', summary: '<&>'.repeat(2000) });
    assert.ok(text.length <= 3000, `${text.length}`);
    assert.ok(!text.includes('<'), 'escaped');
  });
});

describe('console renderBlocks', () => {
  test('shows the text Slack would show, with mrkdwn escaping undone', () => {
    const { blocks } = renderReport({
      title: 'Logs',
      status: 'info',
      summary: 'a < b & c > d in <#C0OPS>',
      sections: [{ title: 'app.log', lines: ['if (x < 1 && y > 2)', 'second'], code: true }],
    });
    const { text, buttons } = renderBlocks(blocks as never, 'fallback', 1);
    assert.deepEqual(buttons, []);
    assert.ok(text.includes('a < b & c > d'), text);
    assert.ok(text.includes('#C0OPS'), text);
    assert.ok(!/&(amp|lt|gt);/.test(text), text);
    assert.ok(!text.includes('*'), `bold markers left in ${text}`);
    assert.ok(!text.includes('```'), text);
    assert.match(text, /^ +if \(x < 1 && y > 2\)$/m, 'code lines are indented');
    assert.match(text, /^ +second$/m);
  });

  test('mentions are readable, hostile markup shows as typed, and no sentinel is printed', () => {
    const { text: fallback, blocks } = renderReport({
      title: 'Approvals',
      status: 'info',
      summary: `asked by ${userMention('U0ONCALL')} in ${channelMention('C0OPS')} for ${groupMention('S0OPS')}`,
      sections: [{ title: 'log', lines: [HOSTILE_LINE], code: true }],
      actions: [{ id: 'a', label: `Ping ${userMention('U0ONCALL')}`, value: 'v' }],
    });
    for (const [text] of [[renderBlocks(blocks as never, fallback, 1).text], [renderBlocks(undefined, fallback, 1).text]]) {
      assert.ok(text.includes('asked by @U0ONCALL in #C0OPS for @S0OPS'), text);
      assert.ok(!/[\uE000-\uE01F]/.test(text), JSON.stringify(text));
      assert.ok(!/&(amp|lt|gt);/.test(text), text);
    }
    const { text } = renderBlocks(blocks as never, fallback, 1);
    assert.ok(text.includes(HOSTILE_LINE), `the log line is shown as it was: ${text}`);
    assert.match(text, /\[1\] Ping @U0ONCALL/);
    // A raw token that reached the console without a Slack renderer still prints plainly.
    assert.equal(renderBlocks(undefined, `by ${userMention('U1')}`, 1).text, 'by @U1');
  });

  test('without blocks it prints the fallback text', () => {
    assert.deepEqual(renderBlocks(undefined, 'plain', 1), { text: 'plain', buttons: [] });
    assert.deepEqual(renderBlocks([], 'plain', 1), { text: 'plain', buttons: [] });
  });

  test('buttons are numbered from firstButton across action blocks, in order', () => {
    const blocks = [
      { type: 'section', text: { type: 'mrkdwn', text: 'Restart *backend*?' } },
      {
        type: 'actions',
        block_id: 'b1',
        elements: [
          { type: 'button', action_id: 'approve', value: 'req-1', text: { type: 'plain_text', text: 'Approve' }, confirm: { text: { type: 'plain_text', text: 'Sure?' } } },
          { type: 'static_select', action_id: 'pick' },
          { type: 'button', action_id: 'deny', value: 'req-1', text: { type: 'plain_text', text: 'Deny' } },
        ],
      },
      { type: 'actions', block_id: 'b2', elements: [{ type: 'button', action_id: 'details', text: { type: 'plain_text', text: 'Details' } }] },
    ];
    const { text, buttons } = renderBlocks(blocks, undefined, 4);
    assert.deepEqual(buttons.map((b) => b.actionId), ['approve', 'deny', 'details']);
    assert.deepEqual(buttons[0], { actionId: 'approve', blockId: 'b1', value: 'req-1', text: 'Approve', confirm: 'Sure?' });
    assert.equal(buttons[2].blockId, 'b2');
    assert.match(text, /\[4\] Approve/);
    assert.match(text, /\[5\] Deny/);
    assert.match(text, /\[6\] Details/);
    assert.ok(!text.includes('[7]'), text);
    assert.match(text, /Restart backend\?/);
  });

  test('fields show as "label: value", context lines are indented', () => {
    const { blocks } = renderReport({ title: 't', status: 'info', fields: [{ label: 'Container', value: 'mitong-backend-1' }], footer: 'took 3 s' });
    const { text } = renderBlocks(blocks as never, undefined, 1);
    assert.match(text, /^Container: mitong-backend-1$/m);
    assert.match(text, /^ +took 3 s$/m);
  });
});
