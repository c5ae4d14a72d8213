// Entries per source and level over the last minutes, for the page's chart:
// counts in buckets of `bucketMs`, the last `buckets` of them. Counted when an
// entry is published, so the chart shows what the collector saw whatever a
// browser filters, pauses or misses. At most `maxSeries` (source, level)
// pairs; more go to source "(other)", at the standard level at or below
// theirs (trace … fatal), so at most six more series whatever levels come.

export interface RateSeries {
  readonly source: string
  readonly level: number
  /** Oldest first; one count per bucket. */
  readonly counts: readonly number[]
}

export interface Rates {
  readonly bucketMs: number
  /** Start of the newest bucket (ms since the epoch). */
  readonly newestMs: number
  readonly series: readonly RateSeries[]
}

const OTHER = '(other)'

export class RateWindow {
  readonly #series = new Map<string, { source: string; level: number; counts: number[] }>()
  /** Index of the newest bucket, as bucket number since the epoch. */
  #newest = 0

  constructor(
    readonly bucketMs = 5000,
    readonly buckets = 60,
    readonly maxSeries = 64,
  ) {}

  add(source: string, level: number, now: number): void {
    this.#advance(now)
    let key = `${level}\u0000${source}`
    let s = this.#series.get(key)
    if (s === undefined) {
      let name = source
      if (this.#series.size >= this.maxSeries) {
        name = OTHER
        level = Math.min(60, Math.max(10, Math.floor(level / 10) * 10))
        key = `${level}\u0000${OTHER}`
        s = this.#series.get(key)
      }
      if (s === undefined) {
        s = { source: name, level, counts: new Array(this.buckets).fill(0) }
        this.#series.set(key, s)
      }
    }
    const last = s.counts.length - 1
    s.counts[last] = (s.counts[last] ?? 0) + 1
  }

  snapshot(now: number): Rates {
    this.#advance(now)
    const series: RateSeries[] = []
    for (const s of this.#series.values())
      series.push({ source: s.source, level: s.level, counts: [...s.counts] })
    return { bucketMs: this.bucketMs, newestMs: this.#newest * this.bucketMs, series }
  }

  /** Moves the window to `now`'s bucket; a series with nothing left in the window goes. */
  #advance(now: number): void {
    const bucket = Math.floor(now / this.bucketMs)
    if (bucket <= this.#newest) return
    const shift = Math.min(this.buckets, bucket - this.#newest)
    this.#newest = bucket
    for (const [key, s] of this.#series) {
      s.counts.splice(0, shift)
      for (let k = 0; k < shift; k++) s.counts.push(0)
      if (s.counts.every((n) => n === 0)) this.#series.delete(key)
    }
  }
}
