import { Type } from 'typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { createUser } from '../ledger/users.js'
import { STORABLE_TEXT, User, withProblems } from './schemas.js'

export const userRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/v1/users',
    {
      config: { access: 'admin', idempotency: false },
      schema: {
        tags: ['users'],
        summary: 'Create a user and its API key (operator only)',
        security: [{ bearer: [] }],
        body: Type.Object(
          { name: Type.String({ minLength: 1, maxLength: 100, pattern: STORABLE_TEXT }) },
          { additionalProperties: false }
        ),
        response: withProblems({ 201: User }, 400, 401, 403, 413, 415)
      }
    },
    async (request, reply) =>
      reply.code(201).send(await app.database.bounded(createUser(app.database.db, request.body.name)))
  )
}
