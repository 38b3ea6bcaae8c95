import { describe, expect, it } from 'vitest';
import { allowedInState, bindTypeOf, boundStateFor } from '../../../src/smpp/bind-state.js';
import type { SessionState } from '../../../src/smpp/bind-state.js';
import { CommandId } from '../../../src/smpp/commands.js';

const states: SessionState[] = ['open', 'bound_tx', 'bound_rx', 'bound_trx', 'closed'];
const allowed = (command: string, from: 'esme' | 'smsc'): SessionState[] => states.filter((s) => allowedInState(s, command, from));

describe('allowedInState (SMPP 3.4 §2.3)', () => {
  it('binds only from an open ESME, answered by the SMSC while open', () => {
    expect(allowed('bind_transceiver', 'esme')).toEqual(['open']);
    expect(allowed('bind_transceiver', 'smsc')).toEqual([]);
    expect(allowed('bind_transceiver_resp', 'smsc')).toEqual(['open']);
    expect(allowed('outbind', 'smsc')).toEqual(['open']);
  });

  it('submit_sm only from a tx/trx-bound ESME', () => {
    expect(allowed('submit_sm', 'esme')).toEqual(['bound_tx', 'bound_trx']);
    expect(allowed('submit_sm', 'smsc')).toEqual([]);
    expect(allowed('submit_sm_resp', 'smsc')).toEqual(['bound_tx', 'bound_trx']);
  });

  it('deliver_sm only to an rx/trx-bound ESME', () => {
    expect(allowed('deliver_sm', 'smsc')).toEqual(['bound_rx', 'bound_trx']);
    expect(allowed('deliver_sm', 'esme')).toEqual([]);
    expect(allowed('deliver_sm_resp', 'esme')).toEqual(['bound_rx', 'bound_trx']);
  });

  it('data_sm both ways', () => {
    expect(allowed('data_sm', 'esme')).toEqual(['bound_tx', 'bound_trx']);
    expect(allowed('data_sm', 'smsc')).toEqual(['bound_rx', 'bound_trx']);
  });

  it('unbind and enquire_link', () => {
    expect(allowed('unbind', 'esme')).toEqual(['bound_tx', 'bound_rx', 'bound_trx']);
    expect(allowed('enquire_link', 'smsc')).toEqual(['open', 'bound_tx', 'bound_rx', 'bound_trx']);
  });

  it('nothing when closed or unknown', () => {
    for (const name of Object.keys(CommandId)) {
      expect(allowedInState('closed', name, 'esme')).toBe(false);
      expect(allowedInState('closed', name, 'smsc')).toBe(false);
    }
    expect(allowedInState('bound_trx', 'broadcast_sm', 'esme')).toBe(false);
  });

  it('bindTypeOf and boundStateFor', () => {
    expect(bindTypeOf('bind_receiver_resp')).toBe('receiver');
    expect(bindTypeOf('submit_sm')).toBeUndefined();
    expect(boundStateFor('transceiver')).toBe('bound_trx');
  });
});
