// The per-entry regime of the operators: a projection that throws for one entry
// drops that entry and reports it (a diagnostic with a count), and the stream
// goes on. Only errors from upstream travel as errors.

import { Observable, type OperatorFunction } from 'rxjs'

/**
 * Like `map`, except that when `project` throws, the value is dropped and
 * `onError` is told instead of erroring the stream.
 */
export function mapOrDrop<T, R>(
  project: (value: T) => R,
  onError: (error: unknown, value: T) => void,
): OperatorFunction<T, R> {
  return (source) =>
    new Observable<R>((subscriber) =>
      source.subscribe({
        next(value) {
          let result: R
          try {
            result = project(value)
          } catch (error) {
            onError(error, value)
            return
          }
          subscriber.next(result)
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      }),
    )
}
