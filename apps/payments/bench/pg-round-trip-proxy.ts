// A TCP proxy between the server under test and Postgres that counts what the server asks of
// Postgres. pg_stat_statements is not loaded on every server, and it would count every
// database on the server; the proxy sees exactly one client's traffic.
import { once } from 'node:events'
import { connect, createServer, type Socket } from 'node:net'

export interface PgTraffic {
  /** Execute ('E') and simple Query ('Q') messages: statements run. */
  statements: number
  /** Sync ('S') and simple Query ('Q') messages: each makes the client wait for Postgres's answer. */
  roundTrips: number
  /** Client connections accepted so far. */
  connections: number
}

export interface PgRoundTripProxy {
  readonly port: number
  /** Counts since the proxy started; take differences around a measurement. */
  traffic(): PgTraffic
  close(): Promise<void>
}

// Requests a client may send before its startup message (no type byte, 8 bytes long).
const SSL_REQUEST = 80877103
const GSSENC_REQUEST = 80877104

/**
 * Listens on a random loopback port and forwards every connection to `target`. SSL and GSS
 * encryption requests are refused by the proxy itself ('N'), so the traffic stays readable;
 * the client then sends its startup message in the clear, as libpq and postgres.js do.
 */
export async function startPgRoundTripProxy(target: {
  host: string
  port: number
}): Promise<PgRoundTripProxy> {
  const counts: PgTraffic = { statements: 0, roundTrips: 0, connections: 0 }
  const sockets = new Set<Socket>()

  const server = createServer((client) => {
    counts.connections++
    const upstream = connect(target.port, target.host)
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.setNoDelay(true)
      socket.on('close', () => sockets.delete(socket))
      // Either side going away ends the other: Postgres sees a closed client, the client a closed server.
      socket.on('error', () => {
        client.destroy()
        upstream.destroy()
      })
    }
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
    upstream.pipe(client)

    const reader = new FrontendReader(counts)
    client.on('data', (chunk: Buffer) => {
      const { forward, refuseEncryption } = reader.read(chunk)
      for (let i = 0; i < refuseEncryption; i++) client.write('N')
      if (forward.length > 0 && !upstream.write(forward)) {
        client.pause()
        upstream.once('drain', () => client.resume())
      }
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  /* c8 ignore next -- a TCP server always has an address object once listening */
  if (address === null || typeof address === 'string') throw new Error('pg proxy: no TCP address')

  return {
    port: address.port,
    traffic: () => ({ ...counts }),
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}

/**
 * Reads one client's byte stream as Postgres frontend messages. Before the startup message,
 * messages are an int32 length and an int32 code (no type byte); after it, a type byte and
 * an int32 length that counts itself but not the type byte. Only headers are parsed; bodies
 * are skipped, so a message may span any number of chunks.
 */
class FrontendReader {
  #startup = true
  readonly #header = Buffer.alloc(8)
  #headerFill = 0
  /** Body bytes of the current message still to pass. */
  #skip = 0

  constructor(private readonly counts: PgTraffic) {}

  /** The bytes to forward to Postgres, and how many encryption requests to refuse. */
  read(chunk: Buffer): { forward: Buffer; refuseEncryption: number } {
    let refuseEncryption = 0
    let dropped: Array<[number, number]> | undefined
    let i = 0
    while (i < chunk.length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - i)
        this.#skip -= n
        i += n
        continue
      }
      const headerSize = this.#startup ? 8 : 5
      const n = Math.min(headerSize - this.#headerFill, chunk.length - i)
      chunk.copy(this.#header, this.#headerFill, i, i + n)
      this.#headerFill += n
      i += n
      if (this.#headerFill < headerSize) break
      this.#headerFill = 0
      if (this.#startup) {
        const length = this.#header.readInt32BE(0)
        const code = this.#header.readInt32BE(4)
        if (length === 8 && (code === SSL_REQUEST || code === GSSENC_REQUEST)) {
          refuseEncryption++
          ;(dropped ??= []).push([i - 8, i])
          continue
        }
        // The startup message (or a cancel request): typed messages follow.
        this.#startup = false
        this.#skip = length - 8
      } else {
        const type = this.#header[0]
        if (type === 0x45 /* E */) this.counts.statements++
        else if (type === 0x53 /* S */) this.counts.roundTrips++
        else if (type === 0x51 /* Q */) {
          this.counts.statements++
          this.counts.roundTrips++
        }
        this.#skip = this.#header.readInt32BE(1) - 4
      }
    }
    if (dropped === undefined) return { forward: chunk, refuseEncryption }
    // An encryption request split across chunks starts before this chunk: it is only ever
    // the first 8 bytes of a connection, which arrive together in practice.
    const kept: Buffer[] = []
    let from = 0
    for (const [start, end] of dropped) {
      kept.push(chunk.subarray(from, Math.max(from, start)))
      from = end
    }
    kept.push(chunk.subarray(from))
    return { forward: Buffer.concat(kept), refuseEncryption }
  }
}
