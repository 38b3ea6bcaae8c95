/** Receipt stats (SMPP 3.4 Appendix B) as the Catalyst v2 API describes them. */
const DESCRIPTIONS: Readonly<Record<string, string>> = {
  DELIVRD: 'Message delivered successfully',
  UNDELIV: 'Message undeliverable',
  EXPIRED: 'Message validity period expired',
  REJECTD: 'Message rejected',
  DELETED: 'Message deleted',
  UNKNOWN: 'Message state unknown',
  ACCEPTD: 'Message accepted',
  ENROUTE: 'Message in transit',
};

export function dlrDescription(stat: string): string {
  return DESCRIPTIONS[stat] ?? 'Message state unknown';
}
