// The web app's acts, signed here in the browser (node/web/__init__.py says
// why). Pages work without this script, read-only; with it, a member signs
// in with their member key (kept sealed by a passphrase in localStorage,
// opened for the tab's life in sessionStorage), comments, supports and
// votes. Every message shown comes translated from the page (#messages).
import {
  fromHex, toHex, publicKey, signEvent, parseEvent, voteEvent, sealSeed, openSeed,
  openMemberKey, fileReport, followUp, readReplies, parseReceipt,
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
    // The same passphrase opens a key file sealed by the CLI (if it is).
    seed = await openMemberKey(text, passphrase);
  } catch (error) {
    return say(form.parentElement, error.code === 'bad_passphrase' ? messages.bad_passphrase : messages.bad_key, false);
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

// What each act's form signs: its body, from the form's fields and data.
const BODIES = {
  comment: (form) => ({ lang: form.dataset.lang, text: form.text.value.trim(), target: fromHex(form.dataset.target) }),
  'proposal.support': (form) => ({ proposal: fromHex(form.dataset.target) }),
  'recall.support': (form) => ({ motion: fromHex(form.dataset.target) }),
  proposal: (form) => ({ lang: form.lang.value, title: form.title.value.trim(), text: form.text.value.trim() }),
  'proposal.amend': (form) => ({
    lang: form.lang.value, title: form.title.value.trim(), text: form.text.value.trim(),
    proposal: fromHex(form.dataset.target),
  }),
};

// An act signed by the member: its refs are what the page names
// (data-refs: the target, the group's charter) and the author's
// certificate, their standing (specs/events.md).
async function act(event) {
  event.preventDefault();
  const form = event.target;
  const seed = opened();
  if (!seed) return say(form, messages.need_key, false);
  say(form, messages.working, true);
  const author = publicKey(seed);
  const member = await getJson(`/v1/members/${toHex(author)}`);
  const kind = form.dataset.kind;
  const named = (form.dataset.refs || '').split(' ').filter(Boolean);
  const refs = [...new Set([member.certificate, ...named])].sort().map(fromHex);
  const { raw } = signEvent(
    { kind, group: fromHex(form.dataset.group), author, net, ts: Date.now(), body: BODIES[kind](form), refs },
    seed,
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

// A parsed event's fields, from the node (every ring, fetched in turn).
async function fetchEvent(id) {
  const answer = await fetch(`/v1/events/${id}`);
  return parseEvent(new Uint8Array(await answer.arrayBuffer()));
}

// A protected report (specs/accountability.md 7.8): every fresh report
// ring is fetched, and the largest that holds the member, then the
// newest, signs; the report is sealed to the oversight group's box key.
// The receipt is shown once and kept nowhere.
async function report(event) {
  event.preventDefault();
  const form = event.target;
  const seed = opened();
  if (!seed) return say(form, messages.need_key, false);
  say(form, messages.working, true);
  const mine = toHex(publicKey(seed));
  let best = null;
  for (const id of form.dataset.rings.split(' ').filter(Boolean)) {
    const ring = await fetchEvent(id);
    if (!ring.body.keys.some((key) => toHex(key) === mine)) continue;
    const size = ring.body.keys.length;
    if (!best || size > best.body.keys.length || (size === best.body.keys.length && ring.ts > best.ts)) best = ring;
  }
  if (!best) return say(form, messages.no_report_ring, false);
  const option = form.group.selectedOptions[0];
  const { raw, receipt } = fileReport({
    reportRingKeys: best.body.keys, reportRingEventId: best.id, boxKey: fromHex(option.dataset.boxKey),
    group: fromHex(option.value), net, ts: Math.max(Date.now(), Number(best.ts) + 1),
    text: form.text.value.trim(), lang: form.lang.value, memberSeed: seed,
  });
  const refused = await post(raw);
  if (refused) return say(form, refused, false);
  form.reset();
  say(form, messages.sent, true);
  document.getElementById('receipt-text').textContent = receipt;
  document.getElementById('receipt').hidden = false;
}

// Following a report with its receipt: every report is fetched, not only
// this one, so that the fetch does not point at it.
let following = null;
async function follow(event) {
  event.preventDefault();
  const form = event.target;
  let receipt;
  try {
    receipt = parseReceipt(form.receipt.value);
  } catch {
    return say(form, messages.bad_receipt, false);
  }
  const { reports } = await getJson('/v1/reports');
  const found = reports.find((r) => r.id === toHex(receipt.reportId));
  if (!found) return say(form, messages.bad_receipt, false);
  let replies;
  try {
    replies = readReplies(receipt, found);
  } catch {
    return say(form, messages.bad_receipt, false);
  }
  const shown = document.getElementById('replies');
  const statuses = JSON.parse(shown.dataset.statuses);
  shown.replaceChildren();
  const status = document.createElement('p');
  status.textContent = `${shown.dataset.status} ${statuses[found.status] || found.status}`;
  shown.append(status);
  if (!replies.length) shown.append(Object.assign(document.createElement('p'), { textContent: messages.no_replies }));
  for (const reply of replies) {
    const item = document.createElement('article');
    item.className = 'comment';
    const text = reply.message ? reply.message.text : messages.unreadable;
    item.append(Object.assign(document.createElement('p'), { textContent: `${messages.reply} (${statuses[reply.status] || reply.status}): ${text}` }));
    shown.append(item);
  }
  form.receipt.value = '';
  say(form, '', true);
  const option = document.querySelector(`#report-group option[value="${found.group}"]`);
  following = { receipt, group: fromHex(found.group), boxKey: fromHex(option ? option.dataset.boxKey : found.box_key) };
  document.getElementById('followup').hidden = false;
}

async function addFollowup(event) {
  event.preventDefault();
  const form = event.target;
  if (!following) return;
  say(form, messages.working, true);
  const { raw } = followUp({
    ...following, net, ts: Date.now(), text: form.text.value.trim(), lang: form.lang.value,
  });
  const refused = await post(raw);
  if (refused) return say(form, refused, false);
  form.reset();
  say(form, messages.sent, true);
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
document.getElementById('report')?.addEventListener('submit', guard(report));
document.getElementById('follow')?.addEventListener('submit', guard(follow));
document.getElementById('followup')?.addEventListener('submit', guard(addFollowup));
for (const form of document.querySelectorAll('form.act')) form.addEventListener('submit', guard(act));
showWho();
