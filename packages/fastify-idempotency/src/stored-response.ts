import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'

export interface StoredResponse {
  statusCode: number
  headers: Record<string, string | string[]>
  body: Buffer
}

/** What is stored; a string body is stored as its UTF-8 bytes. */
export interface ResponseToStore extends Omit<StoredResponse, 'body'> {
  body: Buffer | string
}

// Layout: 't' | status (decimal) | '\n' | header JSON | '\n' | body. JSON.stringify escapes
// every line feed inside strings, so the header JSON never holds one. Being text up to the
// body, a response with a string body is one string end to end: no buffer to allocate here,
// and none for the Redis client to assemble from parts.
// Encrypted: format byte 2 | IV (12) | GCM tag (16) | ciphertext of the text layout.
// Format byte 1 is the binary layout written before the text one: status (uint16) | header
// JSON length (uint32) | header JSON | body. It is still read, so records stored by an earlier
// version replay after an upgrade.
const TEXT = 0x74 // 't'
const ENCRYPTED = 2
const BINARY = 1
const NEWLINE = 0x0a
const IV_BYTES = 12
const TAG_BYTES = 16

/**
 * Serialises a response, encrypted with AES-256-GCM when a key is given. The storage key is
 * the additional authenticated data, so a record copied under another key does not decrypt.
 * A plain response with a string body stays a string (its UTF-8 bytes are the record).
 */
export function encodeResponse(
  response: StoredResponse,
  encryptionKey: Buffer | undefined,
  storageKey: string
): Buffer
export function encodeResponse(
  response: ResponseToStore,
  encryptionKey: Buffer | undefined,
  storageKey: string
): Buffer | string
export function encodeResponse(
  response: ResponseToStore,
  encryptionKey: Buffer | undefined,
  storageKey: string
): Buffer | string {
  const head = `t${response.statusCode}\n${JSON.stringify(response.headers)}\n`
  const body = response.body
  const plain = typeof body === 'string' ? head + body : Buffer.concat([Buffer.from(head), body])
  if (encryptionKey === undefined) return plain
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv('aes-256-gcm', encryptionKey, iv).setAAD(Buffer.from(storageKey))
  const ciphertext = Buffer.concat([
    typeof plain === 'string' ? cipher.update(plain, 'utf8') : cipher.update(plain),
    cipher.final()
  ])
  return Buffer.concat([Buffer.of(ENCRYPTED), iv, cipher.getAuthTag(), ciphertext])
}

/** The inverse of `encodeResponse`; throws on a record it cannot read or authenticate. */
export function decodeResponse(
  bytes: Buffer,
  encryptionKey: Buffer | undefined,
  storageKey: string
): StoredResponse {
  if (bytes[0] === TEXT) {
    const statusEnd = bytes.indexOf(NEWLINE, 1)
    const headersEnd = statusEnd === -1 ? -1 : bytes.indexOf(NEWLINE, statusEnd + 1)
    if (headersEnd === -1) throw new Error('the stored response is truncated')
    return {
      statusCode: Number(bytes.toString('latin1', 1, statusEnd)),
      headers: JSON.parse(bytes.toString('utf8', statusEnd + 1, headersEnd)) as Record<
        string,
        string | string[]
      >,
      body: bytes.subarray(headersEnd + 1)
    }
  }
  if (bytes[0] === ENCRYPTED) {
    if (encryptionKey === undefined)
      throw new Error('the stored response is encrypted but no encryptionKey is configured')
    const iv = bytes.subarray(1, 1 + IV_BYTES)
    const tag = bytes.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES)
    const decipher = createDecipheriv('aes-256-gcm', encryptionKey, iv)
      .setAAD(Buffer.from(storageKey))
      .setAuthTag(tag)
    return decodeResponse(
      Buffer.concat([decipher.update(bytes.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]),
      undefined,
      storageKey
    )
  }
  if (bytes[0] !== BINARY || bytes.length < 7) throw new Error('the stored response has an unknown format')
  const headerLength = bytes.readUInt32BE(3)
  return {
    statusCode: bytes.readUInt16BE(1),
    headers: JSON.parse(bytes.subarray(7, 7 + headerLength).toString()) as Record<string, string | string[]>,
    body: bytes.subarray(7 + headerLength)
  }
}
