// OVSDB's JSON-RPC (RFC 7047) sends JSON texts back to back on the stream, with no length prefix
// and no delimiter, so each message is found by scanning for the end of its top-level object. The
// scanner works on bytes: every byte of a multi-byte UTF-8 character is >= 0x80, so none can be
// taken for a brace, a bracket or a quote.

/** Splits a byte stream into complete JSON values; bounded so a peer cannot make us buffer forever. */
export class JsonStreamSplitter {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Scan state carried across chunks. */
  private depth = 0;
  private inString = false;
  private escaped = false;

  constructor(private readonly maxBytes = 64 * 1024 * 1024) {}

  /** Feeds bytes; returns the JSON texts completed by them, in order. Throws on a framing error. */
  push(chunk: Buffer): string[] {
    const out: string[] = [];
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 0x5c /* \ */) this.escaped = true;
        else if (c === 0x22 /* " */) this.inString = false;
        continue;
      }
      if (c === 0x22) {
        if (this.depth === 0) throw new Error('a JSON-RPC message must be an object');
        this.inString = true;
      }
      else if (c === 0x7b /* { */ || c === 0x5b /* [ */) this.depth++;
      else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
        if (--this.depth < 0) throw new Error('unbalanced JSON on the stream');
        if (this.depth === 0) {
          out.push(this.take(chunk, start, i + 1));
          start = i + 1;
        }
      } else if (this.depth === 0 && c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) {
        throw new Error(`unexpected byte 0x${c.toString(16)} between JSON messages`);
      }
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      // Whitespace between messages is not kept.
      if (this.depth > 0 || this.inString) {
        this.chunks.push(rest);
        this.buffered += rest.length;
        if (this.buffered > this.maxBytes) throw new Error(`a JSON message exceeds ${this.maxBytes} bytes`);
      }
    }
    return out;
  }

  private take(chunk: Buffer, start: number, end: number): string {
    const part = chunk.subarray(start, end);
    let text: string;
    if (this.chunks.length === 0) text = part.toString('utf8');
    else {
      this.chunks.push(part);
      text = Buffer.concat(this.chunks).toString('utf8');
      this.chunks = [];
      this.buffered = 0;
    }
    return text;
  }

  /** Bytes held for an incomplete message (for tests and diagnostics). */
  get pending(): number {
    return this.buffered;
  }
}
