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
 * `accountability` are checked when given (the protected reports of
 * accountability.json rebuilt byte for byte and their boxes opened).
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
    await checkSealedKeyFiles(t, vectors.python);
    if (vectors.python.reports) checkPythonReports(t, vectors.python.reports);
    else t.fail('python fixture: no reports');
  }
  if (vectors?.accountability) checkReportVectors(t, vectors.accountability);
  checkEncoderRefusals(t);
  checkBoxRefusals(t);
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
    if (file.passphrase !== undefined) continue; // checkSealedKeyFiles
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

/** A sealed key file's JSON with `change` applied to it. */
function alteredKeyFile(text, change) {
  const document = JSON.parse(text);
  change(document);
  return JSON.stringify(document);
}

/** Other Unicode normal forms of a passphrase than the one given. */
function otherForms(passphrase) {
  return [...new Set([passphrase.normalize('NFC'), passphrase.normalize('NFD')])].filter((form) => form !== passphrase);
}

async function checkSealedKeyFiles(t, fixture) {
  const { A, hex, ok, same, attempt, refuses, fail } = t;
  const sealedFiles = fixture.key_files.filter((file) => file.passphrase !== undefined);
  ok('key files: sealed ones at the CLI\'s cost and low cost', sealedFiles.some((f) => f.cost === 'cli') && sealedFiles.some((f) => f.cost === 'low'));
  for (const file of sealedFiles) {
    const what = `key file ${file.name}`;
    refuses(`${what}: no passphrase`, 'sealed_key_file', () => A.parseMemberKey(file.text));
    refuses(`${what}: an empty passphrase`, 'sealed_key_file', () => A.parseMemberKey(file.text, ''));
    same(`${what}: opens (parseMemberKey)`, attempt(`${what}: parseMemberKey`, () => hex(A.parseMemberKey(file.text, file.passphrase))), file.seed_hex);
    let progress = 0;
    try {
      const seed = await A.openMemberKey(file.text, file.passphrase, { onProgress: (fraction) => (progress = fraction) });
      same(`${what}: opens (openMemberKey)`, hex(seed), file.seed_hex);
      same(`${what}: openMemberKey reports its progress`, progress, 1);
    } catch (error) {
      fail(`${what}: openMemberKey threw ${error?.code ?? ''} ${error?.message}`);
    }
    if (file.cost === 'cli') continue; // the rest at low cost only
    for (const form of otherForms(file.passphrase)) {
      same(`${what}: the passphrase in another normal form`, attempt(`${what}: other form`, () => hex(A.parseMemberKey(file.text, form))), file.seed_hex);
    }
    const bytes = new TextEncoder().encode(file.passphrase);
    same(`${what}: the passphrase as bytes`, attempt(`${what}: bytes`, () => hex(A.parseMemberKey(file.text, bytes))), file.seed_hex);
    refuses(`${what}: a wrong passphrase`, 'bad_passphrase', () => A.parseMemberKey(file.text, `${file.passphrase}!`));
    try {
      await A.openMemberKey(file.text, 'not it');
      fail(`${what}: openMemberKey with a wrong passphrase accepted it`);
    } catch (error) {
      same(`${what}: openMemberKey with a wrong passphrase`, error?.code, 'bad_passphrase');
    }
    const otherPublic = hex(A.publicKey(new Uint8Array(32).fill(9)));
    refuses(`${what}: another public key`, 'key_mismatch', () =>
      A.parseMemberKey(alteredKeyFile(file.text, (d) => (d.public = otherPublic)), file.passphrase),
    );
    refuses(`${what}: a damaged ciphertext`, 'bad_passphrase', () =>
      A.parseMemberKey(alteredKeyFile(file.text, (d) => (d.sealed.ciphertext = d.sealed.ciphertext.replace(/^./, (c) => (c === '0' ? '1' : '0')))), file.passphrase),
    );
    const refusedCosts = [
      ['opslimit above "sensitive"', (d) => (d.sealed.opslimit = 5)],
      ['opslimit 0', (d) => (d.sealed.opslimit = 0)],
      ['memlimit above "sensitive"', (d) => (d.sealed.memlimit = 2 ** 30 + 1024)],
      ['memlimit below libsodium\'s least', (d) => (d.sealed.memlimit = 4096)],
      ['another kdf', (d) => (d.sealed.kdf = 'argon2i13')],
      ['a short salt', (d) => (d.sealed.salt = d.sealed.salt.slice(2))],
      ['a short ciphertext', (d) => (d.sealed.ciphertext = d.sealed.ciphertext.slice(2))],
      ['no public key', (d) => delete d.public],
    ];
    for (const [name, change] of refusedCosts) {
      refuses(`${what}: ${name}`, 'bad_key_file', () => A.parseMemberKey(alteredKeyFile(file.text, change), file.passphrase));
    }
  }
  const plain = fixture.key_files.find((file) => file.passphrase === undefined && file.seed_hex);
  if (plain) {
    same('key file: a passphrase with an unsealed file is ignored', hex(A.parseMemberKey(plain.text, 'whatever')), plain.seed_hex);
    same('key file: openMemberKey reads an unsealed file', hex(await A.openMemberKey(plain.text)), plain.seed_hex);
  }
}

// -- protected reports: python-fixture.json ------------------------------------

/** A message from the fixture's typed form, as fileReport's fields. */
function messageFields(A, typedMessage) {
  return fromTyped(A, typedMessage);
}

function reportInput(A, c) {
  const b = A.fromHex;
  return {
    reportRingKeys: c.ring_keys_hex.map(b),
    reportRingEventId: b(c.ring_event_id_hex),
    boxKey: b(c.box_key_hex),
    group: b(c.group_hex),
    net: b(c.net_hex),
    ts: c.ts,
    ...messageFields(A, c.message),
    memberSeed: b(c.member_seed_hex),
    oneTimeSeed: b(c.one_time_seed_hex),
    receiptSeed: b(c.receipt_seed_hex),
    nonceSeed: b(c.nonce_seed_hex),
    ephemeralSecret: b(c.ephemeral_secret_hex),
  };
}

/** The same message, compared by canonical encoding. */
function sameMessage(t, what, got, wantTyped) {
  const { A, hex, same, fail } = t;
  if (got === null || got === undefined) return fail(`${what}: no message`);
  same(what, hex(A.encodeCanonical(got)), hex(A.encodeCanonical(fromTyped(A, wantTyped))));
}

/** A report's ring signature over its ring (specs/accountability.md 7.4). */
function reportRingHolds(A, report, ringKeys) {
  const body = report.body;
  const message = A.reportMessage(body.ring, report.author, report.group, body.box_key, body.receipt, body.sealed);
  return A.ringVerify(ringKeys, body.receipt, message, body.sig);
}

function checkReadReplies(t, what, got, want) {
  const { A, same, ok } = t;
  same(`${what}: how many`, got.length, want.length);
  want.forEach((reply, i) => {
    const mine = got[i];
    if (!mine) return;
    same(`${what} ${i}: id`, mine.id, reply.id);
    same(`${what} ${i}: author`, mine.author, reply.author);
    same(`${what} ${i}: status`, mine.status, reply.status);
    same(`${what} ${i}: ts`, mine.ts, reply.ts);
    ok(`${what} ${i}: an error exactly when Python has one`, (mine.error !== null) === reply.error, `got ${mine.error}`);
    if (reply.message === null) same(`${what} ${i}: no message`, mine.message, null);
    else sameMessage(t, `${what} ${i}: message`, mine.message, reply.message);
  });
  ok(`${what}: a message or an error, never both`, got.every((r) => r.message === null || r.error === null));
  void A;
}

function checkPythonReports(t, fixture) {
  const { A, hex, bytes, ok, same, attempt, refuses } = t;
  for (const c of fixture.reports) {
    const what = `python report ${c.name}`;
    const input = reportInput(A, c);
    const made = attempt(`${what}: fileReport`, () => A.fileReport(input));
    if (made) {
      same(`${what}: bytes`, hex(made.raw), c.event_hex);
      same(`${what}: id`, hex(made.id), c.id_hex);
      same(`${what}: receipt`, made.receipt, c.receipt);
    }
    const report = attempt(`${what}: parseEvent`, () => A.parseEvent(bytes(c.event_hex)));
    if (!report) continue;
    const ring = A.parseEvent(bytes(c.ring_event_hex));
    same(`${what}: the ring event's keys`, ring.body.keys.map(hex).join(), c.ring_keys_hex.join());
    same(`${what}: ring signature`, reportRingHolds(A, report, ring.body.keys), true);
    same(`${what}: refs the ring`, report.refs.map(hex).join(), c.ring_event_id_hex);
    same(`${what}: bucket`, report.body.sealed.length - 48, c.bucket);
    const opened = attempt(`${what}: openReport`, () => A.openReport(report.body, bytes(c.box_private_hex)));
    if (opened) sameMessage(t, `${what}: opened`, opened, c.message);
    const member = hex(A.publicKey(input.memberSeed));
    ok(`${what}: the member's key is not in the event`, !c.event_hex.includes(member));
    const receipt = attempt(`${what}: parseReceipt`, () => A.parseReceipt(c.receipt));
    if (receipt) {
      same(`${what}: receipt's report`, hex(receipt.reportId), c.id_hex);
      same(`${what}: receipt's key is the report's`, hex(receipt.key), hex(report.body.receipt));
      same(`${what}: receipt text round trip`, A.receiptText(receipt.reportId, receipt.seed), c.receipt);
    }
    // With fresh randomness: another event that verifies, opens, and whose receipt is its own.
    const fresh = attempt(`${what}: random report`, () =>
      A.fileReport({ ...input, oneTimeSeed: undefined, receiptSeed: undefined, nonceSeed: undefined, ephemeralSecret: undefined }),
    );
    if (fresh) {
      const parsed = A.parseEvent(fresh.raw);
      ok(`${what}: random report differs`, hex(fresh.raw) !== c.event_hex);
      ok(`${what}: random report envelope verifies`, A.verifyEvent(parsed));
      same(`${what}: random report ring signature`, reportRingHolds(A, parsed, input.reportRingKeys), true);
      const mine = A.parseReceipt(fresh.receipt);
      same(`${what}: random report receipt names it`, hex(mine.reportId), hex(fresh.id));
      same(`${what}: random report receipt key`, hex(mine.key), hex(parsed.body.receipt));
      ok(`${what}: random one-time and receipt keys are fresh`, hex(parsed.author) !== hex(report.author) && hex(mine.key) !== hex(report.body.receipt));
      const again = attempt(`${what}: random report opens`, () => A.openReport(parsed.body, bytes(c.box_private_hex)));
      if (again) sameMessage(t, `${what}: random report opened`, again, c.message);
      ok(`${what}: random report does not name the member`, !hex(fresh.raw).includes(member));
    }
    if (c.bucket === 512) {
      const big = attempt(`${what}: a larger bucket`, () => A.fileReport({ ...input, bucket: 8192 }));
      if (big) {
        const parsed = A.parseEvent(big.raw);
        same(`${what}: a larger bucket's size`, parsed.body.sealed.length, 8192 + 48);
        const opened8k = attempt(`${what}: a larger bucket opens`, () => A.openReport(parsed.body, bytes(c.box_private_hex)));
        if (opened8k) sameMessage(t, `${what}: a larger bucket opened`, opened8k, c.message);
      }
    } else {
      refuses(`${what}: a bucket too small`, 'too_long', () => A.fileReport({ ...input, bucket: 512 }));
    }
  }
  const c = fixture.reports[0];
  const base = reportInput(A, c);
  refuses('fileReport refuses a member outside the ring', 'not_member', () => A.fileReport({ ...base, memberSeed: new Uint8Array(32).fill(7) }));
  refuses('fileReport refuses the member key as one-time key', 'bad_argument', () => A.fileReport({ ...base, oneTimeSeed: base.memberSeed }));
  refuses('fileReport refuses the member key as receipt key', 'bad_argument', () => A.fileReport({ ...base, receiptSeed: base.memberSeed }));
  refuses('fileReport refuses one key for one-time and receipt', 'bad_argument', () => A.fileReport({ ...base, receiptSeed: base.oneTimeSeed }));
  refuses('fileReport refuses a box key of small order', 'bad_box_key', () => A.fileReport({ ...base, boxKey: new Uint8Array(32) }));
  refuses('fileReport refuses a non-canonical box key', 'bad_box_key', () => A.fileReport({ ...base, boxKey: new Uint8Array(32).fill(0xff) }));
  refuses('fileReport refuses a bad language tag', 'bad_message', () => A.fileReport({ ...base, lang: 'ES' }));
  refuses('fileReport refuses an empty text', 'bad_message', () => A.fileReport({ ...base, text: '' }));
  refuses('fileReport refuses 20,001 characters', 'bad_message', () => A.fileReport({ ...base, text: 'a'.repeat(20001) }));
  refuses('fileReport refuses a text beyond the largest bucket', 'too_long', () => A.fileReport({ ...base, text: '\u00f1'.repeat(12300) }));
  refuses('fileReport refuses a document twice', 'bad_message', () => A.fileReport({ ...base, documents: [base.group, base.group] }));
  refuses('fileReport refuses an unsorted ring', 'bad_ring', () => A.fileReport({ ...base, reportRingKeys: [...base.reportRingKeys].reverse() }));
  refuses('sealMessage refuses an unknown field', 'bad_message', () => A.sealMessage({ text: 'a', lang: 'es', extra: 1 }, base.boxKey));
  refuses('parseReceipt refuses a receipt of version 2', 'bad_receipt', () => A.parseReceipt(c.receipt.replace('receipt-1', 'receipt-2')));
  refuses('parseReceipt refuses a short seed', 'bad_receipt', () => A.parseReceipt(c.receipt.slice(0, -2)));
  same('parseReceipt takes a hand copy (upper case, white space)', attempt('parseReceipt hand copy', () => hex(A.parseReceipt(`  ${c.receipt.toUpperCase()}\n`).seed)), c.receipt_seed_hex);

  for (const f of fixture.followups) {
    const what = `python follow-up ${f.name}`;
    const input = {
      receipt: f.receipt,
      boxKey: bytes(f.box_key_hex),
      group: bytes(f.group_hex),
      net: bytes(f.net_hex),
      ts: f.ts,
      ...messageFields(A, f.message),
      ephemeralSecret: bytes(f.ephemeral_secret_hex),
    };
    const made = attempt(`${what}: followUp`, () => A.followUp(input));
    if (made) {
      same(`${what}: bytes`, hex(made.raw), f.event_hex);
      same(`${what}: id`, hex(made.id), f.id_hex);
    }
    const copied = attempt(`${what}: from a hand copy of the receipt`, () => A.followUp({ ...input, receipt: `\t${f.receipt.toUpperCase()} \n` }));
    if (copied) same(`${what}: from a hand copy of the receipt`, hex(copied.raw), f.event_hex);
    const parsed = A.parseReceipt(f.receipt);
    const fromParsed = attempt(`${what}: from a parsed receipt`, () => A.followUp({ ...input, receipt: parsed }));
    if (fromParsed) same(`${what}: from a parsed receipt`, hex(fromParsed.raw), f.event_hex);
    const event = A.parseEvent(bytes(f.event_hex));
    same(`${what}: signed by the receipt key`, hex(event.author), hex(parsed.key));
    same(`${what}: refs the report`, event.refs.map(hex).join(), hex(parsed.reportId));
  }

  for (const r of fixture.replies) checkPythonReplies(t, r);

  const x = fixture.cross;
  const boxPrivate = bytes(fixture.reports[0].box_private_hex);
  const jsReport = attempt('cross: the bundle\'s report parses', () => A.parseEvent(bytes(x.js_report.event_hex)));
  if (jsReport) {
    const ring = A.parseEvent(bytes(x.js_report.ring_event_hex));
    same('cross: the bundle\'s report id', hex(jsReport.id), x.js_report.id_hex);
    same('cross: the bundle\'s report ring signature', reportRingHolds(A, jsReport, ring.body.keys), true);
    const opened = attempt('cross: the bundle\'s report opens', () => A.openReport(jsReport.body, boxPrivate));
    if (opened) sameMessage(t, 'cross: the bundle\'s report opened', opened, x.js_report.message);
    const receipt = A.parseReceipt(x.js_report.receipt);
    same('cross: the bundle\'s receipt key is the report\'s', hex(receipt.key), hex(jsReport.body.receipt));
    same('cross: the bundle\'s receipt names the report', hex(receipt.reportId), x.js_report.id_hex);
  }
  const f = x.python_followup_with_js_receipt;
  same('cross: Python followed up with the bundle\'s receipt', f.receipt, x.js_report.receipt);
  const again = attempt('cross: the same follow-up from the bundle', () =>
    A.followUp({
      receipt: x.js_report.receipt,
      boxKey: bytes(f.box_key_hex),
      group: bytes(f.group_hex),
      net: bytes(f.net_hex),
      ts: f.ts,
      ...messageFields(A, f.message),
      ephemeralSecret: bytes(f.ephemeral_secret_hex),
    }),
  );
  if (again) same('cross: the bundle makes Python\'s follow-up from the bundle\'s receipt', hex(again.raw), f.event_hex);
  checkPythonReplies(t, x.python_replies_to_js_report);
  const jf = x.js_followup_with_python_receipt;
  const jsFollowup = attempt('cross: the bundle\'s follow-up parses', () => A.parseEvent(bytes(jf.event_hex)));
  const pythonReport = A.parseEvent(bytes(jf.report_event_hex));
  if (jsFollowup) {
    same('cross: the bundle\'s follow-up is signed by Python\'s receipt key', hex(jsFollowup.author), hex(pythonReport.body.receipt));
    same('cross: the bundle\'s follow-up refs the report', jsFollowup.refs.map(hex).join(), hex(pythonReport.id));
    ok('cross: the bundle\'s follow-up envelope verifies', A.verifyEvent(jsFollowup));
    const opened = attempt('cross: the bundle\'s follow-up opens', () => A.openReport(jsFollowup.body, boxPrivate));
    if (opened) sameMessage(t, 'cross: the bundle\'s follow-up opened', opened, jf.message);
  }
  ok('cross: what Python checked', x.python_checked.length >= 5);
}

function checkPythonReplies(t, r) {
  const { A, hex, bytes, same, attempt, refuses } = t;
  const what = `python replies ${r.name}`;
  const raws = r.events_hex.map(bytes);
  const events = raws.map((raw) => A.parseEvent(raw));
  const read = attempt(`${what}: readReplies`, () => A.readReplies(r.receipt, events));
  if (read) checkReadReplies(t, what, read, r.read);
  const fromRaw = attempt(`${what}: readReplies (raw, reversed)`, () => A.readReplies(r.receipt, [...raws].reverse()));
  if (fromRaw) checkReadReplies(t, `${what} (raw, reversed)`, fromRaw, r.read);
  // The node's JSON of the report (/v1/reports/{id}).
  const receipt = A.parseReceipt(r.receipt);
  const document = {
    id: hex(receipt.reportId),
    receipt: hex(receipt.key),
    replies: events.map((e) => ({ id: hex(e.id), author: hex(e.author), status: e.body.status, ts: e.ts, sealed: e.body.sealed ? hex(e.body.sealed) : null })),
  };
  const fromJson = attempt(`${what}: readReplies (the node's JSON)`, () => A.readReplies(r.receipt, document));
  if (fromJson) checkReadReplies(t, `${what} (the node's JSON)`, fromJson, r.read);
  refuses(`${what}: another receipt's key`, 'wrong_receipt', () => A.readReplies(A.receiptText(receipt.reportId, new Uint8Array(32).fill(3)), document));
  const others = attempt(`${what}: another report's receipt skips them`, () => A.readReplies(A.receiptText(new Uint8Array(32).fill(4), receipt.seed), events));
  if (others) same(`${what}: another report's receipt skips them`, others.length, 0);
  // The first reply's box, sealed again from its message.
  const first = events[0];
  const message = r.read[0].message && fromTyped(A, r.read[0].message);
  if (message) {
    const sealed = attempt(`${what}: sealMessage`, () =>
      A.sealMessage(message, A.boxKeyFor(receipt.key), { ephemeralSecret: bytes(r.sealed_ephemeral_secret_hex) }),
    );
    if (sealed) same(`${what}: sealMessage rebuilds the reply's box`, hex(sealed), hex(first.body.sealed));
  }
}

// -- protected reports: accountability.json ------------------------------------

/**
 * The reports scenario of accountability.json rebuilt from the builder's
 * seeds (tests/vectors/accountability_vector_builder.py, tests/helpers):
 * the box key's private half is SHA-256("oversight box key") (and
 * SHA-256("another") for the key never published); report k's one-time
 * and receipt seeds are those of the test keys "report one-time k" and
 * "report receipt k" (SHA-256("test key " + name)), its nonce seed
 * SHA-256("report nonce k"); the n-th sealed box's ephemeral key is
 * crypto_box_seed_keypair(SHA-256("vector ephemeral n")), whose secret
 * X25519 acts on as on boxSecretFor of that seed (both clamp SHA-512 of
 * it). Every share, report, reply and follow-up is opened, and rebuilt
 * byte for byte where the builder made it so.
 */
function checkReportVectors(t, file) {
  const { A, hex, bytes, ok, same, attempt, refuses, fail } = t;
  const scenario = file.scenarios.find((s) => s.events.some((e) => e.kind === 'report'));
  if (!scenario) return fail('accountability: no scenario with reports');
  const where = `accountability ${scenario.name}`;
  const encoder = new TextEncoder();
  const digest = (text) => sha256Js(encoder.encode(text));
  const people = new BuilderSeeds(A).seedsOfPeople();
  const events = scenario.events.map((entry) => ({ entry, event: attempt(`${where}: parse`, () => A.parseEvent(bytes(entry.event_hex))) }));
  const byId = new Map(events.filter((e) => e.event).map(({ event }) => [hex(event.id), event]));
  const probe = A.boxKeyFor(A.publicKey(digest('probe')));
  const ephemerals = new Map();
  for (let n = 1; n <= 48; n++) {
    const secret = A.boxSecretFor(digest(`vector ephemeral ${n}`));
    ephemerals.set(hex(A.sealBox(new Uint8Array(0), probe, secret).subarray(0, 32)), secret);
  }
  const ephemeralOf = (sealed) => ephemerals.get(hex(sealed.subarray(0, 32)));
  const boxPrivate = digest('oversight box key');
  const boxPrivates = [boxPrivate, digest('another')];
  const openWithAny = (body) => {
    for (const key of boxPrivates) {
      try {
        return A.openReport(body, key);
      } catch (error) {
        if (error.code !== 'wrong_box_key') throw error;
      }
    }
    throw new Error('no known box key');
  };
  const published = Object.values(scenario.expected.report_keys ?? {}).flat();
  ok(`${where}: a box key is published`, published.length > 0);
  const receipts = new Map(); // receipt key hex -> seed
  for (let k = 1; k <= 8; k++) {
    const seed = digest(`test key report receipt ${k}`);
    receipts.set(hex(A.publicKey(seed)), { seed, k });
  }
  let rebuilt = 0;
  for (const [index, { entry, event }] of events.entries()) {
    if (!event) continue;
    const what = `${where} event ${index} (${entry.kind}, ${entry.outcome}${entry.reason ? ` ${entry.reason}` : ''})`;
    const body = event.body;
    if (entry.kind === 'oversight.key') {
      const shares = [];
      for (const [i, share] of body.shares.entries()) {
        const seed = people.get(hex(share.member));
        if (!seed) {
          fail(`${what}: share ${i}: its member is no builder's person`);
          continue;
        }
        const opened = attempt(`${what}: share ${i} opens`, () => A.openShare(share.sealed, seed, body.box_key));
        if (opened) same(`${what}: share ${i} holds the box key's private half`, hex(opened), hex(boxPrivate));
        const other = body.shares[(i + 1) % body.shares.length];
        if (other !== share) refuses(`${what}: share ${i} is not another member's`, 'cannot_open', () => A.openShare(other.sealed, seed));
        refuses(`${what}: share ${i} against another box key`, 'bad_shares', () => A.openShare(share.sealed, seed, probe));
        const secret = ephemeralOf(share.sealed);
        ok(`${what}: share ${i}'s ephemeral key is the builder's`, secret !== undefined);
        if (!secret) continue;
        const again = attempt(`${what}: share ${i} sealed again`, () => A.sealBox(boxPrivate, A.boxKeyFor(share.member), secret));
        if (again) same(`${what}: share ${i} rebuilt byte for byte`, hex(again), hex(share.sealed));
        shares.push({ member: share.member, sealed: again ?? share.sealed });
        rebuilt += 1;
      }
      ok(`${what}: its box key is published`, published.includes(hex(body.box_key)));
      const author = people.get(hex(event.author));
      if (author) {
        const remade = attempt(`${what}: signEvent`, () => A.signEvent({ ...event, body: { box_key: body.box_key, shares } }, author));
        if (remade) same(`${what}: rebuilt byte for byte`, hex(remade.raw), entry.event_hex);
      }
    }
    if (entry.kind === 'report') {
      const message = attempt(`${what}: opens`, () => openWithAny(body));
      if (message) {
        same(`${what}: text`, message.text, 'El tesorero cobra comisiones.');
        same(`${what}: lang`, message.lang, 'es');
      }
      const receipt = receipts.get(hex(body.receipt));
      ok(`${what}: the receipt is a builder's`, receipt !== undefined);
      if (entry.outcome === 'rejected' || !receipt || !message) continue;
      let oneTimeSeed = null;
      for (let k = 1; k <= 8 && !oneTimeSeed; k++) {
        const seed = digest(`test key report one-time ${k}`);
        if (hex(A.publicKey(seed)) === hex(event.author)) oneTimeSeed = seed;
      }
      const ring = byId.get(hex(body.ring));
      const image = hex(body.sig.subarray(0, 32));
      const reporter = ring?.body.keys.map((key) => people.get(hex(key))).find((seed) => seed && hex(A.keyImage(seed, body.receipt)) === image);
      const ephemeralSecret = ephemeralOf(body.sealed);
      ok(`${what}: seeds found`, Boolean(oneTimeSeed && ring && reporter && ephemeralSecret));
      if (!(oneTimeSeed && ring && reporter && ephemeralSecret)) continue;
      const made = attempt(`${what}: fileReport`, () =>
        A.fileReport({
          reportRingKeys: ring.body.keys,
          reportRingEventId: ring.id,
          boxKey: body.box_key,
          group: event.group,
          net: event.net,
          ts: event.ts,
          text: message.text,
          lang: message.lang,
          memberSeed: reporter,
          oneTimeSeed,
          receiptSeed: receipt.seed,
          nonceSeed: digest(`report nonce ${receipt.k}`),
          ephemeralSecret,
        }),
      );
      if (made) {
        same(`${what}: rebuilt byte for byte`, hex(made.raw), entry.event_hex);
        same(`${what}: receipt`, made.receipt, `ayllu-receipt-1:${entry.id_hex}:${hex(receipt.seed)}`);
        rebuilt += 1;
      }
    }
    if (entry.kind === 'report.followup') {
      const message = attempt(`${what}: opens`, () => openWithAny(body));
      if (message) {
        same(`${what}: text`, message.text, 'Tengo la boleta.');
        same(`${what}: documents`, (message.documents ?? []).map(hex).join(), hex(Uint8Array.from({ length: 32 }, (_, i) => i)));
      }
      const receipt = receipts.get(hex(event.author));
      if (entry.outcome === 'rejected') {
        ok(`${what}: not signed by a receipt`, receipt === undefined);
        continue;
      }
      const ephemeralSecret = ephemeralOf(body.sealed);
      ok(`${what}: signed by a receipt, its ephemeral key the builder's`, Boolean(receipt && ephemeralSecret && message));
      if (!(receipt && ephemeralSecret && message)) continue;
      const made = attempt(`${what}: followUp`, () =>
        A.followUp({
          receipt: A.receiptText(body.report, receipt.seed),
          boxKey: body.box_key,
          group: event.group,
          net: event.net,
          ts: event.ts,
          ...message,
          ephemeralSecret,
        }),
      );
      if (made) {
        same(`${what}: rebuilt byte for byte`, hex(made.raw), entry.event_hex);
        rebuilt += 1;
      }
    }
    if (entry.kind === 'report.reply' && body.sealed) {
      const report = byId.get(hex(body.report));
      const receipt = report && receipts.get(hex(report.body.receipt));
      if (!receipt) {
        fail(`${what}: its report's receipt is no builder's`);
        continue;
      }
      const text = A.receiptText(report.id, receipt.seed);
      const [read] = attempt(`${what}: readReplies`, () => A.readReplies(text, [event])) ?? [];
      if (!read) continue;
      same(`${what}: error`, read.error, null);
      same(`${what}: text`, read.message?.text, 'Lo investigamos. Guarde su recibo.');
      const ephemeralSecret = ephemeralOf(body.sealed);
      const author = people.get(hex(event.author));
      ok(`${what}: its ephemeral key and author are the builder's`, Boolean(ephemeralSecret && author));
      if (!(ephemeralSecret && author && read.message)) continue;
      const sealed = attempt(`${what}: sealMessage`, () => A.sealMessage(read.message, A.boxKeyFor(report.body.receipt), { ephemeralSecret }));
      if (sealed) same(`${what}: its box rebuilt`, hex(sealed), hex(body.sealed));
      const remade = attempt(`${what}: signEvent`, () => A.signEvent({ ...event, body: { ...body, sealed } }, author));
      if (remade) {
        same(`${what}: rebuilt byte for byte`, hex(remade.raw), entry.event_hex);
        rebuilt += 1;
      }
    }
  }
  // What a reporter reads from the node's JSON of the state (section 7.10).
  for (const report of scenario.expected.reports ?? []) {
    const receipt = receipts.get(report.receipt);
    if (!receipt) {
      fail(`${where}: report ${report.id}: its receipt is no builder's`);
      continue;
    }
    const text = A.receiptText(bytes(report.id), receipt.seed);
    const read = attempt(`${where}: report ${report.id}: readReplies from the state`, () => A.readReplies(text, report));
    if (read) {
      same(`${where}: report ${report.id}: replies read from the state`, read.length, report.replies.length);
      read.forEach((reply, i) => {
        same(`${where}: state reply ${i}: status`, reply.status, report.replies[i].status);
        same(`${where}: state reply ${i}: opened`, reply.message === null, report.replies[i].sealed === null);
        same(`${where}: state reply ${i}: error`, reply.error, null);
      });
    }
    refuses(`${where}: report ${report.id}: another receipt key`, 'wrong_receipt', () =>
      A.readReplies(A.receiptText(bytes(report.id), digest('not the receipt')), report),
    );
  }
  ok(`${where}: shares, reports, replies and follow-ups rebuilt from the builder's seeds`, rebuilt >= 9, `only ${rebuilt}`);
  return undefined;
}

/** Boxes and keys that no box can use. */
function checkBoxRefusals(t) {
  const { A, hex, same, attempt, refuses } = t;
  const seed = new Uint8Array(32).fill(5);
  const secret = A.boxSecretFor(seed);
  const recipient = A.boxKeyFor(A.publicKey(seed));
  const sealed = attempt('sealBox', () => A.sealBox(Uint8Array.of(1, 2, 3), recipient));
  if (sealed) {
    same('sealBox: 48 bytes more', sealed.length, 51);
    same('openBox: round trip', attempt('openBox', () => hex(A.openBox(sealed, secret))), '010203');
    const damaged = sealed.slice();
    damaged[40] ^= 1;
    refuses('openBox refuses a damaged box', 'cannot_open', () => A.openBox(damaged, secret));
    refuses('openBox refuses another key', 'cannot_open', () => A.openBox(sealed, A.boxSecretFor(new Uint8Array(32).fill(6))));
    const small = sealed.slice();
    small.fill(0, 0, 32);
    refuses('openBox refuses an ephemeral key of small order', 'cannot_open', () => A.openBox(small, secret));
  }
  refuses('openBox refuses 47 bytes', 'cannot_open', () => A.openBox(new Uint8Array(47), secret));
  refuses('sealBox refuses a recipient of small order', 'bad_box_key', () => A.sealBox(Uint8Array.of(1), new Uint8Array(32)));
  refuses('boxKeyFor refuses a key of small order', 'bad_key', () => A.boxKeyFor(new Uint8Array(32)));
  refuses('boxKeyFor refuses a key of order 8', 'bad_key', () =>
    A.boxKeyFor(A.fromHex('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05')),
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
