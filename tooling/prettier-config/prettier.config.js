// @ts-check
/**
 * One format for every package, checked by `pnpm lint` (prettier --check). The style is the
 * one the code was already written in (no semicolons, single quotes, no trailing commas); the
 * width leaves room for the long, explicit names the code prefers.
 * @type {import('prettier').Config}
 */
export default {
  printWidth: 110,
  semi: false,
  singleQuote: true,
  trailingComma: 'none',
  arrowParens: 'always'
}
