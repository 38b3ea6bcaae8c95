/**
 * The one HTTP client of the channel connectors: Node's fetch (undici), a timeout per request,
 * the answer read whole (providers answer small JSON bodies; a cap keeps a hostile one bounded).
 * Network failures and timeouts come back as values, never as exceptions.
 */
export interface ProviderRequest {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Sent as is (already serialised). */
  readonly body?: string;
}

export type HttpAnswer =
  | { readonly kind: 'answer'; readonly status: number; readonly headers: Headers; readonly text: string; readonly json: unknown }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'network'; readonly message: string };

const MAX_ANSWER_BYTES = 1_048_576;

export async function httpSend(req: ProviderRequest, timeoutMs: number): Promise<HttpAnswer> {
  let res: Response;
  try {
    res = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      ...(req.body !== undefined ? { body: req.body } : {}),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
  } catch (err) {
    if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return { kind: 'timeout' };
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return { kind: 'network', message: `${err instanceof Error ? err.message : String(err)}${cause}` };
  }
  let text: string;
  try {
    const buf = Buffer.from(await res.arrayBuffer());
    text = buf.subarray(0, MAX_ANSWER_BYTES).toString('utf8');
  } catch (err) {
    if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return { kind: 'timeout' };
    return { kind: 'network', message: err instanceof Error ? err.message : String(err) };
  }
  let json: unknown = undefined;
  try {
    json = text === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    json = undefined;
  }
  return { kind: 'answer', status: res.status, headers: res.headers, text, json };
}
