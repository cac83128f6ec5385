// Keeps the last `cap` bytes of a stream: the end of a command's output is where the error is.

export class OutputTail {
  private chunks: Buffer[] = [];
  private size = 0;
  private cut = false;

  constructor(private readonly cap: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.cap) {
      const first = this.chunks[0];
      if (first === undefined) break;
      const excess = this.size - this.cap;
      this.cut = true;
      if (first.length <= excess) {
        this.chunks.shift();
        this.size -= first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.size -= excess;
      }
    }
  }

  get truncated(): boolean {
    return this.cut;
  }

  /** The kept bytes as UTF-8; a character split by the cut is dropped rather than garbled. */
  text(): string {
    const bytes = Buffer.concat(this.chunks);
    let start = 0;
    // UTF-8 continuation bytes are 10xxxxxx; at most 3 follow a lead byte.
    while (this.cut && start < 3 && start < bytes.length && ((bytes[start] ?? 0) & 0xc0) === 0x80) start += 1;
    return bytes.subarray(start).toString('utf8');
  }
}
