/**
 * A push request turned away: the status to answer, a message for the client, the reason it is
 * counted under in `loggy_http_source_requests_total{result}`, and headers (Retry-After,
 * WWW-Authenticate). Each push source renders it in its protocol's error body.
 */
export class Refusal extends Error {
  constructor(readonly status: number, message: string, readonly reason: string, readonly headers: Readonly<Record<string, string>> = {}) {
    super(message);
  }
}

/**
 * Refused bodies are not read on: the connection closes after the answer, so a client cannot
 * make the source drain a large unwanted upload.
 */
export function closesConnection(status: number): boolean {
  return status === 413 || status === 415 || status === 401 || status === 503;
}

export function shuttingDown(): Refusal {
  return new Refusal(503, 'the agent is shutting down; retry', 'shutdown', { 'retry-after': '1' });
}

export function tooLarge(maxBodyBytes: number): Refusal {
  return new Refusal(413, `request body larger than max_body_bytes (${maxBodyBytes} bytes, counted after decompression)`, 'too_large');
}
