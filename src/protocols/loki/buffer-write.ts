/**
 * `Buffer.prototype.utf8Write(string, offset, maxBytes)` and `latin1Write`: Node's internal
 * fast paths behind `buf.write`, whose argument normalisation costs as much as the copy for
 * ~100-byte lines. Present in every Node version we support; if they ever go away, the public
 * `write` with an encoding takes over.
 */
export type BufferWrite = (this: Buffer, s: string, offset: number, length: number) => number;

function internal(name: 'utf8Write' | 'latin1Write', encoding: BufferEncoding): BufferWrite {
  const native = (Buffer.prototype as unknown as Record<string, BufferWrite | undefined>)[name];
  return typeof native === 'function'
    ? native
    : function (this: Buffer, s: string, offset: number, length: number): number {
        return this.write(s, offset, length, encoding);
      };
}

export const utf8Write: BufferWrite = internal('utf8Write', 'utf8');
/** A plain copy for one-byte strings: only for text known to be ASCII. */
export const asciiWrite: BufferWrite = internal('latin1Write', 'latin1');
