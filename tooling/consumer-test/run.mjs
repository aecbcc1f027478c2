#!/usr/bin/env node
// The consumer test: what "publish each package on its own" has to survive. Packs every
// published package with `pnpm pack` (workspace: ranges rewritten as on publish), installs the
// tarballs into a throwaway project outside the workspace with npm (everything else from the
// registry: fastify, ioredis 6 as the optional peer, ioredis 5 and 6 under aliases, @types/node),
// then runs an ESM script, a CommonJS script without require(esm), tsc in three module settings,
// publint and attw. Needs Redis at REDIS_URL (default 127.0.0.1:6379). KEEP=1 keeps the project.
import { execFile } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { publint } from 'publint'
import { formatMessage } from 'publint/utils'

const run = promisify(execFile)
const here = dirname(fileURLToPath(import.meta.url))
const root = resolve(here, '../..')
const require = createRequire(import.meta.url)
const bin = (name) => join(here, 'node_modules/.bin', name)
const started = Date.now()
const step = (message) =>
  console.log(`[consumer-test +${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`)

async function sh(command, args, options = {}) {
  try {
    return (await run(command, args, { maxBuffer: 64 << 20, ...options })).stdout
  } catch (error) {
    throw new Error(`${command} ${args.join(' ')} failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`)
  }
}

const packages = readdirSync(join(root, 'packages'))
  .map((name) => {
    const dir = join(root, 'packages', name)
    return { dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }
  })
  .filter(({ manifest }) => manifest.private !== true)

const project = mkdtempSync(join(tmpdir(), 'moolah-consumer-'))
const tarballs = join(project, 'tarballs')
try {
  step(`packing ${packages.map(({ manifest }) => manifest.name).join(', ')}`)
  const packed = await Promise.all(
    packages.map(async ({ dir, manifest }) => {
      const out = await sh('pnpm', ['pack', '--pack-destination', tarballs], { cwd: dir })
      return { name: manifest.name, tarball: out.trim().split('\n').at(-1) }
    })
  )

  step(
    `publint and attw on every tarball, meanwhile installing them into ${project} (npm, registry for everything else)`
  )
  await Promise.all([...packed.map(lint), install(packed)])
  cpSync(join(here, 'fixture'), project, { recursive: true })

  step('CommonJS without require(esm): each package loads alone (--no-experimental-require-module)')
  for (const { name } of packed) {
    await sh(
      process.execPath,
      [
        '--no-experimental-require-module',
        '-e',
        `require(${JSON.stringify(name)}); require(${JSON.stringify(`${name}/package.json`)})`
      ],
      { cwd: project }
    )
  }
  step('ESM (import)')
  console.log((await sh(process.execPath, ['esm.mjs'], { cwd: project })).trim())
  // fastify itself needs require(esm) by now (light-my-request requires cookie 2, ESM-only)
  step('CommonJS (require)')
  console.log((await sh(process.execPath, ['cjs.cjs'], { cwd: project })).trim())

  step('tsc: nodenext ESM, node16 CommonJS, classic node resolution (strict, skipLibCheck false, no ioredis)')
  // the project has no "type": check.ts is CommonJS to TypeScript, check.mts its ESM twin
  cpSync(join(project, 'check.ts'), join(project, 'check.mts'))
  const common = {
    strict: true,
    skipLibCheck: false,
    noEmit: true,
    target: 'es2022',
    lib: ['es2023'],
    types: ['node']
  }
  const configs = {
    'tsconfig.nodenext.json': { compilerOptions: { ...common, module: 'nodenext' }, files: ['check.mts'] },
    'tsconfig.node16.json': { compilerOptions: { ...common, module: 'node16' }, files: ['check.ts'] },
    // esModuleInterop: fastify's own types (pino) need it under classic resolution
    'tsconfig.node10.json': {
      compilerOptions: { ...common, module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true },
      files: ['check.ts']
    }
  }
  renameSync(join(project, 'node_modules/ioredis'), join(project, 'node_modules/.ioredis-hidden'))
  for (const [file, config] of Object.entries(configs))
    writeFileSync(join(project, file), JSON.stringify(config))
  await Promise.all(Object.keys(configs).map((file) => sh(bin('tsc'), ['-p', file], { cwd: project })))
  step('all passed')
} finally {
  if (process.env.KEEP) console.log(`kept ${project}`)
  else rmSync(project, { recursive: true, force: true })
}

/** publint (strict: warnings fail too) and attw: every entry point under node10, node16 CJS and ESM, and bundler resolution. */
async function lint({ name, tarball }) {
  const bytes = readFileSync(tarball)
  const { messages, pkg } = await publint({
    pack: { tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) },
    strict: true
  })
  if (messages.length > 0)
    throw new Error(`publint ${name}:\n${messages.map((message) => formatMessage(message, pkg)).join('\n')}`)
  await sh(bin('attw'), [tarball, '--format', 'ascii'])
}

async function install(packed) {
  const types = require('@types/node/package.json').version
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify(
      {
        name: 'moolah-consumer',
        private: true,
        dependencies: {
          ...Object.fromEntries(packed.map(({ name, tarball }) => [name, `file:${tarball}`])),
          fastify: '^5.0.0',
          ioredis: '^6.0.0', // the optional peer, at the major npm refused before (ERESOLVE)
          'ioredis-v5': 'npm:ioredis@^5.0.0',
          'ioredis-v6': 'npm:ioredis@^6.0.0',
          '@types/node': `~${types}`
        }
      },
      null,
      2
    )
  )
  // strict peer resolution: a peer range that excludes ioredis 6 fails here as it did for users
  await sh(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--strict-peer-deps', '--loglevel=error'],
    { cwd: project }
  )
}
