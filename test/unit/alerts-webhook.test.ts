import assert from 'node:assert/strict';
import { test } from 'node:test';
import { channelFor, expressionLink, webhookPayload } from '../../src/alerts/webhook.ts';
import { configSchema, crossReferenceIssues } from '../../src/config/schema.ts';

const alerts = (raw: Record<string, unknown>) => configSchema.parse({ alerts: raw }).alerts;

test('a group goes to the first by_label entry its labels match, in config order, else the default', () => {
  const cfg = alerts({ channels: { default: 'C0ALERTS', by_label: { severity: { critical: 'C0ONCALL' }, service: { postgres: 'C0DBA' } } } });
  assert.equal(channelFor(cfg, { groupLabels: {}, commonLabels: { severity: 'critical', service: 'postgres' } }), 'C0ONCALL');
  assert.equal(channelFor(cfg, { groupLabels: {}, commonLabels: { severity: 'warning', service: 'postgres' } }), 'C0DBA');
  assert.equal(channelFor(cfg, { groupLabels: { service: 'postgres' }, commonLabels: {} }), 'C0DBA');
  assert.equal(channelFor(cfg, { groupLabels: {}, commonLabels: { severity: 'warning' } }), 'C0ALERTS');
  // A value that only looks like an inherited property is not a match.
  assert.equal(channelFor(cfg, { groupLabels: {}, commonLabels: { severity: 'constructor' } }), 'C0ALERTS');
});

test('the expression link keeps the query and takes the configured Prometheus origin; other schemes are dropped', () => {
  const gen = 'http://prom-0.internal:9090/graph?g0.expr=up%3D%3D0&g0.tab=1';
  assert.equal(expressionLink(gen), gen);
  assert.equal(expressionLink(gen, 'https://prometheus.example.com'), 'https://prometheus.example.com/graph?g0.expr=up%3D%3D0&g0.tab=1');
  assert.equal(expressionLink(gen, 'https://example.com/prom/'), 'https://example.com/prom/graph?g0.expr=up%3D%3D0&g0.tab=1');
  assert.equal(expressionLink('javascript:alert(1)'), undefined);
  assert.equal(expressionLink(''), undefined);
});

test('only version 4 payloads are taken', () => {
  const base = { groupKey: 'k', status: 'firing', receiver: 'r', alerts: [] };
  assert.ok(webhookPayload.safeParse({ ...base, version: '4' }).success);
  assert.ok(!webhookPayload.safeParse({ ...base, version: '3' }).success);
});

test('a token without a default channel is a config error', () => {
  const issues = crossReferenceIssues({ alerts: { token: 'x'.repeat(20) } });
  assert.deepEqual(issues.map((i) => i.path.join('.')), ['alerts.channels.default']);
  assert.deepEqual(crossReferenceIssues({ alerts: { token: 'x'.repeat(20), channels: { default: 'C0ALERTS' } } }), []);
});
