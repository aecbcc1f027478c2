import t from 'tap'
import { ServiceMetrics } from '../src/metrics.js'

// The plugins' events as the metrics read them, including the ones real traffic rarely makes.
t.test('events the service counts, events it ignores, and dependencies that are down', async (t) => {
  const metrics = new ServiceMetrics(async () => ({ postgres: 'down', redis: 'down' }))
  metrics.onCatalogEvent({ type: 'stale', name: 'flash', reason: 'error' })
  metrics.onCatalogEvent({ type: 'load-error', name: 'flash', durationMs: 3, error: new Error('feed down') })
  metrics.onCatalogEvent({ type: 'invalidation', names: ['flash'], origin: 'local' })
  metrics.onLockEvent({
    type: 'store-error',
    resources: ['w'],
    operation: 'acquire',
    error: new Error('redis down'),
    degraded: false
  })
  metrics.onLockEvent({ type: 'released', resources: ['w'], heldMs: 5, owned: true })
  metrics.onIdempotencyEvent({
    type: 'committed',
    statusCode: 201,
    bytes: 10,
    key: 'k',
    scope: 's',
    method: 'POST',
    route: '/x',
    requestId: 'r'
  })
  const text = await metrics.registry.metrics()
  t.match(text, /moolah_catalog_cache_answers_total\{catalog="flash",status="stale"\} 1\n/)
  t.match(text, /moolah_catalog_cache_answers_total\{catalog="flash",status="load_error"\} 1\n/)
  t.match(text, /moolah_wallet_lock_events_total\{outcome="store_error"\} 1\n/)
  t.notMatch(text, /outcome="released"/, 'a release is no outcome of an acquisition')
  t.notMatch(text, /moolah_idempotency_requests_total\{/, 'a commit is not counted as a request outcome')
  t.notMatch(text, /origin|invalidation/, 'invalidations are not answers')
  t.match(text, /moolah_dependency_up\{dependency="postgres"\} 0\n/)
  t.match(text, /moolah_dependency_up\{dependency="redis"\} 0\n/)
})
