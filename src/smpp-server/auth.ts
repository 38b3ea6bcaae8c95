/** SMPP credentials of every account, looked up by system_id at bind time. */
import { timingSafeEqual } from 'node:crypto';
import type { AccountConfig } from '../core/config.js';
import { Status } from '../smpp/index.js';

export type BindCheck = { readonly ok: true; readonly account: AccountConfig } | { readonly ok: false; readonly status: number };

export class SmppAuth {
  private readonly bySystemId = new Map<string, { account: AccountConfig; password: string }>();

  constructor(accounts: readonly AccountConfig[]) {
    for (const a of accounts) for (const c of a.smpp) this.bySystemId.set(c.systemId, { account: a, password: c.password });
  }

  check(systemId: string, password: string): BindCheck {
    const entry = this.bySystemId.get(systemId);
    // SMPP 3.4 §5.1.3: ESME_RINVSYSID for an unknown system_id, ESME_RINVPASWD for a wrong password.
    if (!entry) return { ok: false, status: Status.ESME_RINVSYSID };
    const a = Buffer.from(password, 'latin1');
    const b = Buffer.from(entry.password, 'latin1');
    if (a.length !== b.length || !timingSafeEqual(a, b)) return { ok: false, status: Status.ESME_RINVPASWD };
    return { ok: true, account: entry.account };
  }
}
