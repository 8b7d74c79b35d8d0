import type { Thresholds } from '../config/schema.ts';
import type { CheckLine, Section } from '../core/report.ts';

/** What one target's check yields: summary lines for the report, and detail for /health <kind>. */
export interface CheckResult {
  lines: CheckLine[];
  detail: Section;
}

export type Evaluate<T> = (name: string, where: string, facts: T, t: Thresholds) => CheckResult;
