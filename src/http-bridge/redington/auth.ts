/**
 * Redington's auth (003_e681fa34a10f76c2.txt §2): the project id in the path and its password in
 * `X-Project-API-Pwd`. Projects come from accounts[].redington.projects; a project belongs to one
 * account. An unknown project and a wrong password answer the same 401, in constant time per
 * comparison, so neither says which was wrong.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AccountConfig, RedingtonConfig } from '../../core/config.js';
import type { HttpRequest } from '../http.js';

export type RedingtonProject = RedingtonConfig['projects'][number];

export interface ProjectContext {
  readonly account: AccountConfig;
  readonly settings: RedingtonConfig;
  readonly project: RedingtonProject;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export class ProjectAuth {
  private readonly byId = new Map<string, ProjectContext & { readonly pwd: Buffer }>();

  constructor(accounts: readonly AccountConfig[]) {
    for (const account of accounts) {
      const settings = account.redington;
      if (!settings) continue;
      for (const project of settings.projects) this.byId.set(project.id, { account, settings, project, pwd: digest(project.password) });
    }
  }

  get empty(): boolean {
    return this.byId.size === 0;
  }

  /** The project of this id, without checking a password (signed media links). */
  byProjectId(id: string): ProjectContext | undefined {
    return this.byId.get(id);
  }

  project(req: HttpRequest): ProjectContext | undefined {
    const id = req.params['projectId'] ?? '';
    const given = req.headers['x-project-api-pwd'];
    const p = this.byId.get(id);
    if (given === undefined || !p) return undefined;
    return timingSafeEqual(digest(given), p.pwd) ? p : undefined;
  }
}
