// A range query's chart: a vega-lite spec, compiled to vega, drawn headless as SVG, and turned into a
// PNG by resvg. No browser and no canvas: vega's 'none' renderer builds the scene graph and its SVG.
import { redactText } from '../core/redact.ts';

/** The PNG's size in pixels: wide enough for a day of 5-minute steps, short enough for a thread. */
export const CHART_SIZE = { width: 1000, height: 450 } as const;

export interface ChartOptions {
  timeZone: string;
  /** The window asked for, in ms since the epoch: the x axis spans it even where data is missing. */
  start: number;
  end: number;
}

export interface ChartSeries {
  /** The legend's name for it (the series as Prometheus writes it). */
  name: string;
  /** [seconds since the epoch, value], oldest first. */
  values: Array<[number, number]>;
}

/** Milliseconds `timeZone` is ahead of UTC at `at` (its daylight saving included). */
function offsetMs(at: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(at);
  const p = Object.fromEntries(parts.map((x) => [x.type, Number(x.value)]));
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(at / 1000) * 1000;
}

/**
 * The chart as a vega-lite spec. Times are shifted into `timeZone` and drawn on a UTC scale, since
 * vega knows only UTC and the process's own zone, and the reader's is the config's `timezone`.
 */
export function chartSpec(series: ChartSeries[], opts: ChartOptions): Record<string, unknown> {
  const offsets = new Map<number, number>();
  // Offsets change at most hourly; looking each hour up once keeps a long range quick.
  const shift = (ms: number) => {
    const hour = Math.floor(ms / 3_600_000);
    if (!offsets.has(hour)) offsets.set(hour, offsetMs(ms, opts.timeZone));
    return ms + offsets.get(hour)!;
  };
  const values = series.flatMap((s) => {
    // Labels can carry anything (a URL with a password in it): the picture is redacted like a message.
    const name = redactText(s.name);
    return s.values.filter(([, v]) => Number.isFinite(v)).map(([at, v]) => ({ t: shift(at * 1000), v, s: name }));
  });
  const span = opts.end - opts.start;
  const format = span <= 10 * 60_000 ? '%H:%M:%S' : span <= 86_400_000 ? '%H:%M' : '%m-%d %H:%M';
  return {
    width: CHART_SIZE.width,
    height: CHART_SIZE.height,
    // The whole picture, axes and legend included, is the size asked for.
    autosize: { type: 'fit', contains: 'padding' },
    background: 'white',
    padding: 8,
    data: { values },
    mark: { type: 'line', strokeWidth: 1.5 },
    encoding: {
      x: { field: 't', type: 'temporal', scale: { type: 'utc', domain: [shift(opts.start), shift(opts.end)] }, axis: { format, labelOverlap: true }, title: opts.timeZone },
      y: { field: 'v', type: 'quantitative', title: null, scale: { zero: false } },
      color: { field: 's', type: 'nominal', title: null, sort: null, legend: { orient: 'bottom', columns: 1, labelLimit: CHART_SIZE.width - 40 } },
    },
    config: { font: 'DejaVu Sans', view: { stroke: null } },
  };
}

/** Draws the series as a PNG of CHART_SIZE. */
export async function renderChart(series: ChartSeries[], opts: ChartOptions): Promise<Buffer> {
  // Loaded on first use: most of the bot never draws a chart, and vega is large.
  const [vega, { compile }, { Resvg }] = await Promise.all([import('vega'), import('vega-lite'), import('@resvg/resvg-js')]);
  // Their warnings would go to the console, beside the bot's JSON log: only errors are kept, and those throw.
  const spec = compile(chartSpec(series, opts) as never, { logger: vega.logger(vega.Error) }).spec;
  const view = new vega.View(vega.parse(spec), { renderer: 'none', logLevel: vega.Error });
  try {
    const svg = await view.toSVG();
    // resvg draws text only with a font it finds: DejaVu Sans, Debian's fonts-dejavu-core (installed by
    // .ci/run), which is also the family the spec names, so vega's width estimates fit closely enough.
    const png = new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render();
    return png.asPng();
  } finally {
    view.finalize();
  }
}
