import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../../src/connectors/smpp/esme-session.js';
import { canMove, IllegalTransitionError, SessionStateMachine } from '../../../../src/connectors/smpp/session-state.js';

describe('SessionStateMachine', () => {
  it('walks the life of a bind', () => {
    const seen: string[] = [];
    const sm = new SessionStateMachine((from, to) => seen.push(`${from}>${to}`));
    for (const s of ['connecting', 'binding', 'bound', 'unbinding', 'closed', 'connecting'] as const) sm.to(s);
    expect(seen).toEqual(['closed>connecting', 'connecting>binding', 'binding>bound', 'bound>unbinding', 'unbinding>closed', 'closed>connecting']);
  });

  it('refuses illegal moves', () => {
    const sm = new SessionStateMachine();
    expect(() => {
      sm.to('bound');
    }).toThrow(IllegalTransitionError);
    expect(sm.state).toBe('closed');
    expect(canMove('unbinding', 'bound')).toBe(false);
    expect(canMove('closed', 'closed')).toBe(false);
    expect(canMove('binding', 'closed')).toBe(true);
  });
});

describe('backoffDelay', () => {
  it('grows exponentially between min and max, with jitter in the upper half', () => {
    expect(backoffDelay(0, 100, 10_000, () => 0)).toBe(100);
    expect(backoffDelay(3, 100, 10_000, () => 0)).toBe(400);
    expect(backoffDelay(3, 100, 10_000, () => 1)).toBe(800);
    expect(backoffDelay(20, 100, 10_000, () => 1)).toBe(10_000);
    expect(backoffDelay(20, 100, 10_000, () => 0)).toBe(5000);
  });
});
