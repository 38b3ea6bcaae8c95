/**
 * Redington §4 "Upload Media": `POST …/media`, multipart/form-data with one `file` → `{"id"}`.
 * The file is kept in Redis (30 days, as Meta keeps uploaded media) under an id of 16 digits like
 * the document's, and served at `GET …/media/{id}` to the project (X-Project-API-Pwd) or to anyone
 * holding the link's signature: a message that names the id goes to WhatsApp as that link, so
 * Meta downloads it as it does any media link. Types and sizes are Meta's for WhatsApp media
 * (https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media#supported-media-types),
 * capped by redington.maxMediaBytes; the first bytes must match the declared type where it has a
 * signature (JPEG, PNG, WebP, PDF, MP4).
 */
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Keys } from '../../store/redis/keys.js';
import type { HttpRequest, HttpResponse } from '../http.js';
import type { ProjectContext } from './auth.js';
import { Busboy, type BusboyInstance } from '@fastify/busboy';
import type { FieldProblem } from '../http.js';
import { redingtonError, type RedingtonCode } from './errors.js';

const MEDIA_TTL_SECONDS = 30 * 24 * 3600;
const MB = 1024 * 1024;

/** Meta's supported media: MIME type → largest size and the message type it can be sent as. */
const SUPPORTED: Readonly<Record<string, { readonly max: number; readonly kind: 'image' | 'document' | 'video' | 'audio' | 'sticker' }>> = {
  'image/jpeg': { max: 5 * MB, kind: 'image' },
  'image/png': { max: 5 * MB, kind: 'image' },
  'image/webp': { max: 500 * 1024, kind: 'sticker' },
  'video/mp4': { max: 16 * MB, kind: 'video' },
  'video/3gpp': { max: 16 * MB, kind: 'video' },
  'audio/aac': { max: 16 * MB, kind: 'audio' },
  'audio/amr': { max: 16 * MB, kind: 'audio' },
  'audio/mpeg': { max: 16 * MB, kind: 'audio' },
  'audio/mp4': { max: 16 * MB, kind: 'audio' },
  'audio/ogg': { max: 16 * MB, kind: 'audio' },
  'text/plain': { max: 100 * MB, kind: 'document' },
  'application/pdf': { max: 100 * MB, kind: 'document' },
  'application/msword': { max: 100 * MB, kind: 'document' },
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': { max: 100 * MB, kind: 'document' },
  'application/vnd.ms-excel': { max: 100 * MB, kind: 'document' },
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': { max: 100 * MB, kind: 'document' },
  'application/vnd.ms-powerpoint': { max: 100 * MB, kind: 'document' },
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': { max: 100 * MB, kind: 'document' },
};

/** A file name's extension → its type, for parts sent as application/octet-stream. */
const BY_EXTENSION: Readonly<Record<string, string>> = {
  jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', mp4: 'video/mp4', '3gp': 'video/3gpp', aac: 'audio/aac', amr: 'audio/amr',
  mp3: 'audio/mpeg', m4a: 'audio/mp4', ogg: 'audio/ogg', txt: 'text/plain', pdf: 'application/pdf', doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', ppt: 'application/vnd.ms-powerpoint',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
};

/** The signature a type's files start with, where it has one. */
function magicOk(type: string, b: Buffer): boolean {
  const starts = (hex: string, at = 0): boolean => b.subarray(at, at + hex.length / 2).equals(Buffer.from(hex, 'hex'));
  switch (type) {
    case 'image/jpeg':
      return starts('ffd8ff');
    case 'image/png':
      return starts('89504e470d0a1a0a');
    case 'image/webp':
      return starts('52494646') && starts('57454250', 8);
    case 'application/pdf':
      return starts('255044462d');
    case 'video/mp4':
      return starts('66747970', 4);
    default:
      return true;
  }
}

export interface StoredMedia {
  readonly bytes: Buffer;
  readonly type: string;
  readonly filename: string;
  /** The origin (scheme://host) its link is made under. */
  readonly origin: string;
}

export class MediaStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async put(account: string, m: StoredMedia): Promise<string> {
    for (;;) {
      // 16 digits like the document's ids (about 53 bits); the link is signed besides.
      const id = `${randomInt(1_000_000, 10_000_000)}${String(randomInt(0, 1_000_000_000)).padStart(9, '0')}`;
      const key = this.keys.redingtonMedia(account, id);
      const fresh = await this.redis.hsetnx(key, 't', m.type);
      if (fresh === 0) continue;
      await this.redis.multi().hset(key, 'b', m.bytes, 'f', m.filename, 'o', m.origin).expire(key, MEDIA_TTL_SECONDS).exec();
      return id;
    }
  }

  async get(account: string, id: string): Promise<StoredMedia | undefined> {
    if (!/^[0-9]{1,32}$/.test(id)) return undefined;
    const [b, t, f, o] = await this.redis.hmgetBuffer(this.keys.redingtonMedia(account, id), 'b', 't', 'f', 'o');
    if (!b || !t) return undefined;
    return { bytes: b, type: t.toString(), filename: f?.toString() ?? '', origin: o?.toString() ?? '' };
  }

  async exists(account: string, id: string): Promise<{ type: string; filename: string; origin: string } | undefined> {
    if (!/^[0-9]{1,32}$/.test(id)) return undefined;
    const [t, f, o] = await this.redis.hmget(this.keys.redingtonMedia(account, id), 't', 'f', 'o');
    return t ? { type: t, filename: f ?? '', origin: o ?? '' } : undefined;
  }
}

/** The signature of a media link: HMAC of project and id under the project's password. */
export function mediaSignature(ctx: ProjectContext, id: string): string {
  return createHmac('sha256', ctx.project.password).update(`${ctx.project.id}/${id}`).digest('base64url').slice(0, 32);
}

/** The link WhatsApp downloads an uploaded file from. */
export function mediaLink(ctx: ProjectContext, id: string, origin: string): string {
  return `${ctx.settings.publicUrl?.replace(/\/$/, '') ?? origin}/project-apis/v1/project/${encodeURIComponent(ctx.project.id)}/media/${id}?sig=${mediaSignature(ctx, id)}`;
}

function originOf(req: HttpRequest): string {
  const proto = req.headers['x-forwarded-proto'] === 'https' ? 'https' : 'http';
  return `${proto}://${req.headers['x-forwarded-host'] ?? req.headers['host'] ?? '127.0.0.1'}`;
}

/** The body's `file` part (its first file), read up to `max` + 1 bytes, by @fastify/busboy. */
function readFilePart(body: Buffer, contentType: string, max: number): Promise<{ ok: true; file: { filename: string; type: string; bytes: Buffer; truncated: boolean } | undefined } | { ok: false; code: RedingtonCode; description: string; details?: FieldProblem[] }> {
  return new Promise((resolve) => {
    let bb: BusboyInstance;
    try {
      bb = Busboy({ headers: { 'content-type': contentType }, limits: { files: 1, fileSize: max + 1, fields: 20, parts: 32 } });
    } catch (err) {
      resolve({ ok: false, code: 400, description: `multipart/form-data without a boundary: ${(err as Error).message}` });
      return;
    }
    let file: { filename: string; type: string; bytes: Buffer; truncated: boolean } | undefined;
    let pending: Promise<void> = Promise.resolve();
    bb.on('file', (field, stream, filename, _encoding, mimeType) => {
      if (field !== 'file' || file !== undefined) {
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      pending = new Promise((done) => {
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          file = { filename, type: mimeType, bytes: Buffer.concat(chunks), truncated: stream.truncated };
          done();
        });
      });
    });
    bb.on('error', (err: unknown) => {
      resolve({ ok: false, code: 400, description: `the multipart body cannot be parsed: ${err instanceof Error ? err.message : String(err)}` });
    });
    bb.on('finish', () => {
      void pending.then(() => {
        resolve({ ok: true, file });
      });
    });
    bb.end(body);
  });
}

export async function uploadMedia(req: HttpRequest, ctx: ProjectContext, store: MediaStore): Promise<HttpResponse> {
  const ct = req.headers['content-type'] ?? '';
  if (!/^multipart\/form-data\b/i.test(ct)) return redingtonError(400, 'Content-Type must be multipart/form-data with a `file` part', [{ field: 'Content-Type', message: 'not multipart/form-data' }]);
  const parsed = await readFilePart(req.body, ct, ctx.settings.maxMediaBytes);
  if (!parsed.ok) return redingtonError(parsed.code, parsed.description, parsed.details);
  const file = parsed.file;
  if (!file) return redingtonError(601, 'a `file` part with a file is required', [{ field: 'file', message: 'missing' }]);
  const filename = file.filename.slice(0, 240);
  const ext = /\.([A-Za-z0-9]+)$/.exec(filename)?.[1]?.toLowerCase() ?? '';
  const declared = file.type.split(';')[0]?.trim().toLowerCase() ?? '';
  const type = declared === '' || declared === 'application/octet-stream' ? (BY_EXTENSION[ext] ?? declared) : declared;
  const rule = SUPPORTED[type];
  if (!rule) return redingtonError(601, `media type ${type || '(none)'} is not supported by WhatsApp`, [{ field: 'file', message: `type ${type || '(none)'} is not one of ${Object.keys(SUPPORTED).join(', ')}` }]);
  const max = Math.min(rule.max, ctx.settings.maxMediaBytes);
  if (file.bytes.length === 0) return redingtonError(601, 'the file is empty', [{ field: 'file', message: 'empty' }]);
  if (file.truncated || file.bytes.length > max) return redingtonError(601, `the file is over ${max} bytes, the most ${type} may be here`, [{ field: 'file', message: `over ${max} bytes` }]);
  const bytes = file.bytes;
  if (!magicOk(type, bytes)) return redingtonError(601, `the file's content is not ${type}`, [{ field: 'file', message: `content does not match ${type}` }]);
  const id = await store.put(ctx.account.id, { bytes, type, filename, origin: originOf(req) });
  return { status: 200, body: { id } };
}

/** The file, to the project or to a holder of its link (Meta, when it sends the message). */
export async function serveMedia(req: HttpRequest, ctx: ProjectContext | undefined, projects: (id: string) => ProjectContext | undefined, store: MediaStore): Promise<HttpResponse> {
  const id = req.params['mediaId'] ?? '';
  let owner = ctx;
  if (!owner) {
    const p = projects(req.params['projectId'] ?? '');
    const sig = new URLSearchParams(req.query).get('sig') ?? '';
    if (p) {
      const want = Buffer.from(mediaSignature(p, id));
      const got = Buffer.from(sig);
      if (want.length === got.length && timingSafeEqual(want, got)) owner = p;
    }
  }
  if (!owner) return redingtonError(401, 'X-Project-API-Pwd or a signed link is required');
  const m = await store.get(owner.account.id, id);
  if (!m) return redingtonError(404, `no media ${id}`);
  const name = m.filename.replace(/[^\x20-\x7e]|"/g, '_');
  return { status: 200, headers: { 'content-type': m.type, 'content-disposition': `inline; filename="${name}"`, 'cache-control': 'private, max-age=3600' }, body: m.bytes };
}
