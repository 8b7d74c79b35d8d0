import http from 'node:http';
import https from 'node:https';

/**
 * A `fetch` for the Web API client on node:http(s) with keep-alive agents. The client's own calls
 * (form-encoded or JSON string bodies) take this path, which costs far less CPU per call than
 * the global fetch; anything else (multipart uploads, streams) goes to the global fetch.
 */
export function keepAliveFetch(opts: { maxSockets?: number } = {}): typeof fetch {
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 64 }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 64 }),
  } as const;

  const simple = (body: unknown): body is string | URLSearchParams | Buffer | undefined | null =>
    body === undefined || body === null || typeof body === 'string' || body instanceof URLSearchParams || Buffer.isBuffer(body);

  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    if (input instanceof Request || !simple(init.body)) return fetch(input, init);
    const url = new URL(String(input));
    const agent = agents[url.protocol as keyof typeof agents];
    if (!agent) return fetch(input, init);
    const headers = new Headers(init.headers);
    const body = init.body === undefined || init.body === null ? undefined : Buffer.from(init.body instanceof URLSearchParams ? init.body.toString() : init.body);
    if (init.body instanceof URLSearchParams && !headers.has('content-type')) headers.set('content-type', 'application/x-www-form-urlencoded;charset=UTF-8');
    if (body) headers.set('content-length', String(body.length));
    const lib = url.protocol === 'https:' ? https : http;
    return new Promise<Response>((resolve, reject) => {
      const req = lib.request(url, { method: init.method ?? 'GET', headers: Object.fromEntries(headers), agent, signal: init.signal ?? undefined }, (res) => {
        const status = res.statusCode ?? 0;
        if (init.redirect === 'error' && status >= 300 && status < 400) {
          res.resume();
          reject(new TypeError(`fetch failed: redirect to ${res.headers.location ?? '?'} refused`));
          return;
        }
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const resHeaders = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) resHeaders.set(k, Array.isArray(v) ? v.join(', ') : v);
          // A null body status (204, 304) cannot carry a body in a Response.
          const payload = status === 204 || status === 304 ? null : Buffer.concat(chunks);
          const response = new Response(payload, { status, statusText: res.statusMessage, headers: resHeaders });
          Object.defineProperty(response, 'url', { value: url.href });
          resolve(response);
        });
      });
      req.on('error', (err) => reject(Object.assign(new TypeError('fetch failed'), { cause: err })));
      req.end(body);
    });
  }) as typeof fetch;
}
