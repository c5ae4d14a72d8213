// What the collector says of a producer's drops: one `dropped` diagnostic per
// reason, from the counts its batches and goodbye carry (DropReasons). Every
// source says them through here, so a reason reads the same from any transport.

import type { DiagnosticReporter } from './diagnostics.js'
import type { Drops } from './frame.js'

/** The `details.reason` of a producer's `dropped` diagnostic. */
export type ProducerDropReason =
  | 'producer_buffer_full'
  | 'entry_too_large'
  | 'entry_unserializable'
  /** An older producer's drops, which its frames count without a reason. */
  | 'dropped_by_producer'

const WHY: Record<ProducerDropReason, string> = {
  producer_buffer_full:
    "its transport could not take them: the ring or pipe buffer was full (the collector was behind or not running); a larger ring (shm's capacity) or a longer blockMs keeps more",
  entry_too_large:
    "they were over the logger's maxFrameSize (1 MiB by default): log less in one entry, or raise maxFrameSize on the logger and on this source alike",
  entry_unserializable:
    "their fields could not be serialized (a toJSON or getter that throws): the producer's warning LOGKIT_W_ENTRY_UNSERIALIZABLE names the error",
  dropped_by_producer:
    "a full ring or buffer, an entry too large, or fields that could not be serialized: the producer's warnings say which",
}

/**
 * Reports `drops` of the producer `label` (pid `pid`), one diagnostic per
 * reason. `reasonsKnown`: the producer counts drops by reason (its hello has
 * CAPABILITY_DROP_REASONS), so the drops of neither named reason are the ones
 * its transport refused; otherwise they are of an unknown reason.
 */
export function reportProducerDrops(
  report: DiagnosticReporter,
  label: string,
  pid: number | undefined,
  drops: Drops,
  reasonsKnown: boolean,
): void {
  const tooLarge = Math.min(drops.droppedTooLarge, drops.dropped)
  const unserializable = Math.min(drops.droppedUnserializable, drops.dropped - tooLarge)
  const rest = drops.dropped - tooLarge - unserializable
  say(report, label, pid, tooLarge, 'entry_too_large')
  say(report, label, pid, unserializable, 'entry_unserializable')
  say(report, label, pid, rest, reasonsKnown ? 'producer_buffer_full' : 'dropped_by_producer')
}

function say(
  report: DiagnosticReporter,
  label: string,
  pid: number | undefined,
  count: number,
  reason: ProducerDropReason,
): void {
  if (count <= 0) return
  report({
    code: 'dropped',
    stage: 'producer',
    message: `${label} dropped ${count} entries before they reached the collector: ${WHY[reason]}`,
    count,
    details: { reason, pid },
  })
}
