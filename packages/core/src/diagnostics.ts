// Diagnostics: what a component reports instead of throwing. Each has a bounded
// code, the stage it happened in and the component's id; data loss always
// carries a count. The runtime turns them into warning entries and status.

export type Stage = 'source' | 'operator' | 'sink' | 'runtime' | 'producer'

export interface Diagnostic {
  /** Bounded, stable code, e.g. 'dropped', 'frame_corrupt', 'seq_gap', 'sink_failed'. */
  readonly code: string
  readonly stage: Stage
  /** The component's id in its pipeline, e.g. 'main.sinks[0]:file' or 'rateLimit'. */
  readonly component: string
  readonly message: string
  /** Entries lost or affected, where the diagnostic is about data. */
  readonly count?: number
  /** pino level of the warning entry made from it (default warn). */
  readonly level?: number
  /** Extra structured detail (reason, pid, …). */
  readonly details?: Readonly<Record<string, unknown>>
  /**
   * True when the component already emitted an entry saying this (rateLimit's
   * summary): the runtime counts it but makes no second entry.
   */
  readonly emitted?: boolean
}

/** Where a component reports diagnostics. */
export type DiagnosticReporter = (
  diagnostic: Omit<Diagnostic, 'stage' | 'component'> & Partial<Diagnostic>,
) => void

/** A reporter that does nothing, for building blocks used outside a pipeline. */
export const ignoreDiagnostics: DiagnosticReporter = () => {}
