/**
 * Backup ids: "<target>-<yyyymmddThhmmssZ>" in UTC (sortable, the same on every replica), with
 * "-data" or "-schema" for the manual's partial modes and "-files" for file archives.
 */
export function backupId(target: string, at: Date, mode: 'full' | 'data-only' | 'schema-only' | 'files'): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const suffix = mode === 'data-only' ? '-data' : mode === 'schema-only' ? '-schema' : mode === 'files' ? '-files' : '';
  return `${target}-${stamp}${suffix}`;
}

/** "20261203T093000" style stamp for database names made by a restore (UTC, no separators). */
export function stamp(at: Date): string {
  return at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '').toLowerCase();
}
