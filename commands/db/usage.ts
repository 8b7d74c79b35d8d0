/** The usage line of every /db subcommand: each command shows its own, and `/db` lists them all. */
export const USAGE = {
  sizes: { syntax: '/db sizes [--limit N] [--target NAME]', note: 'db:usage.sizes' },
  slow: { syntax: '/db slow [--limit N] [--target NAME]', note: 'db:usage.slow' },
  activity: { syntax: '/db activity [--target NAME]', note: 'db:usage.activity' },
  bloat: { syntax: '/db bloat [--limit N] [--target NAME]', note: 'db:usage.bloat' },
  indexes: { syntax: '/db indexes [--limit N] [--target NAME]', note: 'db:usage.indexes' },
  explain: { syntax: '/db explain <SELECT …> [--analyze] [--target=NAME]', note: 'db:usage.explain' },
  analyze: { syntax: '/db analyze [table] [--target NAME]', note: 'db:usage.analyze' },
  vacuum: { syntax: '/db vacuum [table] [--full] [--dry-run] [--target NAME]', note: 'db:usage.vacuum' },
  reindex: { syntax: '/db reindex <table|index|database> [--dry-run] [--target NAME]', note: 'db:usage.reindex' },
  // i18n-exempt: the command's syntax, the same in every language
  indexCreate: { syntax: '/db index create <table> (<column>, …) [--unique] [--name NAME] [--dry-run] [--target NAME]', note: 'db:usage.index_create' },
  cancel: { syntax: '/db cancel <pid> [--target NAME]', note: 'db:usage.cancel' },
  terminate: { syntax: '/db terminate <pid> [--dry-run] [--target NAME]', note: 'db:usage.terminate' },
};
