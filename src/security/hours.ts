/**
 * Working hours as operators write them: "09:00-19:00 Mon-Fri" (or "Mon,Wed,Fri", "Sat-Sun"),
 * judged in the configured time zone, so that a change at 02:00 Shanghai time is "outside hours"
 * wherever the bot runs.
 */
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

export interface WorkingHours {
  /** Minutes after midnight, start inclusive, end exclusive. */
  from: number;
  to: number;
  /** Day numbers, 0 = Sunday. */
  days: Set<number>;
}

function minutes(hhmm: string): number | undefined {
  const m = /^(\d{1,2}):(\d{2})$/.exec(hhmm);
  if (!m) return undefined;
  const h = Number(m[1]);
  const min = Number(m[2]);
  return h <= 24 && min < 60 && h * 60 + min <= 24 * 60 ? h * 60 + min : undefined;
}

function day(name: string): number {
  return DAYS.findIndex((d) => d.toLowerCase() === name.toLowerCase());
}

/** Parses the text; undefined when it is not of the expected shape. */
export function parseWorkingHours(text: string): WorkingHours | undefined {
  const m = /^\s*(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})(?:\s+([A-Za-z,\s-]+))?\s*$/.exec(text);
  if (!m) return undefined;
  const from = minutes(m[1]);
  const to = minutes(m[2]);
  if (from === undefined || to === undefined || from >= to) return undefined;
  const days = new Set<number>();
  for (const part of (m[3] ?? 'Mon-Sun').split(',').map((p) => p.trim()).filter(Boolean)) {
    const [a, b] = part.split('-').map((p) => day(p.trim()));
    if (a < 0 || (b !== undefined && b < 0)) return undefined;
    // "Fri-Mon" wraps over the weekend.
    for (let d = a; ; d = (d + 1) % 7) {
      days.add(d);
      if (b === undefined || d === b) break;
    }
  }
  return { from, to, days };
}

export function workingHoursProblem(text: string): string | undefined {
  // i18n-exempt: a config diagnostic for the operator's terminal, like the rest of src/config/
  return parseWorkingHours(text) ? undefined : 'Expected e.g. "09:00-19:00 Mon-Fri" (24-hour times, start before end, days Mon…Sun)';
}

/** Whether the moment falls inside the hours, on the wall clock of `timeZone`. */
export function withinHours(at: Date, hours: WorkingHours, timeZone: string): boolean {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const wd = day(get('weekday'));
  const mins = Number(get('hour')) * 60 + Number(get('minute'));
  return hours.days.has(wd) && mins >= hours.from && mins < hours.to;
}
