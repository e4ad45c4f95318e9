// The web app's acts, signed here in the browser (node/web/__init__.py says
// why). Pages work without this script, read-only; with it, a member signs
// in with their member key (kept sealed by a passphrase in localStorage,
// opened for the tab's life in sessionStorage), comments, supports and
// votes. Every message shown comes translated from the page (#messages).
import {
  fromHex, toHex, publicKey, signEvent, parseEvent, voteEvent, sealSeed, openSeed,
  parseMemberKey,
} from './ayllu-crypto.js';

const SEALED = 'ayllu.member';
const OPENED = 'ayllu.seed';
const MIN_PASSPHRASE = 8;
const messages = JSON.parse(document.getElementById('messages').textContent);
const net = fromHex(document.body.dataset.net);

const sealed = () => JSON.parse(localStorage.getItem(SEALED) || 'null');
const opened = () => {
  const hex = sessionStorage.getItem(OPENED);
  return hex ? fromHex(hex) : null;
};

function say(where, text, ok) {
  const status = where.querySelector('.status');
  status.textContent = text;
  status.className = `status ${ok ? 'ok' : 'error'}`;
}

function showWho() {
  const who = document.getElementById('who');
  const kept = sealed();
  who.textContent = kept ? `${who.dataset.signedIn} ${kept.key.slice(0, 12)}` : who.dataset.signedOut;
  const signin = document.getElementById('signin');
  if (!signin) return;
  signin.hidden = Boolean(kept);
  document.getElementById('unlock').hidden = !kept || Boolean(opened());
  document.getElementById('signout').hidden = !kept;
}

async function signIn(event) {
  event.preventDefault();
  const form = event.target;
  const file = form.file.files[0];
  const text = file ? await file.text() : form.key.value;
  const passphrase = form.passphrase.value;
  if (passphrase.length < MIN_PASSPHRASE) return say(form.parentElement, messages.short_passphrase, false);
  let seed;
  try {
    seed = parseMemberKey(text);
  } catch {
    return say(form.parentElement, messages.bad_key, false);
  }
  const key = toHex(publicKey(seed));
  localStorage.setItem(SEALED, JSON.stringify({ key, sealed: await sealSeed(seed, passphrase) }));
  sessionStorage.setItem(OPENED, toHex(seed));
  form.reset();
  say(form.parentElement, `${document.getElementById('who').dataset.signedIn} ${key.slice(0, 12)}`, true);
  showWho();
}

async function unlock(event) {
  event.preventDefault();
  const form = event.target;
  try {
    const seed = await openSeed(sealed().sealed, form.passphrase.value);
    sessionStorage.setItem(OPENED, toHex(seed));
    form.reset();
    say(form.parentElement, `${document.getElementById('who').dataset.signedIn} ${sealed().key.slice(0, 12)}`, true);
  } catch {
    say(form.parentElement, messages.bad_passphrase, false);
  }
  showWho();
}

function signOut(event) {
  localStorage.removeItem(SEALED);
  sessionStorage.removeItem(OPENED);
  say(event.target.parentElement, messages.signed_out, true);
  showWho();
}

async function getJson(path) {
  const answer = await fetch(path, { headers: { accept: 'application/json' } });
  if (!answer.ok) throw new Error(`${path}: ${answer.status}`);
  return answer.json();
}

async function post(raw) {
  const answer = await fetch('/v1/events', {
    method: 'POST', body: raw, headers: { 'content-type': 'application/cbor' },
  });
  const document_ = await answer.json();
  if (answer.ok && document_.status !== 'refused') return null;
  const error = document_.error || document_;
  return `${messages.refused} ${error.reason}${error.detail ? ` (${error.detail})` : ''}`;
}

// A comment or a support: the author's certificate is their standing
// (specs/events.md), and the target is referred to.
async function act(event) {
  event.preventDefault();
  const form = event.target;
  const seed = opened();
  if (!seed) return say(form, messages.need_key, false);
  say(form, messages.working, true);
  const author = publicKey(seed);
  const member = await getJson(`/v1/members/${toHex(author)}`);
  const target = fromHex(form.dataset.target);
  const kind = form.dataset.kind;
  const body = kind === 'comment'
    ? { lang: form.dataset.lang, text: form.text.value.trim(), target }
    : { proposal: target };
  const refs = [member.certificate, form.dataset.target].filter(Boolean).sort().map(fromHex);
  const { raw } = signEvent(
    { kind, group: fromHex(form.dataset.group), author, net, ts: Date.now(), body, refs }, seed,
  );
  const refused = await post(raw);
  if (refused) return say(form, refused, false);
  say(form, messages.sent, true);
  setTimeout(() => window.location.reload(), 800);
}

// A secret vote: every ring of the ballot is fetched (asking for one's own
// would tell the node whose vote comes next), the member's is found here.
async function vote(event) {
  event.preventDefault();
  const form = event.target;
  const seed = opened();
  if (!seed) return say(form, messages.need_key, false);
  say(form, messages.working, true);
  const ballotId = form.dataset.ballot;
  const ballot = await getJson(`/v1/ballots/${ballotId}`);
  const mine = toHex(publicKey(seed));
  for (const counting of ballot.counting_groups) {
    if (!counting.ring) continue;
    const answer = await fetch(`/v1/events/${counting.ring}`);
    const ring = parseEvent(new Uint8Array(await answer.arrayBuffer()));
    if (!ring.body.keys.some((key) => toHex(key) === mine)) continue;
    const { raw, keyImage } = voteEvent({
      ringKeys: ring.body.keys, ringEventId: ring.id, ballotId: fromHex(ballotId),
      group: ring.group, net, ts: Date.now(), choice: [Number(form.choice.value)],
      memberSeed: seed,
    });
    const refused = await post(raw);
    if (refused) return say(form, refused, false);
    return say(form, `${messages.voted} ${toHex(keyImage).slice(0, 16)}`, true);
  }
  say(form, messages.not_in_ring, false);
}

function guard(handler) {
  return (event) => handler(event).catch((error) => {
    event.preventDefault();
    say(event.target.closest('form, section'), `${messages.refused} ${error.message}`, false);
  });
}

document.getElementById('signin')?.addEventListener('submit', guard(signIn));
document.getElementById('unlock')?.addEventListener('submit', guard(unlock));
document.getElementById('signout')?.addEventListener('click', signOut);
document.getElementById('vote')?.addEventListener('submit', guard(vote));
for (const form of document.querySelectorAll('form.act')) form.addEventListener('submit', guard(act));
showWho();
