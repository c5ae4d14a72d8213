// The free-space guard: before a batch is written, is there at least
// `minFreeBytes` free on the log's file system? statfs is asked at most once
// per check interval; in between, the last answer minus what was written since
// stands in for it. Below the threshold the policy applies — `block` holds the
// batch and asks again every interval, `drop` counts it and lets it go — and
// the guard lifts by itself once space is back (or the threshold is lowered).
//
// Reports: `disk_low` when it trips, `dropped` (aggregated, at most once per
// second) for what the drop policy let go, `disk_ok` when it lifts.

import { statfs } from 'node:fs/promises'
import type { FileSinkReporter } from './diagnostics.js'

export type SpacePolicy = 'block' | 'drop'

export interface SpaceGuardOptions {
  readonly dir: string
  readonly minFreeBytes: number
  readonly policy: SpacePolicy
  readonly checkIntervalMs: number
  readonly report: FileSinkReporter
}

const DROP_REPORT_INTERVAL_MS = 1000

export class SpaceGuard {
  readonly #dir: string
  readonly #policy: SpacePolicy
  readonly #interval: number
  readonly #report: FileSinkReporter
  #min: number
  #free = Number.POSITIVE_INFINITY
  #checkedAt = Number.NEGATIVE_INFINITY
  #sinceCheck = 0
  #low = false
  #checkFailed = false
  #dropped = 0
  #unreported = 0
  #reportTimer: NodeJS.Timeout | undefined
  #wake: (() => void) | undefined

  constructor(options: SpaceGuardOptions) {
    this.#dir = options.dir
    this.#min = options.minFreeBytes
    this.#policy = options.policy
    this.#interval = options.checkIntervalMs
    this.#report = options.report
  }

  get minFreeBytes(): number {
    return this.#min
  }

  /** True while the guard holds or drops batches. */
  get low(): boolean {
    return this.#low
  }

  /** Entries the drop policy let go, in total. */
  get dropped(): number {
    return this.#dropped
  }

  /** Changes the threshold (0 turns the guard off); a held batch is looked at again at once. */
  setMinFreeBytes(bytes: number): void {
    this.#min = bytes
    this.#checkedAt = Number.NEGATIVE_INFINITY
    this.#wake?.()
  }

  /**
   * Resolves true when a batch may be written, false when the drop policy lets
   * it go (the caller counts it with dropped()). Under `block`, waits until
   * there is space; `signal` aborting makes it reject with its reason.
   */
  async admit(signal: AbortSignal): Promise<boolean> {
    for (;;) {
      if (this.#min <= 0) return this.#lift()
      if (this.#due()) await this.#check()
      if (this.#free - this.#sinceCheck >= this.#min) return this.#lift()
      if (!this.#low) {
        this.#low = true
        this.#report({
          code: 'disk_low',
          level: 40,
          message: `free space on ${this.#dir} is ${this.#free} bytes, below minFreeBytes ${this.#min}: ${this.#policy === 'block' ? 'holding writes' : 'dropping entries'} until there is room`,
          details: { dir: this.#dir, free: this.#free, minFreeBytes: this.#min, policy: this.#policy },
        })
      }
      if (this.#policy === 'drop') return false
      await this.#sleep(signal)
      this.#checkedAt = Number.NEGATIVE_INFINITY
    }
  }

  /** Bytes just written: the estimate between two checks. */
  wrote(bytes: number): void {
    this.#sinceCheck += bytes
  }

  /** Entries the drop policy let go; reported aggregated. */
  drop(count: number): void {
    this.#dropped += count
    this.#unreported += count
    this.#reportTimer ??= setTimeout(() => this.reportDrops(), DROP_REPORT_INTERVAL_MS).unref()
  }

  /** Reports drops not yet reported, now. */
  reportDrops(): void {
    if (this.#reportTimer !== undefined) clearTimeout(this.#reportTimer)
    this.#reportTimer = undefined
    if (this.#unreported === 0) return
    const count = this.#unreported
    this.#unreported = 0
    this.#report({
      code: 'dropped',
      message: `dropped ${count} entries: free space on ${this.#dir} below minFreeBytes ${this.#min}`,
      count,
      details: { reason: 'disk_low', policy: this.#policy, minFreeBytes: this.#min },
    })
  }

  #lift(): true {
    if (this.#low) {
      this.#low = false
      this.reportDrops()
      this.#report({
        code: 'disk_ok',
        level: 30,
        message: `free space on ${this.#dir} is back above minFreeBytes ${this.#min}: writing again`,
        details: { dir: this.#dir, free: this.#free, minFreeBytes: this.#min },
      })
    }
    return true
  }

  #due(): boolean {
    if (performance.now() - this.#checkedAt >= this.#interval) return true
    // Not yet low, but the estimate says so: ask before tripping on a stale answer.
    return !this.#low && this.#free - this.#sinceCheck < this.#min
  }

  async #check(): Promise<void> {
    try {
      const st = await statfs(this.#dir)
      this.#free = st.bavail * st.bsize
      this.#checkFailed = false
    } catch (err) {
      // A guard that cannot look must not stop the logs: write, and say so once.
      this.#free = Number.POSITIVE_INFINITY
      if (!this.#checkFailed) {
        this.#checkFailed = true
        this.#report({
          code: 'space_check_failed',
          message: `cannot read the free space of ${this.#dir} (${(err as NodeJS.ErrnoException).code ?? String(err)}): the free-space guard is off until it can`,
          details: { dir: this.#dir },
        })
      }
    }
    this.#checkedAt = performance.now()
    this.#sinceCheck = 0
  }

  #sleep(signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason)
        return
      }
      const done = () => {
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
        this.#wake = undefined
      }
      const onAbort = () => {
        done()
        reject(signal.reason)
      }
      const timer = setTimeout(() => {
        done()
        resolve()
      }, this.#interval)
      this.#wake = () => {
        done()
        resolve()
      }
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }
}
