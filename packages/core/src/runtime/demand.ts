// Demand: the explicit signal that carries backpressure upstream. Each sink
// whose `block` queue is full holds the demand paused; sources read only while
// no one does.

import type { Demand } from '../plugin.js'

export class DemandController implements Demand {
  readonly #blockers = new Set<unknown>()
  readonly #listeners = new Set<() => void>()

  get paused(): boolean {
    return this.#blockers.size > 0
  }

  /** `who` needs the sources to stop reading. */
  block(who: unknown): void {
    this.#blockers.add(who)
  }

  /** `who` can take more; demand resumes when no one blocks. */
  unblock(who: unknown): void {
    if (!this.#blockers.delete(who) || this.#blockers.size > 0) return
    for (const listener of [...this.#listeners]) listener()
  }

  ready(): Promise<void> {
    if (!this.paused) return Promise.resolve()
    return new Promise((resolve) => {
      const stop = this.onResume(() => {
        stop()
        resolve()
      })
    })
  }

  onResume(listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }
}

/**
 * For a source's read loop: `paused()` says whether demand is paused and, when
 * it is, arranges one call of `resume` for when it comes back (however often
 * it is asked meanwhile). `dispose()` cancels that on teardown.
 */
export class DemandWait {
  #stop: (() => void) | undefined

  constructor(
    readonly demand: Demand,
    readonly resume: () => void,
  ) {}

  paused(): boolean {
    if (!this.demand.paused) return false
    this.#stop ??= this.demand.onResume(() => {
      this.dispose()
      this.resume()
    })
    return true
  }

  dispose(): void {
    this.#stop?.()
    this.#stop = undefined
  }
}
