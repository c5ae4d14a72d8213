// What the runtime puts in front of an operator that takes only LogEntry
// values: every EntryBatch becomes its entries, decoded one by one, in order.
// An entry whose bytes no longer decode (a frame changed in shared memory
// after it was read) is skipped and counted through `onCorrupt`; the others
// of its batch go on.

import { Observable, type OperatorFunction } from 'rxjs'
import type { LogEntry } from '../entry.js'
import { type EntryBatch, isEntryBatch } from '../wire/entry-batch.js'

export function unbatch(
  onCorrupt: (count: number) => void,
): OperatorFunction<LogEntry | EntryBatch, LogEntry> {
  return (source) =>
    new Observable<LogEntry>((subscriber) =>
      source.subscribe({
        next: (item) => {
          if (!isEntryBatch(item)) return subscriber.next(item)
          let corrupt = 0
          for (let k = 0; k < item.length; k++) {
            let entry: LogEntry
            try {
              entry = item.entry(k)
            } catch {
              corrupt++
              continue
            }
            subscriber.next(entry)
          }
          if (corrupt > 0) onCorrupt(corrupt)
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      }),
    )
}
