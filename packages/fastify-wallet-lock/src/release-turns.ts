import type { LockContext } from './lock-context.js'
import type { Turn } from './turn.js'

/**
 * Gives up the turns of one acquisition. With `passOn` (a held lock's release), each goes on to
 * the next caller waiting in this process when it may (no store call); the others are released
 * in the store. While `inGate` (the lock did not already leave the local gate because its lease
 * was lost), the gate of those released in the store opens once every store release is sent, so
 * a local waiter's acquire queues behind them on the connection. Resolves true when the store
 * confirmed every release it was sent (or none was needed); rejects when the store failed.
 */
export async function releaseTurns(context: LockContext, turns: readonly Turn[], { passOn, inGate }: { passOn: boolean, inGate: boolean }): Promise<boolean> {
  const released: Array<Promise<boolean>> = []
  const reopen: string[] = []
  for (const turn of turns) {
    if (passOn && context.gate.pass(turn)) continue
    released.push(sendRelease(context, turn))
    if (inGate) reopen.push(turn.resource)
  }
  for (const resource of reopen) context.gate.leave(resource)
  return (await Promise.all(released)).every(Boolean)
}

function sendRelease(context: LockContext, turn: Turn): Promise<boolean> {
  try {
    return context.store.release(turn.resource, turn.storeToken)
  } catch (error) {
    return Promise.reject(error) // a custom store that throws instead of rejecting: the gate still opens
  }
}
