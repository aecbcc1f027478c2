import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import { bare } from './candidates/bare.js'
import { candidates } from './candidates/index.js'
import type { Candidate } from './candidates/types.js'

/**
 * One candidate per process, next to the bare baseline on a second port of the same process,
 * so each ratio compares two measurements taken moments apart on the same event loop (this
 * machine's load varies a lot). argv: candidate name, key prefix, Redis URL, database URL.
 * Reports its ports, and on request its Redis command count, over IPC.
 */
const [name, prefix, redisUrl, databaseUrl] = process.argv.slice(2) as [string, string, string, string]
const candidate = candidates[name]
if (candidate === undefined) throw new Error(`unknown candidate ${name}`)

let commands = 0
const handler = async (request: FastifyRequest, reply: FastifyReply) => {
  const body = request.body as { amount: number, currency: string }
  return reply.code(201).header('location', '/v1/transfers/7d1f1c2e').send({ id: '7d1f1c2e', amount: body.amount, currency: body.currency, status: 'completed' })
}

async function serve(register: Candidate): Promise<{ port: number, close: () => Promise<void> }> {
  const app = Fastify({ logger: false })
  const closeCandidate = await register({
    app,
    prefix,
    redisUrl,
    databaseUrl,
    handler,
    countCommands (client) {
      const send = client.sendCommand.bind(client) as (...args: never[]) => unknown
      client.sendCommand = (...args: never[]) => { commands++; return send(...args) }
    }
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    async close () {
      await app.close()
      await closeCandidate()
    }
  }
}

const baseline = await serve(bare)
const measured = await serve(candidate)
process.send?.({ port: measured.port, barePort: baseline.port })
// IPC rather than a route, so no candidate's hooks can intercept the figures.
process.on('message', async (message) => {
  if (message === 'count') {
    process.send?.({ commands })
    return
  }
  await baseline.close()
  await measured.close()
  process.exit(0)
})
