import { Ajv, type Options } from 'ajv'
import addFormatsPlugin from 'ajv-formats'
import type { FastifyInstance, FastifySchema } from 'fastify'

// ajv-formats ships CommonJS typings whose default export NodeNext sees as the module.
const addFormats = addFormatsPlugin as unknown as (ajv: Ajv) => Ajv

const shared: Options = { allErrors: false, useDefaults: true, removeAdditional: false, strict: false }

/**
 * Bodies are validated exactly as sent: "100" is not an amount and an unknown property is an
 * error, not something to drop. Query strings and path parameters are text by nature, so
 * they are coerced ("?limit=5" is the integer 5).
 */
export function installValidators(app: FastifyInstance): void {
  const exact = addFormats(new Ajv({ ...shared, coerceTypes: false }))
  const coercing = addFormats(new Ajv({ ...shared, coerceTypes: 'array' }))
  app.setValidatorCompiler<FastifySchema>(({ schema, httpPart }) =>
    (httpPart === 'body' ? exact : coercing).compile(schema as object)
  )
}
