import { randomBytes } from 'node:crypto'
import t from 'tap'
import {
  ADMIN_TOKEN_MAX_RUN,
  ADMIN_TOKEN_MIN_DISTINCT,
  ADMIN_TOKEN_MIN_LENGTH,
  PLACEHOLDER_WORDS,
  adminTokenProblem
} from '../src/admin-token.js'
import { ADMIN_TOKEN } from './helpers/app.js'

t.test('random secrets pass: hex and base64url, from the minimum length up', async (t) => {
  for (let i = 0; i < 500; i++) {
    for (const token of [
      randomBytes(32).toString('hex'),
      randomBytes(16).toString('hex'),
      randomBytes(24).toString('base64url')
    ]) {
      const problem = adminTokenProblem(token)
      if (problem !== undefined) t.fail(`${token}: ${problem}`)
    }
  }
  t.equal(adminTokenProblem(ADMIN_TOKEN), undefined, "the tests' own token")
})

t.test(
  'what shipped in the compose file, and what the tests used, are refused with their reasons',
  async (t) => {
    t.equal(
      adminTokenProblem('change-me-to-a-long-random-secret'),
      'ADMIN_TOKEN must be a random secret of at least 32 characters (e.g. `openssl rand -hex 32`); this one contains "change"'
    )
    t.equal(
      adminTokenProblem('test-admin-token-0123456789'),
      'ADMIN_TOKEN must be a random secret of at least 32 characters (e.g. `openssl rand -hex 32`); this one is 27 characters long, contains "admin", has a run of 8 or more repeated or consecutive characters'
    )
  }
)

t.test('each rule on its own', async (t) => {
  const random = 'q8Vn3Kx7Lr2Tz5Wb9Hd4Mf6Jc1Pg0SyAe'
  t.equal(adminTokenProblem(random), undefined, 'the base token passes')
  t.match(adminTokenProblem(random.slice(0, ADMIN_TOKEN_MIN_LENGTH - 1)), /this one is 31 characters long$/)
  t.match(adminTokenProblem('ab'.repeat(20)), /this one has only 2 different characters$/)
  t.equal(ADMIN_TOKEN_MIN_DISTINCT, 8)
  for (const word of PLACEHOLDER_WORDS) {
    t.match(
      adminTokenProblem(`${random}${word.toUpperCase()}`),
      new RegExp(`this one contains "${word}"$`),
      `"${word}", in any case`
    )
  }
  const run = 'has a run of 8 or more repeated or consecutive characters'
  t.equal(ADMIN_TOKEN_MAX_RUN, 8)
  t.match(adminTokenProblem(`${random}zzzzzzzz`), new RegExp(`${run}$`), 'repeated')
  t.match(adminTokenProblem(`${random}01234567`), new RegExp(`${run}$`), 'ascending')
  t.match(adminTokenProblem(`${random}HGFEDCBA`), new RegExp(`${run}$`), 'descending')
  t.equal(adminTokenProblem(`${random}zzzzzzz0123456HGFEDCB`), undefined, 'runs of 7 pass')
  t.equal(adminTokenProblem(`${random}01010101`), undefined, 'alternating steps are no run')
})

t.test('every reason at once', async (t) => {
  t.equal(
    adminTokenProblem('aaaaaaaa'),
    'ADMIN_TOKEN must be a random secret of at least 32 characters (e.g. `openssl rand -hex 32`); this one is 8 characters long, has only 1 different characters, has a run of 8 or more repeated or consecutive characters'
  )
})
