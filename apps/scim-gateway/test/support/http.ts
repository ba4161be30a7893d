import http from 'node:http';

// The one HTTP round trip behind every test helper (gateway.scim, the admin Agent, the compat replay and the
// reliability `call`): they differ in what they send, not in how they read the reply. `nodeRequest` is for
// the few requests fetch cannot make.

export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed JSON body (undefined when the body is empty or not JSON). */
  body: unknown;
}

export interface HttpRequest {
  /** GET when omitted. */
  method?: string;
  headers?: Record<string, string>;
  /** Sent as is; a Blob without a type makes fetch send no Content-Type at all. */
  body?: string | Blob;
  /** Content-Type to add when there is a body and `headers` name none (in any case). */
  contentType?: string;
  redirect?: RequestRedirect;
  signal?: AbortSignal;
}

/** Sends one request and reads the reply once: the raw text always, plus its JSON when it parses. */
export async function request(url: string, init: HttpRequest = {}): Promise<HttpResponse> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.body !== undefined && init.contentType !== undefined && !Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) {
    headers['content-type'] = init.contentType;
  }
  const response = await fetch(url, { method: init.method ?? 'GET', headers, body: init.body, redirect: init.redirect, signal: init.signal });
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // Error pages and deliberately broken replies are still checked through `text`.
    body = undefined;
  }
  return { status: response.status, headers: response.headers, text, body };
}

/**
 * One request through node:http, for what fetch cannot send: a header repeated on its own lines, a body sent
 * in parts. `send` writes the body and ends the request, now or later.
 */
export function nodeRequest(url: string, options: http.RequestOptions, send: (request: http.ClientRequest) => void): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, options, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('error', reject);
    send(request);
  });
}
