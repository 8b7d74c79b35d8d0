/**
 * Slack's side of Socket Mode: a WebSocket server that says hello, pushes envelopes
 * (slash_commands, interactive) and collects the app's acks by envelope_id.
 */
import { randomUUID } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';

export interface FakeSocketMode {
  url: string;
  /** Resolves once the app has connected and been greeted. */
  connected(): Promise<void>;
  /** Pushes an envelope and resolves with the ack's round-trip time in ms. */
  send(type: 'slash_commands' | 'interactive', payload: Record<string, unknown>, timeoutMs?: number): Promise<{ ms: number; ack: Record<string, unknown> }>;
  stop(): Promise<void>;
}

export async function startFakeSocketMode(): Promise<FakeSocketMode> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const port = (wss.address() as { port: number }).port;
  let socket: WebSocket | undefined;
  let onConnect: (() => void) | undefined;
  const connectedP = new Promise<void>((r) => (onConnect = r));
  const waiting = new Map<string, (ack: Record<string, unknown>) => void>();

  wss.on('connection', (ws) => {
    socket = ws;
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as Record<string, unknown>;
      const id = String(msg.envelope_id ?? '');
      waiting.get(id)?.(msg);
      waiting.delete(id);
    });
    ws.send(JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'fake', approximate_connection_time: 3600 }, connection_info: { app_id: 'A0OPSBOT' } }));
    onConnect?.();
  });

  return {
    url: `ws://127.0.0.1:${port}/link`,
    connected: () => connectedP,
    send(type, payload, timeoutMs = 5000) {
      if (!socket) return Promise.reject(new Error('no Socket Mode connection'));
      const envelopeId = randomUUID();
      const started = performance.now();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ack for ${envelopeId} within ${timeoutMs} ms`)), timeoutMs);
        waiting.set(envelopeId, (ack) => {
          clearTimeout(timer);
          resolve({ ms: performance.now() - started, ack });
        });
        socket!.send(JSON.stringify({ envelope_id: envelopeId, type, payload, accepts_response_payload: type === 'slash_commands' }));
      });
    },
    async stop() {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
    },
  };
}
