/**
 * Reading a container's log as a stream: frames are demultiplexed as they arrive, split into
 * lines, matched, and only the newest matching lines are kept, each and all within a byte limit.
 * A log of any size is searched whole with memory bounded by those limits.
 */

export interface LogScanLimits {
  /** Keep only lines containing this fixed string (bytes, not a regex); all lines when empty. */
  grep?: string;
  /** Matching lines kept, the newest. */
  keep: number;
  /** Bytes kept of one line; the rest of a longer line is left out and counted. */
  maxLineBytes: number;
  /** Bytes kept of all lines together; the oldest kept lines go first. */
  maxBytes: number;
}

/** What was read and what was left out, so that a reply can say where it cut. */
export interface LogScan {
  /** The newest matching lines, oldest first. */
  lines: string[];
  /** Lines read, and their bytes (frame headers excluded). */
  scannedLines: number;
  scannedBytes: number;
  /** Lines that contain the pattern (every line without one). */
  matched: number;
  /** Matching lines left out: older than the newest `keep`, or past `maxBytes`. */
  dropped: number;
  /** Kept lines that were cut at maxLineBytes. */
  longLines: number;
  /** Reading stopped before the end of the log (deadline); the newest part was not read. */
  stoppedEarly: boolean;
}

const NL = 0x0a;

/** One stream's line being assembled: its first bytes for display, and whether it matched so far. */
class PartialLine {
  head: Buffer[] = [];
  headBytes = 0;
  total = 0;
  matched: boolean;
  /** The last pattern.length - 1 bytes seen, so a match across two chunks is found. */
  carry: Buffer = Buffer.alloc(0);
  constructor(matchAll: boolean) {
    this.matched = matchAll;
  }
}

/** Bytes of a UTF-8 buffer without a character cut short at its end. */
function wholeChars(buf: Buffer): Buffer {
  let i = buf.length;
  let back = 0;
  while (i > 0 && back < 3 && (buf[i - 1] & 0xc0) === 0x80) {
    i--;
    back++;
  }
  if (i === 0) return buf;
  const lead = buf[i - 1];
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return need > back + 1 ? buf.subarray(0, i - 1) : buf;
}

/** Lines in, the newest matching ones kept. Streams (stdout, stderr) keep separate partial lines. */
export class LineScanner {
  private readonly pattern: Buffer;
  private readonly partial = new Map<number, PartialLine>();
  // A ring would save the occasional splice; the array is compacted once it doubles.
  private kept: string[] = [];
  private keptStart = 0;
  private keptBytes: number[] = [];
  private keptTotal = 0;
  readonly stats = { scannedLines: 0, scannedBytes: 0, matched: 0, dropped: 0, longLines: 0 };

  constructor(private readonly limits: LogScanLimits) {
    this.pattern = Buffer.from(limits.grep ?? '', 'utf8');
  }

  /** A payload of stream `stream` (1 stdout, 2 stderr, 0 for a raw TTY log). */
  push(stream: number, data: Buffer): void {
    this.stats.scannedBytes += data.length;
    let at = 0;
    while (at < data.length) {
      const nl = data.indexOf(NL, at);
      const end = nl < 0 ? data.length : nl;
      if (nl >= 0 && !this.partial.has(stream)) {
        // The common case, a whole line inside one chunk: matched in place, copied only if kept.
        this.whole(data.subarray(at, end));
      } else {
        this.append(stream, data.subarray(at, end));
        if (nl >= 0) this.finish(stream);
      }
      if (nl < 0) break;
      at = nl + 1;
    }
  }

  private whole(line: Buffer): void {
    this.stats.scannedLines++;
    if (this.pattern.length && line.indexOf(this.pattern) < 0) return;
    this.stats.matched++;
    this.emit(line.length > this.limits.maxLineBytes ? line.subarray(0, this.limits.maxLineBytes) : line, line.length);
  }

  /** The end of the log: lines without a final newline count too. */
  end(): void {
    for (const stream of [...this.partial.keys()]) this.finish(stream);
  }

  result(stoppedEarly: boolean): LogScan {
    return { lines: this.kept.slice(this.keptStart), ...this.stats, stoppedEarly };
  }

  private append(stream: number, seg: Buffer): void {
    let line = this.partial.get(stream);
    if (!line) {
      line = new PartialLine(this.pattern.length === 0);
      this.partial.set(stream, line);
    }
    if (!seg.length) return;
    line.total += seg.length;
    const room = this.limits.maxLineBytes - line.headBytes;
    if (room > 0) {
      const part = seg.length <= room ? seg : seg.subarray(0, room);
      // Copied: the chunk it came from must not stay alive with the line.
      line.head.push(Buffer.from(part));
      line.headBytes += part.length;
    }
    if (line.matched) return;
    const p = this.pattern;
    const hay = line.carry.length ? Buffer.concat([line.carry, seg]) : seg;
    if (hay.indexOf(p) >= 0) {
      line.matched = true;
      line.carry = Buffer.alloc(0);
    } else {
      line.carry = Buffer.from(hay.subarray(Math.max(0, hay.length - (p.length - 1))));
    }
  }

  private finish(stream: number): void {
    const line = this.partial.get(stream);
    if (!line) return;
    this.partial.delete(stream);
    this.stats.scannedLines++;
    if (!line.matched) return;
    this.stats.matched++;
    this.emit(Buffer.concat(line.head, line.headBytes), line.total);
  }

  /** A matching line: `head` is its first bytes (all of it unless it is longer than maxLineBytes). */
  private emit(head: Buffer, total: number): void {
    let shown = head;
    if (shown.length && shown[shown.length - 1] === 0x0d) shown = shown.subarray(0, shown.length - 1); // TTY logs end lines with \r\n
    let text = wholeChars(shown).toString('utf8');
    if (total > head.length) {
      this.stats.longLines++;
      // i18n-exempt: a marker inside the log line itself, which is not translated
      text += ` … [line cut: ${total} bytes, the first ${head.length} shown]`;
    }
    this.keep(text);
  }

  private keep(text: string): void {
    const bytes = Buffer.byteLength(text) + 1;
    this.kept.push(text);
    this.keptBytes.push(bytes);
    this.keptTotal += bytes;
    while (this.kept.length - this.keptStart > this.limits.keep || (this.keptTotal > this.limits.maxBytes && this.kept.length - this.keptStart > 1)) {
      this.keptTotal -= this.keptBytes[this.keptStart];
      this.keptStart++;
      this.stats.dropped++;
    }
    if (this.keptStart > 1024 && this.keptStart * 2 > this.kept.length) {
      this.kept = this.kept.slice(this.keptStart);
      this.keptBytes = this.keptBytes.slice(this.keptStart);
      this.keptStart = 0;
    }
  }
}

/**
 * Docker's multiplexed log stream, one chunk at a time: frames of [stream, 0, 0, 0, uint32 BE
 * length] + payload, which may be split anywhere between chunks. A TTY container's log has no
 * frames (`raw`): its bytes are passed through as stream 0.
 */
export class FrameDemuxer {
  private header = Buffer.alloc(0);
  private stream = 0;
  private remaining = 0;

  constructor(private readonly raw: boolean, private readonly out: (stream: number, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    if (this.raw) return this.out(0, chunk);
    let at = 0;
    while (at < chunk.length) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - at);
        this.out(this.stream, chunk.subarray(at, at + n));
        this.remaining -= n;
        at += n;
        continue;
      }
      const need = 8 - this.header.length;
      const part = chunk.subarray(at, at + need);
      this.header = this.header.length ? Buffer.concat([this.header, part]) : Buffer.from(part);
      at += part.length;
      if (this.header.length < 8) return;
      if (this.header[0] > 2 || this.header[1] || this.header[2] || this.header[3]) {
        throw new Error('malformed Docker log stream (bad frame header)');
      }
      this.stream = this.header[0];
      this.remaining = this.header.readUInt32BE(4);
      this.header = Buffer.alloc(0);
    }
  }
}
