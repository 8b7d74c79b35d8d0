import i18next, { type i18n } from 'i18next';
import { CATALOGS } from './catalogs.ts';
import { formatBytes, formatDuration, formatNumber, formatTime, formatList } from './format.ts';

export const LOCALES = ['en', 'zh-CN'] as const;
export type Locale = (typeof LOCALES)[number];

/** Interpolation values; numbers are formatted for the reader's locale by `{{n, number}}` etc. */
export type Params = Record<string, unknown>;

/**
 * A message still to be translated: what code deep below the reply (a target, a check) returns
 * or throws, so that the reader's language is chosen where the reply is made.
 */
export interface Msg {
  key: string;
  params?: Params;
}

export const msg = (key: string, params?: Params): Msg => ({ key, params });
export const isMsg = (v: unknown): v is Msg => !!v && typeof v === 'object' && typeof (v as Msg).key === 'string';

/**
 * The reader's language, bound: `t('health:title')`, plus Intl formatting in that locale and the
 * configured time zone. Every text a person sees goes through one of these.
 */
export interface T {
  (key: string, params?: Params): string;
  readonly locale: Locale;
  readonly timeZone: string;
  /** A Msg or a plain string (already text, e.g. a server's own error message). */
  text(m: Msg | string): string;
  number(n: number, opts?: Intl.NumberFormatOptions): string;
  /** 1536 → "1.5 KB" (1024-based, as df -h and du -h count). */
  bytes(n: number): string;
  /** Milliseconds → "1 hr 5 min" / "1小时5分钟". */
  duration(ms: number): string;
  /** A moment in the configured zone, with its offset: "2026-12-02 09:00:00 UTC+08:00". */
  time(at: Date | number | string): string;
  /** ["a", "b", "c"] → "a, b, and c" / "a、b和c". */
  list(items: string[], type?: 'conjunction' | 'disjunction'): string;
}

let instance: i18n | undefined;

/** One i18next instance for the process, initialised synchronously from the bundled catalogs. */
function engine(): i18n {
  if (instance) return instance;
  const inst = i18next.createInstance();
  void inst.init({
    initAsync: false,
    resources: CATALOGS,
    lng: 'en',
    fallbackLng: 'en',
    supportedLngs: [...LOCALES],
    ns: Object.keys(CATALOGS.en),
    defaultNS: 'common',
    nsSeparator: ':',
    keySeparator: '.',
    // Escaping for Slack happens once, in the renderer; HTML escaping here would show "&amp;".
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  // `{{size, bytes}}`, `{{ms, duration}}`, `{{at, time}}` in a catalog format for the reader.
  const f = inst.services.formatter!;
  f.add('bytes', (v, lng) => formatBytes(Number(v), asLocale(lng)));
  f.add('duration', (v, lng) => formatDuration(Number(v), asLocale(lng)));
  f.add('list', (v, lng, opts) => formatList(Array.isArray(v) ? v.map(String) : [String(v)], asLocale(lng), (opts as { type?: 'conjunction' | 'disjunction' } | undefined)?.type));
  instance = inst;
  return inst;
}

const asLocale = (lng: string | undefined): Locale => (lng === 'zh-CN' ? 'zh-CN' : 'en');

/** Maps a Slack locale ("zh-CN", "zh-TW", "en-US", "ja-JP") to one the catalogs have. */
export function normalizeLocale(slackLocale: string | undefined | null): Locale | undefined {
  if (!slackLocale) return undefined;
  const l = slackLocale.toLowerCase();
  if (l.startsWith('zh')) return 'zh-CN';
  if (l.startsWith('en')) return 'en';
  return undefined;
}

const cache = new Map<string, T>();

/** The translator for one locale and time zone (cached: there are only a few of each). */
export function translator(locale: Locale, timeZone = 'UTC'): T {
  const id = `${locale}|${timeZone}`;
  const hit = cache.get(id);
  if (hit) return hit;
  const fixed = engine().getFixedT(locale);
  const t = ((key: string, params?: Params) => {
    // `{{at, time}}` needs the zone, which i18next's formatter does not carry: times are passed pre-formatted.
    const p = params && 'at' in params && (params.at instanceof Date || typeof params.at === 'number') ? { ...params, at: formatTime(params.at, locale, timeZone) } : params;
    return fixed(key, p as never) as unknown as string;
  }) as T;
  Object.assign(t, {
    locale,
    timeZone,
    text: (m: Msg | string) => (typeof m === 'string' ? m : t(m.key, m.params)),
    number: (n: number, opts?: Intl.NumberFormatOptions) => formatNumber(n, locale, opts),
    bytes: (n: number) => formatBytes(n, locale),
    duration: (ms: number) => formatDuration(ms, locale),
    time: (at: Date | number | string) => formatTime(at, locale, timeZone),
    list: (items: string[], type?: 'conjunction' | 'disjunction') => formatList(items, locale, type),
  });
  cache.set(id, t);
  return t;
}

/** English in UTC: for logs and audit rows, which are read by whoever runs the bot, not per reader. */
export const logT = (): T => translator('en', 'UTC');

/** Whether the catalogs have this key (tests and the console's help use it). */
export function hasKey(key: string, locale: Locale = 'en'): boolean {
  return engine().exists(key, { lng: locale, fallbackLng: false } as never);
}
