import type { FastifyBaseLogger } from 'fastify'

/**
 * A plugin's `onEvent` listener made safe: an exception it throws is logged (error) and never
 * reaches the request or the store call that emitted the event. Undefined without a listener,
 * so call sites write `emit?.({ … })` and build no event object for nobody.
 */
export function safeEmitter<E extends { type: string }>(
  listener: ((event: E) => void) | undefined,
  log: Pick<FastifyBaseLogger, 'error'>,
  plugin: string
): ((event: E) => void) | undefined {
  if (listener === undefined) return undefined
  return (event) => {
    try {
      listener(event)
    } catch (err) {
      log.error({ err, event: event.type }, `${plugin}: onEvent threw`)
    }
  }
}
