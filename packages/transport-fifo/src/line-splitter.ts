// Bytes → lines, with a bound: a line longer than `maxLineBytes` keeps its
// first `maxLineBytes` bytes and the number cut off, so one endless line can
// never grow memory. Works on bytes, so the bound is exact whatever the text.

export class LineSplitter {
  readonly #max: number
  #parts: Buffer[] = []
  #bytes = 0
  #cut = 0

  constructor(maxLineBytes: number) {
    this.#max = maxLineBytes
  }

  /** Calls `onLine` for each complete line in `chunk` (without its \n or \r\n), with the bytes cut from it. */
  push(chunk: Buffer, onLine: (line: Buffer, cut: number) => void): void {
    let start = 0
    for (;;) {
      const nl = chunk.indexOf(10, start)
      if (nl < 0) {
        this.#keep(chunk.subarray(start))
        return
      }
      this.#keep(chunk.subarray(start, nl))
      onLine(this.#take(), this.#cutAndReset())
      start = nl + 1
    }
  }

  /** The last line, when the input ended without a newline. */
  end(onLine: (line: Buffer, cut: number) => void): void {
    if (this.#bytes === 0 && this.#cut === 0) return
    onLine(this.#take(), this.#cutAndReset())
  }

  #keep(part: Buffer): void {
    if (part.length === 0) return
    const room = this.#max - this.#bytes
    if (part.length <= room) {
      this.#parts.push(part)
      this.#bytes += part.length
      return
    }
    if (room > 0) {
      this.#parts.push(part.subarray(0, room))
      this.#bytes += room
    }
    this.#cut += part.length - Math.max(room, 0)
  }

  #take(): Buffer {
    let line = this.#parts.length === 1 ? (this.#parts[0] as Buffer) : Buffer.concat(this.#parts, this.#bytes)
    if (line.length > 0 && line[line.length - 1] === 13) line = line.subarray(0, line.length - 1)
    this.#parts = []
    this.#bytes = 0
    return line
  }

  #cutAndReset(): number {
    const cut = this.#cut
    this.#cut = 0
    return cut
  }
}
