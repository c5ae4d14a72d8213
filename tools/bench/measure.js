// Timing helpers: interleaved rounds, medians, and a printed table of ratios.

/** Median of numbers. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/**
 * Runs each contender's `round(n)` for `rounds` rounds, interleaved, after one
 * warm-up round each; returns the median ns per operation for each.
 * `round(n)` does n operations; `setup`/`teardown` around a round are not timed.
 */
export async function compare(contenders, { n, rounds }) {
  const samples = new Map(contenders.map((c) => [c.name, []]))
  for (let r = -1; r < rounds; r++) {
    for (const c of contenders) {
      const state = c.setup ? await c.setup() : undefined
      const start = process.hrtime.bigint()
      await c.round(n, state)
      const elapsed = Number(process.hrtime.bigint() - start)
      if (c.teardown) await c.teardown(state)
      if (r >= 0) samples.get(c.name).push(elapsed / n)
    }
  }
  return contenders.map((c) => ({ name: c.name, nsPerOp: median(samples.get(c.name)) }))
}

/** Prints results as a table with each row's ratio to the baseline row. */
export function report(results, { baseline, unit = 'ns/op', note } = {}) {
  const base = results.find((r) => r.name === baseline) ?? results[0]
  const width = Math.max(...results.map((r) => r.name.length))
  for (const r of results) {
    const ops = 1e9 / r.nsPerOp
    const ratio = r.nsPerOp / base.nsPerOp
    console.log(
      `  ${r.name.padEnd(width)}  ${r.nsPerOp.toFixed(0).padStart(7)} ${unit}  ${formatRate(ops).padStart(12)}/s  ${ratio.toFixed(2)}× ${base.name}`,
    )
  }
  if (note) console.log(`  ${note}`)
}

export function formatRate(perSecond) {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)} M`
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)} k`
  return perSecond.toFixed(0)
}
