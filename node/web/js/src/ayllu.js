/**
 * ayllu in the browser: the cryptography a member's phone does by itself.
 *
 * Why this exists: a member acts from a web page served by a node, but the
 * node must never see the member's secret key, and for a vote it must never
 * hold what links the vote to the member. So everything that needs the
 * secret is done here, in the page: canonical CBOR, signed events, linkable
 * ring signatures, votes, protected reports (sealed to the oversight group,
 * followed with a receipt), reading a member's key file (sealed or not), and
 * keeping the seed sealed under a passphrase.
 *
 * Every byte format follows the normative specs of the repository
 * (specs/events.md, specs/ring.md, specs/ballots.md, specs/keys.md,
 * specs/accountability.md section 7) and is
 * checked against their test vectors by test/vectors.mjs, which loads the
 * built bundle, not this file.
 *
 * Conventions: byte strings are Uint8Array everywhere; integers are numbers
 * (safe integers) or BigInt; an Error thrown here carries a string `.code`
 * (a spec's reason code where there is one).
 *
 * Group arithmetic, Ed25519, X25519, the hashes, Argon2id and
 * XSalsa20-Poly1305 are @noble/curves, @noble/hashes and @noble/ciphers;
 * nothing here does field arithmetic or a cipher of its own.
 */

import { hsalsa, xsalsa20poly1305 } from '@noble/ciphers/salsa.js';
import { ED25519_TORSION_SUBGROUP, ed25519, x25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js';
import { argon2id, argon2idAsync } from '@noble/hashes/argon2.js';
import { blake2b } from '@noble/hashes/blake2.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';

// ---------------------------------------------------------------------------
// Errors, bytes and hex

/** An Error with a stable `.code`, so callers branch on the code, not the text. */
function fail(code, message) {
  const error = new Error(message);
  error.code = code;
  return error;
}

function isBytes(value) {
  return value instanceof Uint8Array;
}

function bytesArg(value, name, size) {
  if (!isBytes(value)) throw fail('bad_argument', `${name} must be a Uint8Array`);
  if (size !== undefined && value.length !== size) {
    throw fail('bad_argument', `${name} must be ${size} bytes, not ${value.length}`);
  }
  return value;
}

/** A Uint8Array proper: a subclass (Node's Buffer) is copied, since its
 * slice() shares memory where Uint8Array's copies. */
function plainBytes(bytes) {
  return bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes);
}

function concat(...parts) {
  let size = 0;
  for (const part of parts) size += part.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function equal(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** -1, 0 or 1: the bytewise order of a and b (a prefix sorts first). */
function compare(a, b) {
  const size = Math.min(a.length, b.length);
  for (let i = 0; i < size; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

function contains(haystack, needle) {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

const ascii = (text) => Uint8Array.from(text, (c) => c.charCodeAt(0));
const utf8Encoder = new TextEncoder();
// fatal: refuse bad UTF-8 rather than replace it; ignoreBOM: keep a leading
// U+FEFF as the character it is (by default TextDecoder silently drops it,
// which would change a text and so an event's id).
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function randomBytes(size) {
  const out = new Uint8Array(size);
  globalThis.crypto.getRandomValues(out);
  return out;
}

/** Lowercase hex of bytes: the form every vector file and key file uses. */
export function toHex(bytes) {
  bytesArg(bytes, 'bytes');
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

/** Bytes of a hex string (either case, even length, nothing else), so that
 * hex pasted by a person fails loudly instead of decoding to other bytes. */
export function fromHex(hex) {
  if (typeof hex !== 'string' || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw fail('bad_hex', 'expected an even number of hex digits');
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

// ---------------------------------------------------------------------------
// Canonical CBOR (specs/events.md section 1; protocol/cbor.py)

/** Largest encoded item, in bytes: an event's limit (specs/events.md 1.3). */
export const MAX_SIZE = 65536;
const MAX_DEPTH = 16;
const INT_MAX = (1n << 63n) - 1n;
const INT_MIN = -(1n << 63n);

function isWellFormed(text) {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      return false;
    }
  }
  return true;
}

function isPlainObject(value) {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

class Writer {
  constructor() {
    this.buf = new Uint8Array(256);
    this.len = 0;
  }
  room(n) {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buf.subarray(0, this.len));
    this.buf = grown;
  }
  byte(b) {
    this.room(1);
    this.buf[this.len++] = b;
  }
  bytes(b) {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  /** An initial byte and its argument in the shortest form (RFC 8949 4.2.1). */
  head(major, arg) {
    const m = major << 5;
    if (typeof arg === 'number' && arg < 0x100000000) {
      if (arg < 24) return this.byte(m | arg);
      if (arg < 0x100) return this.bytes([m | 24, arg]);
      if (arg < 0x10000) return this.bytes([m | 25, arg >>> 8, arg & 0xff]);
      return this.bytes([m | 26, arg >>> 24, (arg >>> 16) & 0xff, (arg >>> 8) & 0xff, arg & 0xff]);
    }
    const big = BigInt(arg);
    if (big < 0x100000000n) return this.head(major, Number(big));
    const out = new Uint8Array(9);
    out[0] = m | 27;
    new DataView(out.buffer).setBigUint64(1, big);
    this.bytes(out);
  }
}

function encodeItem(w, value, depth) {
  if (depth > MAX_DEPTH) throw fail('cannot_encode', `nested deeper than ${MAX_DEPTH}`);
  if (value === null) return w.byte(0xf6);
  if (value === false) return w.byte(0xf4);
  if (value === true) return w.byte(0xf5);
  switch (typeof value) {
    case 'number':
      if (!Number.isInteger(value)) {
        throw fail('cannot_encode', `${value} is not an integer: floats are not allowed`);
      }
      if (!Number.isSafeInteger(value)) {
        throw fail('cannot_encode', `${value} is beyond 2^53: pass it as a BigInt`);
      }
      return value >= 0 ? w.head(0, value) : w.head(1, -1 - value);
    case 'bigint':
      if (value > INT_MAX || value < INT_MIN) {
        throw fail('cannot_encode', 'integer outside the signed 64-bit range');
      }
      return value >= 0n ? w.head(0, value) : w.head(1, -1n - value);
    case 'string': {
      if (!isWellFormed(value)) throw fail('cannot_encode', 'text with a lone surrogate');
      const bytes = utf8Encoder.encode(value);
      w.head(3, bytes.length);
      return w.bytes(bytes);
    }
    default:
  }
  if (isBytes(value)) {
    w.head(2, value.length);
    return w.bytes(value);
  }
  if (Array.isArray(value)) {
    w.head(4, value.length);
    for (const item of value) encodeItem(w, item, depth + 1);
    return undefined;
  }
  let entries;
  if (value instanceof Map) entries = [...value.entries()];
  else if (isPlainObject(value)) entries = Object.entries(value);
  else throw fail('cannot_encode', `cannot encode ${Object.prototype.toString.call(value)}`);
  const keyed = entries.map(([key, item]) => {
    if (typeof key !== 'string') throw fail('cannot_encode', 'map keys must be text strings');
    const kw = new Writer();
    encodeItem(kw, key, depth + 1);
    return [kw.buf.subarray(0, kw.len), item];
  });
  // Bytewise order of the encoded keys (RFC 8949 4.2.1): for text keys,
  // shorter first, then bytewise by UTF-8.
  keyed.sort((a, b) => compare(a[0], b[0]));
  for (let i = 1; i < keyed.length; i++) {
    if (equal(keyed[i - 1][0], keyed[i][0])) throw fail('cannot_encode', 'a map key twice');
  }
  w.head(5, keyed.length);
  for (const [key, item] of keyed) {
    w.bytes(key);
    if (item === undefined) throw fail('cannot_encode', 'undefined is not a CBOR value here');
    encodeItem(w, item, depth + 1);
  }
  return undefined;
}

/**
 * The one canonical CBOR encoding of `value` (specs/events.md section 1),
 * byte for byte what protocol/cbor.py produces: two nodes must agree on an
 * event's bytes because its id is their hash.
 *
 * Values: null, booleans, integers (safe-integer numbers or BigInt in the
 * signed 64-bit range), strings (text), Uint8Array (bytes), arrays, and
 * maps with text keys (plain objects or Map). Refused, as the spec refuses
 * them: non-integer numbers (no floats), undefined, lone surrogates, any
 * other object, nesting deeper than 16, and output longer than `maxSize`
 * (an event's 65,536 bytes by default). Throws Error code `cannot_encode`.
 * @param {*} value
 * @param {{maxSize?: number}} [options]
 * @returns {Uint8Array}
 */
export function encodeCanonical(value, { maxSize = MAX_SIZE } = {}) {
  const w = new Writer();
  encodeItem(w, value, 1);
  if (w.len > maxSize) throw fail('cannot_encode', `${w.len} bytes > ${maxSize}`);
  return w.buf.slice(0, w.len);
}

const WIDTH = { 24: 1, 25: 2, 26: 4, 27: 8 };
const MIN_FOR_WIDTH = { 24: 24, 25: 0x100, 26: 0x10000, 27: 0x100000000n };

function setField(object, key, value) {
  // defineProperty, so that a key "__proto__" is data, not the prototype.
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

class Decoder {
  constructor(data, maxDepth) {
    this.data = data;
    this.pos = 0;
    this.maxDepth = maxDepth;
  }

  fail(code, detail) {
    return fail(code, `${code}: ${detail} at offset ${this.pos}`);
  }

  item(depth) {
    if (depth > this.maxDepth) throw this.fail('too_deep', `depth ${depth} > ${this.maxDepth}`);
    const data = this.data;
    let pos = this.pos;
    if (pos >= data.length) throw this.fail('truncated', 'need an item');
    const initial = data[pos];
    const major = initial >> 5;
    const info = initial & 0x1f;
    if (major >= 6 || info > 27) return this.special(major, info);
    let arg;
    if (info < 24) {
      arg = info;
      pos += 1;
    } else {
      const width = WIDTH[info];
      const end = pos + 1 + width;
      if (end > data.length) throw this.fail('truncated', `need ${width} bytes`);
      const view = new DataView(data.buffer, data.byteOffset + pos + 1, width);
      if (width === 1) arg = view.getUint8(0);
      else if (width === 2) arg = view.getUint16(0);
      else if (width === 4) arg = view.getUint32(0);
      else arg = view.getBigUint64(0);
      if (arg < MIN_FOR_WIDTH[info]) {
        throw this.fail('non_minimal_width', `${arg} in a ${width}-byte width`);
      }
      pos = end;
    }
    this.pos = pos;

    if (major === 2 || major === 3) {
      if (BigInt(pos) + BigInt(arg) > BigInt(data.length)) {
        throw this.fail('truncated', `need ${arg} bytes`);
      }
      const end = pos + Number(arg);
      const chunk = data.subarray(pos, end);
      if (major === 2) {
        this.pos = end;
        return chunk.slice();
      }
      let text;
      try {
        text = utf8Decoder.decode(chunk);
      } catch {
        throw this.fail('invalid_utf8', 'text string');
      }
      this.pos = end;
      return text;
    }
    if (major === 0 || major === 1) {
      if (BigInt(arg) > INT_MAX) {
        throw this.fail('int_out_of_range', major === 0 ? 'integer above 2**63-1' : 'integer below -2**63');
      }
      const value = major === 0 ? BigInt(arg) : -1n - BigInt(arg);
      const small = Number(value);
      return Number.isSafeInteger(small) ? small : value;
    }
    const count = Number(arg); // each item takes a byte at least: a huge count runs out of data
    if (major === 4) {
      const out = [];
      for (let i = 0; i < count; i++) out.push(this.item(depth + 1));
      return out;
    }
    return this.map(count, depth);
  }

  special(major, info) {
    if (major === 6) throw this.fail('tag_not_allowed', 'tag');
    if (major === 7) {
      if (info === 20 || info === 21 || info === 22) {
        this.pos += 1;
        return info === 22 ? null : info === 21;
      }
      if (info === 25 || info === 26 || info === 27) throw this.fail('float_not_allowed', 'float');
      if (info === 31) throw this.fail('malformed', 'break outside an indefinite item');
      if (info >= 28) throw this.fail('malformed', `reserved additional information ${info}`);
      throw this.fail('simple_not_allowed', `simple value ${info}`);
    }
    if (info === 31) {
      if (major >= 2) throw this.fail('indefinite_length', 'indefinite length');
      throw this.fail('malformed', 'indefinite length on an integer');
    }
    throw this.fail('malformed', `reserved additional information ${info}`);
  }

  map(count, depth) {
    const result = {};
    let previous = new Uint8Array(0);
    for (let i = 0; i < count; i++) {
      const start = this.pos;
      const key = this.item(depth + 1);
      if (typeof key !== 'string') {
        this.pos = start;
        throw this.fail('bad_map_key', 'map key is not a text string');
      }
      const encoded = this.data.subarray(start, this.pos);
      const order = compare(encoded, previous);
      if (order <= 0) {
        this.pos = start;
        if (order === 0) throw this.fail('duplicate_key', `duplicate key ${JSON.stringify(key)}`);
        throw this.fail('unsorted_keys', `key ${JSON.stringify(key)} out of order`);
      }
      previous = encoded;
      setField(result, key, this.item(depth + 1));
    }
    return result;
  }
}

/**
 * Decode one canonical CBOR item filling all of `bytes`, refusing every
 * other byte form with the reason code of specs/events.md section 1.4 (the
 * first defect met, as every implementation reports it): `too_large`,
 * `truncated`, `trailing_bytes`, `too_deep`, `malformed`,
 * `indefinite_length`, `non_minimal_width`, `unsorted_keys`,
 * `duplicate_key`, `bad_map_key`, `float_not_allowed`, `tag_not_allowed`,
 * `simple_not_allowed`, `int_out_of_range`, `invalid_utf8` (the Error's
 * `.code`). Why: to read events (a ring's keys, a ballot's options) with
 * exactly the rules a node applies.
 *
 * Maps become plain objects, byte strings Uint8Array, text strings
 * strings, integers numbers (BigInt beyond 2^53), and `encodeCanonical`
 * of the result gives back `bytes`.
 * @param {Uint8Array} bytes
 * @param {{maxSize?: number, maxDepth?: number}} [options]
 */
export function decodeCbor(bytes, { maxSize = MAX_SIZE, maxDepth = MAX_DEPTH } = {}) {
  bytes = plainBytes(bytesArg(bytes, 'bytes'));
  if (bytes.length > maxSize) throw fail('too_large', `too_large: ${bytes.length} bytes > ${maxSize}`);
  const decoder = new Decoder(bytes, maxDepth);
  const value = decoder.item(1);
  if (decoder.pos !== bytes.length) {
    throw fail('trailing_bytes', `trailing_bytes: ${bytes.length - decoder.pos} bytes after the item`);
  }
  return value;
}

// ---------------------------------------------------------------------------
// Ed25519 (specs/events.md section 3, specs/keys.md)

const Point = ed25519.Point;
const Fp = Point.Fp;
const Fn = Point.Fn;
const P = Fp.ORDER;
const L = Fn.ORDER;
const IDENTITY = Point.ZERO;

/** The Ed25519 public key of a 32-byte seed (RFC 8032 5.1.5): what a
 * registrar certifies and what an event names as its author. */
export function publicKey(seed32) {
  bytesArg(seed32, 'seed', 32);
  return ed25519.getPublicKey(seed32);
}

// The y-coordinates (mod p) of the 8 points of small order. An encoding
// whose y (top bit masked) is one of them, canonical or not, is refused as
// libsodium's ge25519_has_small_order refuses it (its blocklist is exactly
// these y values and the non-canonical p and p + 1).
const SMALL_ORDER_Y = new Set(ED25519_TORSION_SUBGROUP.map((hex) => yOf(fromHex(hex)) % P));

function yOf(encoding) {
  const masked = encoding.slice();
  masked[31] &= 0x7f;
  return bytesToNumberLE(masked);
}

function hasSmallOrderEncoding(encoding) {
  return SMALL_ORDER_Y.has(yOf(encoding) % P);
}

/** A decoded point if `encoding` is the canonical encoding of a point on
 * the curve that is not of small order (libsodium's rules for an Ed25519
 * public key), else null. */
function decodeKey(encoding) {
  if (encoding.length !== 32 || yOf(encoding) >= P || hasSmallOrderEncoding(encoding)) return null;
  try {
    return Point.fromBytes(encoding, false);
  } catch {
    return null;
  }
}

const SIGNATURE_DOMAIN = ascii('ayllu/event/v1\x00');

/**
 * Whether `signature` is `key`'s Ed25519 signature of `message` by
 * libsodium's rules (specs/events.md section 3), the one check of every
 * Ed25519 signature in the protocol: S below L, the key canonical and not
 * of small order, R not of small order, and the cofactorless equation
 * [S]B = R + [k]A compared on R's bytes. (noble's own verify is ZIP-215
 * or cofactored, which would accept signatures a node refuses.)
 * @returns {boolean}
 */
export function signatureHolds(key, message, signature) {
  bytesArg(key, 'key');
  bytesArg(message, 'message');
  bytesArg(signature, 'signature');
  if (key.length !== 32 || signature.length !== 64) return false;
  const R = signature.subarray(0, 32);
  const S = bytesToNumberLE(signature.subarray(32));
  if (S >= L || hasSmallOrderEncoding(R)) return false;
  const A = decodeKey(key);
  if (A === null) return false;
  const k = Fn.create(bytesToNumberLE(sha512(concat(R, key, message))));
  const check = Point.BASE.multiplyUnsafe(S).subtract(A.multiplyUnsafe(k));
  return equal(check.toBytes(), R);
}

// ---------------------------------------------------------------------------
// Events (specs/events.md sections 2 and 3; protocol/event.py)

const MAX_TS = 2 ** 53 - 1;
const MAX_REFS = 16;
/** Kinds whose envelope group must be the network id (events.md 2.2). */
const NETWORK_SCOPED = new Set([
  'registrar.change',
  'cert.issue',
  'cert.replace',
  'cert.revoke',
  'group.charter',
]);
const ENVELOPE_FIELDS = ['v', 'ts', 'net', 'body', 'kind', 'refs', 'group', 'author'];

function isInt(value) {
  return (typeof value === 'number' && Number.isInteger(value)) || typeof value === 'bigint';
}

function checkRefs(refs) {
  if (!Array.isArray(refs)) throw fail('bad_field', "bad_field: 'refs' must be an array");
  if (refs.length > MAX_REFS) throw fail('bad_refs', `bad_refs: ${refs.length} refs > ${MAX_REFS}`);
  let previous = new Uint8Array(0);
  for (const ref of refs) {
    if (!isBytes(ref) || ref.length !== 32) {
      throw fail('bad_refs', 'bad_refs: each ref must be a 32-byte event id');
    }
    if (compare(ref, previous) <= 0) throw fail('bad_refs', 'bad_refs: refs must be strictly ascending');
    previous = ref;
  }
}

/** The envelope checks of specs/events.md 2.1 in their order, except the
 * kind registry and the body schemas (a node applies those). */
function checkUnsigned(fields) {
  const has = (name) => Object.prototype.hasOwnProperty.call(fields, name);
  if (!has('v')) throw fail('missing_field', "missing_field: 'v'");
  if (!isInt(fields.v)) throw fail('bad_field', "bad_field: 'v' must be an integer");
  if (fields.v !== 1) throw fail('unknown_version', `unknown_version: version ${fields.v}`);
  for (const name of Object.keys(fields)) {
    if (!ENVELOPE_FIELDS.includes(name)) throw fail('unknown_field', `unknown_field: ${JSON.stringify(name)}`);
  }
  for (const name of ENVELOPE_FIELDS) {
    if (!has(name)) throw fail('missing_field', `missing_field: ${JSON.stringify(name)}`);
  }
  const { ts, net, group, author, kind, body } = fields;
  if (!isInt(ts) || ts < 0 || ts > MAX_TS) {
    throw fail('bad_field', "bad_field: 'ts' must be an integer in [0, 2**53-1]");
  }
  for (const [name, value] of [['net', net], ['group', group], ['author', author]]) {
    if (!isBytes(value) || value.length !== 32) throw fail('bad_field', `bad_field: '${name}' must be 32 bytes`);
  }
  checkRefs(fields.refs);
  if (typeof kind !== 'string') throw fail('bad_field', "bad_field: 'kind' must be a text string");
  if (!isPlainObject(body)) throw fail('bad_field', "bad_field: 'body' must be a map");
  if (NETWORK_SCOPED.has(kind) && !equal(group, net)) {
    throw fail('bad_field', `bad_field: a ${kind} event's group must be the network id`);
  }
}

/** "ayllu/event/v1" 0x00 || id: what an event's author signs. */
function signedMessage(id) {
  return concat(SIGNATURE_DOMAIN, id);
}

/**
 * Sign an event with the author's seed, in the browser, so that the node
 * only ever receives the signed bytes (specs/events.md sections 2 and 3;
 * protocol/event.py `sign`). `ts` is ms since the epoch; `refs` (event ids)
 * must be strictly ascending; `author` must be the public key of `seed32`
 * (Error code `wrong_key` otherwise). The envelope is checked as a receiver
 * checks it (Error with the reason code) and its size kept within 65,536
 * bytes; the body's schema is not checked here: the node refuses a bad body.
 * @returns {{raw: Uint8Array, id: Uint8Array}} the signed event and its id
 */
export function signEvent({ kind, group, author, net, ts, body, refs = [] }, seed32) {
  bytesArg(seed32, 'seed', 32);
  bytesArg(author, 'author', 32);
  if (!equal(publicKey(seed32), author)) {
    throw fail('wrong_key', "the signing key is not the event's author");
  }
  const unsignedBytes = encodeCanonical({ v: 1, ts, net, body, kind, refs, group, author });
  checkUnsigned(decodeCbor(unsignedBytes));
  const id = sha256(unsignedBytes);
  const signature = ed25519.sign(signedMessage(id), seed32);
  const raw = concat([0x82], unsignedBytes, [0x58, 0x40], signature);
  if (raw.length > MAX_SIZE) throw fail('too_large', `the signed event is ${raw.length} bytes > ${MAX_SIZE}`);
  return { raw, id };
}

/**
 * Read a signed event the way a node does before its signature: decode
 * (section 1.4) and the envelope checks of section 2.1 (bad_envelope,
 * missing_field, unknown_field, unknown_version, bad_field, bad_refs and
 * the placement of network-scoped kinds), throwing an Error with the
 * reason code. It does not know the kind registry nor the body schemas.
 * Why: to show what the node hands the page (a ring's keys, a ballot)
 * and to check it before acting on it.
 * @returns {{v, ts, net, body, kind, refs, group, author, id: Uint8Array, signature: Uint8Array, raw: Uint8Array}}
 */
export function parseEvent(raw) {
  raw = plainBytes(bytesArg(raw, 'raw')).slice(); // the caller's buffer may change
  const value = decodeCbor(raw);
  if (!Array.isArray(value) || value.length !== 2) {
    throw fail('bad_envelope', 'bad_envelope: a signed event is an array of 2 items');
  }
  const [unsigned, signature] = value;
  if (!isPlainObject(unsigned)) throw fail('bad_envelope', 'bad_envelope: item 0 must be the unsigned event map');
  if (!isBytes(signature) || signature.length !== 64) {
    throw fail('bad_envelope', 'bad_envelope: item 1 must be a 64-byte signature');
  }
  checkUnsigned(unsigned);
  const id = sha256(raw.subarray(1, raw.length - 66));
  return { ...unsigned, id, signature, raw };
}

/** Whether a parsed event's author signed its id (libsodium's rules). */
export function verifyEvent(parsed) {
  return signatureHolds(parsed.author, signedMessage(parsed.id), parsed.signature);
}

// ---------------------------------------------------------------------------
// Ring signatures (specs/ring.md; protocol/ring.py)

const RING_DOMAIN = ascii('ayllu/ring/v1/ring');
const SCOPE_DOMAIN = ascii('ayllu/ring/v1/scope');
const CHALLENGE_DOMAIN = ascii('ayllu/ring/v1/challenge');
const NONCE_DOMAIN = ascii('ayllu/ring/v1/nonce');
const MAX_RING_SIZE = 1024;
const MAX_SCOPE_SIZE = 64;
const MONTGOMERY_A = 486662n;

const scalarBytes = (n) => numberToBytesLE(n, 32);
const reduce64 = (h) => Fn.create(bytesToNumberLE(h));
const inv0 = (a) => (Fp.is0(a) ? 0n : Fp.inv(a));

function be32(i) {
  return Uint8Array.of(i >>> 24, (i >>> 16) & 0xff, (i >>> 8) & 0xff, i & 0xff);
}

/** A point of order exactly L given canonically (libsodium's
 * crypto_core_ed25519_is_valid_point), else null. */
function validPoint(encoding) {
  const point = decodeKey(encoding);
  return point !== null && point.isTorsionFree() ? point : null;
}

function scopeArg(scope) {
  bytesArg(scope, 'scope');
  if (scope.length < 1 || scope.length > MAX_SCOPE_SIZE) {
    throw fail('bad_argument', `a scope is 1 to ${MAX_SCOPE_SIZE} bytes`);
  }
  return scope;
}

/**
 * The ring's name (specs/ring.md section 3): SHA-256 over its count and
 * its sorted keys, which results and ballots name rings by. Does not
 * check the keys.
 * @param {Uint8Array[]} keys
 */
export function ringHash(keys) {
  if (!Array.isArray(keys)) throw fail('bad_argument', 'keys must be an array of Uint8Array');
  for (const key of keys) bytesArg(key, 'a ring key');
  return sha256(concat(RING_DOMAIN, be32(keys.length), ...keys));
}

/** libsodium's crypto_core_ed25519_from_uniform, as specs/ring.md section 4
 * writes it out (Elligator 2, then the birational map, then 8·P). */
function fromUniform(u) {
  const sign = u[31] >> 7;
  const masked = u.slice();
  masked[31] &= 0x7f;
  const r = Fp.create(bytesToNumberLE(masked));
  let x = Fp.neg(Fp.mul(MONTGOMERY_A, inv0(Fp.add(Fp.ONE, Fp.mul(2n, Fp.sqr(r))))));
  const gx = Fp.add(Fp.add(Fp.mul(Fp.sqr(x), x), Fp.mul(MONTGOMERY_A, Fp.sqr(x))), x);
  if (Fp.pow(gx, (P - 1n) / 2n) === P - 1n) x = Fp.sub(Fp.neg(x), MONTGOMERY_A);
  const y = Fp.mul(Fp.sub(x, Fp.ONE), inv0(Fp.add(x, Fp.ONE)));
  const encoding = scalarBytes(y);
  // X = 0 (y = ±1) is kept whatever the sign bit says.
  if (sign && y !== 1n && y !== P - 1n) encoding[31] |= 0x80;
  return Point.fromBytes(encoding, false).clearCofactor();
}

function scopePointOf(scope) {
  const point = fromUniform(sha256(concat(SCOPE_DOMAIN, scope)));
  if (point.is0()) throw fail('bad_scope', 'this scope hashes to the identity; choose another');
  return point;
}

/**
 * H_p, the scope hashed to the curve (specs/ring.md section 4): the base
 * of every key image in the scope, so that one member's votes on one
 * ballot link and votes on two ballots do not.
 * @param {Uint8Array} scope 1 to 64 bytes (a ballot id)
 */
export function scopePoint(scope) {
  return scopePointOf(scopeArg(scope)).toBytes();
}

/**
 * The member's ring scalar x (specs/ring.md section 2): SHA-512(seed)[0..32]
 * clamped as RFC 8032 does, mod L, so that x·B is its Ed25519 public key.
 * Checks x·B against the public key, as a signer must.
 * @returns {Uint8Array} 32 bytes, little-endian
 */
export function ringScalar(seed32) {
  return scalarBytes(signerOf(seed32).x);
}

function signerOf(seed32) {
  bytesArg(seed32, 'seed', 32);
  const clamped = sha512(seed32).slice(0, 32);
  clamped[0] &= 0xf8;
  clamped[31] &= 0x7f;
  clamped[31] |= 0x40;
  const x = Fn.create(bytesToNumberLE(clamped));
  const publicBytes = publicKey(seed32);
  if (x === 0n || !equal(Point.BASE.multiply(x).toBytes(), publicBytes)) {
    throw fail('bad_key', 'the ring scalar does not match the public key');
  }
  return { x, publicBytes };
}

/**
 * The key image of a member in a scope, I = x·H_p (specs/ring.md section
 * 5): the same for every signature the member makes in that scope, so a
 * voter can recognise their own vote (and its replacement) among a
 * ballot's votes.
 */
export function keyImage(seed32, scope) {
  const { x } = signerOf(seed32);
  return scopePointOf(scopeArg(scope)).multiply(x).toBytes();
}

/** The ring checks of specs/ring.md section 3, then what every signature
 * in this ring and scope shares. Throws Error code `bad_ring`. */
function prepareRing(keys, scope) {
  scopeArg(scope);
  if (!Array.isArray(keys) || keys.length < 1 || keys.length > MAX_RING_SIZE) {
    throw fail('bad_ring', `bad_ring: a ring has 1 to ${MAX_RING_SIZE} keys`);
  }
  let previous = new Uint8Array(0);
  keys.forEach((key, i) => {
    bytesArg(key, 'a ring key');
    if (key.length !== 32) throw fail('bad_ring', `bad_ring: key ${i} is not 32 bytes`);
    const order = compare(key, previous);
    if (order === 0) throw fail('bad_ring', `bad_ring: key ${i} repeats key ${i - 1}`);
    if (order < 0) throw fail('bad_ring', `bad_ring: key ${i} sorts before key ${i - 1}`);
    previous = key;
  });
  const points = keys.map((key, i) => {
    const point = validPoint(key);
    if (point === null) throw fail('bad_ring', `bad_ring: key ${i} is not a valid point`);
    return point;
  });
  const hash = ringHash(keys);
  const hp = scopePointOf(scope);
  if (keys.length >= 32) hp.precompute(8, false); // used n times: a table pays off
  const prefix = sha512.create().update(concat(CHALLENGE_DOMAIN, hash, [scope.length], scope));
  return { keys, points, hash, hp, scope, prefix };
}

/** Hc(L, R): the hash state `prefix` has taken everything up to SHA-256(m). */
function challenge(prefix, left, right) {
  return reduce64(prefix.clone().update(left.toBytes()).update(right.toBytes()).digest());
}

/** L = r·B + c·A and R = r·H_p + c·I, with 0·P = O (public scalars). */
function commit(r, c, A, hp, I) {
  const left = Point.BASE.multiplyUnsafe(r).add(A.multiplyUnsafe(c));
  const right = hp.multiplyUnsafe(r).add(I.multiplyUnsafe(c));
  return [left, right];
}

/** k·P in constant time for a secret k, with 0·P = O. */
const secretMul = (point, k) => (k === 0n ? IDENTITY : point.multiply(k));

/**
 * A linkable ring signature (bLSAG, specs/ring.md section 7) by the member
 * whose seed is `seed32` on `message`, within `scope`: proves "one of
 * these keys signed" without saying which. `keys` is the ring (1 to 1024
 * valid points, strictly ascending; Error code `bad_ring` otherwise) and
 * must hold the member's key (Error code `not_member`). The nonces derive
 * from `nonceSeed32` and the secret as the spec requires, so a given
 * nonce seed gives the same signature byte for byte; without one, 32
 * fresh random bytes are drawn.
 * @returns {Uint8Array} I || c_0 || r_0 .. r_{n-1}, 64 + 32n bytes
 */
export function ringSign(keys, seed32, scope, message, nonceSeed32) {
  bytesArg(message, 'message');
  const nonceSeed = nonceSeed32 === undefined ? randomBytes(32) : bytesArg(nonceSeed32, 'nonce seed', 32);
  const ring = prepareRing(keys, scope);
  const { x, publicBytes } = signerOf(seed32);
  const n = ring.keys.length;
  const pi = ring.keys.findIndex((key) => equal(key, publicBytes));
  if (pi < 0) throw fail('not_member', "the signer's key is not in the ring");
  const digest = sha256(message);
  const nonceState = sha512
    .create()
    .update(concat(NONCE_DOMAIN, nonceSeed, scalarBytes(x), ring.hash, ring.scope, digest));
  const nonce = (i) => reduce64(nonceState.clone().update(be32(i)).digest());
  const image = secretMul(ring.hp, x);
  const prefix = ring.prefix.clone().update(image.toBytes()).update(digest);
  if (n >= 32) image.precompute(8, false);
  const alpha = nonce(n);
  let c = challenge(prefix, secretMul(Point.BASE, alpha), secretMul(ring.hp, alpha)); // c_{pi+1}
  let first = c;
  const responses = new Array(n);
  for (let step = 1; step < n; step++) {
    const i = (pi + step) % n;
    if (i === 0) first = c;
    responses[i] = nonce(i);
    c = challenge(prefix, ...commit(responses[i], c, ring.points[i], ring.hp, image));
  }
  if (pi === 0) first = c;
  responses[pi] = Fn.sub(alpha, Fn.mul(c, x));
  return concat(image.toBytes(), scalarBytes(first), ...responses.map(scalarBytes));
}

/**
 * Check a ring signature as specs/ring.md section 8 orders it. Returns
 * true, or the reason code of the first failed check: `bad_ring` (the
 * ring itself, section 3), `bad_ring_signature`, `bad_key_image`,
 * `non_canonical_scalar`. Why: a page can check a vote (its own, or one
 * shown to it) without trusting the node. The key image is the
 * signature's first 32 bytes.
 * @returns {true | string}
 */
export function ringVerify(keys, scope, message, sig) {
  bytesArg(message, 'message');
  bytesArg(sig, 'signature');
  let ring;
  try {
    ring = prepareRing(keys, scope);
  } catch (error) {
    if (error.code === 'bad_ring') return 'bad_ring';
    throw error;
  }
  const n = ring.keys.length;
  if (sig.length !== 64 + 32 * n) return 'bad_ring_signature';
  const image = validPoint(sig.subarray(0, 32));
  if (image === null) return 'bad_key_image';
  const scalars = [];
  for (let at = 32; at < sig.length; at += 32) {
    const scalar = bytesToNumberLE(sig.subarray(at, at + 32));
    if (scalar >= L) return 'non_canonical_scalar';
    scalars.push(scalar);
  }
  if (n >= 32) image.precompute(8, false);
  const prefix = ring.prefix.clone().update(sig.subarray(0, 32)).update(sha256(message));
  let c = scalars[0];
  for (let i = 0; i < n; i++) {
    c = challenge(prefix, ...commit(scalars[i + 1], c, ring.points[i], ring.hp, image));
  }
  return c === scalars[0] ? true : 'bad_ring_signature';
}

// ---------------------------------------------------------------------------
// Votes (specs/ballots.md section 14; protocol/ballots.py, node/governance.py)

const VOTE_DOMAIN = ascii('ayllu/vote/v1\x00');

/**
 * What a vote's ring signature signs (specs/ballots.md section 14):
 * "ayllu/vote/v1" 0x00 || SHA-256(canonical CBOR of {ring, author, ballot,
 * choice}). It binds the one-time key, so nobody can wrap a captured ring
 * signature in an envelope of their own.
 */
export function voteMessage(ballot, ring, choice, oneTimeKey) {
  return concat(VOTE_DOMAIN, sha256(encodeCanonical({ ring, author: oneTimeKey, ballot, choice })));
}

function normalChoice(choice) {
  if (!Array.isArray(choice)) throw fail('bad_argument', 'choice must be an array of option indexes');
  const set = new Set();
  for (const option of choice) {
    if (!Number.isInteger(option) || option < 0 || option > 15) {
      throw fail('bad_argument', 'an option index is an integer from 0 to 15');
    }
    set.add(option);
  }
  return [...set].sort((a, b) => a - b);
}

/**
 * A secret vote, made entirely in the page (specs/ballots.md section 14,
 * as node/governance.py `cast_vote` makes it): the ring signature by the
 * member's key over the ballot's ring, with the ballot id as the scope,
 * in a `vote` event whose envelope is signed by a one-time key drawn
 * here, with refs = [ringEventId]. Neither the member's key nor anything
 * else naming them is in the event; the node that relays it learns only
 * the key image. `choice` (option indexes, empty to abstain) is sorted
 * and deduplicated. `oneTimeSeed` and `nonceSeed` (32 bytes each) are
 * drawn with crypto.getRandomValues unless given (tests give them).
 * @param {{ringKeys: Uint8Array[], ringEventId: Uint8Array, ballotId: Uint8Array,
 *   group: Uint8Array, net: Uint8Array, ts: number, choice: number[],
 *   memberSeed: Uint8Array, oneTimeSeed?: Uint8Array, nonceSeed?: Uint8Array}} vote
 * @returns {{raw: Uint8Array, id: Uint8Array, keyImage: Uint8Array}}
 */
export function voteEvent({
  ringKeys,
  ringEventId,
  ballotId,
  group,
  net,
  ts,
  choice,
  memberSeed,
  oneTimeSeed,
  nonceSeed,
}) {
  bytesArg(ringEventId, 'ringEventId', 32);
  bytesArg(ballotId, 'ballotId', 32);
  bytesArg(memberSeed, 'memberSeed', 32);
  const sorted = normalChoice(choice);
  const drawn = oneTimeSeed === undefined;
  const oneTime = drawn ? randomBytes(32) : bytesArg(oneTimeSeed, 'oneTimeSeed', 32);
  const nonce = nonceSeed === undefined ? randomBytes(32) : bytesArg(nonceSeed, 'nonceSeed', 32);
  try {
    const member = publicKey(memberSeed);
    const author = publicKey(oneTime);
    if (equal(author, member)) throw fail('bad_argument', 'the one-time key must not be the member key');
    const message = voteMessage(ballotId, ringEventId, sorted, author);
    const sig = ringSign(ringKeys, memberSeed, ballotId, message, nonce);
    const body = { sig, ring: ringEventId, ballot: ballotId, choice: sorted };
    const { raw, id } = signEvent(
      { kind: 'vote', group, author, net, ts, body, refs: [ringEventId] },
      oneTime,
    );
    if (contains(raw, member)) throw fail('names_voter', 'a vote must not name its voter');
    return { raw, id, keyImage: sig.slice(0, 32) };
  } finally {
    if (drawn) oneTime.fill(0); // used once, never again
    if (nonceSeed === undefined) nonce.fill(0);
  }
}

// ---------------------------------------------------------------------------
// Sealed boxes (specs/accountability.md section 7.1: libsodium's
// crypto_box_seal, built from @noble's X25519, HSalsa20, XSalsa20-Poly1305
// and BLAKE2b)

const SEAL_OVERHEAD = 48;
const u32Of = (bytes) => new Uint32Array(bytes.slice().buffer);
const SIGMA = u32Of(ascii('expand 32-byte k'));

/** crypto_box_beforenm: HSalsa20 of the X25519 shared secret, with a zero
 * input. Throws `bad_box_key` when the other key is of small order (the
 * shared secret would be zero; libsodium refuses it too). */
function boxSharedKey(secret, otherPublic) {
  let shared;
  try {
    shared = x25519.getSharedSecret(secret, otherPublic);
  } catch {
    throw fail('bad_box_key', 'no box can be made with this key (a point of small order)');
  }
  const out = new Uint32Array(8);
  hsalsa(SIGMA, u32Of(shared), new Uint32Array(4), out);
  shared.fill(0);
  return new Uint8Array(out.buffer);
}

/** The nonce of a sealed box: BLAKE2b-192(ephemeral public || recipient). */
const sealNonce = (ephemeral, recipient) => blake2b(concat(ephemeral, recipient), { dkLen: 24 });

/**
 * libsodium's crypto_box_seal: `plaintext` sealed to the X25519 public key
 * `recipient`, as the ephemeral public key (32 bytes) then the
 * XSalsa20-Poly1305 box (tag then ciphertext), 48 bytes more than the
 * plaintext. Anyone can seal, only the recipient opens, and the box says
 * nothing of its sender. Why exported: the one primitive under every
 * report, follow-up, reply and share; tests rebuild the vectors' boxes with
 * it. `ephemeralSecret` (32 bytes, clamped as X25519 does) is drawn with
 * crypto.getRandomValues unless given (tests give it).
 * @param {Uint8Array} plaintext
 * @param {Uint8Array} recipient 32-byte X25519 public key
 * @param {Uint8Array} [ephemeralSecret]
 * @returns {Uint8Array}
 */
export function sealBox(plaintext, recipient, ephemeralSecret) {
  bytesArg(plaintext, 'plaintext');
  bytesArg(recipient, 'recipient', 32);
  const drawn = ephemeralSecret === undefined;
  const secret = drawn ? randomBytes(32) : bytesArg(ephemeralSecret, 'ephemeralSecret', 32);
  try {
    const ephemeral = x25519.getPublicKey(secret);
    const key = boxSharedKey(secret, recipient);
    const box = xsalsa20poly1305(key, sealNonce(ephemeral, recipient)).encrypt(plaintext);
    key.fill(0);
    return concat(ephemeral, box);
  } finally {
    if (drawn) secret.fill(0);
  }
}

/**
 * libsodium's crypto_box_seal_open: the plaintext of a sealed box, with
 * the recipient's 32-byte X25519 secret key. Throws `cannot_open` when it
 * does not open (another key's box, or damaged bytes: the two cannot be
 * told apart). Why exported: a reporter opens replies with it (through
 * `readReplies`), a member of an oversight group opens shares and reports.
 * @param {Uint8Array} sealed
 * @param {Uint8Array} secret 32-byte X25519 secret key
 * @returns {Uint8Array}
 */
export function openBox(sealed, secret) {
  bytesArg(sealed, 'sealed');
  bytesArg(secret, 'secret', 32);
  const cannot = () => fail('cannot_open', 'this key cannot open the box (another key\'s, or damaged)');
  if (sealed.length < SEAL_OVERHEAD) throw cannot();
  const ephemeral = sealed.slice(0, 32);
  let key;
  try {
    key = boxSharedKey(secret, ephemeral);
  } catch {
    throw cannot();
  }
  try {
    const nonce = sealNonce(ephemeral, x25519.getPublicKey(secret));
    return xsalsa20poly1305(key, nonce).decrypt(sealed.slice(32));
  } catch {
    throw cannot();
  } finally {
    key.fill(0);
  }
}

/**
 * The X25519 public key a box for the holder of Ed25519 key `edPublic`
 * is sealed to (libsodium's crypto_sign_ed25519_pk_to_curve25519): a reply
 * goes to the report's receipt key, a share to a member's key. Throws
 * `bad_key` unless `edPublic` is a valid point (specs/ring.md section 1),
 * as libsodium refuses it.
 * @param {Uint8Array} edPublic
 * @returns {Uint8Array}
 */
export function boxKeyFor(edPublic) {
  bytesArg(edPublic, 'key', 32);
  if (validPoint(edPublic) === null) throw fail('bad_key', 'not a valid Ed25519 public key');
  return ed25519.utils.toMontgomery(edPublic);
}

/**
 * The X25519 secret key that opens boxes sealed to `boxKeyFor(publicKey(
 * seed32))` (libsodium's crypto_sign_ed25519_sk_to_curve25519: SHA-512 of
 * the seed, first half, clamped). Why: the receipt's seed opens the
 * replies, a member's seed opens its shares.
 * @param {Uint8Array} seed32
 * @returns {Uint8Array}
 */
export function boxSecretFor(seed32) {
  bytesArg(seed32, 'seed', 32);
  return ed25519.utils.toMontgomerySecret(seed32);
}

// ---------------------------------------------------------------------------
// Protected reports (specs/accountability.md section 7; protocol/reports.py,
// protocol/report_schema.py, node/protected_reports.py)

/** The sizes a padded message may have, in bytes (report_schema.py
 * BUCKETS): a relay sees which one a report fell in, nothing finer. Why
 * exported: a page may offer a larger bucket than the smallest that fits
 * (`bucket` of `fileReport`), to hide even the size class. */
export const REPORT_BUCKETS = Object.freeze([512, 2048, 8192, 24576]);
const PAD_MARKER = 0x80;
const MAX_MESSAGE_TEXT = 20000;
const MAX_DOCUMENTS = 16;
const LANG_TAG = /^[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$/;
const REPORT_DOMAIN = ascii('ayllu/report/v1\x00');
const RECEIPT_PREFIX = 'ayllu-receipt-1';
const STATUSES = new Set(['received', 'investigating', 'referred', 'resolved', 'dismissed']);
const P25519 = (1n << 255n) - 19n;
// The u-coordinates of the X25519 points of small order below p
// (report_schema.py _SMALL_ORDER): nothing can be sealed to them.
const SMALL_ORDER_U = new Set([
  0n,
  1n,
  325606250916557431795983626356110631294008115727848805560023387167927233504n,
  39382357235489614581723060781553021112529911719440698176882885853963445705823n,
  P25519 - 1n,
]);

/** Why `value` is no box key (report_schema.py box_public_key), or null. */
function boxKeyProblem(value) {
  if (!isBytes(value) || value.length !== 32) return 'must be 32 bytes';
  const u = bytesToNumberLE(value);
  if (u >= P25519) return 'must be a canonical X25519 public key';
  if (SMALL_ORDER_U.has(u)) return 'must not be a point of small order';
  return null;
}

function boxKeyArg(value) {
  const problem = boxKeyProblem(value);
  if (problem) throw fail('bad_box_key', `box key ${problem}`);
  return value;
}

/** Why `message` is not one (MESSAGE_SCHEMA: fields checked in canonical
 * key order, then the missing ones), or null. */
function messageProblem(message) {
  if (!isPlainObject(message)) return 'a message is a map';
  const names = Object.keys(message).sort((a, b) => compare(encodeCanonical(a), encodeCanonical(b)));
  for (const name of names) {
    const value = message[name];
    if (name === 'text') {
      if (typeof value !== 'string') return "'text' must be a text string";
      const size = [...value].length;
      if (size < 1 || size > MAX_MESSAGE_TEXT) return `'text' must have 1 to ${MAX_MESSAGE_TEXT} characters`;
    } else if (name === 'lang') {
      if (typeof value !== 'string' || value.length > 35 || !LANG_TAG.test(value)) {
        return "'lang' must be a language tag such as 'es', 'qu' or 'ay-PE'";
      }
    } else if (name === 'about') {
      if (!isBytes(value) || value.length !== 32) return "'about' must be 32 bytes";
    } else if (name === 'documents') {
      if (!Array.isArray(value) || value.length < 1 || value.length > MAX_DOCUMENTS) {
        return `'documents' must have 1 to ${MAX_DOCUMENTS} items`;
      }
      const seen = new Set();
      for (const hash of value) {
        if (!isBytes(hash) || hash.length !== 32) return "'documents' items must be 32 bytes";
        seen.add(toHex(hash));
      }
      if (seen.size !== value.length) return "'documents' must be distinct";
    } else {
      return `unknown field ${JSON.stringify(name)}`;
    }
  }
  for (const name of ['lang', 'text']) if (!(name in message)) return `missing field '${name}'`;
  return null;
}

/** A message from its parts, as node/protected_reports.py `message_of`
 * makes it: `about` and `documents` only when given (and non-empty). */
function messageOf({ text, lang, about, documents }) {
  const message = { text, lang };
  if (about !== undefined && about !== null) message.about = about;
  if (documents !== undefined && documents !== null && !(Array.isArray(documents) && documents.length === 0)) {
    message.documents = documents;
  }
  return message;
}

function pad(data, bucket) {
  const size = bucket ?? REPORT_BUCKETS.find((b) => data.length < b);
  if (size === undefined) {
    throw fail('too_long', `${data.length} bytes: a message holds at most ${REPORT_BUCKETS.at(-1) - 1} encoded`);
  }
  if (!REPORT_BUCKETS.includes(size)) throw fail('bad_argument', `a bucket is one of ${REPORT_BUCKETS.join(', ')}`);
  if (data.length >= size) throw fail('too_long', `${data.length} bytes do not fit a bucket of ${size}`);
  const out = new Uint8Array(size);
  out.set(data);
  out[data.length] = PAD_MARKER;
  return out;
}

function unpad(padded) {
  if (!REPORT_BUCKETS.includes(padded.length)) throw fail('bad_body', `${padded.length} bytes is not a padded size`);
  let end = padded.length;
  while (end > 0 && padded[end - 1] === 0) end--;
  if (end === 0 || padded[end - 1] !== PAD_MARKER) throw fail('bad_body', 'bad padding');
  return padded.subarray(0, end - 1);
}

/**
 * A message (specs/accountability.md 7.1: {text, lang, about?,
 * documents?}) encoded, padded to its bucket and sealed to the X25519 box
 * key `boxKey`, as protocol/reports.py `seal_message`. Why exported: the
 * sealed field of a report, a follow-up or a reply. Throws `bad_box_key`,
 * `bad_message` (not a message of the table), `too_long` (more than
 * 24,575 bytes encoded). `bucket` picks a larger bucket than the smallest
 * that fits (to hide even the size class); `ephemeralSecret` is for tests.
 * @param {{text: string, lang: string, about?: Uint8Array, documents?: Uint8Array[]}} message
 * @param {Uint8Array} boxKey
 * @param {{bucket?: number, ephemeralSecret?: Uint8Array}} [options]
 * @returns {Uint8Array}
 */
export function sealMessage(message, boxKey, { bucket, ephemeralSecret } = {}) {
  boxKeyArg(boxKey);
  const problem = messageProblem(message);
  if (problem) throw fail('bad_message', `not a valid message: ${problem}`);
  return sealBox(pad(encodeCanonical(message), bucket), boxKey, ephemeralSecret);
}

/**
 * The message in a sealed box, with the X25519 secret key it was sealed
 * to (protocol/reports.py `open_sealed`). Throws `cannot_open` (not this
 * key's box, or damaged) or `bad_body` (it opens to something that is not
 * a padded message: the writer's fault). Why: reading a reply, a report or
 * a follow-up.
 * @param {Uint8Array} sealed
 * @param {Uint8Array} secret 32-byte X25519 secret key
 * @returns {{text: string, lang: string, about?: Uint8Array, documents?: Uint8Array[]}}
 */
export function openMessage(sealed, secret) {
  const padded = openBox(sealed, secret);
  let message;
  try {
    message = decodeCbor(unpad(padded));
  } catch (error) {
    throw fail('bad_body', `not a message: ${error.message}`);
  }
  const problem = messageProblem(message);
  if (problem) throw fail('bad_body', problem);
  return message;
}

/**
 * What a report's ring signature signs (specs/accountability.md 7.4):
 * "ayllu/report/v1" 0x00 || SHA-256(canonical CBOR of {ring, author,
 * group, box_key, receipt, sealed}), `author` being the one-time key of the
 * envelope. Why exported: to check a report's ring signature
 * (`ringVerify(keys, receipt, reportMessage(...), sig)`).
 */
export function reportMessage(ring, oneTimeKey, group, boxKey, receipt, sealed) {
  const content = { ring, author: oneTimeKey, group, box_key: boxKey, receipt, sealed };
  return concat(REPORT_DOMAIN, sha256(encodeCanonical(content)));
}

/**
 * The text form of a receipt (specs/accountability.md 7.7):
 * `ayllu-receipt-1:<report id, 64 hex>:<receipt seed, 64 hex>`, lower
 * case, as protocol/reports.py `receipt_to_text` and `ayllu report file`
 * print it. Why: the one line a reporter keeps, in the web app or the CLI
 * alike.
 * @param {Uint8Array} reportId
 * @param {Uint8Array} seed32
 * @returns {string}
 */
export function receiptText(reportId, seed32) {
  bytesArg(reportId, 'reportId', 32);
  bytesArg(seed32, 'seed', 32);
  return `${RECEIPT_PREFIX}:${toHex(reportId)}:${toHex(seed32)}`;
}

/**
 * A receipt read back (from `receiptText`, `fileReport` or the CLI's
 * `ayllu report file`): white space around it and upper-case hex (a copy
 * by hand) are accepted, as protocol/reports.py `receipt_from_text`
 * accepts them. Throws `bad_receipt` otherwise. Also takes an already
 * parsed receipt. `key` is the receipt key (the Ed25519 public key of the
 * seed): the report's `receipt` field, and the author of its follow-ups.
 * @param {string | {reportId: Uint8Array, seed: Uint8Array}} text
 * @returns {{reportId: Uint8Array, seed: Uint8Array, key: Uint8Array}}
 */
export function parseReceipt(text) {
  if (text !== null && typeof text === 'object' && isBytes(text.reportId) && isBytes(text.seed)) {
    return { reportId: bytesArg(text.reportId, 'reportId', 32), seed: bytesArg(text.seed, 'seed', 32), key: publicKey(text.seed) };
  }
  const found = typeof text === 'string' ? /^ayllu-receipt-1:([0-9a-f]{64}):([0-9a-f]{64})$/.exec(text.trim().toLowerCase()) : null;
  if (!found) throw fail('bad_receipt', `not a receipt: expected '${RECEIPT_PREFIX}:<64 hex>:<64 hex>'`);
  const seed = fromHex(found[2]);
  return { reportId: fromHex(found[1]), seed, key: publicKey(seed) };
}

/**
 * A protected report, made entirely in the page (specs/accountability.md
 * 7.4 and 7.8, as node/protected_reports.py `file_report` and
 * protocol/reports.py `seal_report` make it): the message {text, lang,
 * about?, documents?} sealed to the oversight group's box key `boxKey`; a
 * ring signature by the member's key over the report ring's keys, with the
 * fresh receipt key as scope; the envelope signed by a one-time key, in
 * `group` (the oversight group O), with refs = [reportRingEventId]. Neither
 * the member's key nor anything else naming them is in the event.
 *
 * Returns the signed event and the receipt in its text form (see
 * `receiptText`): the only way to read the replies and to follow the
 * report up, which whoever holds it can do; show it once, never send it.
 * `oneTimeSeed`, `receiptSeed`, `nonceSeed` and `ephemeralSecret` (32
 * bytes each) are drawn with crypto.getRandomValues unless given (tests
 * give them). Throws `not_member` (the member's key is not in the ring),
 * `bad_ring`, `bad_box_key`, `bad_message`, `too_long`, `bad_argument`
 * (one-time or receipt key equal to each other or to a ring key).
 * @param {{reportRingKeys: Uint8Array[], reportRingEventId: Uint8Array, boxKey: Uint8Array,
 *   group: Uint8Array, net: Uint8Array, ts: number, text: string, lang: string,
 *   about?: Uint8Array, documents?: Uint8Array[], bucket?: number, memberSeed: Uint8Array,
 *   oneTimeSeed?: Uint8Array, receiptSeed?: Uint8Array, nonceSeed?: Uint8Array,
 *   ephemeralSecret?: Uint8Array}} report
 * @returns {{raw: Uint8Array, id: Uint8Array, receipt: string}}
 */
export function fileReport({
  reportRingKeys,
  reportRingEventId,
  boxKey,
  group,
  net,
  ts,
  text,
  lang,
  about,
  documents,
  bucket,
  memberSeed,
  oneTimeSeed,
  receiptSeed,
  nonceSeed,
  ephemeralSecret,
}) {
  bytesArg(reportRingEventId, 'reportRingEventId', 32);
  bytesArg(group, 'group', 32);
  bytesArg(memberSeed, 'memberSeed', 32);
  const drawn = [];
  const seedOf = (given, name) => {
    if (given !== undefined) return bytesArg(given, name, 32);
    const fresh = randomBytes(32);
    drawn.push(fresh);
    return fresh;
  };
  const oneTime = seedOf(oneTimeSeed, 'oneTimeSeed');
  const nonce = seedOf(nonceSeed, 'nonceSeed');
  const receiptSecret = receiptSeed === undefined ? randomBytes(32) : bytesArg(receiptSeed, 'receiptSeed', 32);
  try {
    const member = publicKey(memberSeed);
    const author = publicKey(oneTime);
    const receipt = publicKey(receiptSecret);
    const ringKeys = Array.isArray(reportRingKeys) ? reportRingKeys : [];
    if (equal(author, receipt) || ringKeys.some((key) => isBytes(key) && (equal(key, author) || equal(key, receipt)))) {
      throw fail('bad_argument', 'the one-time and receipt keys must be fresh, and not a member\'s key');
    }
    const sealed = sealMessage(messageOf({ text, lang, about, documents }), boxKey, { bucket, ephemeralSecret });
    const message = reportMessage(reportRingEventId, author, group, boxKey, receipt, sealed);
    const sig = ringSign(reportRingKeys, memberSeed, receipt, message, nonce);
    const body = { sig, ring: reportRingEventId, sealed, box_key: boxKey, receipt };
    const { raw, id } = signEvent(
      { kind: 'report', group, author, net, ts, body, refs: [reportRingEventId] },
      oneTime,
    );
    if (contains(raw, member)) throw fail('names_reporter', 'a report must not name its reporter');
    return { raw, id, receipt: receiptText(id, receiptSecret) };
  } finally {
    for (const secret of drawn) secret.fill(0); // used once, never again
  }
}

/**
 * A follow-up to one's own report, made with its receipt alone
 * (specs/accountability.md 7.6, as node/protected_reports.py
 * `add_followup` and protocol/reports.py `follow_up` make it): the message
 * sealed to `boxKey` (the oversight group's current box key), in a
 * `report.followup` event signed by the receipt key, in `group` (the
 * report's group), with refs = [the report]. Why: the reporter answers a
 * question or adds a document without a certificate, which would name
 * them. `receipt` is its text (or `parseReceipt`'s result);
 * `ephemeralSecret` is for tests. Throws as `fileReport` and `bad_receipt`.
 * @param {{receipt: string | object, boxKey: Uint8Array, group: Uint8Array, net: Uint8Array,
 *   ts: number, text: string, lang: string, about?: Uint8Array, documents?: Uint8Array[],
 *   bucket?: number, ephemeralSecret?: Uint8Array}} followup
 * @returns {{raw: Uint8Array, id: Uint8Array}}
 */
export function followUp({ receipt, boxKey, group, net, ts, text, lang, about, documents, bucket, ephemeralSecret }) {
  const { reportId, seed, key } = parseReceipt(receipt);
  const sealed = sealMessage(messageOf({ text, lang, about, documents }), boxKey, { bucket, ephemeralSecret });
  const body = { report: reportId, sealed, box_key: boxKey };
  return signEvent({ kind: 'report.followup', group, author: key, net, ts, body, refs: [reportId] }, seed);
}

/** A reply in one form: [id, author, status, ts, sealed | null], or null
 * when it is an event of another kind or report. */
function replyFields(reply, reportId) {
  if (isBytes(reply)) reply = parseEvent(reply);
  if (reply && typeof reply.kind === 'string') {
    const body = reply.body;
    if (reply.kind !== 'report.reply' || !isBytes(body.report) || !equal(body.report, reportId)) return null;
    return [reply.id, reply.author, body.status, reply.ts, body.sealed ?? null];
  }
  if (!reply || typeof reply.id !== 'string') throw fail('bad_argument', 'a reply is an event or the node\'s JSON of one');
  const sealed = reply.sealed === null || reply.sealed === undefined ? null : fromHex(reply.sealed);
  return [fromHex(reply.id), fromHex(reply.author), reply.status, reply.ts, sealed];
}

/**
 * The replies to one's report, opened with its receipt (specs/
 * accountability.md 7.7, as protocol/reports.py `read_replies`): each
 * {id, author (hex), status, ts, message (the opened message, or null),
 * error (null, or why its box did not open: a bad reply does not hide the
 * others)}, in key order (ts, id). Why: only the holder of the receipt
 * can read what the oversight group wrote to the reporter.
 *
 * `replies` is the report as the node shows it (/v1/reports/{id}: its
 * `receipt` is then checked against the receipt's key, Error code
 * `wrong_receipt`, and its `replies` are read), or a list of the replies
 * the state applied: `report.reply` events (parsed, or raw bytes; those of
 * other reports are skipped) or the node's JSON of them ({id, author,
 * status, ts, sealed: hex or null}). The events' signatures are the
 * node's business, as their standing is.
 * @param {string | object} receipt
 * @param {object[] | {receipt: string, replies: object[]}} replies
 * @returns {{id: string, author: string, status: string, ts: number, message: object | null, error: string | null}[]}
 */
export function readReplies(receipt, replies) {
  const { reportId, seed, key } = parseReceipt(receipt);
  if (!Array.isArray(replies)) {
    if (!replies || !Array.isArray(replies.replies)) throw fail('bad_argument', 'replies: a list, or the node\'s report');
    if (typeof replies.receipt === 'string' && replies.receipt.toLowerCase() !== toHex(key)) {
      throw fail('wrong_receipt', "this receipt's key is not the report's");
    }
    if (typeof replies.id === 'string' && replies.id.toLowerCase() !== toHex(reportId)) {
      throw fail('wrong_receipt', 'this receipt is for another report');
    }
    replies = replies.replies;
  }
  const secret = boxSecretFor(seed);
  try {
    const found = replies.map((reply) => replyFields(reply, reportId)).filter((fields) => fields !== null);
    found.sort((a, b) => (a[3] !== b[3] ? (a[3] < b[3] ? -1 : 1) : compare(a[0], b[0])));
    return found.map(([id, author, status, ts, sealed]) => {
      let message = null;
      let error = null;
      if (sealed !== null) {
        try {
          message = openMessage(sealed, secret);
        } catch (problem) {
          error = `${problem.code}: ${problem.message}`;
        }
      }
      return { id: toHex(id), author: toHex(author), status, ts, message, error };
    });
  } finally {
    secret.fill(0);
  }
}

/**
 * The private box key in a member's share of an `oversight.key`
 * (specs/accountability.md 7.2, as protocol/reports.py `open_share`),
 * opened with the member's seed. With `boxKey` (the event's box_key), it
 * must be that key's private half: Error code `bad_shares` otherwise (only
 * the share's member can tell, and SHOULD say so). Throws `cannot_open`
 * when the share is not sealed to this member. Why: a member of an
 * oversight group reads reports with it (`openReport`).
 * @param {Uint8Array} shareSealed the share's `sealed` (80 bytes)
 * @param {Uint8Array} memberSeed
 * @param {Uint8Array} [boxKey]
 * @returns {Uint8Array} the 32-byte X25519 private box key
 */
export function openShare(shareSealed, memberSeed, boxKey) {
  const memberSecret = boxSecretFor(memberSeed);
  let secret;
  try {
    secret = openBox(shareSealed, memberSecret);
  } finally {
    memberSecret.fill(0);
  }
  if (secret.length !== 32) throw fail('bad_shares', 'a share holds a 32-byte private key');
  if (boxKey !== undefined && !equal(x25519.getPublicKey(secret), bytesArg(boxKey, 'boxKey', 32))) {
    throw fail('bad_shares', 'the share does not hold the published box key');
  }
  return secret;
}

/**
 * What a report or a follow-up says (their bodies have the same
 * `sealed` and `box_key`), for a member of the oversight group holding the
 * private box key (protocol/reports.py `open_report`). Throws
 * `wrong_box_key` (sealed to another box key), `cannot_open`, `bad_body`.
 * Why: the oversight group's reading; and the vectors' boxes are checked
 * with it.
 * @param {{sealed: Uint8Array, box_key: Uint8Array}} body
 * @param {Uint8Array} boxPrivateKey
 */
export function openReport(body, boxPrivateKey) {
  bytesArg(boxPrivateKey, 'boxPrivateKey', 32);
  if (!isBytes(body?.box_key) || !equal(x25519.getPublicKey(boxPrivateKey), body.box_key)) {
    throw fail('wrong_box_key', 'sealed to another box key');
  }
  return openMessage(body.sealed, boxPrivateKey);
}

// ---------------------------------------------------------------------------
// The seed kept in the browser under a passphrase (WebCrypto only)

const SEALED_FORMAT = 'ayllu-web-seed';
const DEFAULT_ITERATIONS = 310000;
const MIN_ITERATIONS = 200000;
const MAX_ITERATIONS = 10000000;

function passphraseBytes(passphrase) {
  if (isBytes(passphrase) && passphrase.length > 0) return passphrase;
  if (typeof passphrase !== 'string' || passphrase.length === 0) {
    throw fail('bad_argument', 'a passphrase is a non-empty string');
  }
  // NFC, so the same words typed on two keyboards open the same seed.
  return utf8Encoder.encode(passphrase.normalize('NFC'));
}

async function sealingKey(passphrase, salt, iterations) {
  const subtle = globalThis.crypto.subtle;
  const base = await subtle.importKey('raw', passphraseBytes(passphrase), 'PBKDF2', false, ['deriveKey']);
  return subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
    base,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

/** AES-GCM's additional data: binds the format and the public key shown
 * in the clear, so an edited `public` does not open. */
function sealedAad(publicBytes) {
  return concat(ascii(`${SEALED_FORMAT}/v1\x00`), publicBytes);
}

/**
 * Seal a member's seed under a passphrase for the browser's storage
 * (WebCrypto only: PBKDF2-SHA256 with a random 16-byte salt, then
 * AES-256-GCM with a random 12-byte IV). The result is a JSON-serializable
 * object that keeps the iteration count, so later versions can raise it,
 * and the public key in the clear, so the page can say whose key it holds
 * without the passphrase.
 * @param {Uint8Array} seed32
 * @param {string} passphrase
 * @param {{iterations?: number}} [options] at least 200,000 (310,000 by default)
 * @returns {Promise<{format: string, version: number, public: string, kdf: string,
 *   iterations: number, salt: string, cipher: string, iv: string, ciphertext: string}>}
 */
export async function sealSeed(seed32, passphrase, { iterations = DEFAULT_ITERATIONS } = {}) {
  bytesArg(seed32, 'seed', 32);
  if (!Number.isInteger(iterations) || iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) {
    throw fail('bad_argument', `iterations must be from ${MIN_ITERATIONS} to ${MAX_ITERATIONS}`);
  }
  const publicBytes = publicKey(seed32);
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const key = await sealingKey(passphrase, salt, iterations);
  const ciphertext = new Uint8Array(
    await globalThis.crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: sealedAad(publicBytes), tagLength: 128 },
      key,
      seed32,
    ),
  );
  return {
    format: SEALED_FORMAT,
    version: 1,
    public: toHex(publicBytes),
    kdf: 'pbkdf2-sha256',
    iterations,
    salt: toHex(salt),
    cipher: 'aes-256-gcm',
    iv: toHex(iv),
    ciphertext: toHex(ciphertext),
  };
}

function sealedHex(sealed, name, size) {
  const value = sealed[name];
  let bytes = null;
  try {
    bytes = fromHex(value);
  } catch {
    bytes = null;
  }
  if (bytes === null || bytes.length !== size) {
    throw fail('bad_sealed', `the sealed seed's ${name} must be ${size} bytes in hex`);
  }
  return bytes;
}

/**
 * Open what `sealSeed` made (the object, or its JSON text) with the
 * passphrase. Throws an Error with `.code = "bad_passphrase"` when the
 * passphrase is wrong (or the object was altered: AES-GCM cannot tell
 * which), `.code = "bad_sealed"` when the object is not a sealed seed.
 * The iteration count is capped at 10,000,000 so a planted object cannot
 * hang the page.
 * @returns {Promise<Uint8Array>} the 32-byte seed
 */
export async function openSeed(sealed, passphrase) {
  if (typeof sealed === 'string') {
    try {
      sealed = JSON.parse(sealed);
    } catch {
      throw fail('bad_sealed', 'not a sealed seed: not JSON');
    }
  }
  if (
    !isPlainObject(sealed) ||
    sealed.format !== SEALED_FORMAT ||
    sealed.version !== 1 ||
    sealed.kdf !== 'pbkdf2-sha256' ||
    sealed.cipher !== 'aes-256-gcm'
  ) {
    throw fail('bad_sealed', `not an ${SEALED_FORMAT} version 1 object`);
  }
  const { iterations } = sealed;
  if (!Number.isInteger(iterations) || iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) {
    throw fail('bad_sealed', 'the iteration count is out of range');
  }
  const publicBytes = sealedHex(sealed, 'public', 32);
  const salt = sealedHex(sealed, 'salt', 16);
  const iv = sealedHex(sealed, 'iv', 12);
  const ciphertext = sealedHex(sealed, 'ciphertext', 48);
  const key = await sealingKey(passphrase, salt, iterations);
  let seed;
  try {
    seed = new Uint8Array(
      await globalThis.crypto.subtle.decrypt(
        { name: 'AES-GCM', iv, additionalData: sealedAad(publicBytes), tagLength: 128 },
        key,
        ciphertext,
      ),
    );
  } catch {
    throw fail('bad_passphrase', 'wrong passphrase, or the sealed key is damaged');
  }
  if (!equal(publicKey(seed), publicBytes)) {
    throw fail('bad_sealed', "the sealed seed does not give the stored public key");
  }
  return seed;
}

// ---------------------------------------------------------------------------
// The member's key file (specs/keys.md; protocol/keys.py)

/** libsodium's crypto_pwhash_argon2id limits: a file's cost is refused
 * above the "sensitive" one (specs/keys.md), below the smallest it takes. */
const KDF_MAX_OPSLIMIT = 4;
const KDF_MAX_MEMLIMIT = 1 << 30;
const KDF_MIN_MEMLIMIT = 8192;
const HEX64 = /^[0-9a-fA-F]{64}$/;

function keyFileHex(object, name, size) {
  const value = object[name];
  if (typeof value !== 'string' || value.length !== 2 * size || !/^[0-9a-fA-F]*$/.test(value)) {
    throw fail('bad_key_file', `the key file's "${name}" must be ${size} bytes in hex`);
  }
  return fromHex(value);
}

/** What a key file (or a bare seed) holds, before any passphrase:
 * {seed} or {sealed: {opslimit, memlimit, salt, nonce, ciphertext}, public}. */
function readKeyFile(text) {
  if (typeof text !== 'string') throw fail('bad_key_file', 'a key is text');
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  if (HEX64.test(trimmed)) return { seed: fromHex(trimmed) };
  let document;
  try {
    document = JSON.parse(trimmed);
  } catch {
    throw fail('bad_key_file', 'not a key: neither an ayllu key file (JSON) nor a 64-hex-digit seed');
  }
  if (
    !isPlainObject(document) ||
    document.format !== 'ayllu-key' ||
    document.version !== 1 ||
    document.type !== 'ed25519'
  ) {
    throw fail('bad_key_file', 'not an ayllu-key version 1 ed25519 key file');
  }
  const claimed = keyFileHex(document, 'public', 32);
  if (!Object.prototype.hasOwnProperty.call(document, 'sealed')) {
    return { seed: keyFileHex(document, 'seed', 32), public: claimed };
  }
  const sealed = document.sealed;
  if (!isPlainObject(sealed) || sealed.kdf !== 'argon2id13') {
    throw fail('bad_key_file', 'unknown sealing in the key file');
  }
  const { opslimit, memlimit } = sealed;
  if (!Number.isInteger(opslimit) || opslimit < 1 || opslimit > KDF_MAX_OPSLIMIT) {
    throw fail('bad_key_file', 'the Argon2id opslimit is out of range');
  }
  if (!Number.isInteger(memlimit) || memlimit < KDF_MIN_MEMLIMIT || memlimit > KDF_MAX_MEMLIMIT) {
    throw fail('bad_key_file', 'the Argon2id memlimit is out of range');
  }
  return {
    public: claimed,
    sealed: {
      opslimit,
      memlimit,
      salt: keyFileHex(sealed, 'salt', 16),
      nonce: keyFileHex(sealed, 'nonce', 24),
      ciphertext: keyFileHex(sealed, 'ciphertext', 48),
    },
  };
}

/** The passphrase's bytes to try, in order: its UTF-8 as given (what the
 * CLI hashes: the bytes typed, unnormalized), then its NFC and NFD forms
 * where they differ (the same words typed on another keyboard). Only a
 * passphrase with accents or the like has other forms. */
function passphraseCandidates(passphrase) {
  if (isBytes(passphrase)) return [passphrase];
  const forms = new Set([passphrase, passphrase.normalize('NFC'), passphrase.normalize('NFD')]);
  return [...forms].map((form) => utf8Encoder.encode(form));
}

/** libsodium's crypto_pwhash_argon2id parameters as @noble/hashes takes
 * them: opslimit is t, memlimit bytes are m = floor(memlimit / 1024) KiB,
 * one lane, version 0x13, 32 bytes out. */
function argonOptions(sealed, onProgress) {
  const options = { t: sealed.opslimit, m: Math.floor(sealed.memlimit / 1024), p: 1, version: 0x13, dkLen: 32 };
  options.maxmem = options.m * 1024; // what it allocates; the limits cap it at 1 GiB
  if (onProgress) options.onProgress = onProgress;
  return options;
}

/** The seed in a sealed key file's secretbox under `key`, or null. */
function openKeyBox(sealed, key) {
  try {
    return xsalsa20poly1305(key, sealed.nonce).decrypt(sealed.ciphertext);
  } catch {
    return null;
  } finally {
    key.fill(0);
  }
}

function checkedSeed(seed, claimed) {
  if (claimed !== undefined && !equal(publicKey(seed), claimed)) {
    throw fail('key_mismatch', "the key file's public key does not match its seed");
  }
  return seed;
}

function wantPassphrase(passphrase) {
  if (passphrase === undefined || passphrase === null || passphrase === '' || (isBytes(passphrase) && passphrase.length === 0)) {
    throw fail(
      'sealed_key_file',
      'this key file is sealed with a passphrase: give its passphrase (or use its 64-hex-digit seed)',
    );
  }
  if (typeof passphrase !== 'string' && !isBytes(passphrase)) {
    throw fail('bad_argument', 'a passphrase is a string (or its bytes)');
  }
}

const badPassphrase = () => fail('bad_passphrase', 'wrong passphrase, or the key file is damaged');

/**
 * The seed in what a member pastes or loads: the key file that `ayllu
 * member keygen` or `ayllu init` writes (specs/keys.md: JSON with format
 * "ayllu-key", version 1, type "ed25519", public, and seed or sealed), or
 * a bare seed of 64 hex digits. Why: a member signs in with the file the
 * CLI gave them, and the seed never leaves the page.
 *
 * A sealed file (`--seal`: Argon2id of the passphrase, then
 * XSalsa20-Poly1305, exactly as protocol/keys.py `decode_keyfile`) opens
 * with `passphrase`: the UTF-8 bytes of the string as given, then of its
 * NFC and NFD forms where they differ. Argon2id runs synchronously here, with the
 * file's own cost (the CLI's is 64 MiB and 2 passes: about half a second
 * in Node, some seconds on a slow phone, during which the page does not
 * respond): a page should call `openMemberKey`, which does the same
 * without blocking. Throws an Error with `.code`: `sealed_key_file` (sealed
 * and no passphrase given), `bad_passphrase` (it does not open: a wrong
 * passphrase or a damaged file), `key_mismatch` (the seed does not give
 * the file's public key), `bad_key_file` (anything else, Argon2id costs
 * above libsodium's "sensitive" ones included). A passphrase given with an
 * unsealed file is ignored.
 * @param {string} text
 * @param {string | Uint8Array} [passphrase]
 * @returns {Uint8Array} the 32-byte seed
 */
export function parseMemberKey(text, passphrase) {
  const file = readKeyFile(text);
  if (!file.sealed) return checkedSeed(file.seed, file.public);
  wantPassphrase(passphrase);
  for (const candidate of passphraseCandidates(passphrase)) {
    const seed = openKeyBox(file.sealed, argon2id(candidate, file.sealed.salt, argonOptions(file.sealed)));
    if (seed) return checkedSeed(seed, file.public);
  }
  throw badPassphrase();
}

/**
 * `parseMemberKey` for a page: the same result and errors, but Argon2id
 * yields to the browser every few milliseconds, so the page stays
 * responsive (and can show `onProgress(fraction)`) while a sealed key
 * file opens. Why: with the CLI's cost, a slow phone needs seconds.
 * @param {string} text
 * @param {string | Uint8Array} [passphrase]
 * @param {{onProgress?: (fraction: number) => void}} [options]
 * @returns {Promise<Uint8Array>} the 32-byte seed
 */
export async function openMemberKey(text, passphrase, { onProgress } = {}) {
  const file = readKeyFile(text);
  if (!file.sealed) return checkedSeed(file.seed, file.public);
  wantPassphrase(passphrase);
  for (const candidate of passphraseCandidates(passphrase)) {
    const key = await argon2idAsync(candidate, file.sealed.salt, argonOptions(file.sealed, onProgress));
    const seed = openKeyBox(file.sealed, key);
    if (seed) return checkedSeed(seed, file.public);
  }
  throw badPassphrase();
}
