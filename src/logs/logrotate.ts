/**
 * The logrotate rule that applies to a log, read from the host's config files: enough of the
 * format (stanzas, globs, rotate/size/compress and the global defaults before them) to compare
 * it with the manual's 10 MB × 5, compressed.
 */
import { LOG_MARK } from './templates.ts';

export interface RotateRule {
  /** The config file and the pattern that named the log. */
  file: string;
  pattern: string;
  rotate?: number;
  /** size or maxsize, in bytes. */
  sizeBytes?: number;
  compress: boolean;
  delaycompress: boolean;
}

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

export function parseSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([kmg]?)b?$/i.exec(text.trim());
  return m ? Math.round(Number(m[1]) * UNITS[m[2].toLowerCase()]) : undefined;
}

/** A logrotate glob as a regular expression over whole paths. */
function globRe(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`);
}

type Directives = Omit<RotateRule, 'file' | 'pattern'>;

function apply(d: Directives, line: string): void {
  const [word, value] = line.split(/\s+/, 2);
  if (word === 'rotate' && /^\d+$/.test(value ?? '')) d.rotate = Number(value);
  else if ((word === 'size' || word === 'maxsize') && value) d.sizeBytes = parseSize(value) ?? d.sizeBytes;
  else if (word === 'compress') d.compress = true;
  else if (word === 'nocompress') d.compress = false;
  else if (word === 'delaycompress') d.delaycompress = true;
  else if (word === 'nodelaycompress') d.delaycompress = false;
}

/** The rule for `log` among the configs (logrotateConfigs' output); the last match wins, as in logrotate. */
export function ruleFor(configs: string, log: string): RotateRule | undefined {
  let found: RotateRule | undefined;
  let file = '';
  // Global directives of logrotate.conf apply to the stanzas that follow, in files included later too.
  const global: Directives = { compress: false, delaycompress: false };
  let stanza: { patterns: string[]; d: Directives; script: boolean } | undefined;
  let header: string[] = [];
  for (const raw of configs.split('\n')) {
    if (raw.startsWith(`${LOG_MARK}\t`)) {
      file = raw.slice(LOG_MARK.length + 1);
      stanza = undefined;
      header = [];
      continue;
    }
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) continue;
    if (stanza) {
      // Script lines (postrotate … endscript) are shell, not directives.
      if (stanza.script) stanza.script = line !== 'endscript';
      else if (line.startsWith('}')) {
        const hit = stanza.patterns.find((p) => globRe(p).test(log));
        if (hit) found = { file, pattern: hit, ...stanza.d };
        stanza = undefined;
      } else if (/^(postrotate|prerotate|firstaction|lastaction|preremove)\b/.test(line)) {
        stanza.script = true;
      } else apply(stanza.d, line);
      continue;
    }
    const open = line.indexOf('{');
    if (open >= 0) {
      const patterns = [...header, line.slice(0, open)].join(' ').split(/\s+/).filter(Boolean).map((p) => p.replace(/^"|"$/g, ''));
      stanza = { patterns, d: { ...global }, script: false };
      header = [];
      const after = line.slice(open + 1).trim();
      if (after.startsWith('}')) stanza = undefined;
    } else if (line.startsWith('/') || line.startsWith('"')) header.push(line);
    else apply(global, line);
  }
  return found;
}
