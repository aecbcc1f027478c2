#!/usr/bin/env node
// Builds a published package from its tsconfig.build.json twice, side by side: ES modules into
// dist/esm and CommonJS into dist/cjs (the package's `exports` pick one per consumer). The
// CommonJS half gets a package.json of its own saying so, which Node and TypeScript both read.
// dist is emptied first: `files` ships all of it, so nothing stale may stay behind.
import { spawn } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'

const builds = {
  esm: ['--outDir', 'dist/esm'],
  // CommonJS output needs CommonJS resolution, and verbatimModuleSyntax forbids rewriting imports into require()
  cjs: [
    '--outDir',
    'dist/cjs',
    '--module',
    'commonjs',
    '--moduleResolution',
    'node10',
    '--verbatimModuleSyntax',
    'false'
  ]
}

function tsc(args) {
  return new Promise((resolve, reject) => {
    const child = spawn('tsc', ['-p', 'tsconfig.build.json', ...args], {
      stdio: 'inherit',
      shell: process.platform === 'win32'
    })
    child.on('error', reject)
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`tsc ${args.join(' ')} exited with ${code}`))
    )
  })
}

rmSync('dist', { recursive: true, force: true })
try {
  await Promise.all(Object.values(builds).map(tsc))
} catch (error) {
  console.error(error.message)
  process.exit(1)
}
mkdirSync('dist/cjs', { recursive: true })
writeFileSync('dist/cjs/package.json', '{ "type": "commonjs" }\n')
