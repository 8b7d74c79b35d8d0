import { hasKey, type T } from '../i18n/index.ts';

/** A role's name in the reader's language; a role the catalogs do not know keeps its config name. */
export const roleName = (role: string, t: T): string => (hasKey(`incidents:role.${role}`) ? t(`incidents:role.${role}`) : role);
