/**
 * SMSBAT's `messageId` is a UUID ("string (UUID)", 004_c2de673666e3c7d4.txt, "Response Fields"),
 * and its clients may parse it as one (a .NET Guid, a uuid column). A Catalyst id (core/ids.ts) is
 * 128 bits in Crockford base32; the same 128 bits in hex, grouped 8-4-4-4-12, is a UUID. The two
 * forms convert both ways with nothing stored, so the id a client holds finds the message again.
 * A cascade's id is the orchestration engine's `ORCH-<id>`: its UUID is that of the id after the prefix.
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** The prefix of the orchestration engine's chain ids (router/orchestrator.ts). */
export const CHAIN_PREFIX = 'ORCH-';

/** A 26-character Catalyst id (or a chain id) as a UUID, or undefined when it is not one. */
export function idToUuid(id: string): string | undefined {
  if (id.startsWith(CHAIN_PREFIX)) id = id.slice(CHAIN_PREFIX.length);
  if (!/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/.test(id)) return undefined;
  let n = 0n;
  for (const c of id) n = n * 32n + BigInt(ALPHABET.indexOf(c));
  const hex = n.toString(16).padStart(32, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The Catalyst id a UUID from idToUuid stands for, or undefined when it is not a UUID. */
export function uuidToId(uuid: string): string | undefined {
  if (!/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(uuid)) return undefined;
  let n = BigInt(`0x${uuid.replace(/-/g, '')}`);
  let out = '';
  for (let i = 0; i < 26; i++) {
    out = ALPHABET.charAt(Number(n % 32n)) + out;
    n /= 32n;
  }
  return out;
}
