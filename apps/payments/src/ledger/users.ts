import type { Db } from '../db/database.js'
import { users } from '../db/schema.js'
import { generateApiKey, hashApiKey } from '../auth/api-key.js'

/** Creates a user and returns its API key: the only time the key is ever shown. */
export async function createUser(db: Db, name: string) {
  const apiKey = generateApiKey()
  const [row] = await db
    .insert(users)
    .values({ name, apiKeyHash: hashApiKey(apiKey) })
    .returning()
  const user = row as typeof users.$inferSelect
  return { id: user.id, name: user.name, apiKey, createdAt: user.createdAt.toISOString() }
}
