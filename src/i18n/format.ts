// Numbers, sizes, durations and times through Intl, for the reader's locale. Separate from the
// catalogs because they are the same in every message that shows them.
type Locale = 'en' | 'zh-CN';

const numberFormats = new Map<string, Intl.NumberFormat>();
function nf(locale: Locale, opts: Intl.NumberFormatOptions): Intl.NumberFormat {
  const id = `${locale}|${JSON.stringify(opts)}`;
  let f = numberFormats.get(id);
  if (!f) numberFormats.set(id, (f = new Intl.NumberFormat(locale, opts)));
  return f;
}

export function formatNumber(n: number, locale: Locale, opts: Intl.NumberFormatOptions = { maximumFractionDigits: 1 }): string {
  return nf(locale, opts).format(n);
}

// Intl has no binary units; "kilobyte" etc. show as "kB"/"MB" with the 1024 base df -h uses.
const UNITS = ['byte', 'kilobyte', 'megabyte', 'gigabyte', 'terabyte', 'petabyte'] as const;

export function formatBytes(n: number, locale: Locale): string {
  if (!Number.isFinite(n)) return String(n);
  let i = 0;
  let v = Math.abs(n);
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return nf(locale, { style: 'unit', unit: UNITS[i], unitDisplay: 'short', maximumFractionDigits: i === 0 || v >= 100 ? 0 : 1 }).format(Math.sign(n) * v);
}

/** Up to two units, largest first: "2 hr 5 min", "45 sec", "350 ms". */
export function formatDuration(ms: number, locale: Locale): string {
  if (!Number.isFinite(ms)) return String(ms);
  const unit = (value: number, u: string) => nf(locale, { style: 'unit', unit: u, unitDisplay: 'short', maximumFractionDigits: 0 }).format(value);
  const abs = Math.abs(ms);
  if (abs < 1000) return unit(Math.round(ms), 'millisecond');
  const parts: Array<[number, string]> = [
    [Math.floor(abs / 86_400_000), 'day'],
    [Math.floor(abs / 3_600_000) % 24, 'hour'],
    [Math.floor(abs / 60_000) % 60, 'minute'],
    [Math.floor(abs / 1000) % 60, 'second'],
  ];
  const first = parts.findIndex(([v]) => v > 0);
  const shown = parts.slice(first, first + 2).filter(([v]) => v > 0).map(([v, u]) => unit(v, u));
  return (ms < 0 ? '-' : '') + shown.join(locale === 'zh-CN' ? '' : ' ');
}

const timeFormats = new Map<string, Intl.DateTimeFormat>();

/**
 * "2026-12-02 09:00:00 UTC+08:00": the fields come from Intl in the configured zone; the order is
 * ISO's, which reads the same in both languages and sorts in logs and tables.
 */
export function formatTime(at: Date | number | string, _locale: Locale, timeZone: string): string {
  const date = at instanceof Date ? at : new Date(at);
  if (Number.isNaN(date.getTime())) return String(at);
  let f = timeFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
      hourCycle: 'h23', timeZoneName: 'longOffset',
    });
    timeFormats.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(date).map((x) => [x.type, x.value]));
  const offset = p.timeZoneName === 'GMT' ? '+00:00' : String(p.timeZoneName).replace(/^GMT/, '');
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second} UTC${offset}`;
}

export function formatList(items: string[], locale: Locale, type: 'conjunction' | 'disjunction' = 'conjunction'): string {
  return new Intl.ListFormat(locale, { style: 'long', type }).format(items);
}

/** Whether `zone` is an IANA time zone this runtime knows (config validation). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
