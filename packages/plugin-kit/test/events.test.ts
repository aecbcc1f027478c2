import t from 'tap'
import { safeEmitter } from '../src/index.js'

type Event = { type: 'hit'; name: string }

t.test('no listener: no emitter, so call sites build no event', async (t) => {
  t.equal(safeEmitter<Event>(undefined, { error: () => {} }, '@moolah/x'), undefined)
})

t.test('events reach the listener; what it throws is logged, not thrown', async (t) => {
  const seen: Event[] = []
  const logged: unknown[][] = []
  const log = {
    error: (...args: unknown[]) => {
      logged.push(args)
    }
  }
  safeEmitter<Event>(
    (event) => {
      seen.push(event)
    },
    log,
    '@moolah/x'
  )?.({ type: 'hit', name: 'a' })
  t.same(seen, [{ type: 'hit', name: 'a' }])
  const failure = new Error('observer broke')
  const emit = safeEmitter<Event>(
    () => {
      throw failure
    },
    log,
    '@moolah/x'
  )
  t.doesNotThrow(() => emit?.({ type: 'hit', name: 'b' }))
  t.same(logged, [[{ err: failure, event: 'hit' }, '@moolah/x: onEvent threw']])
})
