import type Router from '@koa/router';
import type { Config } from '../config.js';
import type { Services } from '../services.js';

export function mountScimRoutes(_router: Router, _deps: { config: Config; services: Services }): void {}
