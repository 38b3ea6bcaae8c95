/**
 * Meta's message template management (WhatsApp Business Management API, the WABA's
 * `message_templates` edge):
 *   POST   {base}/{version}/{waba-id}/message_templates          {name, language, category, components}
 *          → {"id","status","category"}
 *   GET    {base}/{version}/{waba-id}/message_templates?name=N   → {"data":[{name,status,id,category,language,rejected_reason}]}
 *   DELETE {base}/{version}/{waba-id}/message_templates?name=N   → {"success":true}
 * https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates
 * Authorization is a sender's access token (a system user's token with whatsapp_business_management).
 * Compatible APIs with template endpoints (Redington) submit through it and read the approval
 * status from it; in sandbox mode the WhatsApp simulator serves the edge and approves after a delay.
 */
import { httpSend, type HttpAnswer } from '../shared/http-client.js';
import { metaErrorOf } from './errors.js';

export type TemplateCategory = 'UTILITY' | 'MARKETING' | 'AUTHENTICATION';

/** Meta's template component (the subset compatible APIs submit). */
export type TemplateComponent =
  | { readonly type: 'HEADER'; readonly format: 'TEXT' | 'IMAGE' | 'VIDEO' | 'DOCUMENT' | 'LOCATION'; readonly text?: string }
  | { readonly type: 'BODY'; readonly text: string; readonly example?: { readonly body_text: readonly (readonly string[])[] } }
  | { readonly type: 'FOOTER'; readonly text: string }
  | {
      readonly type: 'BUTTONS';
      readonly buttons: readonly ({ readonly type: 'QUICK_REPLY'; readonly text: string } | { readonly type: 'URL'; readonly text: string; readonly url: string } | { readonly type: 'PHONE_NUMBER'; readonly text: string; readonly phone_number: string })[];
    };

export interface TemplateDraft {
  readonly name: string;
  readonly language: string;
  readonly category: TemplateCategory;
  readonly components: readonly TemplateComponent[];
}

export type TemplateStatus = 'APPROVED' | 'PENDING' | 'REJECTED' | 'PAUSED' | 'DISABLED' | 'IN_APPEAL' | 'PENDING_DELETION' | 'DELETED' | 'LIMIT_EXCEEDED';

export interface TemplateState {
  readonly id: string;
  readonly status: TemplateStatus;
  readonly rejectedReason: string;
}

export type TemplateResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly status: number; readonly code: string; readonly message: string };

export interface WhatsAppTemplateApiOptions {
  readonly baseUrl: string;
  readonly apiVersion: string;
  readonly timeoutMs: number;
}

function failure(a: HttpAnswer): { ok: false; status: number; code: string; message: string } {
  if (a.kind === 'timeout') return { ok: false, status: 504, code: 'timeout', message: 'the provider did not answer in time' };
  if (a.kind === 'network') return { ok: false, status: 502, code: 'network', message: a.message };
  const e = metaErrorOf(a.json);
  return { ok: false, status: a.status, code: e ? String(e.code) : String(a.status), message: e?.message ?? `HTTP ${a.status}` };
}

export class WhatsAppTemplateApi {
  constructor(private readonly opts: WhatsAppTemplateApiOptions) {}

  private url(wabaId: string, name?: string): string {
    const q = name !== undefined ? `?name=${encodeURIComponent(name)}` : '';
    return `${this.opts.baseUrl.replace(/\/$/, '')}/${this.opts.apiVersion}/${encodeURIComponent(wabaId)}/message_templates${q}`;
  }

  async create(token: string, wabaId: string, draft: TemplateDraft): Promise<TemplateResult<TemplateState>> {
    const a = await httpSend({ method: 'POST', url: this.url(wabaId), headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(draft) }, this.opts.timeoutMs);
    if (a.kind !== 'answer' || a.status !== 200) return failure(a);
    const b = a.json as { id?: unknown; status?: unknown } | undefined;
    if (typeof b?.id !== 'string' || typeof b.status !== 'string') return { ok: false, status: 502, code: 'bad_answer', message: 'answer without id and status' };
    return { ok: true, value: { id: b.id, status: b.status as TemplateStatus, rejectedReason: 'NONE' } };
  }

  /** The template of this name (any language), or undefined when the provider has none. */
  async status(token: string, wabaId: string, name: string): Promise<TemplateResult<TemplateState | undefined>> {
    const a = await httpSend({ method: 'GET', url: this.url(wabaId, name), headers: { authorization: `Bearer ${token}` } }, this.opts.timeoutMs);
    if (a.kind !== 'answer' || a.status !== 200) return failure(a);
    const data = (a.json as { data?: { name?: unknown; id?: unknown; status?: unknown; rejected_reason?: unknown }[] } | undefined)?.data ?? [];
    const t = data.find((d) => d.name === name);
    if (!t) return { ok: true, value: undefined };
    return { ok: true, value: { id: String(t.id), status: String(t.status) as TemplateStatus, rejectedReason: typeof t.rejected_reason === 'string' ? t.rejected_reason : 'NONE' } };
  }

  async delete(token: string, wabaId: string, name: string): Promise<TemplateResult<true>> {
    const a = await httpSend({ method: 'DELETE', url: this.url(wabaId, name), headers: { authorization: `Bearer ${token}` } }, this.opts.timeoutMs);
    // Already gone at the provider is as good as deleted.
    if (a.kind === 'answer' && (a.status === 200 || a.status === 404)) return { ok: true, value: true };
    return failure(a);
  }
}
