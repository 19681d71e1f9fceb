import type { Method } from '@middy/http-router';
import type { ApiContext, HttpEvent, HttpResult } from '../http.ts';

export interface ApiRoute {
  readonly method: Exclude<Method, 'ANY'>;
  readonly path: string;
  readonly handler: (event: HttpEvent, context: ApiContext) => Promise<HttpResult>;
}
