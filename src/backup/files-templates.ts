/** Templates for file archives (manual §2.3); see src/backup/files.ts. */
export const filesTemplates = {} satisfies Record<string, (...args: never[]) => string[]>;
