import createError from '@fastify/error'
import Fastify from 'fastify'
import t from 'tap'
import { DependencyUnavailableError, retryAfterOf, setRetryAfter, withRetryAfter } from '../src/index.js'

t.test('DependencyUnavailableError: 503, a fixed message, the cause kept apart', async (t) => {
  const cause = new Error('connect ECONNREFUSED 10.0.0.7:6379')
  const error = new DependencyUnavailableError('The store is unavailable; retry shortly', { cause })
  t.match(error, {
    code: 'DEPENDENCY_UNAVAILABLE',
    statusCode: 503,
    message: 'The store is unavailable; retry shortly',
    cause
  })
  t.notOk(error.message.includes('ECONNREFUSED'))
  const another = createError('DEPENDENCY_UNAVAILABLE', 'another plugin: %s', 503)
  t.ok(
    new another('x') instanceof DependencyUnavailableError,
    "instanceof goes by code, so every plugin's 503 matches"
  )
})

t.test('withRetryAfter: whole seconds, rounded up, at least 1', async (t) => {
  t.equal(withRetryAfter(new Error('x'), 0).retryAfter, 1)
  t.equal(withRetryAfter(new Error('x'), 1000).retryAfter, 1)
  t.equal(withRetryAfter(new Error('x'), 1001).retryAfter, 2)
  t.equal(retryAfterOf(withRetryAfter(new Error('x'), 2500)), 3)
  for (const value of [undefined, null, 'text', new Error('x'), { retryAfter: '5' }])
    t.equal(retryAfterOf(value), undefined)
})

t.test('setRetryAfter puts the hint in the reply and passes the error on', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  app.get('/later', async (_request, reply) => {
    throw setRetryAfter(reply, withRetryAfter(new DependencyUnavailableError('Busy'), 2500))
  })
  app.get('/plain', async (_request, reply) => {
    throw setRetryAfter(reply, new Error('plain'))
  })
  const later = await app.inject('/later')
  t.equal(later.statusCode, 503)
  t.equal(later.headers['retry-after'], '3')
  t.equal(later.json().message, 'Busy')
  const plain = await app.inject('/plain')
  t.equal(plain.statusCode, 500)
  t.notOk(plain.headers['retry-after'])
})
