import { map } from 'rxjs'
import t from 'tap'
import { Intake } from '../src/runtime/intake.js'

t.test('an intake hands each value to its subscribers, in order, and completes them', (t) => {
  const intake = new Intake<number>()
  const a: number[] = []
  const b: number[] = []
  let completed = 0
  intake.next(0) // nobody yet: not kept
  const subA = intake.observable
    .pipe(map((x) => x * 10))
    .subscribe({ next: (x) => a.push(x), complete: () => completed++ })
  intake.next(1)
  intake.observable.subscribe({ next: (x) => b.push(x), complete: () => completed++ })
  intake.next(2)
  subA.unsubscribe()
  intake.next(3)
  intake.complete()
  intake.next(4)
  t.same(a, [10, 20], 'the first subscriber saw what came while it was subscribed')
  t.same(b, [2, 3], 'the second too')
  t.equal(completed, 1, 'complete reached the one still subscribed')
  let late = false
  intake.observable.subscribe({ complete: () => (late = true) })
  t.ok(late, 'a subscriber after complete is completed at once')
  t.end()
})

t.test('a subscriber that fails and is replaced while a value is handed over does not lose the next', (t) => {
  const intake = new Intake<number>()
  const seen: string[] = []
  const subscribe = (name: string) =>
    intake.observable
      .pipe(
        map((x) => {
          if (x === 2 && name === 'first') throw new Error('boom')
          return x
        }),
      )
      .subscribe({
        next: (x) => seen.push(`${name}:${x}`),
        // As the pipeline does: a failed chain subscribes again at once.
        error: () => subscribe('second'),
      })
  subscribe('first')
  intake.next(1)
  intake.next(2)
  intake.next(3)
  t.same(seen, ['first:1', 'second:3'], 'the failing value is lost, the one after it reaches the new chain')
  t.end()
})
