import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import { bare } from './candidates/bare.js'
import { candidates } from './candidates/index.js'

/**
 * One server under test per process, the bare baseline included: argv candidate name (or
 * `bare`), key prefix, Redis URL, database URL. Tells the orchestrator its port over IPC and,
 * when asked, its CPU time so far (all threads: event loop, GC, libuv pool) and the SQL
 * statements it has sent. IPC rather than a route, so no candidate's hooks can touch the figures.
 */
const [name, prefix, redisUrl, databaseUrl] = process.argv.slice(2) as [string, string, string, string]
const register = name === 'bare' ? bare : candidates[name]
if (register === undefined) throw new Error(`unknown candidate ${name}`)

const handler = async (request: FastifyRequest, reply: FastifyReply) => {
  const body = request.body as { amount: number; currency: string }
  return reply
    .code(201)
    .header('location', '/v1/transfers/7d1f1c2e')
    .send({ id: '7d1f1c2e', amount: body.amount, currency: body.currency, status: 'completed' })
}

let statements = 0
const app = Fastify({ logger: false })
const closeCandidate = await register({
  app,
  prefix,
  redisUrl,
  databaseUrl,
  handler,
  countStatement: () => {
    statements++
  }
})
await app.listen({ port: 0, host: '127.0.0.1' })
const address = app.server.address()
process.send?.({ port: typeof address === 'object' && address !== null ? address.port : 0 })

process.on('message', async (message) => {
  if (message === 'figures') {
    const { user, system } = process.cpuUsage()
    process.send?.({ cpuMicros: user + system, statements })
    return
  }
  await app.close()
  await closeCandidate()
  process.exit(0)
})
