/**
 * The browser module's checks against the project's normative test vectors
 * (specs/vectors/) and against what the Python code makes
 * (python-fixture.json, written by make_python_fixture.py).
 *
 * Runs in Node (test/vectors.mjs reads the files and calls it) and in a
 * browser page (which fetches the same files), so it does no I/O itself:
 * `runVectorChecks(vectors, api)` takes the parsed files and, optionally,
 * the module to test; by default it imports the built bundle
 * node/web/static/ayllu-crypto.js, the file the node ships.
 *
 * `vectors` holds the parsed JSON files by name: `events`, `ring`,
 * `ballots` and `python` are required; `genesis`, `groups` and
 * `accountability` are checked when given.
 */

const DEFAULT_BUNDLE = '../../static/ayllu-crypto.js';

/** Run every check; resolve to {checked, failed}: failed lists what did not hold. */
export async function runVectorChecks(vectors, api) {
  const A = api ?? (await import(new URL(DEFAULT_BUNDLE, import.meta.url).href));
  const state = { checked: 0, failed: [] };
  const t = makeTools(A, state);
  for (const name of ['events', 'ring', 'ballots', 'python']) {
    if (!vectors || !vectors[name]) t.fail(`vectors: the ${name} file is missing`);
  }
  if (vectors?.events) checkEvents(t, vectors.events);
  if (vectors?.genesis) checkGenesis(t, vectors.genesis);
  if (vectors?.ring) checkRing(t, vectors.ring);
  for (const name of ['ballots', 'accountability', 'groups']) {
    if (vectors?.[name]) checkScenarios(t, name, vectors[name]);
  }
  if (vectors?.python) {
    checkPythonCbor(t, vectors.python);
    checkPythonDecoding(t, vectors.python);
    checkPythonSignatures(t, vectors.python);
    checkPythonVotes(t, vectors.python);
    checkKeyFiles(t, vectors.python);
  }
  checkEncoderRefusals(t);
  await checkSealing(t);
  return { checked: state.checked, failed: state.failed };
}

function makeTools(A, state) {
  const hex = A.toHex;
  const bytes = A.fromHex;
  const fail = (what) => {
    state.checked += 1;
    state.failed.push(what);
  };
  const ok = (what, holds, detail) => {
    state.checked += 1;
    if (!holds) state.failed.push(detail === undefined ? what : `${what}: ${detail}`);
  };
  const same = (what, got, want) => ok(what, got === want, difference(got, want));
  /** fn() must not throw; a throw is one failed check. Returns its result or undefined. */
  const attempt = (what, fn) => {
    try {
      return fn();
    } catch (error) {
      fail(`${what}: threw ${error?.code ?? ''} ${error?.message ?? error}`);
      return undefined;
    }
  };
  /** fn() must throw an Error with code `code`. */
  const refuses = (what, code, fn) => {
    try {
      const value = fn();
      fail(`${what}: accepted (${short(String(value))}), want ${code}`);
    } catch (error) {
      same(what, error?.code, code);
    }
  };
  const refusesAsync = async (what, code, fn) => {
    try {
      await fn();
      fail(`${what}: accepted, want ${code}`);
    } catch (error) {
      same(what, error?.code, code);
    }
  };
  return { A, hex, bytes, fail, ok, same, attempt, refuses, refusesAsync };
}

/** got/want, shortened; for two hex strings, where they first differ. */
function difference(got, want) {
  if (typeof got === 'string' && typeof want === 'string' && /^[0-9a-f]+$/.test(got + want)) {
    let at = 0;
    while (at < got.length && got[at] === want[at]) at++;
    const byte = at >> 1;
    return `hex differs from byte ${byte} (got ${got.length / 2} bytes, want ${want.length / 2}): got ...${got.slice(2 * byte, 2 * byte + 16)}, want ...${want.slice(2 * byte, 2 * byte + 16)}`;
  }
  return `got ${short(got)}, want ${short(want)}`;
}

function short(value) {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text !== undefined && text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// -- events.json --------------------------------------------------------------

/** What a node's first checks say of an event (specs/events.md section 5,
 * steps 1 to 4): the reason code, or "accepted". */
function nodeVerdict(A, raw, networkId) {
  let parsed;
  try {
    parsed = A.parseEvent(raw);
  } catch (error) {
    return error.code;
  }
  if (!sameBytes(parsed.net, networkId)) return 'wrong_network';
  return A.verifyEvent(parsed) ? 'accepted' : 'bad_signature';
}

/** Reasons the module decides: decoding, the envelope, the network, the
 * signature. The kind registry, body schemas and the node's state
 * (unknown_kind, bad_body, ts_in_future, missing_refs, ts_before_ref) are
 * the node's business. */
const MODULE_REASONS = new Set([
  'too_large', 'truncated', 'trailing_bytes', 'too_deep', 'malformed', 'indefinite_length',
  'non_minimal_width', 'unsorted_keys', 'duplicate_key', 'bad_map_key', 'float_not_allowed',
  'tag_not_allowed', 'simple_not_allowed', 'int_out_of_range', 'invalid_utf8', 'bad_envelope',
  'missing_field', 'unknown_field', 'unknown_version', 'bad_field', 'bad_refs', 'wrong_network',
  'bad_signature',
]);

const DECODE_REASONS = new Set([
  'too_large', 'truncated', 'trailing_bytes', 'too_deep', 'malformed', 'indefinite_length',
  'non_minimal_width', 'unsorted_keys', 'duplicate_key', 'bad_map_key', 'float_not_allowed',
  'tag_not_allowed', 'simple_not_allowed', 'int_out_of_range', 'invalid_utf8',
]);

function checkEvents(t, file) {
  const { A, hex, bytes, ok, same, attempt } = t;
  const genesis = bytes(file.genesis_hex);
  const networkId = bytes(file.network_id_hex);
  same('events: network id = SHA-256(genesis)', hex(sha256Js(genesis)), file.network_id_hex);
  const seeds = new Map();
  for (const key of file.keys) {
    const seed = bytes(key.seed_hex);
    same(`events key ${key.name}: public key`, hex(A.publicKey(seed)), key.public_hex);
    seeds.set(key.public_hex, seed);
  }
  const checkValid = (what, raw, want) => {
    const parsed = attempt(`${what}: parseEvent`, () => A.parseEvent(raw));
    if (!parsed) return;
    if (want.id_hex) same(`${what}: id`, hex(parsed.id), want.id_hex);
    if (want.unsigned_hex) {
      same(`${what}: unsigned bytes`, hex(raw.subarray(1, raw.length - 66)), want.unsigned_hex);
      same(`${what}: signature`, hex(parsed.signature), want.signature_hex);
    }
    ok(`${what}: signature verifies`, A.verifyEvent(parsed));
    same(`${what}: net`, hex(parsed.net), file.network_id_hex);
    const again = attempt(`${what}: re-encode`, () => A.encodeCanonical(A.decodeCbor(raw)));
    if (again) same(`${what}: decode then encode gives the bytes back`, hex(again), hex(raw));
    const seed = seeds.get(hex(parsed.author));
    if (seed) {
      const signed = attempt(`${what}: signEvent`, () => A.signEvent(parsed, seed));
      if (signed) {
        same(`${what}: signEvent bytes`, hex(signed.raw), hex(raw));
        same(`${what}: signEvent id`, hex(signed.id), hex(parsed.id));
      }
    }
  };
  for (const vector of file.valid) {
    const raw = bytes(vector.input_hex);
    checkValid(`events valid ${vector.name}`, raw, vector);
    same(`events valid ${vector.name}: node verdict`, nodeVerdict(A, raw, networkId), 'accepted');
    vector.state.forEach((held, i) => checkValid(`events valid ${vector.name} state ${i}`, bytes(held), {}));
  }
  for (const vector of file.invalid) {
    const raw = bytes(vector.input_hex);
    vector.state.forEach((held, i) => checkValid(`events invalid ${vector.name} state ${i}`, bytes(held), {}));
    if (!MODULE_REASONS.has(vector.reason)) continue;
    same(`events invalid ${vector.name}`, nodeVerdict(A, raw, networkId), vector.reason);
    if (DECODE_REASONS.has(vector.reason)) {
      let code = 'accepted';
      try {
        A.decodeCbor(raw);
      } catch (error) {
        code = error.code;
      }
      same(`events invalid ${vector.name}: decodeCbor`, code, vector.reason);
    }
  }
}

// A small SHA-256 (FIPS 180-4) for the checks alone, independent of the
// module under test, so that a broken hash in the bundle cannot vouch for
// itself.
function sha256Js(data) {
  const K = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
  ]);
  const H = new Uint32Array([
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
  ]);
  const length = data.length;
  const padded = new Uint8Array(((length + 9 + 63) >> 6) << 6);
  padded.set(data);
  padded[length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(length / 0x20000000));
  view.setUint32(padded.length - 4, (length << 3) >>> 0);
  const W = new Uint32Array(64);
  const rotr = (x, n) => (x >>> n) | (x << (32 - n));
  for (let block = 0; block < padded.length; block += 64) {
    for (let i = 0; i < 16; i++) W[i] = view.getUint32(block + 4 * i);
    for (let i = 16; i < 64; i++) {
      const s0 = rotr(W[i - 15], 7) ^ rotr(W[i - 15], 18) ^ (W[i - 15] >>> 3);
      const s1 = rotr(W[i - 2], 17) ^ rotr(W[i - 2], 19) ^ (W[i - 2] >>> 10);
      W[i] = (W[i - 16] + s0 + W[i - 7] + s1) >>> 0;
    }
    let [a, b, c, d, e, f, g, h] = H;
    for (let i = 0; i < 64; i++) {
      const S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
      const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i] + W[i]) >>> 0;
      const S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
      const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) >>> 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) >>> 0;
    }
    H[0] += a;
    H[1] += b;
    H[2] += c;
    H[3] += d;
    H[4] += e;
    H[5] += f;
    H[6] += g;
    H[7] += h;
  }
  const out = new Uint8Array(32);
  const outView = new DataView(out.buffer);
  H.forEach((word, i) => outView.setUint32(4 * i, word));
  return out;
}

// -- genesis.json -------------------------------------------------------------

const MAX_GENESIS_SIZE = 8192;

function checkGenesis(t, file) {
  const { A, hex, bytes, same, attempt } = t;
  for (const vector of file.valid) {
    const raw = bytes(vector.input_hex);
    same(`genesis valid ${vector.name}: network id`, hex(sha256Js(raw)), vector.network_id_hex);
    const again = attempt(`genesis valid ${vector.name}: decode`, () =>
      A.encodeCanonical(A.decodeCbor(raw, { maxSize: MAX_GENESIS_SIZE })),
    );
    if (again) same(`genesis valid ${vector.name}: round trip`, hex(again), vector.input_hex);
  }
  for (const vector of file.invalid) {
    if (!DECODE_REASONS.has(vector.reason)) continue;
    let code = 'accepted';
    try {
      A.decodeCbor(bytes(vector.input_hex), { maxSize: MAX_GENESIS_SIZE });
    } catch (error) {
      code = error.code;
    }
    same(`genesis invalid ${vector.name}`, code, vector.reason);
  }
}

// -- ring.json ----------------------------------------------------------------

function checkRing(t, file) {
  const { A, hex, bytes, ok, same, attempt } = t;
  for (const key of file.keys) {
    const seed = bytes(key.seed_hex);
    same(`ring key ${key.name}: public key`, hex(A.publicKey(seed)), key.public_hex);
    same(`ring key ${key.name}: ring scalar`, hex(A.ringScalar(seed)), key.scalar_hex);
  }
  const images = new Map();
  for (const vector of file.valid) {
    const what = `ring valid ${vector.name}`;
    const keys = vector.ring_hex.map(bytes);
    const scope = bytes(vector.scope_hex);
    const message = bytes(vector.message_hex);
    const seed = bytes(vector.signer_seed_hex);
    same(`${what}: ring hash`, hex(A.ringHash(keys)), vector.ring_hash_hex);
    same(`${what}: scope point`, attempt(`${what}: scope point`, () => hex(A.scopePoint(scope))), vector.scope_point_hex);
    same(`${what}: key image`, attempt(`${what}: key image`, () => hex(A.keyImage(seed, scope))), vector.key_image_hex);
    same(`${what}: signer index`, hex(keys[vector.signer_index]), hex(A.publicKey(seed)));
    same(`${what}: verifies`, attempt(`${what}: verify`, () => A.ringVerify(keys, scope, message, bytes(vector.signature_hex))), true);
    same(`${what}: signature's key image`, vector.signature_hex.slice(0, 64), vector.key_image_hex);
    images.set(vector.name, vector.key_image_hex);
    if (vector.nonce_seed_hex) {
      const sig = attempt(`${what}: sign`, () => A.ringSign(keys, seed, scope, message, bytes(vector.nonce_seed_hex)));
      if (sig) same(`${what}: signature reproduced`, hex(sig), vector.signature_hex);
    } else {
      // Hand-picked nonces: a fresh signature by the module must verify instead.
      const sig = attempt(`${what}: sign (random nonce seed)`, () => A.ringSign(keys, seed, scope, message));
      if (sig) same(`${what}: own signature verifies`, A.ringVerify(keys, scope, message, sig), true);
    }
  }
  for (const link of file.links) {
    ok(
      `ring link ${link.a} / ${link.b}`,
      (images.get(link.a) === images.get(link.b)) === link.linked && images.has(link.a),
    );
  }
  for (const vector of file.invalid) {
    const got = attempt(`ring invalid ${vector.name}`, () =>
      A.ringVerify(vector.ring_hex.map(bytes), bytes(vector.scope_hex), bytes(vector.message_hex), bytes(vector.signature_hex)),
    );
    same(`ring invalid ${vector.name}`, got, vector.reason);
  }
}

// -- scenarios: ballots.json, accountability.json, groups.json ------------------

const RING_REASONS = new Set(['bad_ring', 'bad_ring_signature', 'bad_key_image', 'non_canonical_scalar']);
const REPORT_DOMAIN = Uint8Array.from('ayllu/report/v1\x00', (c) => c.charCodeAt(0));

function checkScenarios(t, fileName, file) {
  const { A, hex, bytes, ok, same, attempt } = t;
  const builder = new BuilderSeeds(A);
  let rebuilt = 0;
  for (const scenario of file.scenarios) {
    const where = `${fileName} ${scenario.name}`;
    const networkId = sha256Js(bytes(scenario.genesis_hex));
    same(`${where}: network id`, hex(networkId), scenario.expected.network);
    const byId = new Map();
    const parsed = scenario.events.map((entry, index) => {
      const raw = bytes(entry.event_hex);
      const event = attempt(`${where} event ${index}: parseEvent`, () => A.parseEvent(raw));
      if (!event) return null;
      same(`${where} event ${index}: id`, hex(event.id), entry.id_hex);
      same(`${where} event ${index}: kind`, event.kind, entry.kind);
      same(`${where} event ${index}: node verdict`, nodeVerdict(A, raw, networkId), 'accepted');
      const again = attempt(`${where} event ${index}: re-encode`, () => A.encodeCanonical(A.decodeCbor(raw)));
      if (again) ok(`${where} event ${index}: round trip`, sameBytes(again, raw));
      byId.set(entry.id_hex, event);
      return event;
    });
    const ballots = new Map((scenario.expected.ballots ?? []).map((b) => [b.ballot, b]));
    for (const [index, entry] of scenario.events.entries()) {
      const event = parsed[index];
      if (!event) continue;
      const what = `${where} event ${index} (${entry.kind}, ${entry.outcome}${entry.reason ? ` ${entry.reason}` : ''})`;
      if (entry.kind === 'ballot.ring' && entry.outcome === 'applied') {
        const ballot = ballots.get(hex(event.body.ballot));
        if (ballot) same(`${what}: ring hash in the state`, hex(A.ringHash(event.body.keys)), ballot.rings[hex(event.group)]);
      }
      if (entry.kind === 'vote' || entry.kind === 'report') {
        const verdict = attempt(`${what}: standing`, () => ringStanding(A, event, byId));
        const rejected = entry.outcome === 'rejected' && (RING_REASONS.has(entry.reason) || entry.reason === 'wrong_ring');
        same(`${what}: ring standing`, verdict, rejected ? entry.reason : true);
      }
      if (entry.kind === 'vote') {
        const found = builder.rebuild(event, byId, scenario.events.length, index);
        // Every vote the builders cast is rebuilt; the rejected ones were
        // forged or replayed by other means.
        if (entry.outcome !== 'rejected') {
          ok(`${what}: its seeds follow the builder's (tests/helpers)`, found !== null);
        }
        if (found) {
          rebuilt += 1;
          const remade = attempt(`${what}: voteEvent`, () => A.voteEvent(found));
          if (remade) {
            same(`${what}: rebuilt byte for byte`, hex(remade.raw), entry.event_hex);
            same(`${what}: key image`, hex(remade.keyImage), hex(event.body.sig.subarray(0, 32)));
          }
        }
      }
    }
  }
  if (fileName === 'ballots') {
    // ballots.json publishes no one-time or nonce seeds; the builder's fixed
    // seeds (tests/helpers) recover them for the votes it cast.
    ok(`${fileName}: votes rebuilt from the builder's seeds`, rebuilt >= 20, `only ${rebuilt}`);
  }
}

/** A vote's or report's standing from the ring event it names
 * (specs/ballots.md section 14, specs/accountability.md section 7.4):
 * true, or the reason code. */
function ringStanding(A, event, byId) {
  const body = event.body;
  const ringEvent = byId.get(A.toHex(body.ring));
  const wantKind = event.kind === 'vote' ? 'ballot.ring' : 'report.ring';
  const inRefs = event.refs.some((ref) => sameBytes(ref, body.ring));
  // A report's receipt must be a valid point: a ring of it alone is bad_ring otherwise.
  if (event.kind === 'report' && A.ringVerify([body.receipt], body.receipt, new Uint8Array(0), new Uint8Array(96)) === 'bad_ring') {
    return 'bad_body';
  }
  if (!ringEvent || ringEvent.kind !== wantKind || !inRefs) return 'wrong_ring';
  if (event.kind === 'vote') {
    if (!sameBytes(ringEvent.body.ballot, body.ballot) || !sameBytes(ringEvent.group, event.group)) {
      return 'wrong_ring';
    }
    const message = A.voteMessage(body.ballot, body.ring, body.choice, event.author);
    return A.ringVerify(ringEvent.body.keys, body.ballot, message, body.sig);
  }
  const content = A.encodeCanonical({
    ring: body.ring,
    author: event.author,
    group: event.group,
    box_key: body.box_key,
    receipt: body.receipt,
    sealed: body.sealed,
  });
  const message = new Uint8Array(REPORT_DOMAIN.length + 32);
  message.set(REPORT_DOMAIN);
  message.set(sha256Js(content), REPORT_DOMAIN.length);
  return A.ringVerify(ringEvent.body.keys, body.receipt, message, body.sig);
}

/**
 * The seeds the vector builders use (tests/helpers: event_factory.py
 * `signing_key`, network_factory.py's people, ballot_factory.py `cast`):
 * a person's seed is SHA-256("test key person N"), a vote's one-time seed
 * SHA-256("test key one-time <voter hex> <n>") and its nonce seed
 * SHA-256("nonce seed <n>" || voter key), n being how many events the
 * scenario held when the vote was cast. Not normative: only a way to
 * rebuild the published votes byte for byte. The voter is found by key
 * image, n by trying the event's neighbourhood.
 */
class BuilderSeeds {
  constructor(A) {
    this.A = A;
    this.people = null;
    this.images = new Map();
  }

  seedsOfPeople() {
    if (this.people) return this.people;
    this.people = new Map();
    const encoder = new TextEncoder();
    for (let n = 0; n < 400; n++) {
      const seed = sha256Js(encoder.encode(`test key person ${n}`));
      this.people.set(this.A.toHex(this.A.publicKey(seed)), seed);
    }
    return this.people;
  }

  rebuild(vote, byId, eventCount, index) {
    const A = this.A;
    const ringEvent = byId.get(A.toHex(vote.body.ring));
    if (!ringEvent || ringEvent.kind !== 'ballot.ring') return null;
    const people = this.seedsOfPeople();
    const image = A.toHex(vote.body.sig.subarray(0, 32));
    let voter = null;
    for (const key of ringEvent.body.keys) {
      const seed = people.get(A.toHex(key));
      if (!seed) continue;
      const cacheKey = `${A.toHex(key)} ${A.toHex(vote.body.ballot)}`;
      if (!this.images.has(cacheKey)) this.images.set(cacheKey, A.toHex(A.keyImage(seed, vote.body.ballot)));
      if (this.images.get(cacheKey) === image) voter = { key, seed };
    }
    if (!voter) return null;
    const encoder = new TextEncoder();
    const author = A.toHex(vote.author);
    const limit = eventCount + 64;
    for (let distance = 0; distance <= limit; distance++) {
      for (const n of distance === 0 ? [index] : [index - distance, index + distance]) {
        if (n < 0 || n > limit) continue;
        const oneTimeSeed = sha256Js(encoder.encode(`test key one-time ${A.toHex(voter.key)} ${n}`));
        if (A.toHex(A.publicKey(oneTimeSeed)) !== author) continue;
        const prefix = encoder.encode(`nonce seed ${n}`);
        const input = new Uint8Array(prefix.length + 32);
        input.set(prefix);
        input.set(voter.key, prefix.length);
        return {
          ringKeys: ringEvent.body.keys,
          ringEventId: ringEvent.id,
          ballotId: vote.body.ballot,
          group: vote.group,
          net: vote.net,
          ts: vote.ts,
          choice: vote.body.choice,
          memberSeed: voter.seed,
          oneTimeSeed,
          nonceSeed: sha256Js(input),
        };
      }
    }
    return null;
  }
}

// -- python-fixture.json ------------------------------------------------------

function fromTyped(A, typed) {
  const [[kind, value]] = Object.entries(typed);
  switch (kind) {
    case 'null':
      return null;
    case 'bool':
      return value;
    case 'int': {
      const big = BigInt(value);
      return Number.isSafeInteger(Number(big)) && BigInt(Number(big)) === big ? Number(big) : big;
    }
    case 'bytes':
      return A.fromHex(value);
    case 'text':
      return value;
    case 'array':
      return value.map((item) => fromTyped(A, item));
    case 'map': {
      const out = {};
      // Reverse the order given, so that sorting is the encoder's work.
      for (const [key, item] of [...value].reverse()) out[key] = fromTyped(A, item);
      return out;
    }
    default:
      throw new Error(`unknown typed value ${kind}`);
  }
}

function checkPythonCbor(t, fixture) {
  const { A, hex, bytes, same, attempt } = t;
  for (const item of fixture.cbor) {
    const value = fromTyped(A, item.value);
    const encoded = attempt(`cbor ${item.name}: encode`, () => A.encodeCanonical(value));
    if (encoded) same(`cbor ${item.name}: encoding`, hex(encoded), item.encoded_hex);
    const again = attempt(`cbor ${item.name}: decode`, () => A.encodeCanonical(A.decodeCbor(bytes(item.encoded_hex))));
    if (again) same(`cbor ${item.name}: round trip`, hex(again), item.encoded_hex);
  }
  const asMap = attempt('cbor: a Map encodes as the object does', () =>
    A.encodeCanonical(new Map([['b', 1], ['a', [true, null]]])),
  );
  if (asMap) same('cbor: a Map encodes as the object does', hex(asMap), hex(A.encodeCanonical({ a: [true, null], b: 1 })));
  const proto = attempt('cbor: a "__proto__" key is data', () => A.decodeCbor(bytes('a1695f5f70726f746f5f5f01')));
  if (proto) same('cbor: a "__proto__" key is data', hex(A.encodeCanonical(proto)), 'a1695f5f70726f746f5f5f01');
}

function checkPythonDecoding(t, fixture) {
  const { A, hex, bytes, same } = t;
  for (const item of fixture.decoding) {
    let got;
    try {
      got = `ok:${hex(A.encodeCanonical(A.decodeCbor(bytes(item.input_hex))))}`;
    } catch (error) {
      got = error.code;
    }
    same(`decoding ${item.input_hex || '(empty)'}`, got, item.verdict);
  }
}

function checkPythonSignatures(t, fixture) {
  const { A, bytes, same } = t;
  fixture.signatures.forEach((item, i) => {
    const got = A.signatureHolds(bytes(item.key_hex), bytes(item.message_hex), bytes(item.signature_hex));
    same(`signature ${i} (${item.name})`, got, item.holds);
  });
}

function checkEncoderRefusals(t) {
  const { A, refuses } = t;
  let deep = 1;
  for (let i = 0; i < 16; i++) deep = [deep];
  const cases = [
    ['a float', 1.5],
    ['NaN', NaN],
    ['an unsafe integer number', 2 ** 53],
    ['an integer above 2^63-1', 1n << 63n],
    ['an integer below -2^63', -(1n << 63n) - 1n],
    ['undefined', undefined],
    ['a lone surrogate', '\ud800'],
    ['a map with undefined', { a: undefined }],
    ['a Map with a non-text key', new Map([[1, 2]])],
    ['a Date', new Date(0)],
    ['a Uint16Array', new Uint16Array(2)],
    ['17 levels of nesting', deep],
    ['more than 65,536 bytes', new Uint8Array(65536)],
  ];
  for (const [name, value] of cases) refuses(`encodeCanonical refuses ${name}`, 'cannot_encode', () => A.encodeCanonical(value));
}

function checkPythonVotes(t, fixture) {
  const { A, hex, bytes, ok, same, attempt, refuses } = t;
  for (const c of fixture.votes) {
    const what = `python vote ${c.name}`;
    const input = {
      ringKeys: c.ring_keys_hex.map(bytes),
      ringEventId: bytes(c.ring_event_id_hex),
      ballotId: bytes(c.ballot_id_hex),
      group: bytes(c.group_hex),
      net: bytes(c.net_hex),
      ts: c.ts,
      choice: c.choice,
      memberSeed: bytes(c.member_seed_hex),
      oneTimeSeed: bytes(c.one_time_seed_hex),
      nonceSeed: bytes(c.nonce_seed_hex),
    };
    const vote = attempt(`${what}: voteEvent`, () => A.voteEvent(input));
    if (!vote) continue;
    same(`${what}: bytes`, hex(vote.raw), c.event_hex);
    same(`${what}: id`, hex(vote.id), c.id_hex);
    same(`${what}: key image`, hex(vote.keyImage), c.key_image_hex);
    same(`${what}: key image from the seed`, hex(A.keyImage(input.memberSeed, input.ballotId)), c.key_image_hex);
    const member = hex(A.publicKey(input.memberSeed));
    ok(`${what}: the member's key is not in the event`, !hex(vote.raw).includes(member));
    // With fresh randomness: another event, the same key image, and it verifies.
    const fresh = attempt(`${what}: random vote`, () => A.voteEvent({ ...input, oneTimeSeed: undefined, nonceSeed: undefined }));
    if (fresh) {
      ok(`${what}: random one-time key differs`, hex(fresh.raw) !== c.event_hex);
      same(`${what}: random vote key image`, hex(fresh.keyImage), c.key_image_hex);
      const parsed = A.parseEvent(fresh.raw);
      ok(`${what}: random vote envelope verifies`, A.verifyEvent(parsed));
      same(`${what}: random vote refs`, parsed.refs.map(hex).join(), c.ring_event_id_hex);
      const message = A.voteMessage(parsed.body.ballot, parsed.body.ring, parsed.body.choice, parsed.author);
      same(`${what}: random vote ring signature`, A.ringVerify(input.ringKeys, input.ballotId, message, parsed.body.sig), true);
      ok(`${what}: random vote does not name the member`, !hex(fresh.raw).includes(member));
    }
  }
  const c = fixture.votes[0];
  const base = {
    ringKeys: c.ring_keys_hex.map(bytes),
    ringEventId: bytes(c.ring_event_id_hex),
    ballotId: bytes(c.ballot_id_hex),
    group: bytes(c.group_hex),
    net: bytes(c.net_hex),
    ts: c.ts,
    choice: [0],
    memberSeed: bytes(c.member_seed_hex),
  };
  refuses('voteEvent refuses a member outside the ring', 'not_member', () =>
    A.voteEvent({ ...base, memberSeed: new Uint8Array(32).fill(7) }),
  );
  refuses('voteEvent refuses option 16', 'bad_argument', () => A.voteEvent({ ...base, choice: [16] }));
  refuses('voteEvent refuses an unsorted ring', 'bad_ring', () => A.voteEvent({ ...base, ringKeys: [...base.ringKeys].reverse() }));
  refuses('signEvent refuses a seed that is not the author', 'wrong_key', () =>
    A.signEvent({ kind: 'note', group: base.group, author: base.ringKeys[0], net: base.net, ts: 1, body: {}, refs: [] }, base.memberSeed),
  );
  const author = A.publicKey(base.memberSeed);
  refuses('signEvent refuses unsorted refs', 'bad_refs', () =>
    A.signEvent({ kind: 'note', group: base.group, author, net: base.net, ts: 1, body: {}, refs: [base.group, base.group] }, base.memberSeed),
  );
  refuses('signEvent refuses a negative ts', 'bad_field', () =>
    A.signEvent({ kind: 'note', group: base.group, author, net: base.net, ts: -1, body: {}, refs: [] }, base.memberSeed),
  );
  refuses('signEvent refuses a network-scoped kind in a group', 'bad_field', () =>
    A.signEvent({ kind: 'cert.issue', group: base.group, author, net: base.net, ts: 1, body: {}, refs: [] }, base.memberSeed),
  );
}

function checkKeyFiles(t, fixture) {
  const { A, hex, same, attempt, refuses } = t;
  for (const file of fixture.key_files) {
    if (file.seed_hex) {
      same(`key file ${file.name}`, attempt(`key file ${file.name}`, () => hex(A.parseMemberKey(file.text))), file.seed_hex);
      same(`key file ${file.name}: bare seed`, hex(A.parseMemberKey(`  ${file.seed_hex.toUpperCase()}\n`)), file.seed_hex);
      const document = JSON.parse(file.text);
      document.public = document.public.replace(/^./, (ch) => (ch === '0' ? '1' : '0'));
      refuses(`key file ${file.name}: another public key`, 'key_mismatch', () => A.parseMemberKey(JSON.stringify(document)));
    } else {
      refuses(`key file ${file.name}`, file.code, () => A.parseMemberKey(file.text));
    }
  }
  refuses('parseMemberKey refuses 63 hex digits', 'bad_key_file', () => A.parseMemberKey('0'.repeat(63)));
  refuses('parseMemberKey refuses other JSON', 'bad_key_file', () => A.parseMemberKey('{"format": "other"}'));
  refuses('parseMemberKey refuses a short seed', 'bad_key_file', () =>
    A.parseMemberKey(JSON.stringify({ format: 'ayllu-key', version: 1, type: 'ed25519', public: '00'.repeat(32), seed: '00'.repeat(31) })),
  );
}

// -- sealing ------------------------------------------------------------------

async function checkSealing(t) {
  const { A, hex, ok, same, refusesAsync, fail } = t;
  const seed = new Uint8Array(32).map((_, i) => i * 7 + 1);
  let sealed;
  try {
    sealed = await A.sealSeed(seed, 'kimsa wawa, tawa qhari', { iterations: 200000 });
  } catch (error) {
    fail(`sealSeed: threw ${error?.code ?? ''} ${error?.message}`);
    return;
  }
  const stored = JSON.parse(JSON.stringify(sealed));
  same('sealSeed: iterations kept', stored.iterations, 200000);
  same('sealSeed: public key in the clear', stored.public, hex(A.publicKey(seed)));
  ok('sealSeed: salt and iv sizes', stored.salt.length === 32 && stored.iv.length === 24);
  ok('sealSeed: the seed is not in the clear', !JSON.stringify(stored).includes(hex(seed)));
  try {
    same('openSeed: round trip', hex(await A.openSeed(stored, 'kimsa wawa, tawa qhari')), hex(seed));
    same('openSeed: from JSON text', hex(await A.openSeed(JSON.stringify(stored), 'kimsa wawa, tawa qhari')), hex(seed));
  } catch (error) {
    fail(`openSeed: threw ${error?.code ?? ''} ${error?.message}`);
  }
  await refusesAsync('openSeed: wrong passphrase', 'bad_passphrase', () => A.openSeed(stored, 'kimsa wawa, tawa qharI'));
  const otherPublic = { ...stored, public: hex(A.publicKey(new Uint8Array(32))) };
  await refusesAsync('openSeed: another public key', 'bad_passphrase', () => A.openSeed(otherPublic, 'kimsa wawa, tawa qhari'));
  await refusesAsync('openSeed: too few iterations', 'bad_sealed', () => A.openSeed({ ...stored, iterations: 1000 }, 'x'));
  await refusesAsync('openSeed: not a sealed seed', 'bad_sealed', () => A.openSeed({ format: 'x' }, 'x'));
  await refusesAsync('sealSeed: too few iterations', 'bad_argument', () => A.sealSeed(seed, 'x', { iterations: 1000 }));
  const again = await A.sealSeed(seed, 'kimsa wawa, tawa qhari', { iterations: 200000 });
  ok('sealSeed: a fresh salt and iv each time', again.salt !== stored.salt && again.iv !== stored.iv);
  // NFC: the same words typed precomposed or decomposed open the same seed.
  const nfc = await A.sealSeed(seed, 'año', { iterations: 200000 });
  try {
    same('openSeed: passphrase in another Unicode normal form', hex(await A.openSeed(nfc, 'an\u0303o')), hex(seed));
  } catch (error) {
    fail(`openSeed NFD: threw ${error?.code ?? ''} ${error?.message}`);
  }
}
