/**
 * Why a `hostKey` that has the right shape is still not a real SHA-256 host-key fingerprint, or
 * undefined when it may be one. Catches the placeholders people leave in a copied config: a real
 * fingerprint is 32 random bytes, so runs, words and a handful of distinct characters are
 * (all but) impossible in one.
 */
export function placeholderFingerprint(fingerprint: string): string | undefined {
  const b64 = fingerprint.replace(/^SHA256:/, '').replace(/=+$/, '');
  const bytes = Buffer.from(b64, 'base64');
  // 32 bytes leave 2 unused bits in the last of 43 characters; they are always zero.
  if (bytes.length !== 32 || bytes.toString('base64').replace(/=+$/, '') !== b64) return 'is not the base64 of a SHA-256 digest';
  if (/(.)\1{5}/.test(b64)) return 'repeats one character';
  const word = /replace|example|placeholder|fingerprint|hostkey|changeme|yourkey|abcdef|123456|xxxxxx/i.exec(b64);
  if (word) return `contains "${word[0]}"`;
  if (new Set(b64).size < 16) return 'uses too few distinct characters';
  return undefined;
}
