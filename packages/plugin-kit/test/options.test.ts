import t from 'tap'
import { FAIL_MODES, OptionReader } from '../src/index.js'

interface Options {
  timeoutMs?: number
  waitMs?: number
  failMode?: 'closed' | 'open'
  onEvent?: (event: unknown) => void
  name?: string
}

const reader = (options: Record<string, unknown>, where?: string) =>
  new OptionReader<Options>('@moolah/x', options as Options, where)

t.test('defaults fill what is not given', async (t) => {
  const read = new OptionReader<Options>('@moolah/x', undefined)
  t.equal(read.integer('timeoutMs', 200), 200)
  t.equal(read.integer('waitMs', 0, 0), 0)
  t.equal(read.oneOf('failMode', FAIL_MODES, 'open'), 'open')
  t.equal(read.optionalFunction('onEvent'), undefined)
  t.equal(
    read.check('name', 'x', (value) => typeof value === 'string', 'a string'),
    'x'
  )
})

t.test('given values are returned when valid', async (t) => {
  const onEvent = () => {}
  const read = reader({ timeoutMs: 5, waitMs: 0, failMode: 'closed', onEvent })
  t.equal(read.integer('timeoutMs', 200), 5)
  t.equal(read.integer('waitMs', 1000, 0), 0)
  t.equal(read.oneOf('failMode', FAIL_MODES, 'open'), 'closed')
  t.equal(read.optionalFunction('onEvent'), onEvent)
})

t.test('a wrong value is a TypeError naming the plugin, the object, the key and the value', async (t) => {
  const cases: Array<[() => unknown, string]> = [
    [
      () => reader({ timeoutMs: 0 }).integer('timeoutMs', 200),
      '@moolah/x: options.timeoutMs must be a positive integer, got 0'
    ],
    [
      () => reader({ timeoutMs: 1.5 }).integer('timeoutMs', 200),
      '@moolah/x: options.timeoutMs must be a positive integer, got 1.5'
    ],
    [
      () => reader({ waitMs: -1 }, "define('a')").integer('waitMs', 0, 0),
      "@moolah/x: define('a').waitMs must be an integer ≥ 0, got -1"
    ],
    [
      () => reader({ timeoutMs: '200' }).integer('timeoutMs', 200),
      '@moolah/x: options.timeoutMs must be a positive integer, got "200"'
    ],
    [
      () => reader({ failMode: 'sometimes' }).oneOf('failMode', FAIL_MODES, 'open'),
      "@moolah/x: options.failMode must be 'closed' or 'open', got \"sometimes\""
    ],
    [
      () => reader({ onEvent: 'log' }).optionalFunction('onEvent'),
      '@moolah/x: options.onEvent must be a function, got "log"'
    ],
    [
      () => reader({ onEvent: {} }).optionalFunction('onEvent'),
      '@moolah/x: options.onEvent must be a function, got an object'
    ],
    [
      () => reader({ name: [] }).check('name', 'x', (value) => typeof value === 'string', 'a string'),
      '@moolah/x: options.name must be a string, got an array'
    ],
    [
      () => reader({ name: () => 1 }).check('name', 'x', (value) => typeof value === 'string', 'a string'),
      '@moolah/x: options.name must be a string, got a function'
    ],
    [
      () => reader({ name: null }).check('name', null, (value) => typeof value === 'string', 'a string'),
      '@moolah/x: options.name must be a string, got null'
    ],
    [
      () => reader({}).fail('leaseMs must be above loadTimeoutMs'),
      '@moolah/x: leaseMs must be above loadTimeoutMs'
    ]
  ]
  for (const [read, message] of cases) t.throws(read, { name: 'TypeError', message }, message)
})
