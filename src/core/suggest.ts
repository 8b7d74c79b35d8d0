import { distance } from 'fastest-levenshtein';

/** The closest candidate to `input`, if it is close enough to be a plausible typo. */
export function didYouMean(input: string, candidates: readonly string[]): string | undefined {
  const needle = input.toLowerCase();
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const d = c.toLowerCase().startsWith(needle) && needle.length >= 2 ? 0.5 : distance(needle, c.toLowerCase());
    if (d < bestScore) {
      bestScore = d;
      best = c;
    }
  }
  // Half the word may differ (a transposition costs 2), capped so short words stay strict.
  const limit = Math.min(3, Math.max(1, Math.floor(needle.length / 2)));
  return bestScore <= limit ? best : undefined;
}
