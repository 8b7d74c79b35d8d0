import { slugify } from 'transliteration';

/** Slack's rules for a channel name: lowercase letters, digits, "-" and "_", at most 80 characters. */
export const MAX_CHANNEL_NAME = 80;

/** yyyymmdd of `at` in `timeZone`. */
export function ymd(at: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}${get('month')}${get('day')}`;
}

/**
 * The title as a channel-name fragment. Non-Latin titles are transliterated (数据库宕机 →
 * shu-ju-ku-dang-ji) so that the channel still says what it is about; a title with nothing
 * usable left gives "incident".
 */
export function slug(title: string, max = 40): string {
  const s = slugify(title, { lowercase: true, separator: '-', allowedChars: 'a-zA-Z0-9' })
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  // A long title is cut at a word boundary when there is one.
  const cut = s.length > max ? s.slice(0, max).replace(/-[^-]*$/, '') || s.slice(0, max) : s;
  return cut.replace(/-+$/, '') || 'incident';
}

/** Makes any text a valid Slack channel name. */
export function cleanName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/-+/g, '-').replace(/^-+|-+$/g, '').slice(0, MAX_CHANNEL_NAME) || 'incident';
}

/** The channel name from config `incidents.channel_name`, e.g. "inc-{date}-{slug}" → "inc-20261203-db-down". */
export function channelName(template: string, p: { title: string; n: number; at: Date; timeZone: string }): string {
  const name = template
    .replace(/\{date\}/g, ymd(p.at, p.timeZone))
    .replace(/\{n\}/g, String(p.n))
    .replace(/\{slug\}/g, slug(p.title));
  return cleanName(name);
}

/** The name to try after `name` was taken: "-2", "-3", … kept within Slack's 80 characters. */
export function withSuffix(name: string, attempt: number): string {
  const suffix = `-${attempt}`;
  return `${name.slice(0, MAX_CHANNEL_NAME - suffix.length).replace(/-+$/, '')}${suffix}`;
}
