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

// Layout: format byte | status (uint16) | header JSON length (uint32) | header JSON | body.
// Encrypted: format byte | IV (12) | GCM tag (16) | ciphertext of the plain layout.
const PLAIN = 1
const ENCRYPTED = 2
const IV_BYTES = 12
const TAG_BYTES = 16

/**
 * Serialises a response to bytes, encrypted with AES-256-GCM when a key is given. The
 * storage key is the additional authenticated data, so a record copied under another
 * key does not decrypt.
 */
export function encodeResponse(response: ResponseToStore, encryptionKey: Buffer | undefined, storageKey: string): Buffer {
  // One allocation per record: this runs on every stored response.
  const headers = JSON.stringify(response.headers)
  const headerLength = Buffer.byteLength(headers)
  const body = response.body
  const plain = Buffer.allocUnsafe(7 + headerLength + (typeof body === 'string' ? Buffer.byteLength(body) : body.length))
  plain.writeUInt8(PLAIN, 0)
  plain.writeUInt16BE(response.statusCode, 1)
  plain.writeUInt32BE(headerLength, 3)
  plain.write(headers, 7)
  if (typeof body === 'string') plain.write(body, 7 + headerLength)
  else body.copy(plain, 7 + headerLength)
  if (encryptionKey === undefined) return plain
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv('aes-256-gcm', encryptionKey, iv).setAAD(Buffer.from(storageKey))
  const ciphertext = Buffer.concat([cipher.update(plain), cipher.final()])
  return Buffer.concat([Buffer.of(ENCRYPTED), iv, cipher.getAuthTag(), ciphertext])
}

/** The inverse of `encodeResponse`; throws on a record it cannot read or authenticate. */
export function decodeResponse(bytes: Buffer, encryptionKey: Buffer | undefined, storageKey: string): StoredResponse {
  if (bytes[0] === ENCRYPTED) {
    if (encryptionKey === undefined) throw new Error('the stored response is encrypted but no encryptionKey is configured')
    const iv = bytes.subarray(1, 1 + IV_BYTES)
    const tag = bytes.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES)
    const decipher = createDecipheriv('aes-256-gcm', encryptionKey, iv).setAAD(Buffer.from(storageKey)).setAuthTag(tag)
    return decodeResponse(Buffer.concat([decipher.update(bytes.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]), undefined, storageKey)
  }
  if (bytes[0] !== PLAIN || bytes.length < 7) throw new Error('the stored response has an unknown format')
  const headerLength = bytes.readUInt32BE(3)
  return {
    statusCode: bytes.readUInt16BE(1),
    headers: JSON.parse(bytes.subarray(7, 7 + headerLength).toString()) as Record<string, string | string[]>,
    body: bytes.subarray(7 + headerLength)
  }
}
