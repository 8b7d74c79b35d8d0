/**
 * What opsbot watches when no config file exists: the manual's stack on this machine.
 * Kept as config input (not output) so it goes through the same validation as a file.
 */
export const defaultConfigInput = {
  targets: {
    local: true,
    postgres: { main: { url: 'postgres://postgres@127.0.0.1:5432/mitong_devops' } },
    redis: { cache: { url: 'redis://127.0.0.1:6379/0' } },
  },
};
