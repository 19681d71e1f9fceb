/** Lambda entry point: the PCE REST API (API Gateway HTTP API, payload v2). */
import { createApiHandler } from './api/app.ts';
import { buildPce } from './wiring.ts';

export const handler = createApiHandler(buildPce());
