// The producer panel's rows: the same data as `logkit status` (entries, rate,
// last seq, seq gaps, last seen) when the collector's status is at hand (under
// `logkit compose`, and `logkit tail --web` asks the control socket), else
// counted here from the entries the sink sees; with what only the entries
// say on top: a producer that exited (cleanly, or SIGKILLed with the count
// salvaged from its ring) and what producers dropped (the `producer_exited`
// and `dropped` diagnostics the transports report as entries).
//
// Bounded: at most `maxRows` producers; the least recently seen goes first.

import type { LogEntry } from '@logkit/core'

export interface ProducerRow {
  pid: number
  source: string
  entries: number
  perSecond: number
  lastSeq: number
  seqGaps: number
  lastSeenMs: number
  drops: number
  exited: boolean
  clean?: boolean | undefined
  salvaged?: number | undefined
  alive: boolean
}

interface Counted {
  pid: number
  source: string
  entries: number
  firstMs: number
  lastMs: number
  lastSeq: number
  gaps: number
}

interface Fate {
  drops: number
  exited: boolean
  clean?: boolean
  salvaged?: number
  source?: string
  atMs: number
}

/** A row of the collector's status (packages/cli's ControlServer.status().producers). */
interface StatusRow {
  pid: number
  source: string
  entries: number
  perSecond: number
  lastSeq: number
  seqGaps: number
  lastSeenMs: number
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined)

export class ProducerTable {
  readonly #counted = new Map<string, Counted>()
  readonly #fates = new Map<number, Fate>()

  constructor(readonly maxRows = 1024) {}

  observe(entry: LogEntry, now: number): void {
    if (entry.source === 'logkit' && entry.seq === 0) {
      this.#diagnostic(entry, now)
      return
    }
    const key = `${entry.pid}:${entry.source}`
    let row = this.#counted.get(key)
    const fate = this.#fates.get(entry.pid)
    if (fate?.exited === true && (entry.seq <= 1 || (row !== undefined && entry.seq <= row.lastSeq))) {
      // The pid came back with its seq begun again: another process (pids are reused), not the one that exited.
      this.#fates.delete(entry.pid)
      if (row !== undefined) this.#counted.delete(key)
      row = undefined
    }
    if (row === undefined) {
      if (this.#counted.size >= this.maxRows) this.#evict(this.#counted)
      row = {
        pid: entry.pid,
        source: entry.source,
        entries: 0,
        firstMs: now,
        lastMs: now,
        lastSeq: 0,
        gaps: 0,
      }
      this.#counted.set(key, row)
    }
    row.entries++
    row.lastMs = now
    if (entry.seq > row.lastSeq + 1 && row.lastSeq > 0) row.gaps += entry.seq - row.lastSeq - 1
    if (entry.seq > row.lastSeq) row.lastSeq = entry.seq
  }

  #diagnostic(entry: LogEntry, now: number): void {
    const code = entry.fields.get('code')
    if (code !== 'producer_exited' && code !== 'dropped') return
    const pid = num(entry.fields.get('producer_pid'))
    if (pid === undefined) return
    let fate = this.#fates.get(pid)
    if (fate === undefined) {
      if (this.#fates.size >= this.maxRows) this.#evict(this.#fates)
      fate = { drops: 0, exited: false, atMs: now }
      this.#fates.set(pid, fate)
    }
    fate.atMs = now
    if (code === 'dropped') {
      fate.drops += num(entry.fields.get('count')) ?? 0
      return
    }
    fate.exited = true
    fate.clean = entry.fields.get('clean') === true
    fate.salvaged = num(entry.fields.get('salvaged')) ?? 0
    const source = entry.fields.get('detail_source') ?? entry.fields.get('source')
    if (typeof source === 'string') fate.source = source
  }

  #evict<V extends { lastMs?: number; atMs?: number }>(map: Map<unknown, V>): void {
    let oldest: unknown
    let oldestMs = Number.POSITIVE_INFINITY
    for (const [key, v] of map) {
      const ms = v.lastMs ?? v.atMs ?? 0
      if (ms < oldestMs) {
        oldestMs = ms
        oldest = key
      }
    }
    map.delete(oldest)
  }

  /** The rows: the collector's status rows when given, else the ones counted here; fates on top. */
  rows(status?: unknown): ProducerRow[] {
    const given = (status as { producers?: unknown } | undefined)?.producers
    const base: StatusRow[] = Array.isArray(given)
      ? (given as StatusRow[])
      : [...this.#counted.values()].map((p) => ({
          pid: p.pid,
          source: p.source,
          entries: p.entries,
          perSecond:
            p.lastMs > p.firstMs ? Math.round((p.entries * 1000) / (p.lastMs - p.firstMs)) : p.entries,
          lastSeq: p.lastSeq,
          seqGaps: p.gaps,
          lastSeenMs: p.lastMs,
        }))
    const rows: ProducerRow[] = []
    const seen = new Set<number>()
    for (const p of base) {
      seen.add(p.pid)
      rows.push(this.#row(p))
    }
    // A producer that exited before it was counted (salvaged by a new collector) still shows.
    for (const [pid, fate] of this.#fates) {
      if (seen.has(pid) || !fate.exited) continue
      rows.push(
        this.#row({
          pid,
          source: fate.source ?? '',
          entries: 0,
          perSecond: 0,
          lastSeq: 0,
          seqGaps: 0,
          lastSeenMs: fate.atMs,
        }),
      )
    }
    return rows.sort((a, b) => a.source.localeCompare(b.source) || a.pid - b.pid)
  }

  #row(p: StatusRow): ProducerRow {
    const fate = this.#fates.get(p.pid)
    const exited = fate?.exited === true
    return {
      pid: p.pid,
      source: p.source,
      entries: p.entries,
      perSecond: p.perSecond,
      lastSeq: p.lastSeq,
      seqGaps: p.seqGaps,
      lastSeenMs: p.lastSeenMs,
      drops: fate?.drops ?? 0,
      exited,
      ...(exited ? { clean: fate?.clean, salvaged: fate?.salvaged } : {}),
      alive: !exited && processAlive(p.pid),
    }
  }
}
