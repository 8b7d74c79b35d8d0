import type { Thresholds } from '../config/schema.ts';
import type { CheckLine, Section } from '../core/report.ts';
import type { T } from '../i18n/index.ts';

/** What one target's check yields: summary lines for the report, and detail for /health <kind>. */
export interface CheckResult {
  lines: CheckLine[];
  detail: Section;
}

/** What an evaluation reads besides the facts: the limits, the reader's language, and when. */
export interface EvaluateContext {
  thresholds: Thresholds;
  t: T;
  /** When the facts were read (epoch ms): ages are counted from then, not from the rendering. */
  now: number;
}

export type Evaluate<F> = (name: string, where: string, facts: F, ctx: EvaluateContext) => CheckResult;
