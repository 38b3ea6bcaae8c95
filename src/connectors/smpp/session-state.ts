/**
 * The life of one ESME bind, as explicit states with the only moves allowed between them
 * (grpc-js style: an illegal move is a bug and throws, rather than leaving a session half in two
 * states). SMPP 3.4 §2.2: OPEN (connected) → BOUND_TRX → UNBOUND → CLOSED.
 *
 *   closed ──► connecting ──► binding ──► bound ──► unbinding ──► closed
 *                  │              │          │
 *                  └──────────────┴──────────┴──► closed   (socket error, refused bind, peer gone)
 */
export type SessionState = 'connecting' | 'binding' | 'bound' | 'unbinding' | 'closed';

const MOVES: Readonly<Record<SessionState, readonly SessionState[]>> = {
  closed: ['connecting'],
  connecting: ['binding', 'closed'],
  binding: ['bound', 'closed'],
  bound: ['unbinding', 'closed'],
  unbinding: ['closed'],
};

export class IllegalTransitionError extends Error {
  readonly code = 'ILLEGAL_TRANSITION';
  readonly retriable = false;
  constructor(
    readonly from: SessionState,
    readonly to: SessionState,
  ) {
    super(`illegal session transition ${from} → ${to}`);
    this.name = 'IllegalTransitionError';
  }
}

export function canMove(from: SessionState, to: SessionState): boolean {
  return MOVES[from].includes(to);
}

/** The state holder: `to()` refuses moves the table does not allow. */
export class SessionStateMachine {
  private current: SessionState = 'closed';

  constructor(private readonly onChange?: (from: SessionState, to: SessionState) => void) {}

  get state(): SessionState {
    return this.current;
  }

  is(...states: SessionState[]): boolean {
    return states.includes(this.current);
  }

  to(next: SessionState): void {
    const from = this.current;
    if (!canMove(from, next)) throw new IllegalTransitionError(from, next);
    this.current = next;
    this.onChange?.(from, next);
  }
}
