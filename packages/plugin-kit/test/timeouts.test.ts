import t from 'tap'
import { TimeoutError, Timeouts } from '../src/index.js'

/** A promise the test settles itself. */
function controlled<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((settle) => {
    resolve = settle
  })
  return { promise, resolve }
}

const never = () => new Promise<never>(() => {})

// The timer is unref'd (it must not keep an application alive); here a never-settling call is
// all there is, so something else has to keep the process running until the timeouts fire.
const keepAlive = setInterval(() => {}, 1000)
t.teardown(() => clearInterval(keepAlive))

t.test('settles like the promise when it settles in time', async (t) => {
  const timeouts = new Timeouts(1000)
  t.equal(await timeouts.run(Promise.resolve(1), 'read'), 1)
  const failure = new Error('refused')
  await t.rejects(timeouts.run(Promise.reject(failure), 'read'), failure)
  t.equal(timeouts.timeoutMs, 1000)
})

t.test('rejects with a TimeoutError naming the operation once its timeout has passed', async (t) => {
  const error = await new Timeouts(20).run(never(), 'store read').catch((error: unknown) => error)
  t.ok(error instanceof TimeoutError)
  t.match(error, {
    name: 'TimeoutError',
    operation: 'store read',
    timeoutMs: 20,
    message: 'store read timed out after 20 ms'
  })
})

t.test(
  'calls with their own timeouts expire in deadline order, whatever the order they started in',
  async (t) => {
    const timeouts = new Timeouts(60_000)
    const expired: string[] = []
    const track = (name: string, timeoutMs?: number) =>
      timeouts.run(never(), name, timeoutMs).catch(() => {
        expired.push(name)
      })
    const usual = controlled<string>()
    const running = timeouts.run(usual.promise, 'usual') // the default: 60 s, never reached here
    const calls = [track('long', 200), track('short', 20), track('middle', 100), track('late', 300)]
    await Promise.all(calls)
    t.same(expired, ['short', 'middle', 'long', 'late'])
    usual.resolve('answered')
    t.equal(await running, 'answered', 'the call left behind was not disturbed')
  }
)

t.test('a settled call leaves the list at once; the timer then re-arms for the next deadline', async (t) => {
  const timeouts = new Timeouts(1000)
  const quick = controlled<number>()
  const first = timeouts.run(quick.promise, 'first', 30)
  const second = timeouts.run(never(), 'second', 80).catch((error: unknown) => error)
  const third = controlled<number>()
  const middle = timeouts.run(third.promise, 'third', 50) // between the two: unlinked from the middle below
  third.resolve(3)
  quick.resolve(1)
  t.equal(await first, 1)
  t.equal(await middle, 3)
  t.match(
    await second,
    { operation: 'second' },
    'the timer set for the first call fired for nothing and waited on'
  )
})

t.test('a call that answers after its timeout changes nothing', async (t) => {
  const timeouts = new Timeouts(10)
  const late = controlled<string>()
  await t.rejects(timeouts.run(late.promise, 'slow'), TimeoutError)
  late.resolve('too late')
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(await timeouts.run(Promise.resolve('next'), 'next'), 'next')
})
