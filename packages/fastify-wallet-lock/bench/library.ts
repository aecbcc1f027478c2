/**
 * The lock as users run it: the compiled package (dist/esm/, which `pnpm bench` builds first), not
 * src/ through tsx, whose transform wraps every function the lock creates per call in a naming
 * helper (microseconds per lock cycle that no user pays). Typed from src/, which dist/ is built from.
 */
import type * as Library from '../src/index.js'

const compiled = '../dist/esm/index.js' // not a literal import: type-checking must not need a build
export const { WalletLockManager, RedisWalletLockStore } = (await import(compiled)) as typeof Library
