import type { Socket } from 'node:net'
import type { Cluster, Redis } from 'ioredis'

/**
 * Returns a function to call before sending a command: the first call of an event-loop turn
 * corks the client's socket and the turn's check phase (setImmediate) uncorks it, so every
 * command written in that turn, the application's own included, leaves in one system call
 * (node-redis does this for every command). Under load the claims and commits of many
 * requests share a write instead of one write each, and on loopback a write costs about as
 * much CPU as the rest of a command. A command still waits for its own reply: round trips per
 * request do not change. A Cluster spreads commands over several sockets: left alone.
 */
export function writeBatcher(client: Redis | Cluster): () => void {
  let corked = false
  return () => {
    // Read every time: a reconnect gives the client a new socket.
    const stream = (client as { stream?: Socket }).stream
    if (corked || stream === undefined) return
    stream.cork()
    corked = true
    setImmediate(() => {
      corked = false
      stream.uncork()
    })
  }
}
