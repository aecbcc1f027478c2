import { createServer } from 'node:net'

/** Whether nothing listens on the port (on 127.0.0.1) right now. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

/**
 * A free port whose `port + offset` is also free (Redis Cluster's bus listens on
 * port + 10000). Random rather than "ask the OS for port 0" so the port+offset
 * pair stays within range, and so parallel test files rarely pick the same one.
 */
export async function freePort(offset = 0): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 20000)
    if ((await isPortFree(port)) && (offset === 0 || (await isPortFree(port + offset)))) return port
  }
  /* c8 ignore next 2 -- only on a machine whose ports are nearly all taken */
  throw new Error('test-utils: could not find a free port after 200 attempts')
}
