/** The streamed log reader: frames and lines split anywhere between chunks, and what is kept. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameDemuxer, LineScanner, type LogScanLimits } from '../../src/targets/log-scan.ts';

const frame = (stream: number, text: string) => {
  const payload = Buffer.from(text, 'utf8');
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
};

function scan(log: Buffer, chunk: number, limits: Partial<LogScanLimits> = {}, raw = false) {
  const scanner = new LineScanner({ keep: 100, maxBytes: 1 << 20, maxLineBytes: 1 << 16, ...limits });
  const demux = new FrameDemuxer(raw, (s, p) => scanner.push(s, p));
  for (let i = 0; i < log.length; i += chunk) demux.push(log.subarray(i, i + chunk));
  scanner.end();
  return scanner.result(false);
}

test('frames and lines split at any chunk size give the same lines; each stream keeps its own partial line', () => {
  // A stdout line written in two frames, with a stderr line between them.
  const log = Buffer.concat([
    frame(1, 'one\ntw'), frame(2, 'err é\n'), frame(1, 'o\nthree needle\n'), frame(2, 'last without newline'),
  ]);
  for (const chunk of [1, 2, 3, 7, 8, 9, 13, 64, log.length]) {
    const r = scan(log, chunk);
    assert.deepEqual(r.lines, ['one', 'err é', 'two', 'three needle', 'last without newline'], `chunks of ${chunk}`);
    assert.equal(r.scannedLines, 5);
    const g = scan(log, chunk, { grep: 'needle' });
    assert.deepEqual([g.lines, g.matched], [['three needle'], 1], `grep, chunks of ${chunk}`);
  }
});

test('a pattern across two chunks of one long line is found; the line is kept cut, on a character boundary', () => {
  const line = `${'é'.repeat(50_000)}NEEDLE${'x'.repeat(10)}`;
  const log = frame(1, `${line}\nshort\n`);
  for (const chunk of [5, 4096, 65536]) {
    const r = scan(log, chunk, { grep: 'NEEDLE', maxLineBytes: 101 });
    assert.equal(r.lines.length, 1);
    // 101 bytes would split an "é" (2 bytes): 50 whole characters are shown.
    assert.equal(r.lines[0], `${'é'.repeat(50)} … [line cut: ${Buffer.byteLength(line)} bytes, the first 101 shown]`);
    assert.deepEqual([r.scannedLines, r.matched, r.longLines], [2, 1, 1]);
  }
});

test('only the newest lines are kept, within both the count and the byte limit, and the rest is counted', () => {
  const log = frame(1, Array.from({ length: 1000 }, (_, i) => `line ${i}`).join('\n') + '\n');
  const byCount = scan(log, 100, { keep: 3 });
  assert.deepEqual(byCount.lines, ['line 997', 'line 998', 'line 999']);
  assert.deepEqual([byCount.matched, byCount.dropped], [1000, 997]);
  const byBytes = scan(log, 100, { keep: 1000, maxBytes: 20 });
  assert.deepEqual(byBytes.lines, ['line 998', 'line 999']);
  assert.equal(byBytes.dropped, 998);
});

test('a TTY log has no frames and ends lines with \\r\\n', () => {
  assert.deepEqual(scan(Buffer.from('a\r\nb\r\n'), 1, {}, true).lines, ['a', 'b']);
  assert.throws(() => new FrameDemuxer(false, () => {}).push(Buffer.from('plain text, not frames')), /bad frame header/);
});
