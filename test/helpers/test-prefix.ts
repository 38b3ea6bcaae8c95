/**
 * Redis key prefixes for tests, and which of them this test file took. Vitest evaluates modules
 * afresh for each file, so the set is one file's; drop-test-prefixes.ts deletes their keys once the
 * file's own hooks ran. No imports beyond node: the setup file loads this for unit tests too.
 */
import { randomBytes } from 'node:crypto';

const issued = new Set<string>();

/** A key prefix of its own per test, so tests never see each other's keys. */
export function testPrefix(): string {
  const prefix = `t${randomBytes(4).toString('hex')}:`;
  issued.add(prefix);
  return prefix;
}

export function issuedPrefixes(): ReadonlySet<string> {
  return issued;
}
