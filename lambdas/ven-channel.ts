/** Lambda entry point: the VEN push channel (API Gateway WebSocket API: $connect, $disconnect, $default). */
import { createVenChannelHandler } from './ven-channel/handler.ts';
import { buildPce } from './wiring.ts';

const pce = buildPce();

export const handler = createVenChannelHandler({ channel: pce.venChannel, logger: pce.logger });
