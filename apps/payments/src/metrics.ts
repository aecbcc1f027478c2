import type { CatalogCacheEvent } from '@moolah/fastify-catalog-cache'
import type { IdempotencyEvent } from '@moolah/fastify-idempotency'
import type { WalletLockEvent } from '@moolah/fastify-wallet-lock'
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { DependencyStatus } from './dependency-checks.js'

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

// What an idempotency event says about the request, as a metric label.
const IDEMPOTENCY_OUTCOMES: Partial<Record<IdempotencyEvent['type'], string>> = {
  claimed: 'claimed',
  replayed: 'replayed',
  conflict: 'in_use',
  mismatch: 'reused',
  'lease-lost': 'lease_lost',
  'store-error': 'store_error'
}

/**
 * The service's Prometheus metrics, one registry per instance of the app (so tests can build
 * several): standard HTTP latency plus what a payments operator watches, fed by the plugins'
 * `onEvent` hooks and the money routes. Every metric is listed in the README.
 */
export class ServiceMetrics {
  readonly registry = new Registry()

  readonly #http = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer a request, by method, route pattern and status',
    labelNames: ['method', 'route', 'status_code'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry]
  })
  readonly #movements = new Counter({
    name: 'moolah_money_movements_total',
    help: 'Answers of the money routes: movement transfer|deposit|purchase, outcome created|pending|replayed|<problem code>',
    labelNames: ['movement', 'outcome'],
    registers: [this.registry]
  })
  readonly #lockWait = new Histogram({
    name: 'moolah_wallet_lock_wait_seconds',
    help: 'Time from asking for a wallet lock to holding it',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry]
  })
  readonly #lockOutcomes = new Counter({
    name: 'moolah_wallet_lock_events_total',
    help: 'Wallet lock outcomes: acquired, contended, timeout, lost, store_error',
    labelNames: ['outcome'],
    registers: [this.registry]
  })
  readonly #idempotency = new Counter({
    name: 'moolah_idempotency_requests_total',
    help: 'Idempotency outcomes: claimed, replayed, in_use, reused, lease_lost, store_error',
    labelNames: ['outcome'],
    registers: [this.registry]
  })
  readonly #catalog = new Counter({
    name: 'moolah_catalog_cache_answers_total',
    help: 'Catalog cache answers by catalog and status: hit_l1, hit_l2, miss_l2, miss_loader, stale, load_error',
    labelNames: ['catalog', 'status'],
    registers: [this.registry]
  })

  constructor(checkDependencies: () => Promise<DependencyStatus>) {
    collectDefaultMetrics({ register: this.registry })
    // Asked at scrape time, so the figure is as fresh as the scrape; the registry owns the gauge.
    new Gauge({
      name: 'moolah_dependency_up',
      help: '1 when the dependency answers within a second, 0 when it does not (redis absent without REDIS_URL)',
      labelNames: ['dependency'],
      registers: [this.registry],
      async collect() {
        const status = await checkDependencies()
        this.set({ dependency: 'postgres' }, Number(status.postgres === 'ok'))
        if (status.redis !== 'not-configured')
          this.set({ dependency: 'redis' }, Number(status.redis === 'ok'))
      }
    })
  }

  request(method: string, route: string, statusCode: number, seconds: number): void {
    this.#http.observe({ method, route, status_code: statusCode }, seconds)
  }

  movement(movement: string, outcome: string): void {
    this.#movements.inc({ movement, outcome })
  }

  readonly onLockEvent = (event: WalletLockEvent): void => {
    if (event.type === 'acquired') this.#lockWait.observe(event.waitedMs / 1000)
    if (event.type !== 'released') this.#lockOutcomes.inc({ outcome: event.type.replace('-', '_') })
  }

  readonly onIdempotencyEvent = (event: IdempotencyEvent): void => {
    const outcome = IDEMPOTENCY_OUTCOMES[event.type]
    if (outcome !== undefined) this.#idempotency.inc({ outcome })
  }

  readonly onCatalogEvent = (event: CatalogCacheEvent): void => {
    if (event.type === 'hit' || event.type === 'miss')
      this.#catalog.inc({ catalog: event.name, status: `${event.type}_${event.tier}` })
    else if (event.type === 'stale' || event.type === 'load-error')
      this.#catalog.inc({ catalog: event.name, status: event.type.replace('-', '_') })
  }
}
