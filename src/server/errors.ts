/** An error to answer with a given status. The message goes to the client as-is (plain text, as Loki does). */
export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
    this.name = 'HttpError';
  }
}
