/**
 * /metrics against a real Prometheus (Debian's package) that scrapes, every second, the bot's own
 * GET /metrics and an exporter in this test: node_exporter-style figures (job "node") and the
 * manual's backend job ("backend", request counters and latencies the test drives). Its rule file
 * holds the manual's HighErrorRate rule (§6.2), with a short window and `for:` so that it fires here.
 * Expected figures are computed from what the exporter serves, never copied from the bot's output.
 */
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { startFakeSlack, type FakeSlack, type FakeSlackCall } from '../harness/fake-slack.ts';
import { freePort } from '../harness/ports.ts';
import { startAlertmanager, type Alertmanager } from '../harness/alertmanager.ts';
import { startExporter, startPrometheus, type Exporter, type Prometheus } from '../harness/prometheus.ts';
import { startTarpit, type Tarpit } from '../harness/tarpit.ts';
import { messageText, startTestBot, TOKEN, type TestBot } from '../helpers/bot.ts';
import { scaled, scaledDuration, until } from '../helpers/wait.ts';
import { configSchema } from '../../src/config/schema.ts';
import { CHART_SIZE } from '../../src/metrics/chart.ts';

const ZH_USER = 'U0ZHUSER';

// What the exporter serves, as rates per second from its start: counters grow with wall time, so
// Prometheus's rate() gives these figures back.
const IDLE_PER_SECOND = 0.6; // one CPU, 60% idle: 40% busy
const MEM = { total: 8 * 2 ** 30, available: 2 * 2 ** 30 }; // 75% used
const ROOT = { size: 100e9, avail: 30e9 }; // 70% used
const NET = { rx: 1000, tx: 500 };
const REQUESTS_PER_SECOND = 10; // each taking 0.2 s
const ERRORS_PER_SECOND = 2;

let fake: FakeSlack;
let t: TestBot;
let prom: Prometheus;
let exporter: Exporter;
let am: Alertmanager;
const AM_TOKEN = 'alertmanager-metrics-token-0123456789';
let promStopped = false;
const started = Date.now();
/** When the backend began answering 5xx (the series does not exist before, as with real clients). */
let errorsSince: number | undefined;

function render(path: string): string {
  const s = (Date.now() - started) / 1000;
  if (path === '/node') {
    return [
      '# TYPE node_cpu_seconds_total counter',
      `node_cpu_seconds_total{cpu="0",mode="idle"} ${IDLE_PER_SECOND * s}`,
      `node_cpu_seconds_total{cpu="0",mode="user"} ${(1 - IDLE_PER_SECOND) * s}`,
      '# TYPE node_memory_MemTotal_bytes gauge',
      `node_memory_MemTotal_bytes ${MEM.total}`,
      '# TYPE node_memory_MemAvailable_bytes gauge',
      `node_memory_MemAvailable_bytes ${MEM.available}`,
      '# TYPE node_filesystem_size_bytes gauge',
      `node_filesystem_size_bytes{device="/dev/vda1",fstype="ext4",mountpoint="/"} ${ROOT.size}`,
      '# TYPE node_filesystem_avail_bytes gauge',
      `node_filesystem_avail_bytes{device="/dev/vda1",fstype="ext4",mountpoint="/"} ${ROOT.avail}`,
      '# TYPE node_network_receive_bytes_total counter',
      `node_network_receive_bytes_total{device="eth0"} ${NET.rx * s}`,
      `node_network_receive_bytes_total{device="lo"} ${99_999 * s}`,
      '# TYPE node_network_transmit_bytes_total counter',
      `node_network_transmit_bytes_total{device="eth0"} ${NET.tx * s}`,
      `node_network_transmit_bytes_total{device="lo"} ${99_999 * s}`,
      '',
    ].join('\n');
  }
  const n = REQUESTS_PER_SECOND * s;
  const lines = [
    '# TYPE http_requests_total counter',
    `http_requests_total{method="GET",status="200"} ${n}`,
    '# TYPE http_request_duration_seconds histogram',
    `http_request_duration_seconds_bucket{le="0.1"} 0`,
    `http_request_duration_seconds_bucket{le="0.25"} ${n}`,
    `http_request_duration_seconds_bucket{le="0.5"} ${n}`,
    `http_request_duration_seconds_bucket{le="+Inf"} ${n}`,
    `http_request_duration_seconds_sum ${0.2 * n}`,
    `http_request_duration_seconds_count ${n}`,
  ];
  if (errorsSince !== undefined) lines.splice(2, 0, `http_requests_total{method="GET",status="500"} ${(ERRORS_PER_SECOND * (Date.now() - errorsSince)) / 1000}`);
  return `${lines.join('\n')}\n`;
}

/** The manual's rule (§6.2), with a 10 s window and 2 s `for:` instead of 5m, so it fires within the test. */
const HIGH_ERROR_RATE = {
  name: 'application',
  rules: [{
    alert: 'HighErrorRate',
    expr: 'rate(http_requests_total{status=~"5.."}[10s]) > 0.05',
    for: '2s',
    labels: { severity: 'critical' },
    annotations: { summary: 'High error rate detected' },
  }],
};

const botTarget = () => new URL(t.url).host;

/**
 * The overview's default expressions, with a 15 s window for their 5 m one: rate() divides by the
 * whole window, so a series seconds old would read far below its rate over 5 m. The test waits
 * until the window is full and then expects the exporter's own rates back.
 */
const WINDOW = '15s';
const overview = Object.fromEntries(Object.entries(configSchema.parse({ alerts: { prometheus: { url: 'http://127.0.0.1:9' } } }).alerts.prometheus!.overview)
  .map(([k, v]) => [k, { ...v, expr: v.expr.replaceAll('[5m]', `[${WINDOW}]`) }]));

before(async () => {
  exporter = await startExporter(render);
  const promPort = await freePort();
  const amPort = await freePort();
  fake = await startFakeSlack({ token: TOKEN, users: { [ZH_USER]: { locale: 'zh-CN' } } });
  t = await startTestBot({
    locale: 'en',
    channels: { ops: 'C0OPS', zh: { id: 'C0ZH', locale: 'zh-CN' } },
    targets: { local: false },
    alerts: {
      prometheus: { url: `http://127.0.0.1:${promPort}`, timeout: scaledDuration(10_000), overview },
      // The whole chain of manual §6: the rule fires in Prometheus, Alertmanager sends the webhook, a card is posted.
      token: AM_TOKEN,
      channels: { default: 'C0ALERTS', by_label: { severity: { critical: 'C0ONCALL' } } },
      alertmanager: { url: `http://127.0.0.1:${amPort}` },
    },
  }, { fake });
  am = await startAlertmanager({ webhookUrl: `${t.url}/alertmanager`, token: AM_TOKEN, port: amPort });
  prom = await startPrometheus({
    port: promPort,
    targets: [
      { job: 'opsbot', target: botTarget() },
      { job: 'node', target: exporter.target, path: '/node' },
      { job: 'backend', target: exporter.target, path: '/backend' },
    ],
    ruleGroups: [HIGH_ERROR_RATE],
    alertmanagers: [`127.0.0.1:${amPort}`],
  });
  await until('every target up', scaled(30_000), () => prom.targets(), (v) => v.length === 3 && v.every((x) => x.health === 'up'), 250);
  // The overview's windows full: Prometheus's own idle rate is the exporter's.
  await until(`a full ${WINDOW} window of node samples`, scaled(60_000), () => prom.query(`rate(node_cpu_seconds_total{mode="idle"}[${WINDOW}])`),
    (r) => r.length === 1 && Math.abs(Number(r[0].value[1]) - IDLE_PER_SECOND) < 0.005, 500);
});

after(async () => {
  if (!promStopped) await prom?.stop();
  await am?.stop();
  await exporter?.stop();
  await t?.close();
  await fake?.stop();
});

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The row of a code-block table that holds every one of `cells`. */
const rowWith = (text: string, ...cells: string[]) => text.replace(/```/g, '').split('\n').find((l) => cells.every((c) => l.includes(c)));

/** The line of a check list that starts with `name` (after its status icon). */
const checkLine = (text: string, name: string) => text.split('\n').find((l) => l.includes(name)) ?? '';

describe('/metrics against a real Prometheus', () => {
  test('an instant query gives a table of the real `up` series: the bot itself and the node target', async () => {
    const { reply } = await t.run('/metrics', 'up');
    const text = messageText(reply);
    // What Prometheus itself says, for comparison.
    const series = await prom.query('up');
    assert.equal(series.length, 3);
    assert.match(text, /Metrics: up/);
    assert.match(text, /3 series at/);
    for (const [job, instance] of [['opsbot', botTarget()], ['node', exporter.target], ['backend', exporter.target]]) {
      const row = rowWith(text, instance, job);
      assert.ok(row, `a row for ${job} (${instance}) in:\n${text}`);
      assert.match(row!, /\s1$/, row);
    }
    assert.match(text, /instance\s+job\s+value/);
  });

  test('the text is kept as typed: PromQL with quotes, braces and Slack\'s &gt; reaches Prometheus', async () => {
    const { reply } = await t.run('/metrics', 'sum by (job) (up{job=~"node|opsbot"}) &gt; 0');
    const text = messageText(reply);
    assert.match(text, /2 series at/);
    assert.ok(rowWith(text, 'node', '1') && rowWith(text, 'opsbot', '1'), text);
    assert.ok(!rowWith(text, 'backend'), text);
  });

  test('a name that matches nothing says so', async () => {
    const { reply } = await t.run('/metrics', 'no_such_metric_anywhere');
    assert.match(messageText(reply), /No series matched no_such_metric_anywhere/);
  });

  test('`/metrics overview` gives the manual\'s six lines; the error rate has no data before any 5xx', async () => {
    const { reply } = await t.run('/metrics', 'overview');
    const text = messageText(reply);
    assert.match(text, /Monitoring overview \(manual §6\.1\)/);
    assert.match(checkLine(text, 'CPU usage'), new RegExp(`${Math.round((1 - IDLE_PER_SECOND) * 100)}%`));
    assert.match(checkLine(text, 'Memory usage'), new RegExp(`${Math.round((1 - MEM.available / MEM.total) * 100)}%`));
    assert.match(checkLine(text, 'Disk usage'), new RegExp(`${Math.round((1 - ROOT.avail / ROOT.size) * 100)}%`));
    assert.match(checkLine(text, 'Network traffic'), /\d.*\/s/);
    assert.match(checkLine(text, 'Request latency (p95)'), /\d+ ms/);
    assert.match(checkLine(text, 'Error rate (5xx)'), new RegExp(`no data: Prometheus has no series for ${escape(overview.error_rate.expr)}`));
    assert.match(text, /1 figure has no data in Prometheus/);
  });

  test('a range query: a sparkline per series in the message, and a PNG chart of the requested size in its thread', async () => {
    const { reply } = await t.run('/metrics', 'node_network_receive_bytes_total --range 5m');
    const text = messageText(reply);
    assert.match(text, /Metrics: node_network_receive_bytes_total over 5 min/);
    assert.match(text, /2 series over the last 5 min, a point every 2 sec; the chart is in the thread/);
    // Two series (eth0 and lo), each a counter rising all along: its sparkline climbs from ▁ to █.
    for (const device of ['eth0', 'lo']) {
      const line = rowWith(text, `device="${device}"`);
      assert.ok(line, text);
      assert.match(line!, /^▁[▁▂▃▄▅▆▇█]*█\s/, line);
    }
    const upload = await until('the chart uploaded', scaled(15_000), async () => fake.uploads().find((u) => u.filename === 'metrics.png' && u.completed), (u) => !!u);
    assert.equal(upload!.thread_ts, reply.result.ts, 'the chart is in the message\'s thread');
    assert.equal(upload!.channel_id, 'C0OPS');
    const png = upload!.bytes!;
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
    const decoded = decodePng(png);
    assert.deepEqual({ width: decoded.width, height: decoded.height }, { ...CHART_SIZE });
    // A white background with axes, text and two coloured lines drawn on it (anti-aliased: many shades).
    assert.ok(decoded.distinctColors > 20, `the chart draws something besides its background (${decoded.distinctColors} colours)`);
  });

  test('bad PromQL shows Prometheus\'s own reason', async () => {
    const expr = 'rate(up[5m)';
    const res = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { errorType: string; error: string };
    assert.equal(res.status, 400);
    const { reply } = await t.run('/metrics', expr);
    const text = messageText(reply);
    assert.equal(reply.method, 'response_url', 'an error goes only to the person who typed it');
    assert.ok(text.includes(`Prometheus refused the query (${body.errorType}): ${body.error}`), text);
  });

  test('zh-CN: a Chinese reader gets the error, and a Chinese channel the overview, in Chinese', async () => {
    const { reply } = await t.run('/metrics', 'rate(up[5m)', { user: ZH_USER });
    assert.match(messageText(reply), /Prometheus 拒绝了该查询（bad_data）：.*parse error/);
    const { reply: overview } = await t.run('/metrics', 'overview', { channel: 'C0ZH' });
    const text = messageText(overview);
    assert.match(text, /监控指标概览（手册 §6\.1）/);
    for (const name of ['CPU 使用率', '内存使用率', '磁盘使用率', '网络流量', '请求响应时间', '错误率']) assert.match(text, new RegExp(name));
  });

  test('HighErrorRate fires in Prometheus once the backend answers 5xx, and the overview shows the error rate', async () => {
    errorsSince = Date.now();
    await until('HighErrorRate firing', scaled(40_000), () => prom.alerts(), (alerts) => alerts.some((a) => a.labels.alertname === 'HighErrorRate' && a.state === 'firing'), 250);
    // The overview's window full of 5xx samples, as Prometheus itself computes it.
    await until(`a full ${WINDOW} window of 5xx samples`, scaled(60_000), () => prom.query(overview.error_rate.expr),
      (r) => r.length === 1 && Math.abs(Number(r[0].value[1]) - ERRORS_PER_SECOND) < 0.05, 500);
    const { reply } = await t.run('/metrics', 'overview');
    const text = messageText(reply);
    const line = checkLine(text, 'Error rate (5xx)');
    // Critical (over the rule's 0.05), and the exporter's rate within rate()'s extrapolation.
    const m = /^❌ .*Error rate \(5xx\)\*?: ([\d.]+)\/s$/.exec(line);
    assert.ok(m, line);
    assert.ok(Math.abs(Number(m[1]) - ERRORS_PER_SECOND) < 0.1, line);
    assert.doesNotMatch(text, /no data/);
  });

  test('the firing rule reaches Slack: Prometheus sends it to Alertmanager, whose webhook gives a card in the on-call channel', async () => {
    const card = await t.fake.waitFor((c) => c.method === 'chat.postMessage' && c.status === 200 && c.args.channel === 'C0ONCALL' && /HighErrorRate/.test(messageText(c)), scaled(60_000));
    const text = messageText(card);
    assert.match(text, /HighErrorRate: 1 alert firing/, text);
    assert.match(text, /High error rate detected/);
    assert.match(text, /job=backend/);
    // Its link opens the rule's own expression in this Prometheus.
    const link = ((card.args.blocks ?? []) as Array<{ elements?: Array<{ action_id?: string; url?: string }> }>)
      .flatMap((b) => b.elements ?? []).find((e) => e.action_id === 'alert.link')?.url ?? '';
    assert.ok(link.startsWith(`${prom.url}/graph?g0.expr=`) && decodeURIComponent(link).includes('http_requests_total{status=~"5.."}'), link);
  });
});

describe('/metrics when Prometheus is not well', () => {
  let tarpit: Tarpit;
  let hung: TestBot;

  before(async () => {
    tarpit = await startTarpit();
    hung = await startTestBot({ targets: { local: false }, alerts: { prometheus: { url: tarpit.url('http'), timeout: scaledDuration(1500) } } }, { fake });
  });

  after(async () => {
    await hung?.close();
    await tarpit?.stop();
  });

  test('a Prometheus that does not answer: a clear timeout, within the configured limit', async () => {
    const t0 = Date.now();
    const { reply } = await hung.run('/metrics', 'up');
    assert.match(messageText(reply), new RegExp(`Prometheus at ${tarpit.url('http').replace(/[.]/g, '\\.')} did not answer within`));
    assert.ok(Date.now() - t0 < scaled(10_000));
  });

  test('Prometheus down: a clear error naming it, for a query and for the overview', async () => {
    await prom.stop();
    promStopped = true;
    const { reply } = await t.run('/metrics', 'up');
    assert.match(messageText(reply), new RegExp(`Prometheus at ${prom.url.replace(/[.]/g, '\\.')} cannot be reached \\(ECONNREFUSED\\)`));
    const { reply: overview } = await t.run('/metrics', 'overview');
    assert.match(messageText(overview), /cannot be reached \(ECONNREFUSED\)/);
  });
});

/** Reads a PNG's header and inflates its image data: proof that it decodes, and what it holds. */
function decodePng(png: Buffer): { width: number; height: number; distinctColors: number } {
  let off = 8;
  let width = 0;
  let height = 0;
  let bitDepth = 0;
  let colorType = 0;
  const idat: Buffer[] = [];
  while (off < png.length) {
    const len = png.readUInt32BE(off);
    const type = png.toString('latin1', off + 4, off + 8);
    const data = png.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      bitDepth = data[8];
      colorType = data[9];
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  const channels = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[colorType];
  assert.equal(bitDepth, 8);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  assert.equal(raw.length, height * (stride + 1), 'the image data has every row of the header\'s size');
  // Undo each row's filter (PNG spec, section 9) to get the pixels back.
  const pixels = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const row = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = pixels.subarray(y * stride, (y + 1) * stride);
    const prev = y ? pixels.subarray((y - 1) * stride, y * stride) : Buffer.alloc(stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? out[i - channels] : 0;
      const b = prev[i];
      const c = i >= channels ? prev[i - channels] : 0;
      const p = a + b - c;
      const pa = Math.abs(p - a);
      const pb = Math.abs(p - b);
      const pc = Math.abs(p - c);
      const predict = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][filter];
      assert.ok(predict !== undefined, `row ${y}: unknown filter ${filter}`);
      out[i] = (row[i] + predict) & 0xff;
    }
  }
  const colors = new Set<string>();
  for (let i = 0; i < pixels.length; i += channels) colors.add(pixels.subarray(i, i + channels).toString('hex'));
  return { width, height, distinctColors: colors.size };
}
